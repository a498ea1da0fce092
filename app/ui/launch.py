"""Start the viewer: the native Flet desktop client when it can run, else a local browser window.

The desktop client is a separate Flutter program that flet_desktop finds in FLET_VIEW_PATH, in its
cache (~/.flet/client/...), or bundled with the package; otherwise it would try to download it,
which a ward laptop in a downtime cannot do. So we decide up front (`desktop_unavailable_reason`)
and fall back to serving the same UI on 127.0.0.1 only, opened in a Chromium/Edge "--app" window
(no address bar) or the default browser.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import webbrowser
from collections.abc import Mapping, Sequence
from pathlib import Path

import flet as ft

from app.ui.shell import SessionCounter, make_main

log = logging.getLogger(__name__)

LOCALHOST = "127.0.0.1"
APP_BROWSERS = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "msedge",
    "microsoft-edge",
    "microsoft-edge-stable",
)
_WINDOWS_BROWSERS = (
    r"%ProgramFiles(x86)%\Microsoft\Edge\Application\msedge.exe",
    r"%ProgramFiles%\Microsoft\Edge\Application\msedge.exe",
    r"%ProgramFiles%\Google\Chrome\Application\chrome.exe",
    r"%ProgramFiles(x86)%\Google\Chrome\Application\chrome.exe",
)
_MAC_BROWSERS = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
)


def desktop_unavailable_reason(
    environ: Mapping[str, str] | None = None, system: str | None = None
) -> str | None:
    """Why the native desktop client cannot be used here, or None if it can.

    Pure apart from looking for files: no display on Linux; flet_desktop missing; or no client
    binary in FLET_VIEW_PATH, the flet cache or the package (it would need a download).
    """
    env = os.environ if environ is None else environ
    system = system or platform.system()
    if system == "Linux" and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return "no graphical display (DISPLAY/WAYLAND_DISPLAY not set)"
    try:
        import flet_desktop
    except ImportError:
        return "the flet-desktop package is not installed"
    view_path = env.get("FLET_VIEW_PATH")
    if view_path:
        exe = {"Windows": "flet.exe", "Darwin": ""}.get(system, "flet")
        candidate = Path(view_path) / exe if exe else Path(view_path)
        if candidate.exists():
            return None
    try:
        artifact = flet_desktop.get_artifact_filename()
        if (Path(flet_desktop.get_package_bin_dir()) / artifact).exists():
            return None
        cache_dir = getattr(flet_desktop, "__get_client_storage_dir")()
        if Path(cache_dir).exists():
            return None
    except Exception as exc:  # flet_desktop internals moved: let ft.run try, fall back on error
        log.debug("cannot check for the Flet desktop client: %s", exc)
        return None
    return "the Flet desktop client is not installed on this laptop (it would need a download)"


def free_port(host: str = LOCALHOST) -> int:
    """A TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def find_app_browser(environ: Mapping[str, str] | None = None) -> str | None:
    """A Chromium-family browser that supports --app windows, or None."""
    env = os.environ if environ is None else environ
    for name in APP_BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    candidates: Sequence[str] = ()
    if sys.platform == "win32":
        candidates = [os.path.expandvars(p) for p in _WINDOWS_BROWSERS]
    elif sys.platform == "darwin":
        candidates = _MAC_BROWSERS
    for path in candidates:
        if Path(path).exists():
            return path
    return env.get("WARDCOPY_BROWSER") or None


