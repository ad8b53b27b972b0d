"""Start and stop a real Jupyter host (JupyterLab, Notebook 7 or Voilà) and Chromium.

Plain functions, no pytest: the browser tests' conftest and the scripts in ``benchmarks/`` use
the same recipe. Put this folder on ``sys.path`` and ``import jupyter_env``::

    base = Path(tempfile.mkdtemp())
    server = jupyter_env.start_server(base, EXAMPLES_DIR)            # JupyterLab
    with sync_playwright() as pw:
        context = jupyter_env.launch_browser(pw, base / "profile", jupyter_env.find_chromium())
        lab = jupyter_env.open_lab_notebook(context, server, "walkthrough.ipynb")
        ...
        context.close()
    jupyter_env.stop_server(server)

Every server gets its own Jupyter config, data, runtime, settings, workspace and IPython
dirs under ``base`` and a kernelspec ``python3`` pinned to ``sys.executable``; its
environment is ``os.environ`` plus those, so ``LAYERWIDGET_NO_DOWNLOAD`` and the like reach
the kernels. Nothing here needs the network.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Type-only: importing this module must work without Playwright installed.
    from labpage import HostPage, LabPage
    from playwright.sync_api import BrowserContext, Playwright

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
SERVER_START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 10
PAGE_READY_TIMEOUT_MS = 120_000
APPS = ("lab", "notebook", "voila")

# Frontend extensions every browser test relies on. They are installed in
# sys.prefix/share/jupyter, so checking them also guards the env-var setup below.
REQUIRED_LAB_EXTENSIONS = ("anywidget", "bqplot", "jupyter-widgets-jupyterlab-manager")
# The same three, by the package names Voilà serves them under /voila/labextensions/.
_VOILA_EXTENSION_PACKAGES = ("anywidget", "bqplot", "@jupyter-widgets/jupyterlab-manager")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_VIEWPORT = {"width": 1400, "height": 1000}

# Voilà's "lab" template links Font Awesome from cdn.jsdelivr.net (two <link>s in its
# notebook_css block), which fails offline and logs console errors. This template is "lab"
# minus those links: the rest of the block is copied from voila 0.5.13's
# share/jupyter/voila/templates/lab/index.html.j2, and super.super() renders nbconvert's lab
# block that Voilà's own one extends. Nothing in a layerwidget notebook uses Font Awesome.
VOILA_OFFLINE_TEMPLATE = "layerwidget-offline"
_VOILA_OFFLINE_INDEX = """\
{%- extends 'lab/index.html.j2' -%}
{% import "spinner.macro.html.j2" as spinner %}

{%- block notebook_css -%}
  {% if frontend == "voila" %}
    {{ resources.include_js("static/voila-style.js") }}
  {% endif %}
  {{ spinner.css() }}
  <style>
    /*Hide empty cells*/
    .jp-mod-noOutputs.jp-mod-noInput {
      display: none;
    }
  </style>
  {{ super.super() }}
{%- endblock notebook_css -%}
"""


# --- prerequisites -----------------------------------------------------------


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def chromium_problem() -> tuple[str | None, str]:
    """Return (path, "") or (None, why no Chromium was found).

    ``LAYERWIDGET_CHROMIUM`` wins and is never silently replaced by another browser; then
    /usr/bin/chromium, then ``chromium`` / ``chromium-browser`` on PATH.
    """
    explicit = os.environ.get("LAYERWIDGET_CHROMIUM")
    if explicit:
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


def find_chromium() -> str | None:
    """Path of the Chromium binary to drive, or None (see :func:`chromium_problem`)."""
    return chromium_problem()[0]


def playwright_problem() -> str:
    """"" if the Python package ``playwright`` imports, else why not."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"the Python package 'playwright' cannot be imported ({exc})"
    return ""


def missing_prerequisites() -> tuple[str | None, list[str]]:
    """(chromium path or None, list of problems); no problems means browser tests can run."""
    chromium, problem = chromium_problem()
    problems = [p for p in (problem, playwright_problem()) if p]
    return chromium, problems


# --- servers -----------------------------------------------------------------


