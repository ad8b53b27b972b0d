"""Fixtures for end-to-end tests in real Jupyter hosts driven by Chromium.

The start/stop recipe lives in ``jupyter_env`` (no pytest there, so ``benchmarks/`` use the
very same one); this file only wires it into fixtures. Servers start when a test first asks
for them.

Session fixtures:
  ``chromium_executable`` (autouse) -> str: path of the Chromium binary; skips
      (or, when ``CI`` is set, fails) every test here if Chromium or the
      Playwright package is missing.
  ``jupyter_server`` -> ``jupyter_env.JupyterServer``: one JupyterLab server with
      ``url``, ``root``, ``port``, ``log`` and ``shutdown_kernels()``.
  ``notebook_server`` -> ``JupyterServer``: one Jupyter Notebook 7 server (same API).
  ``browser`` -> Playwright ``BrowserContext`` (persistent, headless).
Module fixture:
  ``voila_server`` -> ``start(notebook, root_src=EXAMPLES_DIR) -> JupyterServer``: a Voilà
      server rendering ``notebook`` (a path in a scratch copy of ``root_src``), one per
      notebook per module, stopped when the module ends.
Function fixtures:
  ``lab_page`` -> ``open_notebook(name) -> labpage.LabPage`` in JupyterLab.
  ``notebook_page`` -> ``open_notebook(name) -> labpage.LabPage`` in Notebook 7.
  ``voila_page`` -> ``open(notebook) -> labpage.HostPage`` rendered by Voilà.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    # Lets test modules ``from labpage import LabPage`` whatever --import-mode is.
    sys.path.insert(0, str(HERE))

import jupyter_env
from jupyter_env import EXAMPLES_DIR, PAGE_READY_TIMEOUT_MS, JupyterServer
from labpage import HostPage, LabPage

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext


# --- marking -----------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    # Registered here too so --strict-markers holds even if pyproject changes.
    config.addinivalue_line("markers", "browser: drives JupyterLab in headless Chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # This hook sees every collected test, not just this folder's, so filter
    # by path; it only tags (for `-m "not browser"`), the gate is a fixture.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


# --- prerequisites -----------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def chromium_executable() -> str:
    """Gate for every test in this directory (autouse only reaches this folder)."""
    chromium, problems = jupyter_env.missing_prerequisites()
    if not problems:
        return chromium  # type: ignore[return-value]
    reason = (
        "browser tests need Chromium and Playwright: "
        + "; ".join(problems)
        + ". Install Chromium with `apt-get install -y chromium` (or point "
        "LAYERWIDGET_CHROMIUM at a Chromium binary) and Playwright with "
        "`pip install playwright`; do not run `playwright install`, the "
        "system Chromium is used."
    )
    if jupyter_env.running_in_ci():
        pytest.fail(f"CI is set, refusing to skip: {reason}", pytrace=False)
    pytest.skip(reason)


# --- servers -----------------------------------------------------------------


def _serve(
    tmp_path_factory: pytest.TempPathFactory, app: str, notebook: str | None = None,
    root_src: Path | None = EXAMPLES_DIR,
) -> Iterator[JupyterServer]:
    server = jupyter_env.start_server(
        tmp_path_factory.mktemp(app), root_src, app=app, notebook=notebook
    )
    try:
        yield server
    finally:
        jupyter_env.stop_server(server)


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """One JupyterLab for the session; its root is a scratch copy of ``examples/``."""
    yield from _serve(tmp_path_factory, "lab")


@pytest.fixture(scope="session")
def notebook_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """One Jupyter Notebook 7 for the session; its root is a scratch copy of ``examples/``."""
    yield from _serve(tmp_path_factory, "notebook")


@pytest.fixture(scope="module")
def voila_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., JupyterServer]]:
    """Factory ``start(notebook, root_src=EXAMPLES_DIR)``: a Voilà server for ``notebook``.

    Voilà runs the notebook anew for each page load, so one server per notebook per module
    is enough; all of them stop when the module's tests are done.
    """
    running: dict[tuple[str, Path | None], Iterator[JupyterServer]] = {}
    servers: dict[tuple[str, Path | None], JupyterServer] = {}

    def start(notebook: str, root_src: Path | None = EXAMPLES_DIR) -> JupyterServer:
        key = (notebook, root_src)
        if key not in servers:
            running[key] = _serve(tmp_path_factory, "voila", notebook, root_src)
            servers[key] = next(running[key])
        return servers[key]

    yield start

    errors = []
    for generator in running.values():
        try:
            generator.close()  # runs _serve's finally: stop_server
        except Exception as exc:  # stop every server before reporting
            errors.append(exc)
    if errors:
        raise errors[0]


# --- browser -----------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(
    chromium_executable: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        context = jupyter_env.launch_browser(
            playwright, tmp_path_factory.mktemp("chromium-profile"), chromium_executable
        )
        try:
            yield context
        finally:
            context.close()
    finally:
        playwright.stop()


def _page_factory(
    browser: BrowserContext, server: JupyterServer
) -> Iterator[Callable[[str], LabPage]]:
    opened: list[LabPage] = []

    def open_notebook(name: str) -> LabPage:
        lab = jupyter_env.open_lab_notebook(browser, server, name, timeout=PAGE_READY_TIMEOUT_MS)
        opened.append(lab)
        return lab

    yield open_notebook

    try:
        for lab in opened:
            lab.close()
    finally:
        server.shutdown_kernels()


@pytest.fixture
def lab_page(
    browser: BrowserContext, jupyter_server: JupyterServer
) -> Iterator[Callable[[str], LabPage]]:
    """Factory ``open_notebook(name)`` opening ``root/<name>`` in a new JupyterLab tab.

    Returns once the notebook is the current widget and its kernel is idle.
    Pages are closed and all kernels shut down when the test ends.
    """
    yield from _page_factory(browser, jupyter_server)


@pytest.fixture
def notebook_page(
    browser: BrowserContext, notebook_server: JupyterServer
) -> Iterator[Callable[[str], LabPage]]:
    """Like ``lab_page``, in Jupyter Notebook 7 (``/notebooks/<name>``)."""
    yield from _page_factory(browser, notebook_server)


@pytest.fixture
def voila_page(
    browser: BrowserContext, voila_server: Callable[..., JupyterServer]
) -> Iterator[Callable[..., HostPage]]:
    """Factory ``open(notebook, root_src=EXAMPLES_DIR)``: a new tab showing Voilà's rendering.

    Returns as soon as the page starts loading; Voilà then runs every cell itself. Closing
    the page makes Voilà shut its kernel down; pages are closed when the test ends.
    """
    opened: list[HostPage] = []

    def open_page(notebook: str, root_src: Path | None = EXAMPLES_DIR) -> HostPage:
        host = jupyter_env.open_voila_page(browser, voila_server(notebook, root_src))
        opened.append(host)
        return host

    yield open_page

    for host in opened:
        host.close()