def open_app_window(url: str) -> None:
    """Open `url` in a browser window without address bar if possible, else the default browser.

    Side effect: starts a browser process (detached). Never raises.
    """
    browser = find_app_browser()
    if browser:
        try:
            subprocess.Popen(
                [browser, f"--app={url}", "--window-size=1366,768", "--no-first-run"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            return
        except OSError as exc:
            log.warning("cannot start %s: %s", browser, exc)
    with contextlib.suppress(Exception):
        webbrowser.open(url)


def _wait_and_open(url: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((LOCALHOST, port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    open_app_window(url)


CLOSE_GRACE_SECONDS = 20.0  # a reload reconnects within this; a closed window does not


def _stop_when_windows_closed(sessions: SessionCounter, grace: float) -> None:
    """Background thread: once every window has been closed for `grace` seconds, stop the
    server the way Ctrl+C does (flet's SIGINT handler ends ft.run cleanly)."""
    while True:
        time.sleep(1.0)
        idle = sessions.idle_for()
        if idle is not None and idle >= grace:
            print("Viewer window closed; stopping.", flush=True)
            signal.raise_signal(signal.SIGINT)
            return


def serve_web(home: Path, *, port: int | None, ward: str | None, open_browser: bool) -> int:
    """Serve the viewer on 127.0.0.1:`port` (a free one if None).

    With `open_browser`, opens the window and stops once it has been closed; without, serves
    until interrupted (Ctrl+C).
    """
    port = port or free_port()
    url = f"http://{LOCALHOST}:{port}/"
    print(f"Wardcopy viewer: {url}", flush=True)
    sessions = SessionCounter()
    if open_browser:
        threading.Thread(target=_wait_and_open, args=(url, port), daemon=True).start()
        threading.Thread(
            target=_stop_when_windows_closed, args=(sessions, CLOSE_GRACE_SECONDS), daemon=True
        ).start()
    # FLET_FORCE_WEB_SERVER: flet serves without opening its own (address-bar) browser tab; we
    # open an --app window ourselves. FLET_SERVER_IP/PORT would override host/port inside
    # flet, so they are pinned too: the viewer must never listen on a network interface.
    os.environ["FLET_FORCE_WEB_SERVER"] = "true"
    os.environ["FLET_SERVER_IP"] = LOCALHOST
    os.environ["FLET_SERVER_PORT"] = str(port)
    ft.run(
        make_main(home, ward, sessions),
        view=ft.AppView.WEB_BROWSER,
        host=LOCALHOST,
        port=port,
        no_cdn=True,
    )
    return 0


def run_viewer(
    home: Path,
    *,
    browser: bool = False,
    port: int | None = None,
    ward: str | None = None,
    open_browser: bool = True,
) -> int:
    """Run the viewer for laptop home `home` until its window closes; returns an exit code.

    Tries the native desktop client unless `browser`; when that is unavailable (or fails to
    start), serves the same UI on 127.0.0.1 and opens a local browser window, saying so on
    stdout. Never binds anything but 127.0.0.1.
    """
    if not browser:
        reason = desktop_unavailable_reason()
        if reason is None:
            try:
                ft.run(make_main(home, ward), view=ft.AppView.FLET_APP)
                return 0
            except Exception as exc:  # client missing/broken: the browser still works
                reason = f"the desktop client failed to start ({exc})"
        print(
            f"Desktop window unavailable: {reason}. Opening the viewer in a local browser "
            "window instead.",
            flush=True,
        )
    return serve_web(home, port=port, ward=ward, open_browser=open_browser)


def _main(argv: Sequence[str] | None = None) -> int:
    """`python -m app.ui.launch --home DIR [--browser] [--port N] [--ward W] [--no-open]`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m app.ui.launch", description=__doc__)
    parser.add_argument("--home", type=Path, required=True, help="laptop home folder")
    parser.add_argument("--browser", action="store_true", help="serve to a local browser")
    parser.add_argument("--port", type=int, default=None, help="port on 127.0.0.1")
    parser.add_argument("--ward", default=None, help="ward id to open")
    parser.add_argument("--no-open", action="store_true", help="do not open a browser window")
    args = parser.parse_args(argv)
    return run_viewer(
        args.home,
        browser=args.browser,
        port=args.port,
        ward=args.ward,
        open_browser=not args.no_open,
    )


if __name__ == "__main__":
    sys.exit(_main())
