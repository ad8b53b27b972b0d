"""Settings for the whole suite."""

import os

# No test may reach for the network: load_mnist() (and notebooks that call it, in kernels that
# inherit this environment) only use a cached copy and otherwise say what to use instead.
os.environ["LAYERWIDGET_NO_DOWNLOAD"] = "1"
