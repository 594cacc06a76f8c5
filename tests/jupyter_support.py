"""Running notebooks the way a student does: headless with nbclient, and in JupyterLab in a real browser.

Used by ``test_notebooks.py`` and ``test_browser.py``. The pieces:

- :func:`jupyter_env` gives every Jupyter process a private set of config/data/runtime folders, a
  ``python3`` kernelspec that runs *this* interpreter (the repository's ``.venv``), and no
  ``MPLBACKEND`` (``Agg`` would turn figures shown inside an ``Output`` widget into the text
  ``<Figure size ...>``).
- :func:`execute_notebook` runs a notebook with nbclient and keeps the widget state;
  :func:`widget_models` and :func:`png_bytes` read that state back.
- :func:`jupyter_lab` starts a JupyterLab server on a free port with a known token and stops it, and
  every kernel it started, by PID (never by name).
- :func:`chromium_page` drives Debian's Chromium with Playwright (no downloaded browser);
  :func:`require_chromium` skips when it is missing, except under ``CI=true``, where it fails.
- :func:`screenshot_dir` is where screenshots go: ``$EXPLAINER_SCREENSHOTS`` or a temporary folder.
"""

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

__all__ = [
    "ROOT",
    "NOTEBOOKS",
    "CHROMIUM",
    "PNG_SIGNATURE",
    "jupyter_env",
    "execute_notebook",
    "widget_models",
    "png_bytes",
    "require_chromium",
    "jupyter_lab",
    "chromium_page",
    "open_and_run_all",
    "screenshot_dir",
    "copy_notebooks",
]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "docs" / "notebooks"
CHROMIUM = os.environ.get("EXPLAINER_CHROMIUM", "/usr/bin/chromium")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TOKEN = "explainer-test-token"
# Chromium flags proven on a headless Debian box: no sandbox (root in a container), no GPU, no
# network chatter of its own
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# JupyterLab's "fetch news?" toast would sit over the notebook
NO_NEWS = {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True}


# ---------------------------------------------------------------- environment


def jupyter_env(state):
    """Environment for a Jupyter process whose private folders live under ``state``.

    The ``python3`` kernelspec written to ``state/kernels`` (first on ``JUPYTER_PATH``) runs
    ``sys.executable``, so a kernel always imports the same explainer as the tests.
    """
    state = Path(state)
    spec_dir = state / "path" / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (explainer tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    env = dict(
        os.environ,
        JUPYTER_PLATFORM_DIRS="1",
        JUPYTER_PATH=str(state / "path"),
        JUPYTER_CONFIG_DIR=str(state / "config"),
        JUPYTER_DATA_DIR=str(state / "data"),
        JUPYTER_RUNTIME_DIR=str(state / "runtime"),
        IPYTHONDIR=str(state / "ipython"),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    )
    env.pop("MPLBACKEND", None)
    return env


@contextlib.contextmanager
def _environ(env):
    """Temporarily make ``env`` the process environment (nbclient's kernel manager reads it)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# ---------------------------------------------------------------- headless: nbclient


def execute_notebook(path, state, timeout=180):
    """Execute the notebook at ``path`` in a fresh kernel; return the executed notebook (not saved).

    Cells run with the notebook's folder as working directory; widget state is stored in
    ``nb.metadata.widgets``. A cell that raises makes nbclient raise ``CellExecutionError``.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = jupyter_env(state)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    with _environ(env):
        client.execute(env=env)
    return nb


def widget_models(nb):
    """The saved widget models of an executed notebook: ``{model_id: {"model_name", "state", ...}}``."""
    widgets = nb.metadata.get("widgets", {})
    saved = widgets.get("application/vnd.jupyter.widget-state+json")
    if saved is None:
        raise AssertionError("the notebook holds no saved widget state (was it run with store_widget_state?)")
    return saved["state"]


def png_bytes(model):
    """The bytes of an ``ImageModel``'s value as saved by nbclient (base64 in JSON)."""
    value = model["state"].get("value")
    buffers = {tuple(b["path"]): b for b in model.get("buffers", [])}
    if ("value",) in buffers:
        buf = buffers[("value",)]
        value = buf["data"]
        if buf.get("encoding", "base64") != "base64":
            raise AssertionError(f"unexpected buffer encoding {buf.get('encoding')!r}")
    if isinstance(value, dict):  # {"buffer": ...} style
        value = value.get("buffer", "")
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return base64.b64decode(value or "")


# ---------------------------------------------------------------- the browser


def require_chromium():
    """Skip (locally) or fail (``CI=true``) when Debian's Chromium or Playwright is missing."""
    problems = []
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        problems.append(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set EXPLAINER_CHROMIUM)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the playwright package is not installed (pip install -e '.[dev]')")
    if not problems:
        return
    reason = "browser tests cannot run: " + "; ".join(problems)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason + " -- CI=true, so this is an error, not a skip", pytrace=False)
    pytest.skip(reason)


