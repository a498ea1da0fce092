"""The same-run floor of the viewer benchmark: the smallest Flet page served like the viewer.

`python -m bench.flet_floor --port N` serves, exactly as app.ui.launch.serve_web does (web mode,
127.0.0.1 only, no CDN), one page with a search box labelled like the viewer's and one Text that
echoes every keystroke ("echo: <value>"). What the browser and Flet cost for a keystroke, a page
load and a click there is the least the viewer can cost on this machine in this run;
bench/viewer_e2e.py reports the viewer's figures as ratios to it.

Side effects: listens on 127.0.0.1:PORT until interrupted.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import flet as ft

LOCALHOST = "127.0.0.1"
BOX_LABEL = "Search (Ctrl+F)"  # the viewer's census search box label
ECHO_PREFIX = "echo: "
OPEN_LABEL = "Open"  # a button whose click draws one line of text (the chart's floor)
OPENED_TEXT = "Opened"


def main(page: ft.Page) -> None:
    """Build the floor page: a search box, the echo Text, a button. Updates the page per key."""
    page.title = "Flet floor"
    echo = ft.Text(ECHO_PREFIX, size=16)
    opened = ft.Text("", size=16)

    def on_change(_e: Any) -> None:
        echo.value = ECHO_PREFIX + (box.value or "")
        page.update()

    def on_open(_e: Any) -> None:
        opened.value = OPENED_TEXT if opened.value != OPENED_TEXT else OPENED_TEXT + " again"
        page.update()

    box = ft.TextField(label=BOX_LABEL, on_change=on_change, width=420)
    page.add(box, echo, ft.Button(OPEN_LABEL, on_click=on_open), opened)


def serve(port: int) -> None:
    """Serve the floor page on 127.0.0.1:`port` the way the viewer is served (blocks)."""
    os.environ["FLET_FORCE_WEB_SERVER"] = "true"
    os.environ["FLET_SERVER_IP"] = LOCALHOST
    os.environ["FLET_SERVER_PORT"] = str(port)
    ft.run(main, view=ft.AppView.WEB_BROWSER, host=LOCALHOST, port=port, no_cdn=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.flet_floor", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args().port)
