"""Helpers for browser tests that drive a real JupyterLab (or Notebook 7, or Voilà) in Chromium.

Tests import these directly (``from labpage import LabPage``); the browser
conftest puts this directory on ``sys.path`` so that works under any pytest
import mode.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

# Re-exported: tests and older scripts import JupyterServer from here.
from jupyter_env import JupyterServer  # noqa: F401

if TYPE_CHECKING:
    # Type-only so that importing this module (from the conftest) never fails
    # on machines without Playwright; those runs must skip, not error.
    from playwright.sync_api import ConsoleMessage, Error, Page, Request

ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "artifacts"

# Console errors matching any of these regexes are not reported by
# ``assert_no_console_errors``. Empty on purpose: JupyterLab 4.6 with
# anywidget/bqplot logs no console errors on the offline test machine (news
# and update checks are disabled by the server fixture). Only add a pattern
# together with a comment explaining why that message is harmless.
BENIGN_CONSOLE_ERRORS: tuple[re.Pattern[str], ...] = ()

# Extra patterns for Jupyter Notebook 7 pages only (``LabPage(..., benign=...)``, set by
# ``jupyter_env.open_lab_notebook`` for a Notebook 7 server).
NOTEBOOK7_BENIGN_CONSOLE_ERRORS: tuple[re.Pattern[str], ...] = (
    # Notebook 7.6.5 bug, on every page it serves (also /tree, a notebook with just `1+1`,
    # and with anywidget, bqplot and the widget manager disabled): JupyterLab's
    # '@jupyterlab/shortcuts-extension:shortcuts' plugin is active, but Notebook replaces
    # its settings with '@jupyter-notebook/application-extension:shortcuts', so when
    # '@jupyterlab/docmanager-extension:plugin' settings reload, its pluginChanged handler
    # reads `registry.plugins['@jupyterlab/shortcuts-extension:shortcuts'].schema` of
    # undefined (seen paused on the rejection with the Chrome debugger). An unhandled
    # rejection in Notebook's own bundle; shortcuts and everything else keep working.
    re.compile(
        r"^pageerror: Cannot read properties of undefined \(reading 'schema'\)\n"
        r"TypeError: [^\n]*\n\s+at [^\n]*/static/notebook/notebook_core\.[0-9a-f]+\.js"
    ),
)

# Requests to these hosts stay on the machine; anything else is recorded as external.
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")

_READY_JS = """
(path) => {
  const app = window.jupyterapp;
  if (!app) return false;
  // A modal (typically "Select Kernel" for a notebook without kernelspec
  // metadata) blocks kernel start forever, so report it instead of waiting.
  const dialog = document.querySelector('.jp-Dialog');
  if (dialog) return {dialog: dialog.innerText};
  const panel = app.shell.currentWidget;
  if (!panel || !panel.sessionContext || !panel.content) return false;
  if (!panel.context || panel.context.path !== path) return false;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  window.__layerwidgetPanel = panel;
  return {ready: true};
}
"""

# The command's promise resolves once every cell has been executed (or
# execution stopped at an error). It is stashed rather than returned so that
# ``run_all`` does not block; ``wait_kernel_idle`` collects it.
_RUN_ALL_JS = """
() => {
  const app = window.jupyterapp;
  app.shell.activateById(window.__layerwidgetPanel.id);
  const state = {done: false, ok: null, error: null};
  window.__layerwidgetRunAll = state;
  app.commands.execute('notebook:run-all-cells').then(
    (ok) => { state.done = true; state.ok = ok; },
    (err) => { state.done = true; state.error = String(err && err.stack || err); },
  );
}
"""

_STAGE_SHAPE_JS = """
([i, shape]) => {
  const li = document.querySelector(`.layerwidget-panel .lw-stages li[data-stage='${i}']`);
  return !!li && li.textContent.includes(shape);
}
"""

# The i-th stage figure of the first explorer; returns the href of the picture it paints
# (an SVG <image>: a PNG data URL from a bqplot HeatMap, a blob URL from a bqplot Image mark)
# once it is set and differs from `old` (null: any).
_HEATMAP_HREF_JS = """
([i, old]) => {
  const panel = document.querySelector('.layerwidget-panel');
  const root = panel && panel.closest('.widget-hbox');
  const figure = root && root.querySelectorAll('.layerwidget-stage')[i];
  const img = figure && figure.querySelector('svg image');
  const href = img && img.getAttribute('href');
  return href && href !== old ? href : false;
}
"""

_IDLE_JS = """
() => {
  const run = window.__layerwidgetRunAll;
  if (run && !run.done) return false;
  const panel = window.__layerwidgetPanel;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  const running = panel.content.widgets.some(
    (cell) => cell.model.type === 'code' && cell.model.executionState === 'running');
  return !running;
}
"""


class HostPage:
    """One browser tab showing one notebook in any host (JupyterLab, Notebook 7, Voilà).

    ``page`` is the underlying Playwright ``Page``; use it for locators. Console errors,
    uncaught page errors and requests that leave the machine are recorded from the moment
    the tab is wrapped.
    """

    def __init__(
        self, page: Page, path: str, benign: tuple[re.Pattern[str], ...] = ()
    ) -> None:
        self.page = page
        self.path = path
        # What ``assert_no_console_errors`` forgives on this page; see BENIGN_CONSOLE_ERRORS.
        self.benign_console_errors = BENIGN_CONSOLE_ERRORS + tuple(benign)
        self.console_errors: list[str] = []
        self.external_requests: list[str] = []
        page.on("console", self._record_console)
        page.on("pageerror", self._record_page_error)
        page.on("request", self._record_request)

    def wait_for_panel(self, timeout: float = 60_000):
        """The first explorer's panel, once its first run has finished, scrolled into view.

        In a fresh kernel the stage figures appear while TensorFlow loads (blank, "waiting
        for TensorFlow"); the run is done when the panel lists the stages (or shows an error)
        and no longer says it is loading.
        """
        panel = self.page.locator(".layerwidget-panel").first
        panel.wait_for(state="attached", timeout=timeout)
        self.page.wait_for_function(_FIRST_RUN_DONE_JS, timeout=max(timeout, 120_000))
        panel.scroll_into_view_if_needed()
        return panel

    def explorer(self):
        """The first explorer's whole widget (panel and figures)."""
        return self.page.locator(".widget-hbox", has=self.page.locator(".layerwidget-panel")).first

    def stage_status(self, index: int) -> str:
        """Text of stage ``index``'s line in the first panel's status list (0 = input).

        DOM text, so it reads the same whether or not a virtualized notebook renders the
        cell right now.
        """
        return self.page.locator(
            f".layerwidget-panel .lw-stages li[data-stage='{index}']"
        ).first.text_content() or ""

    def wait_for_stage_shape(self, index: int, shape: str, timeout: float = 30_000) -> None:
        """Wait until the first panel's status line for stage ``index`` shows ``shape``."""
        # The status list is rebuilt on each update, so look the item up each frame.
        self.page.wait_for_function(_STAGE_SHAPE_JS, arg=[index, shape], polling="raf",
                                    timeout=timeout)

    def heatmap_href(self, index: int, timeout: float = 30_000) -> str:
        """The href of the picture stage ``index``'s figure paints, once it paints one.

        A new href means the map was repainted.
        """
        handle = self.page.wait_for_function(_HEATMAP_HREF_JS, arg=[index, None],
                                             polling="raf", timeout=timeout)
        return handle.json_value()

    def wait_for_new_href(self, index: int, old: str, timeout: float = 30_000) -> str:
        """Wait until stage ``index``'s figure paints another picture than ``old``."""
        handle = self.page.wait_for_function(_HEATMAP_HREF_JS, arg=[index, old],
                                             polling="raf", timeout=timeout)
        return handle.json_value()

    def wait_for_stable_paint(self, locator=None, interval_ms: int = 150,
                              timeout_ms: int = 10_000) -> bytes:
        """Wait until two captures of ``locator`` (default: the explorer), ``interval_ms``
        apart, are identical; return the PNG.

        A theme switch or resize makes bqplot redraw its figures and the browser decode
        their pictures again, a few frames after the DOM already looks final.
        """
        target = locator if locator is not None else self.explorer()
        last = target.screenshot()
        waited = 0
        while waited < timeout_ms:
            self.page.wait_for_timeout(interval_ms)
            waited += interval_ms
            current = target.screenshot()
            if current == last:
                return current
            last = current
        raise AssertionError(f"{self.path!r}: the picture kept changing for {timeout_ms} ms")

    def screenshot(self, name: str) -> Path:
        """Save a full-page PNG to ``tests/artifacts/<name>.png`` and return its path."""
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS_DIR / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_no_console_errors(self) -> None:
        unexpected = [
            message
            for message in self.console_errors
            if not any(pattern.search(message) for pattern in self.benign_console_errors)
        ]
        if unexpected:
            listing = "\n".join(f"  - {message}" for message in unexpected)
            raise AssertionError(f"Browser console errors on {self.path!r}:\n{listing}")

    def assert_offline(self) -> None:
        """Fail if the page requested anything from another host than the test server's."""
        if self.external_requests:
            listing = "\n".join(f"  - {url}" for url in self.external_requests)
            raise AssertionError(f"{self.path!r} requested off-machine URLs:\n{listing}")

    def close(self) -> None:
        if not self.page.is_closed():
            self.page.close()

    def _record_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        location = message.location
        where = f" ({location['url']}:{location['lineNumber']})" if location.get("url") else ""
        self.console_errors.append(f"console.error: {message.text}{where}")

    def _record_page_error(self, error: Error) -> None:
        self.console_errors.append(f"pageerror: {error.message}\n{error.stack or ''}".rstrip())

    def _record_request(self, request: Request) -> None:
        url = urllib.parse.urlsplit(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in _LOCAL_HOSTS:
            self.external_requests.append(request.url)


class LabPage(HostPage):
    """One browser tab showing one notebook in JupyterLab, or in Jupyter Notebook 7 (both
    started with ``expose_app_in_browser``, so ``window.jupyterapp`` drives them).

    JupyterLab 4.6 virtualizes the notebook (cells outside the viewport get
    ``content-visibility: auto``), so Playwright treats off-screen outputs as
    hidden. Before asserting visibility of an output further down the
    notebook, call ``locator.scroll_into_view_if_needed()``, or wait with
    ``locator.wait_for(state="attached")`` when presence in the DOM is enough.
    """

    def wait_ready(self, timeout: float = 120_000) -> None:
        """Wait until the notebook is the current widget and its kernel is idle."""
        handle = self.page.wait_for_function(_READY_JS, arg=self.path, timeout=timeout)
        state = handle.json_value()
        if "dialog" in state:
            raise AssertionError(
                f"JupyterLab showed a dialog while opening {self.path!r} "
                f"(does the notebook lack kernelspec metadata?):\n{state['dialog']}"
            )

    def run_all(self) -> None:
        """Start 'Run All Cells' and return immediately; see ``wait_kernel_idle``."""
        self.page.evaluate(_RUN_ALL_JS)

    def wait_kernel_idle(self, timeout: float = 120_000) -> bool | None:
        """Wait until execution has finished and the kernel is idle.

        Polling the kernel status alone is racy: right after ``run_all`` the
        status can still read 'idle' before the first execute request goes
        out. So this first waits for the run-all command's own promise
        (which only settles after the last cell's reply), then for the kernel
        to report idle (the idle status follows all outputs of a request) and
        for no code cell to be in the 'running' state.

        Returns whether the last ``run_all`` completed without a cell error,
        or None if ``run_all`` was never called on this page.
        """
        self.page.wait_for_function(_IDLE_JS, timeout=timeout)
        run = self.page.evaluate("() => window.__layerwidgetRunAll || null")
        if run is None:
            return None
        if run["error"]:
            raise AssertionError(f"'Run All Cells' failed in {self.path!r}: {run['error']}")
        return bool(run["ok"])

    def run_explorer(self):
        """Run every cell, then return the first explorer's panel, scrolled into view."""
        self.run_all()
        assert self.wait_kernel_idle() is True, "a notebook cell raised"
        return self.wait_for_panel()


# --- helpers for tests that write their own notebooks ------------------------

_FIRST_RUN_DONE_JS = """
() => {
  const panel = document.querySelector('.layerwidget-panel');
  const busy = panel && panel.querySelector('.lw-busy');
  const error = panel && panel.querySelector('.lw-error');
  const ran = panel && (panel.querySelector(".lw-stages li[data-stage='0']") ||
                        (error && !error.hidden && error.textContent.trim()));
  return Boolean(ran && (!busy || busy.hidden));
}
"""

_RUN_CELL_JS = """
async (i) => {
  const panel = window.__layerwidgetPanel;
  panel.content.activeCellIndex = i;
  return await window.jupyterapp.commands.execute('notebook:run-cell');
}
"""

_KERNEL_EXEC_JS = """
async (code) => {
  const kernel = window.__layerwidgetPanel.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  let out = "";
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') out += msg.content.text;
    if (msg.header.msg_type === 'error') out += 'ERROR ' + msg.content.ename + ': ' +
      msg.content.evalue;
  };
  await future.done;
  return out;
}
"""


def write_notebook(root: Path, name: str, cells: list[str]) -> str:
    """Write a notebook of code ``cells`` (python3 kernel) into the server's ``root``."""
    import nbformat

    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}},
    )
    nbformat.write(notebook, root / name)
    return name


def run_cell(lab: LabPage, index: int) -> None:
    """Run cell ``index`` of the notebook as a user would (JupyterLab sends its cell id)."""
    lab.page.evaluate(_RUN_CELL_JS, index)
    lab.wait_kernel_idle()


def kernel_exec(lab: LabPage, code: str) -> str:
    """Run ``code`` in the notebook's kernel, outside any cell; return what it printed."""
    return lab.page.evaluate(_KERNEL_EXEC_JS, code)
