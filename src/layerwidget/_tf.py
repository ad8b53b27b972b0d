"""TensorFlow, imported once, lazily, with its start-up chatter silenced.

``import tensorflow`` costs seconds; only the code that runs layers pays it, and only once.
TensorFlow 2.21 writes its start-up notices (oneDNN, CUDA stubs) from C++ straight to file
descriptor 2 before its log level applies, and ipykernel forwards that descriptor into the
notebook; so the import runs with descriptor 2 pointed at /dev/null. Python exceptions are not
affected: they are raised after the descriptor is restored.
"""

from __future__ import annotations

import contextlib
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# tf.keras follows KERAS_BACKEND; the explorer runs TensorFlow's layers.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@contextlib.contextmanager
def _quiet_stderr_fd():
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (some embedded hosts): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_started = time.perf_counter()
with _quiet_stderr_fd():
    import tensorflow as tf
IMPORT_SECONDS = time.perf_counter() - _started
"""How long ``import tensorflow`` took in this process (benchmarks compare start-up with it)."""

keras = tf.keras

__all__ = ["keras", "tf"]
