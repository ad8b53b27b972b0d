"""TrainingSession: real training in a background thread, reported through post(), stoppable.

The widget passes ``loop.call_soon_threadsafe`` as ``post``; here a queue stands in for the
kernel's event loop and the test thread plays the main thread, running what was posted.
"""

from __future__ import annotations

import _thread
import itertools
import queue
import threading
import time

import numpy as np
import pytest

import layerwidget.training_session as ts
from layerwidget import sample_digits
from layerwidget.layers import DEFAULT_STACK
from layerwidget.training import TrainingError, train_stack
from layerwidget.training_session import BATCH_INTERVAL, TrainingBusyError, TrainingSession

PHASE_ORDER = {"idle": 0, "running": 1, "stopping": 2, "done": 3, "stopped": 3, "failed": 3}


@pytest.fixture(scope="module")
def digits():
    images, labels = sample_digits()
    return images, labels


class Loop:
    """A stand-in for the kernel's event loop: post() queues, pump() runs in this thread."""

    def __init__(self):
        self.calls: queue.SimpleQueue = queue.SimpleQueue()
        self.reports: list[tuple[str, dict, str]] = []

    def post(self, fn):
        self.calls.put(fn)

    def on_progress(self, kind, payload):
        self.reports.append((kind, payload, threading.current_thread().name))

    def pump(self, session, until=lambda: False, limit: float = 300.0):
        """Run posted calls until ``until()`` or the session's 'end' was delivered."""
        deadline = time.monotonic() + limit  # a hang fails the test instead of blocking it
        while time.monotonic() < deadline:
            try:
                self.calls.get(timeout=0.02)()
            except queue.Empty:
                pass
            if until() or (self.reports and self.reports[-1][0] == "end"):
                return
        raise AssertionError("the session never reported its end")


def _assert_monotonic(payloads):
    steps = [(p["epoch"], p["batch"]) for p in payloads]
    assert steps == sorted(steps)
    assert [len(p["history"]) for p in payloads] == sorted(len(p["history"]) for p in payloads)
    phases = [PHASE_ORDER[p["phase"]] for p in payloads]
    assert phases == sorted(phases)