def screenshot_dir(tmp_path_factory):
    """``$EXPLAINER_SCREENSHOTS`` (created if needed), else a fresh temporary folder."""
    named = os.environ.get("EXPLAINER_SCREENSHOTS")
    if named:
        path = Path(named)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url, proc, log, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {proc.returncode}; its log:\n{Path(log).read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:  # it answered: it is up
            return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"JupyterLab did not answer {url} within {timeout} s")


def _stop(proc):
    """Stop a server we started, by PID, then every process it started (kernels), by PID."""
    import psutil

    try:
        children = psutil.Process(proc.pid).children(recursive=True)  # kernels run in their own session
    except psutil.NoSuchProcess:
        children = []
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down on SIGTERM
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for child in children:
        try:
            child.wait(timeout=5)
        except psutil.TimeoutExpired:
            child.kill()
        except psutil.NoSuchProcess:
            pass


@contextlib.contextmanager
def jupyter_lab(root_dir, state):
    """A JupyterLab server serving ``root_dir``; yields ``(base_url, token)``.

    Settings and workspaces live under ``state`` (no news toast, nothing restored from an earlier
    session); the server log is ``state/lab.log``.
    """
    state = Path(state)
    settings = state / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps(NO_NEWS))
    port = _free_port()
    log = state / "lab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root_dir}",
        f"--LabApp.user_settings_dir={state / 'settings'}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
        "--LabApp.extension_manager=readonly",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run cells by command, see the kernel's state
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, env=jupyter_env(state), stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/status?token={TOKEN}", proc, log)
        yield f"http://127.0.0.1:{port}", TOKEN
    finally:
        _stop(proc)


@contextlib.contextmanager
def voila_server(notebook, state):
    """Voila serving ``notebook`` as a web page without its code cells; yields its URL."""
    state = Path(state)
    state.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = state / "voila.log"
    command = [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, env=jupyter_env(state), stdout=out, stderr=subprocess.STDOUT,
                                cwd=str(Path(notebook).parent))
    try:
        end = time.monotonic() + 60
        while True:  # the port open: "/" itself would run the notebook in a kernel at every try
            if proc.poll() is not None:
                raise RuntimeError(f"voila exited with {proc.returncode}; its log:\n{log.read_text()[-3000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > end:
                raise TimeoutError(f"voila did not open port {port} within 60 s; its log:\n{log.read_text()[-3000:]}")
            time.sleep(0.25)
        yield f"http://127.0.0.1:{port}/"
    finally:
        _stop(proc)


@contextlib.contextmanager
def chromium_page(profile_dir, width=1400, height=1000):
    """A Playwright page in Debian's Chromium with a fresh profile; closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # a persistent context is a fresh --user-data-dir (launch() refuses that flag)
        context = p.chromium.launch_persistent_context(
            str(profile_dir),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": width, "height": height},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            context.close()


def open_and_run_all(page, base_url, token, notebook_name, timeout_ms=120_000):
    """Open ``notebook_name`` in JupyterLab, run every cell, wait until all have run; return the notebook panel.

    Done means every code cell shows an execution count (``[3]:``, not ``[*]:`` or ``[ ]:``) and
    the kernel is idle. Raises ``AssertionError`` with the text of any error output.
    """
    page.goto(f"{base_url}/lab/tree/{notebook_name}?token={token}&reset")
    page.wait_for_function(
        "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget; return w && w.sessionContext; }",
        timeout=60_000,
    )
    # Wait until the notebook's kernel is connected and idle, then run all cells through JupyterLab's
    # own command (a menu click made while the kernel is still connecting can be lost).
    page.evaluate(
        """async (timeout) => {
            const app = window.jupyterapp, panel = app.shell.currentWidget;
            await panel.context.ready;
            await panel.sessionContext.ready;
            const end = Date.now() + timeout;
            for (;;) {
                const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
                if (kernel && kernel.connectionStatus === "connected" && kernel.status === "idle") break;
                if (Date.now() > end) throw new Error("the kernel did not become ready");
                await new Promise(r => setTimeout(r, 200));
            }
            app.commands.execute("notebook:run-all-cells");
        }""",
        60_000,
    )
    all_ran = """() => {
        const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')];
        return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
    }"""
    page.wait_for_function(all_ran, timeout=timeout_ms)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=timeout_ms)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    if errors.count():
        raise AssertionError("a cell wrote to stderr or raised:\n" + "\n---\n".join(errors.all_inner_texts()))
    return page.locator(".jp-NotebookPanel").first


def copy_notebooks(names, target):
    """Copy notebooks into ``target`` (JupyterLab may autosave: the originals are never opened)."""
    for name in names:
        shutil.copy(NOTEBOOKS / name, Path(target) / name)
    return target


def offline(page):
    """Cut ``page`` off the network: anything but file:// is aborted and noted in ``blocked``; console errors,
    page errors and failed requests are noted in ``problems``. Returns ``(problems, blocked)``, two lists that
    fill as the page runs (both should end empty)."""
    problems, blocked = [], []

    def local_only(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.context.route("**/*", local_only)
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))
    return problems, blocked
