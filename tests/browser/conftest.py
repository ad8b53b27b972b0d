"""Fixtures for end-to-end tests in a real JupyterLab driven by Chromium.

Session fixtures:
  ``chromium_executable`` (autouse) -> str: path of the Chromium binary; skips
      (or, when ``CI`` is set, fails) every test here if Chromium or the
      Playwright package is missing.
  ``jupyter_server`` -> ``labpage.JupyterServer``: one JupyterLab server with
      ``url``, ``root``, ``port``, ``log`` and ``shutdown_kernels()``.
  ``browser`` -> Playwright ``BrowserContext`` (persistent, headless).
Function fixture:
  ``lab_page`` -> ``open_notebook(name) -> labpage.LabPage``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    # Lets test modules ``from labpage import LabPage`` whatever --import-mode is.
    sys.path.insert(0, str(HERE))

from labpage import JupyterServer, LabPage  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
SERVER_START_TIMEOUT_S = 60
PAGE_READY_TIMEOUT_MS = 120_000

# Frontend extensions every browser test relies on. They are installed in
# sys.prefix/share/jupyter, so this also guards the env-var setup below.
REQUIRED_LAB_EXTENSIONS = ("anywidget", "bqplot", "jupyter-widgets-jupyterlab-manager")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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


def _running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def _find_chromium() -> tuple[str | None, str]:
    """Return (path, "") or (None, why it was not found)."""
    explicit = os.environ.get("LAYERWIDGET_CHROMIUM")
    if explicit:
        # An explicit choice is never silently replaced by another browser.
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit, ""
        return None, f"LAYERWIDGET_CHROMIUM={explicit!r} is not an executable file"
    if os.path.isfile(DEFAULT_CHROMIUM) and os.access(DEFAULT_CHROMIUM, os.X_OK):
        return DEFAULT_CHROMIUM, ""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found, ""
    return None, f"no Chromium at {DEFAULT_CHROMIUM} or on PATH (chromium, chromium-browser)"


def _playwright_problem() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"the Python package 'playwright' cannot be imported ({exc})"
    return ""


def _missing_prerequisites() -> tuple[str | None, list[str]]:
    chromium, chromium_problem = _find_chromium()
    problems = [p for p in (chromium_problem, _playwright_problem()) if p]
    return chromium, problems


@pytest.fixture(scope="session", autouse=True)
def chromium_executable() -> str:
    """Gate for every test in this directory (autouse only reaches this folder)."""
    chromium, problems = _missing_prerequisites()
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
    if _running_in_ci():
        pytest.fail(f"CI is set, refusing to skip: {reason}", pytrace=False)
    pytest.skip(reason)


# --- JupyterLab server -------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prepare_jupyter_dirs(base: Path) -> dict[str, str]:
    """Create isolated Jupyter/IPython dirs and return the env vars pointing at them."""
    dirs = {
        "JUPYTER_CONFIG_DIR": base / "config",
        "JUPYTER_DATA_DIR": base / "data",
        "JUPYTER_RUNTIME_DIR": base / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": base / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": base / "lab-workspaces",
        "IPYTHONDIR": base / "ipython",
    }
    for path in dirs.values():
        path.mkdir(parents=True)

    # Pin the kernel to the interpreter running the tests, independent of any
    # python on PATH or kernelspecs installed elsewhere on the machine.
    kernel_dir = dirs["JUPYTER_DATA_DIR"] / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    kernel_spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (layerwidget tests)",
        "language": "python",
    }
    (kernel_dir / "kernel.json").write_text(json.dumps(kernel_spec, indent=1))

    # The news toast would cover part of the notebook in screenshots.
    notification = dirs["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false"})
    )

    env = {name: str(path) for name, path in dirs.items()}
    # Inside a venv jupyter_core ranks sys.prefix above JUPYTER_DATA_DIR, which
    # would let the venv's own python3 kernelspec shadow the one written above.
    # sys.prefix stays on the search path, so its lab extensions still load.
    env["JUPYTER_PREFER_ENV_PATH"] = "0"
    return env


def _prepare_root(base: Path) -> Path:
    root = base / "root"
    if EXAMPLES_DIR.is_dir():
        shutil.copytree(EXAMPLES_DIR, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    else:
        root.mkdir()
    return root


def _lab_command(port: int, root: Path) -> list[str]:
    return [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--allow-root",
        "--ip", "127.0.0.1",
        "--port", str(port),
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip


def _wait_until_ready(server: JupyterServer) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with code {server.process.returncode}; "
                f"log {server.log}:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}/api/status", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(
        f"JupyterLab did not answer /api/status within {SERVER_START_TIMEOUT_S} s; "
        f"log {server.log}:\n{server.log_tail()}"
    )


def _check_lab_extensions(server: JupyterServer) -> None:
    extensions = {ext["name"]: ext for ext in server.api("GET", "/lab/api/extensions")}
    broken = [
        name
        for name in REQUIRED_LAB_EXTENSIONS
        if name not in extensions
        or not extensions[name].get("enabled")
        or extensions[name].get("status") != "ok"
    ]
    if broken:
        raise RuntimeError(
            f"JupyterLab extensions missing or not ok: {broken}; "
            f"found {sorted(extensions)}; log {server.log}"
        )


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    base = tmp_path_factory.mktemp("jupyter")
    env = {**os.environ, **_prepare_jupyter_dirs(base)}
    root = _prepare_root(base)
    port = _free_port()
    log = base / "jupyterlab.log"

    with log.open("wb") as log_file:
        process = subprocess.Popen(
            _lab_command(port, root),
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = JupyterServer(
        url=f"http://127.0.0.1:{port}", root=root, port=port, log=log, process=process
    )
    try:
        _wait_until_ready(server)
        _check_lab_extensions(server)
        yield server
    finally:
        try:
            if process.poll() is None:
                server.shutdown_kernels()
        finally:
            _stop_process(process)


# --- browser -----------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(
    chromium_executable: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=chromium_executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()
    finally:
        playwright.stop()


@pytest.fixture
def lab_page(
    browser: BrowserContext, jupyter_server: JupyterServer
) -> Iterator[Callable[[str], LabPage]]:
    """Factory ``open_notebook(name)`` opening ``root/<name>`` in a new tab.

    Returns once the notebook is the current widget and its kernel is idle.
    Pages are closed and all kernels shut down when the test ends.
    """
    opened: list[LabPage] = []

    def open_notebook(name: str) -> LabPage:
        lab = LabPage(browser.new_page(), name)
        opened.append(lab)
        lab.page.goto(f"{jupyter_server.url}/lab/tree/{urllib.parse.quote(name)}?reset")
        lab.wait_ready(timeout=PAGE_READY_TIMEOUT_MS)
        return lab

    yield open_notebook

    try:
        for lab in opened:
            lab.close()
    finally:
        jupyter_server.shutdown_kernels()
