"""Settings for the whole suite."""

import os

# No test may reach for the network: load_mnist() (and notebooks that call it, in kernels that
# inherit this environment) only use a cached copy and otherwise say what to use instead.
os.environ["LAYERWIDGET_NO_DOWNLOAD"] = "1"


def pytest_collection_modifyitems(config, items):
    """Run the browser tests last.

    Playwright's sync API keeps an event loop running in the main thread for the whole session
    (the browser fixture is session-scoped), and nbclient's execute() calls asyncio.run(),
    which refuses to start inside a running loop. Headless tests first also gives faster
    feedback.
    """
    items.sort(key=lambda item: "browser" in item.path.parts)
