"""TrainingView: the Lines hold a run's history, the title names the last validation accuracy.

Headless: the marks' data are read back from the widgets, as the browser would receive them.
"""

from __future__ import annotations

import numpy as np
import pytest

from layerwidget import sample_digits
from layerwidget.layers import DEFAULT_STACK
from layerwidget.training import train_stack
from layerwidget.views.training import TrainingView


def _entry(epoch, loss, val_loss, val_accuracy, batches=50):
    return {"epoch": epoch, "loss": loss, "accuracy": 0.5, "val_loss": val_loss,
            "val_accuracy": val_accuracy, "batches": batches, "seconds": 1.0}


@pytest.fixture(scope="module")
def history():
    images, labels = sample_digits()
    return train_stack(DEFAULT_STACK, images[:200], labels[:200], seed=0, epochs=3).history


def test_lines_hold_a_real_runs_history_at_the_end_of_each_epoch(history):
    view = TrainingView()
    view.show(history, epochs=3)
    ends = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(view.loss.x, ends)
    np.testing.assert_allclose(view.loss.y, [h["loss"] for h in history])
    np.testing.assert_allclose(view.val_loss.y, [h["val_loss"] for h in history])
    np.testing.assert_allclose(view.val_accuracy.y, [h["val_accuracy"] for h in history])
    np.testing.assert_array_equal(view.val_accuracy.x, ends)
    assert view.figure.title == (f"validation accuracy {history[-1]['val_accuracy']:.1%} "
                                 "after epoch 3 of 3")
    assert view.box.children == (view.figure, view.key)
    # The loss scale holds every loss; accuracy has its own 0–1 scale on the right.
    top = view.loss.scales["y"].max
    assert top >= max(*view.loss.y, *view.val_loss.y) and view.loss.scales["y"].min == 0
    assert view.val_accuracy.scales["y"] is not view.loss.scales["y"]
    assert (view.val_accuracy.scales["y"].min, view.val_accuracy.scales["y"].max) == (0, 1)
    assert [a.side for a in view.figure.axes] == ["bottom", "left", "right"]
    assert list(view.figure.axes[0].tick_values) == [0, 1, 2, 3]
    view.close()


def test_the_epoch_under_way_adds_its_running_loss_at_its_fraction():
    view = TrainingView()
    view.show([_entry(0, 1.2, 0.9, 0.71)],
              partial={"epoch": 2, "batch": 10, "batches": 40, "loss": 0.8}, epochs=5)
    np.testing.assert_allclose(view.loss.x, [1.0, 1.25])
    np.testing.assert_allclose(view.loss.y, [1.2, 0.8])
    np.testing.assert_allclose(view.val_accuracy.y, [0.71])
    assert view.figure.title == "validation accuracy 71.0% after epoch 1 of 5"
    assert view.loss.scales["x"].max == 5  # the frame spans the planned epochs
    view.close()


def test_an_epoch_cut_short_by_stop_ends_where_it_stopped_without_validation():
    view = TrainingView()
    view.show([_entry(0, 1.0, 0.8, 0.8, 40), _entry(1, 0.7, None, None, 10)])
    np.testing.assert_allclose(view.loss.x, [1.0, 1.25])
    np.testing.assert_allclose(view.val_loss.x, [1.0])
    assert view.figure.title == "validation accuracy 80.0% after epoch 1"
    view.close()


def test_show_state_reads_a_session_snapshot_and_nan_is_left_out():
    view = TrainingView()
    view.show_state({"phase": "running", "epoch": 1, "batch": 3, "batches": 30, "epochs": 2,
                     "logs": {"loss": 2.1, "accuracy": 0.2}, "history": []})
    np.testing.assert_allclose(view.loss.x, [0.1])
    assert view.figure.title == "no validation yet: epoch 1 of 2 under way"
    view.show([_entry(0, float("nan"), 0.5, 0.9)])
    assert view.loss.x.size == 0 and list(view.val_loss.y) == [0.5]
    view.close()


def test_nothing_to_draw_keeps_the_figure_out_of_the_page():
    view = TrainingView()
    view.show_state({"phase": "running", "epoch": 0, "batch": 0, "batches": 30, "epochs": 2,
                     "logs": {}, "history": []})
    assert view.box.children == ()
    view.show([_entry(0, 1.0, 0.8, 0.8)])
    assert view.box.children == (view.figure, view.key)
    view.hide()
    assert view.box.children == ()
    view.close()
