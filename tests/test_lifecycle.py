"""An explorer made by a cell that runs again is released after that run, unless held.

A stand-in IPython shell feeds the cell id and message id that JupyterLab sends with every
execute request, and fires post_run_cell as IPython does when a cell finishes.
"""

import types

import pytest

from layerwidget import LayerExplorer, _lifecycle


class FakeShell:
    def __init__(self):
        self.user_ns = {}
        self.callbacks = []
        self.parent = {}
        self.kernel = types.SimpleNamespace(get_parent=lambda channel="shell": self.parent)
        self.events = types.SimpleNamespace(register=self._register,
                                            unregister=self._unregister)

    def _register(self, name, callback):
        self.callbacks.append(callback)

    def _unregister(self, name, callback):
        self.callbacks.remove(callback)

    def run(self, cell, run_id, body):
        """Run a 'cell': body(ns) makes explorers; then post_run_cell fires."""
        self.parent = {"metadata": {"cellId": cell}, "header": {"msg_id": run_id}}
        body(self.user_ns)
        self.parent = {}
        for callback in list(self.callbacks):
            callback(None)


@pytest.fixture
def shell(monkeypatch):
    fake = FakeShell()
    monkeypatch.setattr(_lifecycle, "_ipython", lambda: fake)
    monkeypatch.setattr(_lifecycle, "_by_cell", {})
    monkeypatch.setattr(_lifecycle, "_pending", set())
    return fake


def make(ns, name="ex"):
    ns[name] = LayerExplorer(layers=[{"type": "ReLU"}])
    ns["_"] = ns[name]  # IPython's output cache holds the last shown value too


def test_a_rerun_releases_the_explorer_of_the_previous_run(shell):
    shell.run("cell-1", "run-1", make)
    first = shell.user_ns["ex"]
    shell.run("cell-1", "run-2", make)
    second = shell.user_ns["ex"]
    assert first._closed and not second._closed
    assert "closed: run the cell" in repr(first)
    assert first.cell_id == second.cell_id == "cell-1"
    second.close()


def test_an_explorer_held_under_another_name_keeps_working(shell):
    shell.run("cell-1", "run-1", make)
    shell.user_ns["keep"] = shell.user_ns["ex"]
    shell.run("cell-1", "run-2", make)
    kept = shell.user_ns["keep"]
    assert not kept._closed
    kept.seed = 3
    assert kept.error == "" and len(kept.outputs) == 1
    kept.close()
    shell.user_ns["ex"].close()


def test_explorers_of_the_same_run_and_of_other_cells_stay(shell):
    def two(ns):
        make(ns, "a")
        make(ns, "b")
        del ns["a"], ns["b"]  # shown, not kept: still the same run's
        ns["pair"] = None

    shell.run("cell-1", "run-1", two)
    made = [ref() for _, ref in _lifecycle._by_cell["cell-1"]]
    shell.run("cell-2", "run-2", make)
    assert all(not ex._closed for ex in made)
    for ex in [*made, shell.user_ns["ex"]]:
        ex.close()


def test_outside_a_notebook_front_end_nothing_is_tracked(monkeypatch):
    monkeypatch.setattr(_lifecycle, "_ipython", lambda: None)
    ex = LayerExplorer(layers=[{"type": "ReLU"}])
    assert ex.cell_id is None
    ex.close()