@dataclass
class JupyterServer:
    """A Jupyter host started by :func:`start_server`.

    ``root`` is the server's root directory (a scratch copy of the source folder); tests may
    write extra notebooks into it and open them by relative name. ``app`` is "lab",
    "notebook" or "voila"; a Voilà server serves the single notebook ``notebook`` (relative to
    ``root``) at ``url + "/"``.
    """

    url: str
    root: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    app: str = "lab"
    notebook: str | None = None
    _opener: urllib.request.OpenerDirector = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    @property
    def has_sessions_api(self) -> bool:
        """Whether /api/sessions and /api/kernels list what runs (not under Voilà)."""
        return self.app in ("lab", "notebook")

    def notebook_url(self, name: str | None = None) -> str:
        """Where the browser opens notebook ``name`` (Voilà: its one notebook)."""
        if self.app == "voila":
            if name not in (None, self.notebook):
                raise ValueError(f"this Voilà server serves {self.notebook!r}, not {name!r}")
            return f"{self.url}/"
        if name is None:
            raise ValueError("name the notebook to open")
        quoted = urllib.parse.quote(name)
        if self.app == "notebook":
            return f"{self.url}/notebooks/{quoted}"
        return f"{self.url}/lab/tree/{quoted}?reset"

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
        """Delete every session and kernel so the next notebook starts clean.

        Voilà lists neither; it shuts a page's kernel down when the page unloads and all of
        them when it stops (:func:`stop_server`), so this is a no-op there.
        """
        if not self.has_sessions_api:
            return
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
        # requests without the double-submit XSRF token; any app page sets the cookie.
        token = self._cookie("_xsrf")
        if token is None:
            page = {"lab": "/lab", "notebook": "/tree"}.get(self.app)
            if page is None:
                raise RuntimeError(f"no REST API to call on a {self.app} server")
            self._opener.open(f"{self.url}{page}", timeout=30).close()
            token = self._cookie("_xsrf")
        if token is None:
            raise RuntimeError(f"Jupyter server at {self.url} did not set an _xsrf cookie")
        return token

    def _cookie(self, name: str) -> str | None:
        handler = next(
            h for h in self._opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor)
        )
        return next((c.value for c in handler.cookiejar if c.name == name), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_jupyter_dirs(base: Path) -> dict[str, str]:
    """Create isolated Jupyter/IPython dirs under ``base``; return the env vars naming them."""
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

    # The news toast would cover part of the notebook in screenshots (Lab and Notebook 7
    # share this settings dir and plugin).
    notification = dirs["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false"})
    )

    # Voilà finds templates in <data dir>/voila/templates.
    template = dirs["JUPYTER_DATA_DIR"] / "voila" / "templates" / VOILA_OFFLINE_TEMPLATE
    template.mkdir(parents=True)
    (template / "index.html.j2").write_text(_VOILA_OFFLINE_INDEX)
    (template / "conf.json").write_text(json.dumps({"base_template": "lab"}))

    env = {name: str(path) for name, path in dirs.items()}
    # Inside a venv jupyter_core ranks sys.prefix above JUPYTER_DATA_DIR, which
    # would let the venv's own python3 kernelspec shadow the one written above.
    # sys.prefix stays on the search path, so its lab extensions still load.
    env["JUPYTER_PREFER_ENV_PATH"] = "0"
    return env


def prepare_root(base: Path, root_src: Path | None) -> Path:
    """``base/root``: a copy of ``root_src`` (checkpoints left out), or an empty folder."""
    root = base / "root"
    if root_src is not None and Path(root_src).is_dir():
        shutil.copytree(root_src, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    else:
        root.mkdir()
    return root


def server_command(
    app: str, port: int, root: Path, notebook: str | None = None,
    runtime_dir: str | Path | None = None,
) -> list[str]:
    """The command line that starts ``app`` on 127.0.0.1:``port`` without auth or network."""
    if app == "voila":
        if not notebook:
            raise ValueError("a Voilà server needs the notebook to serve")
        return [
            sys.executable, "-m", "voila", notebook,
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            "--Voila.port_retries=0",
            f"--Voila.root_dir={root}",
            # Kernel connection files in this server's own runtime dir, not /tmp.
            f"--Voila.connection_dir_root={runtime_dir or tempfile.gettempdir()}",
            f"--template={VOILA_OFFLINE_TEMPLATE}",
            "--theme=light",
            "--show_tracebacks=True",
            # Voilà loads every federated extension it finds. Notebook 7's JupyterLab
            # extension (installed with `notebook`) needs JupyterLab's shared modules and
            # fails in Voilà's page with "The getter for the shared module is not a
            # function ... @jupyterlab/docregistry" (a console error); it has nothing to do
            # in a Voilà page, so it is not loaded.
            "--VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension",
        ]  # fmt: skip
    common = [
        "--no-browser",
        "--allow-root",
        "--ip", "127.0.0.1",
        "--port", str(port),
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={root}",
        # Lab's server extension is loaded by Notebook 7 too; these keep it offline there.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    if app == "lab":
        return [sys.executable, "-m", "jupyter", "lab", *common,
                "--LabApp.expose_app_in_browser=True"]
    if app == "notebook":
        return [sys.executable, "-m", "jupyter", "notebook", *common,
                "--JupyterNotebookApp.expose_app_in_browser=True"]
    raise ValueError(f"unknown app {app!r}; use one of {APPS}")


def _ready_path(server: JupyterServer) -> str:
    # Voilà has no /api/status, and GET / would start a kernel; a static file it always
    # serves answers as soon as it listens.
    if server.app == "voila":
        return "/voila/labextensions/@jupyter-widgets/jupyterlab-manager/package.json"
    return "/api/status"


def wait_until_ready(server: JupyterServer, timeout_s: float = SERVER_START_TIMEOUT_S) -> None:
    """Poll until the server answers 200, or raise with the log's tail."""
    deadline = time.monotonic() + timeout_s
    path = _ready_path(server)
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.app} exited with code {server.process.returncode}; "
                f"log {server.log}:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}{path}", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(
        f"{server.app} did not answer {path} within {timeout_s} s; "
        f"log {server.log}:\n{server.log_tail()}"
    )


def check_extensions(server: JupyterServer) -> None:
    """Raise unless anywidget, bqplot and the widget manager are there for the frontend."""
    if server.app == "voila":
        missing = []
        for package in _VOILA_EXTENSION_PACKAGES:
            try:
                url = f"{server.url}/voila/labextensions/{package}/package.json"
                urllib.request.urlopen(url, timeout=10).close()
            except urllib.error.URLError:
                missing.append(package)
        if missing:
            raise RuntimeError(f"Voilà does not serve the labextensions {missing}; log {server.log}")
        return
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
            f"frontend extensions missing or not ok: {broken}; "
            f"found {sorted(extensions)}; log {server.log}"
        )


