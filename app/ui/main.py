"""The viewer's entry points under their old import name (they live in app.ui.shell).

Kept so that `from app.ui.main import make_main` and the like keep working.
"""

from __future__ import annotations

from app.ui.screens.census import LIST_LIMIT, SEARCH_DEBOUNCE
from app.ui.screens.host import ENV_IDLE_SECONDS, idle_timeout
from app.ui.shell import SessionCounter, Viewer, make_main

__all__ = [
    "ENV_IDLE_SECONDS",
    "LIST_LIMIT",
    "SEARCH_DEBOUNCE",
    "SessionCounter",
    "Viewer",
    "idle_timeout",
    "make_main",
]
