"""Training the explorer's stack: the Train button and ``ex.train``, wired to the core.

A mixin of :class:`~layerwidget.explorer.LayerExplorer`. The core trains
(:mod:`layerwidget.training`, in the background thread of a
:class:`~layerwidget.training_session.TrainingSession`); this file applies what it reports on
the kernel's main thread: after every epoch the trained kernels replace the seeded ones (as
kernel edits labelled 'trained'), the maps and kernels redraw, the curves grow, and the Dense
head turns the last stage into a prediction. While it trains, the stack, the seed and the
kernels cannot be changed; a stack edit after training resets it, with a note.
"""

from __future__ import annotations

import logging
import signal
import threading

import numpy as np

from .codegen import training_code
from .errors import LayerWidgetError
from .training_session import TrainingSession

__all__ = ["TrainingMixin"]

log = logging.getLogger(__name__)


class TrainingError(LayerWidgetError):
    """The explorer cannot train now (a model shown, no labels, already training, …)."""


class TrainingMixin:
    """Train / Stop / Reset and what they change."""

    _session: TrainingSession | None = None
    _session_post = None
    _head: list | None = None  # [kernel, bias] of the trained Dense head
    _trained_stack: list | None = None
    # Replaced, never mutated in place: tuples and None are safe class-level defaults.
    _history: tuple | list = ()
    _settings: dict | None = None
    _previous_sigint = None

    @property
    def trained(self) -> bool:
        """bool: whether the stack holds weights from a finished (or stopped) training run."""
        return self._head is not None

    @property
    def history(self) -> list[dict]:
        """list of dict: per trained epoch, loss, accuracy, val_loss, val_accuracy, seconds."""
        return [dict(entry) for entry in self._history]

    @property
    def training(self) -> dict:
        """dict: the training run's state (phase, epoch, batch, metrics, message)."""
        state = self._session.state() if self._session is not None else {"phase": "idle"}
        return {**state, "trained": self.trained}

    def train(self, epochs: int = 3, *, batch_size: int = 16, learning_rate: float = 0.01,
              validation_fraction: float = 0.2, shift: int = 1, wait: bool | None = None):
        """Train the stack plus a Flatten → Dense(softmax) head on the labelled images.

        Real ``keras.Model.fit`` on the explorer's images with labels (the embedded digits by
        default), a seeded, stratified part held out for validation. The maps, kernels, curves
        and prediction update after every epoch.

        Parameters
        ----------
        epochs : int, default 3
            Passes over the training images (1 to 100).
        batch_size, learning_rate, validation_fraction, shift
            As :func:`layerwidget.training.train_stack` takes them.
        wait : bool, optional
            Return only when training has ended. Default: no in a notebook (it trains in the
            background and the panel's Stop works), yes in a plain script.

        Returns
        -------
        TrainResult or None
            The result when waited for, else None (see ``training`` and ``history``).
        """
        from ._updating import kernel_loop

        if self._plan is not None:
            raise TrainingError("this explorer shows a Keras model; train it with model.fit. "
                                "The Train button trains an editable stack.", field="train")
        loop = kernel_loop()
        wait = loop is None if wait is None else bool(wait)
        session = self._training_session(None if wait else loop)
        if session.running:
            raise TrainingError("training is already running; press Stop first (or wait for "
                                "it to end).", field="train")
        images, labels = self._labelled()
        settings = dict(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                        validation_fraction=validation_fraction, shift=shift)
        # Each run starts from the seeded (or hand-edited) kernels, not from an earlier run's.
        if self._reset_trained(note=False) is not None:
            self._update()
        start = dict(seed=self.seed, in_weights=self._current_weights(),
                     eight_bit=self._images.eight_bit, n_classes=self._class_count(labels),
                     pixel_scale="unit" if self._images.eight_bit else "raw", **settings)
        self._trained_stack = [dict(s) for s in self.layers]
        self._settings = settings
        if wait:
            return session.run(self.layers, images, labels, **start)
        session.start(self.layers, images, labels, **start)
        self._catch_interrupt()
        return None

    def stop_training(self) -> bool:
        """Stop a training run after its current batch; True when one was running."""
        return self._session is not None and self._session.stop()

    def reset_training(self) -> None:
        """Back to the seeded weights: the trained kernels and head are dropped."""
        if self._session is not None and self._session.running:
            raise TrainingError("training is running; press Stop first, then Reset.",
                                field="train")
        self._reset_trained(note=False)
        if self._session is not None:
            self._session.clear()
        self._update()

    # ---- helpers ----

    def _training_session(self, loop) -> TrainingSession:
        post = None if loop is None else loop.call_soon_threadsafe
        if self._session is None or self._session_post is not post:
            if self._session is not None and self._session.running:
                return self._session
            self._session = TrainingSession(self._on_training, post=post)
            self._session_post = post
        return self._session

    def _labelled(self) -> tuple[np.ndarray, np.ndarray]:
        images = self._images
        if images.labels is None:
            raise TrainingError("these images have no labels, so there is nothing to learn; "
                                "pass labels=... with the images (one per image).",
                                field="train")
        keep = np.array([label is not None for label in images.labels.tolist()])
        if not keep.any():
            raise TrainingError("no image has a label; pass labels=... with the images.",
                                field="train")
        return images.pixels[keep], np.asarray(images.labels[keep].tolist())

    @staticmethod
    def _class_count(labels: np.ndarray) -> int | None:
        values = labels.tolist()
        if all(isinstance(v, int) and 0 <= v <= 9 for v in values):
            return 10  # digits: always ten outputs, 0 to 9
        return None

    def _current_weights(self) -> list:
        run = self._results()
        return [(layer.get_weights() or None) if layer.weights else None for layer in run.layers]

    def _refuse_while_training(self, what: str) -> None:
        if self._session is not None and self._session.running:
            raise TrainingError(f"training is running: {what} cannot change under it; press "
                                "Stop first (or wait for it to end).", field="train")

    def _reset_trained(self, note: bool) -> str | None:
        """Drop the trained kernels and head; the note to show when ``note`` (None: there was
        nothing to drop)."""
        if self._head is None and self._trained_stack is None:
            return None
        for spec in self._trained_stack or []:
            labels = self._kernel_edits.labels(spec["id"])
            if labels is not None and "trained" in labels:
                self._kernel_edits.reset(spec["id"])
        self._head, self._trained_stack, self._history = None, None, []
        return ("The stack changed, so its trained weights no longer apply: back to the seeded "
                "weights. Train again to watch it learn." if note else "")

    def _apply_trained(self, weights: list) -> None:
        """Use ``weights`` (per layer, aligned with the trained stack) as the stack's kernels."""
        for spec, pair in zip(self._trained_stack or [], weights, strict=False):
            if pair:
                filters = np.shape(pair[0])[-1]
                self._kernel_edits.set(spec["id"], pair[0], pair[1], ["trained"] * filters)

    def _on_training(self, kind: str, payload: dict) -> None:
        """A report from the training thread, on the kernel's main thread."""
        try:
            with self.panel.batch.collect():
                if kind == "start" and self.pixel_scale != "unit" and self._images.eight_bit:
                    self.set_trait("pixel_scale", "unit")
                    self._keep_notice = True
                    self.panel.notice = ("Pixel scale set to 'unit': the network trains on "
                                         "0–1 pixels, so its kernels are shown on them.")
                if kind == "epoch":
                    self._history = list(payload.get("history") or [])
                    self._apply_trained(payload["weights"])
                    self._update()
                if kind == "end":
                    self._finish_training()
                self.panel.training = self.training
                self._training_view.show_state(payload)
        except Exception:  # a report must never kill the kernel's loop; say it in the log
            log.exception("applying a training report failed")

    def _finish_training(self) -> None:
        session = self._session
        result = session.result if session is not None else None
        self._release_interrupt()
        if result is None:
            if not self._history:
                self._trained_stack = None
            self._update()
            return
        self._history = [dict(h) for h in result.history]
        self._apply_trained(result.weights)
        self._head = [np.asarray(w, np.float32) for w in result.head]
        self._update()

    def _head_prediction(self, run) -> np.ndarray | None:
        """The trained head's class probabilities for the last stage of ``run``, or None."""
        if self._head is None:
            return None
        features = run.outputs[-1].reshape(-1).astype(np.float64)
        kernel, bias = self._head
        if kernel.shape[0] != features.size:
            return None
        logits = features @ kernel.astype(np.float64) + bias
        p = np.exp(logits - logits.max())
        return (p / p.sum()).astype(np.float32)

    def _training_code(self) -> str:
        if self._trained_stack is None or not self._images.is_sample:
            return ""
        s = self._settings or {}
        return ("\n\n# ---- The training that produced these weights, as a script of its own "
                "----\n" + training_code(
                    self._trained_stack, seed=self.seed, epochs=s.get("epochs", 3),
                    batch_size=s.get("batch_size", 16),
                    validation_fraction=s.get("validation_fraction", 0.2),
                    learning_rate=s.get("learning_rate", 0.01), shift=s.get("shift", 1),
                    n_images=min(len(self._images), 1000)))

    def _from_train_command(self, change) -> None:
        command = change["new"]
        if not isinstance(command, dict):
            return
        action = command.get("action")
        try:
            if action == "train":
                self.train(epochs=command.get("epochs", 3), wait=False)
            elif action == "stop":
                self.stop_training()
            elif action == "reset":
                self.reset_training()
            else:
                raise TrainingError(f"unknown training action {action!r}; use train, stop or "
                                    "reset.", field="train")
            self.panel.training = self.training
        except LayerWidgetError as exc:
            self._set_error(exc)

    def _from_custom_message(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("kind") == "train-stop":
            self.stop_training()

    # A kernel interrupt (the notebook's ■) while training in the background stops it too: the
    # interrupt reaches the main thread only, so a SIGINT handler passes it on.
    def _catch_interrupt(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum, frame):
            self.stop_training()
            if callable(previous):
                previous(signum, frame)

        try:
            signal.signal(signal.SIGINT, handler)
        except (ValueError, OSError):  # not allowed here (embedded interpreters)
            return
        self._previous_sigint = (handler, previous)

    def _release_interrupt(self) -> None:
        if self._previous_sigint is None:
            return
        handler, previous = self._previous_sigint
        self._previous_sigint = None
        try:
            if signal.getsignal(signal.SIGINT) is handler:
                signal.signal(signal.SIGINT, previous)
        except (ValueError, OSError):
            pass