def test_background_run_reports_on_the_posting_thread_and_trains_as_train_stack(digits):
    images, labels = digits
    loop = Loop()
    session = TrainingSession(loop.on_progress, post=loop.post)
    assert session.state()["phase"] == "idle" and not session.running
    session.start(DEFAULT_STACK, images[:300], labels[:300], seed=1, epochs=2)
    assert session.running and session.state()["epochs"] == 2
    loop.pump(session)
    assert session.join(10) and session.state()["phase"] == "done"

    kinds = [kind for kind, _, _ in loop.reports]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("epoch") == 2
    # Every report ran here, on the thread that pumps the loop, never on the training thread.
    assert {name for *_, name in loop.reports} == {threading.current_thread().name}
    _assert_monotonic([payload for _, payload, _ in loop.reports])

    result = session.result
    same = train_stack(DEFAULT_STACK, images[:300], labels[:300], seed=1, epochs=2)
    np.testing.assert_array_equal(result.weights[0][0], same.weights[0][0])
    np.testing.assert_array_equal(result.head[0], same.head[0])
    final = session.state()
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in same.history]
    assert [{k: v for k, v in h.items() if k != "seconds"} for h in final["history"]] == strip
    assert final["epoch"] == 2 and final["batch"] == final["batches"] == -(-240 // 16)
    assert "validation accuracy" in final["message"]
    last_epoch = [payload for kind, payload, _ in loop.reports if kind == "epoch"][-1]
    np.testing.assert_array_equal(last_epoch["weights"][0][0], result.weights[0][0])


def test_stop_ends_the_run_before_its_last_epoch(digits, record_property):
    images, labels = digits
    loop = Loop()
    session = TrainingSession(loop.on_progress, post=loop.post)
    session.start(DEFAULT_STACK, images, labels, seed=0, epochs=30)
    # Stop in the middle of the second epoch, as a reader pressing Stop would.
    loop.pump(session, until=lambda: session.state()["epoch"] >= 2)
    assert session.stop() and session.state()["phase"] == "stopping"
    assert session.state()["message"].startswith("stopping")
    loop.pump(session)
    state = session.state()
    assert state["phase"] == "stopped" and session.result.stopped
    assert len(state["history"]) < 30 and state["message"].startswith("stopped in epoch")
    assert not session.running and not session.stop()
    # Seconds from stop() to the end of the run: a number for the report, not an assert.
    record_property("stop_latency_s", round(session.stop_latency, 3))
    assert session.stop_latency is not None


def test_stop_before_the_first_batch_ends_the_run_at_once_with_nothing_trained(digits):
    images, labels = digits
    loop = Loop()
    session = TrainingSession(loop.on_progress, post=loop.post)
    session.start(DEFAULT_STACK, images, labels, seed=0, epochs=30)
    thread = session._thread
    assert session.stop()  # Keras is still building the model or tracing its first step
    state = session.state()
    assert state["phase"] == "stopped" and not session.running and session.result is None
    assert state["message"] == "stopped before the first batch ended: nothing was trained."
    loop.pump(session)
    assert [kind for kind, _, _ in loop.reports] == ["start", "end"]
    # The thread left behind ends after its first batch, unheard; a new run may start at once.
    session.start(DEFAULT_STACK, images[:100], labels[:100], seed=0, epochs=1)
    thread.join(120)
    assert not thread.is_alive()
    loop.pump(session)
    assert session.state()["phase"] == "done" and len(session.result.history) == 1
    assert [kind for kind, _, _ in loop.reports].count("end") == 2


def test_batch_reports_are_posted_at_least_the_interval_apart(digits):
    images, labels = digits
    times = []
    # Without post, reports run in the training thread as they are posted.
    session = TrainingSession(
        lambda kind, _: times.append(time.perf_counter()) if kind == "batch" else None)
    session.start(DEFAULT_STACK, images[:400], labels[:400], seed=0, epochs=2)
    assert session.join(120)
    assert times and len(times) <= 2 * -(-320 // 16)
    assert all(b - a >= BATCH_INTERVAL * 0.999 for a, b in itertools.pairwise(times))
    assert session.result.history and session.state()["phase"] == "done"


def test_starting_while_running_is_refused_and_bad_input_starts_nothing(digits):
    images, labels = digits
    session = TrainingSession()
    with pytest.raises(TrainingError, match="no labels"):
        session.start(DEFAULT_STACK, images, None, seed=0)
    assert session.state()["phase"] == "idle" and not session.running
    session.start(DEFAULT_STACK, images, labels, seed=0, epochs=30)
    try:
        with pytest.raises(TrainingBusyError, match="already running; press Stop first"):
            session.start(DEFAULT_STACK, images, labels, seed=0)
        with pytest.raises(TrainingBusyError, match="press Stop first"):
            session.clear()
    finally:
        session.stop()
        assert session.join(60)
    assert session.state()["phase"] == "stopped"
    session.clear()
    assert session.state()["phase"] == "idle" and session.result is None


def test_a_failure_in_the_thread_becomes_the_failed_phase(digits, monkeypatch):
    images, labels = digits

    def broken(plan, *, on_batch, on_epoch, should_stop):
        on_batch(0, 0, plan.n_batches, {"loss": float("nan"), "accuracy": 0.1})
        raise RuntimeError("out of memory\nallocating a tensor of shape (1000, 1000)")

    monkeypatch.setattr(ts, "run_plan", broken)
    loop = Loop()
    session = TrainingSession(loop.on_progress, post=loop.post)
    session.start(DEFAULT_STACK, images[:100], labels[:100], seed=0)
    loop.pump(session)
    state = session.state()
    assert state["phase"] == "failed" and not session.running
    assert state["message"] == "training failed: out of memory"
    assert state["logs"]["loss"] is None  # NaN comes out as None: the state is JSON
    assert isinstance(session.error, RuntimeError) and session.result is None
    assert [kind for kind, _, _ in loop.reports][-1] == "end"
    with pytest.raises(RuntimeError, match="out of memory"):  # run() raises it again
        session.run(DEFAULT_STACK, images[:100], labels[:100], seed=0)


def test_a_kernel_interrupt_during_run_stops_it_and_keeps_the_result(digits):
    images, labels = digits
    session = TrainingSession()

    def interrupt_once_training():
        while session.state()["epoch"] < 1:
            time.sleep(0.01)
        _thread.interrupt_main()  # what a kernel interrupt does to the waiting cell

    threading.Thread(target=interrupt_once_training, daemon=True).start()
    result = session.run(DEFAULT_STACK, images, labels, seed=0, epochs=30)
    assert result.stopped and 1 <= len(result.history) < 30
    assert session.state()["phase"] == "stopped"


def test_reports_of_a_cleared_run_are_dropped(digits):
    images, labels = digits
    loop = Loop()
    session = TrainingSession(loop.on_progress, post=loop.post)
    session.start(DEFAULT_STACK, images[:100], labels[:100], seed=0, epochs=1)
    assert session.join(120)
    session.clear()  # the run ended but its reports were never pumped
    while not loop.calls.empty():
        loop.calls.get()()
    assert loop.reports == [] and session.state()["phase"] == "idle"
