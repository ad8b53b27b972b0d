"""One training run at a time, in a background thread, with its progress as snapshots.

The kernel's main thread must stay free while a model trains: it answers the panel (Stop, other
edits) and draws the figures. :class:`TrainingSession` runs :func:`~layerwidget.training.run_plan`
in a daemon thread and never touches a widget from it. Progress reaches the owner through
``post(fn)``, which must run ``fn`` on the owner's thread: in a kernel,
``asyncio.get_running_loop().call_soon_threadsafe``. The owner's ``on_progress(kind, payload)``
then runs there, where widgets may be changed.

Bad input is refused at once, in the caller's thread (:func:`~layerwidget.training.plan_training`
checks everything before a model is built); what fails later, inside Keras, becomes the phase
'failed' with its message, never an exception lost in the thread.

:meth:`TrainingSession.run` is the same run, waited for: for plain scripts and tests, or a
notebook cell that should block. It delivers the progress in the calling thread, and a
KeyboardInterrupt (a kernel interrupt) while it waits stops the training after the current batch
and returns what was trained so far.

Why one module of ~360 lines: the thread, its stop flag, the snapshots it posts and the
blocking variant share one small state machine (idle → running → stopping → done, stopped
or failed); split, each half would have to re-check the other's phases.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from .errors import LayerWidgetError
from .training import TrainingPlan, TrainResult, plan_training, run_plan

__all__ = ["BATCH_INTERVAL", "PHASES", "TrainingBusyError", "TrainingSession"]

log = logging.getLogger(__name__)

PHASES = ("idle", "running", "stopping", "done", "stopped", "failed")
"""What :meth:`TrainingSession.state` says a session is doing."""
BATCH_INTERVAL = 0.1
"""Fewest seconds between two 'batch' reports (ends of epochs are always reported)."""


class TrainingBusyError(LayerWidgetError):
    """A run is going on: a second one cannot start, nor the session be cleared."""


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None, so a snapshot is valid JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


class TrainingSession:
    """Runs one training at a time in a background thread and reports its progress.

    Parameters
    ----------
    on_progress : callable, optional
        ``on_progress(kind, payload)``, run through ``post``. ``kind`` is 'start' (the run is
        accepted), 'batch' (at most one per :data:`BATCH_INTERVAL` seconds, and never two
        waiting), 'epoch' (after every epoch; ``payload['weights']`` holds the stack's weights
        then, as :attr:`TrainResult.weights`) or 'end' (finished, stopped or failed). ``payload``
        is :meth:`state` as it is when the call runs, so it is never stale. Reports of an
        earlier run that arrive after a new one started are dropped.
    post : callable, optional
        ``post(fn)`` runs ``fn()`` on the owner's thread, e.g. ``loop.call_soon_threadsafe``.
        Default: ``fn`` runs at once, in the training thread.
    """

    def __init__(self, on_progress: Callable[[str, dict], None] | None = None,
                 post: Callable[[Callable[[], None]], Any] | None = None):
        self._on_progress = on_progress
        self._post = post if post is not None else (lambda fn: fn())
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._run_post = self._post
        self._thread: threading.Thread | None = None
        self._run = 0
        self._live: int | None = None  # the run whose thread may still change the state
        self._phase = "idle"
        self._epoch = self._batch = self._epochs = self._batches = 0
        self._history: list[dict] = []
        self._logs: dict = {}
        self._message = ""
        self._started = self._ended = None
        self._stop_asked: float | None = None
        self._batch_posted = -math.inf
        self._batch_waiting = False
        self._result: TrainResult | None = None
        self._error: BaseException | None = None
        self.stop_latency: float | None = None
        """float or None: seconds from the last :meth:`stop` to the end of its run."""

    # ---- what the owner reads ----

    @property
    def running(self) -> bool:
        """True from :meth:`start` until the run has finished, stopped or failed."""
        with self._lock:
            return self._phase in ("running", "stopping")

    @property
    def result(self) -> TrainResult | None:
        """The last run's :class:`TrainResult` once it is 'done' or 'stopped', else None."""
        with self._lock:
            return self._result

    @property
    def error(self) -> BaseException | None:
        """The exception that ended the last run in 'failed', else None."""
        with self._lock:
            return self._error

    def state(self) -> dict:
        """A snapshot (JSON-safe, NaN as None) of the session.

        Keys: ``phase`` (one of :data:`PHASES`), ``run`` (counts runs), ``epoch`` (the current
        or last epoch, from 1; 0 before the first batch), ``epochs``, ``batch`` (batches done
        in that epoch), ``batches`` (per epoch), ``logs`` (that epoch's running ``loss`` and
        ``accuracy``), ``history`` (one dict per epoch, as :attr:`TrainResult.history`),
        ``message`` (for people) and ``seconds`` (since the run started).
        """
        with self._lock:
            return self._snapshot()

    def _snapshot(self) -> dict:
        end = self._ended if self._ended is not None else time.perf_counter()
        return _finite({
            "phase": self._phase, "run": self._run, "epoch": self._epoch,
            "epochs": self._epochs, "batch": self._batch, "batches": self._batches,
            "logs": dict(self._logs), "history": [dict(h) for h in self._history],
            "message": self._message,
            "seconds": 0.0 if self._started is None else round(end - self._started, 3),
        })

    # ---- what the owner does ----

    def start(self, stack, images, labels, *, seed: int, **settings) -> None:
        """Check the input and start training in a background thread; returns at once.

        Takes :func:`~layerwidget.training.train_stack`'s arguments but the callbacks
        (``in_weights``, ``epochs``, ``batch_size``, ``validation_fraction``,
        ``learning_rate``, ``shift``, ``pixel_scale``, ``eight_bit``, ``n_classes``).

        Raises
        ------
        TrainingBusyError
            A run is going on.
        TrainingError, LayerSpecError, OptionError
            The input is refused (nothing starts; the last run's state is kept).
        """
        self._begin(stack, images, labels, seed, settings, self._post)

    def run(self, stack, images, labels, *, seed: int, **settings) -> TrainResult | None:
        """Train as :meth:`start` does and wait for the end; progress is reported in the
        calling thread (``post`` is not used).

        A KeyboardInterrupt while waiting stops the run as :meth:`stop` does (a second one is
        raised); the stopped run's result is returned, None if no batch had ended. An exception
        that failed the run is raised again here.
        """
        calls: queue.SimpleQueue = queue.SimpleQueue()
        thread = self._begin(stack, images, labels, seed, settings, calls.put)
        interrupted = False
        while True:
            # The interrupt may land anywhere in the waiting loop, so it is caught around all
            # of it, and the loop resumed.
            try:
                _pump(thread, calls)
                break
            except KeyboardInterrupt:
                if interrupted:
                    raise
                interrupted = True
                log.info("interrupted: stopping the training")
                self.stop()
        with self._lock:
            if self._error is not None:
                raise self._error
            return self._result

    def stop(self) -> bool:
        """Ask the run to stop after its current batch (or validation chunk); True when one
        was running.

        Once a batch has ended, a batch takes milliseconds and the run ends in the training
        thread soon after (phase 'stopping', then 'stopped'). Before that, Keras may be
        building and tracing the first step, seconds that cannot be cut short: then the run
        ends here at once (phase 'stopped', no result, nothing was trained), and its thread,
        left to finish that step, sees the stop after it and ends unheard.
        """
        with self._lock:
            if self._phase != "running":
                return self._phase == "stopping"
            now = time.perf_counter()
            self._stop.set()
            self._stop_asked = now
            if self._epoch:
                self._phase, self._message = "stopping", "stopping after this batch…"
                return True
            self._live = None  # the abandoned thread's updates are ignored from now on
            self._phase, self._ended, self.stop_latency = "stopped", now, 0.0
            self._message = "stopped before the first batch ended: nothing was trained."
            run, post = self._run, self._run_post
        self._report(post, run, "end")
        return True

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the training thread; True when no run is going on."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.running

    def clear(self) -> None:
        """Forget the last run (phase 'idle'), e.g. when its weights are reset."""
        with self._lock:
            if self._phase in ("running", "stopping"):
                raise TrainingBusyError("training is running; press Stop first, then Reset.",
                                        field="training")
            self._run += 1  # reports of the old run still on their way are dropped
            self._live = None
            self._phase, self._message = "idle", ""
            self._epoch = self._batch = self._epochs = self._batches = 0
            self._history, self._logs = [], {}
            self._started = self._ended = None
            self._result = self._error = None

    # ---- the run ----

    def _begin(self, stack, images, labels, seed, settings, post) -> threading.Thread:
        with self._lock:
            if self._phase in ("running", "stopping"):
                raise TrainingBusyError("training is already running; press Stop first.",
                                        field="training")
        plan = plan_training(stack, images, labels, seed=seed, **settings)
        with self._lock:
            if self._phase in ("running", "stopping"):  # another thread started meanwhile
                raise TrainingBusyError("training is already running; press Stop first.",
                                        field="training")
            self._run += 1
            run = self._live = self._run
            # Each run has its own stop flag: a thread left behind by stop() keeps its own set.
            self._stop = stop = threading.Event()
            self._run_post = post
            self._phase = "running"
            self._epoch, self._batch = 0, 0
            self._epochs, self._batches = plan.epochs, plan.n_batches
            self._history, self._logs = [], {}
            self._message = "building the model and preparing its first step…"
            self._started, self._ended, self._stop_asked = time.perf_counter(), None, None
            self._batch_posted, self._batch_waiting = -math.inf, False
            self._result = self._error = None
            self.stop_latency = None
            thread = threading.Thread(target=self._work, args=(plan, run, post, stop),
                                      daemon=True,
                                      name=f"layerwidget-training-{run}")
            self._thread = thread
        self._report(post, run, "start")
        thread.start()
        return thread

    def _work(self, plan: TrainingPlan, run: int, post, stop: threading.Event) -> None:
        def on_batch(epoch, batch, n_batches, logs):
            with self._lock:
                if run != self._live:
                    return
                self._epoch, self._batch = epoch + 1, batch + 1
                self._logs = {k: logs.get(k) for k in ("loss", "accuracy")}
                if self._phase == "running":
                    self._message = ""
                now = time.perf_counter()
                due = now - self._batch_posted >= BATCH_INTERVAL and not self._batch_waiting
                if due:
                    self._batch_posted, self._batch_waiting = now, True
            if due:
                self._report(post, run, "batch")

        def on_epoch(epoch, entry, weights):
            with self._lock:
                if run != self._live:
                    return
                self._history.append(dict(entry))
                self._epoch, self._batch = epoch + 1, entry["batches"]
            self._report(post, run, "epoch", {"weights": weights})

        try:
            result = run_plan(plan, on_batch=on_batch, on_epoch=on_epoch,
                              should_stop=stop.is_set)
        except Exception as exc:  # reported as the phase 'failed', never lost in the thread
            log.warning("training failed", exc_info=True)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            with self._lock:
                if run != self._live:
                    return
                self._phase, self._error = "failed", exc
                self._message = f"training failed: {first}"
                self._ended = time.perf_counter()
        else:
            with self._lock:
                if run != self._live:
                    return
                self._result, self._ended = result, time.perf_counter()
                self._phase = "stopped" if result.stopped else "done"
                self._message = _summary(result, self._batches)
                if self._stop_asked is not None:
                    self.stop_latency = self._ended - self._stop_asked
        self._report(post, run, "end")

    def _report(self, post, run: int, kind: str, extra: dict | None = None) -> None:
        try:
            post(lambda: self._deliver(run, kind, extra))
        except Exception:  # the owner's loop is closed: nobody is left to tell
            log.debug("could not report %s; stopping the training", kind, exc_info=True)
            with self._lock:
                if run == self._run:
                    self._stop.set()

    def _deliver(self, run: int, kind: str, extra: dict | None) -> None:
        with self._lock:
            if run != self._run:
                return
            if kind == "batch":
                self._batch_waiting = False
            payload = self._snapshot()
        if extra:
            payload.update(extra)
        if self._on_progress is None:
            return
        try:
            self._on_progress(kind, payload)
        except Exception:
            log.exception("on_progress(%r) failed", kind)


def _pump(thread: threading.Thread, calls: queue.SimpleQueue) -> None:
    """Run what ``thread`` posts to ``calls`` until it has ended and all has run."""
    while thread.is_alive() or not calls.empty():
        try:
            fn = calls.get(timeout=0.05)
        except queue.Empty:
            continue
        fn()


def _summary(result: TrainResult, batches: int) -> str:
    """One line on how a run ended."""
    last = result.history[-1] if result.history else None
    if last is None:
        return "stopped before the first batch ended."
    scored = [h for h in result.history if h["val_accuracy"] is not None]
    score = (f"; validation accuracy {scored[-1]['val_accuracy']:.1%} after epoch "
             f"{scored[-1]['epoch'] + 1}" if scored else "")
    if result.stopped:
        return (f"stopped in epoch {last['epoch'] + 1} after batch {last['batches']} of "
                f"{batches}{score}.")
    return f"done: {len(result.history)} epochs in {result.seconds:.1f} s{score}."
