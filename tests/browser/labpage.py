"""Helpers for browser tests that drive a real JupyterLab in Chromium.

Tests import these directly (``from labpage import LabPage``); the browser
conftest puts this directory on ``sys.path`` so that works under any pytest
import mode.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Type-only so that importing this module (from the conftest) never fails
    # on machines without Playwright; those runs must skip, not error.
    from playwright.sync_api import ConsoleMessage, Error, Page

ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "artifacts"

# Console errors matching any of these regexes are not reported by
# ``assert_no_console_errors``. Empty on purpose: JupyterLab 4.6 with
# anywidget/bqplot logs no console errors on the offline test machine (news
# and update checks are disabled by the server fixture). Only add a pattern
# together with a comment explaining why that message is harmless.
BENIGN_CONSOLE_ERRORS: tuple[re.Pattern[str], ...] = ()

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


@dataclass
class JupyterServer:
    """A JupyterLab server started for the test session.

    ``root`` is the server's root directory (a scratch copy of ``examples/``);
    tests may write extra notebooks into it and open them by relative name.
    """

    url: str
    root: Path
    port: int
    log: Path
    process: Popen[bytes] = field(repr=False)
    _opener: urllib.request.OpenerDirector = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call the REST API and return the decoded JSON (None if empty)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "X-XSRFToken": self._xsrf_token()},
        )
        with self._opener.open(request, timeout=30) as response:
            payload = response.read()
        return json.loads(payload) if payload else None

    def shutdown_kernels(self) -> None:
        """Delete every session and kernel so the next notebook starts clean."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def log_tail(self, lines: int = 60) -> str:
        if not self.log.exists():
            return "<no server log>"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def _xsrf_token(self) -> str:
        # Even with authentication disabled, jupyter_server rejects mutating
        # requests without the double-submit XSRF token; /lab sets the cookie.
        token = self._cookie("_xsrf")
        if token is None:
            self._opener.open(f"{self.url}/lab", timeout=30).close()
            token = self._cookie("_xsrf")
        if token is None:
            raise RuntimeError(f"Jupyter server at {self.url} did not set an _xsrf cookie")
        return token

    def _cookie(self, name: str) -> str | None:
        handler = next(
            h for h in self._opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor)
        )
        return next((c.value for c in handler.cookiejar if c.name == name), None)


class LabPage:
    """One browser tab showing one notebook in JupyterLab.

    ``page`` is the underlying Playwright ``Page``; use it for locators.

    JupyterLab 4.6 virtualizes the notebook (cells outside the viewport get
    ``content-visibility: auto``), so Playwright treats off-screen outputs as
    hidden. Before asserting visibility of an output further down the
    notebook, call ``locator.scroll_into_view_if_needed()``, or wait with
    ``locator.wait_for(state="attached")`` when presence in the DOM is enough.
    """

    def __init__(self, page: Page, path: str) -> None:
        self.page = page
        self.path = path
        self.console_errors: list[str] = []
        page.on("console", self._record_console)
        page.on("pageerror", self._record_page_error)

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
        panel = self.page.locator(".layerwidget-panel").first
        panel.wait_for(state="attached", timeout=60_000)
        panel.scroll_into_view_if_needed()
        return panel

    def explorer(self):
        """The first explorer's whole widget (panel and figures)."""
        return self.page.locator(".widget-hbox", has=self.page.locator(".layerwidget-panel")).first

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
            if not any(pattern.search(message) for pattern in BENIGN_CONSOLE_ERRORS)
        ]
        if unexpected:
            listing = "\n".join(f"  - {message}" for message in unexpected)
            raise AssertionError(f"Browser console errors on {self.path!r}:\n{listing}")

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