def start_server(
    base: Path, root_src: Path | None, app: str = "lab", notebook: str | None = None
) -> JupyterServer:
    """Start ``app`` ("lab", "notebook" or "voila") with everything isolated under ``base``.

    ``root_src`` is copied to ``base/root``, the server's root (None: an empty root). Voilà
    serves ``notebook`` (relative to the root). Returns once the server answers and its
    frontend extensions are in place; stop it with :func:`stop_server`.
    """
    if app not in APPS:
        raise ValueError(f"unknown app {app!r}; use one of {APPS}")
    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    dirs = prepare_jupyter_dirs(base)
    env = {**os.environ, **dirs}
    root = prepare_root(base, root_src)
    if app == "voila" and not (root / str(notebook)).is_file():
        raise FileNotFoundError(f"Voilà: no notebook {notebook!r} in {root}")
    port = free_port()
    log = base / f"{app}.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            server_command(app, port, root, notebook, dirs["JUPYTER_RUNTIME_DIR"]),
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = JupyterServer(
        url=f"http://127.0.0.1:{port}", root=root, port=port, log=log, process=process,
        app=app, notebook=notebook,
    )
    try:
        wait_until_ready(server)
        check_extensions(server)
    except BaseException:
        stop_server(server)
        raise
    return server


def stop_server(server: JupyterServer) -> None:
    """Shut kernels and sessions down (where the app lists them), then stop the server.

    The server is stopped by its own PID: SIGTERM, then SIGKILL after 10 s. Voilà shuts
    its kernels down itself on SIGTERM.
    """
    process = server.process
    try:
        if process.poll() is None:
            server.shutdown_kernels()
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)


# --- browser -----------------------------------------------------------------


def launch_browser(
    playwright: Playwright,
    profile_dir: Path,
    executable: str,
    viewport: dict[str, int] | None = None,
    headless: bool = True,
) -> BrowserContext:
    """A persistent, headless Chromium context on a fresh profile.

    Playwright refuses ``--user-data-dir`` in ``args``; a persistent context is how to give
    Chromium its own profile. Close it with ``context.close()``.
    """
    return playwright.chromium.launch_persistent_context(
        str(profile_dir),
        executable_path=executable,
        headless=headless,
        args=CHROMIUM_ARGS,
        viewport=dict(viewport or DEFAULT_VIEWPORT),
    )


def open_lab_notebook(
    context: BrowserContext, server: JupyterServer, name: str,
    timeout: float = PAGE_READY_TIMEOUT_MS,
) -> LabPage:
    """Open ``root/<name>`` in a new tab of JupyterLab or Notebook 7 (whichever ``server``
    runs) and return once it is the current widget and its kernel is idle."""
    from labpage import NOTEBOOK7_BENIGN_CONSOLE_ERRORS, LabPage

    if server.app not in ("lab", "notebook"):
        raise ValueError(f"{server.app} has no JupyterLab shell; use open_voila_page")
    benign = NOTEBOOK7_BENIGN_CONSOLE_ERRORS if server.app == "notebook" else ()
    lab = LabPage(context.new_page(), name, benign=benign)
    try:
        lab.page.goto(server.notebook_url(name))
        lab.wait_ready(timeout=timeout)
    except BaseException:
        lab.close()
        raise
    return lab


def open_voila_page(context: BrowserContext, server: JupyterServer) -> HostPage:
    """Open the notebook a Voilà server renders, in a new tab; returns once it loaded.

    Voilà runs every cell itself; wait for the outputs you need.
    """
    from labpage import HostPage

    if server.app != "voila":
        raise ValueError(f"not a Voilà server: {server.app}")
    host = HostPage(context.new_page(), server.notebook or "")
    try:
        # Voilà streams the page while it runs the cells, so "load" only fires after the
        # last cell; return as soon as the response starts.
        host.page.goto(server.notebook_url(), wait_until="commit")
    except BaseException:
        host.close()
        raise
    return host
