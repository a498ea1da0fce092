"""Logging for both command lines: one call at start-up decides how much goes to stderr.

Every module logs under its own name (`logging.getLogger(__name__)`); this module only picks the
level and the format. Levels (docs/cli.md, "Logging"):

    default              warnings and errors only
    -v / --verbose       INFO: one line per build / cycle / receive step (counts, ward ids, times)
    -vv, WARDCOPY_DEBUG  DEBUG: detail (files, sequences, sizes, worker counts)

What is logged never holds patient data (names, identifiers, clinical values, source file names,
which can carry patient names) or secrets (keys, passwords, key material, URLs with credentials):
ward ids, counts, sizes, sequences and durations only.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping

ENV_DEBUG = "WARDCOPY_DEBUG"
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
DATE_FORMAT = "%H:%M:%S"


def debug_requested(environ: Mapping[str, str] | None = None) -> bool:
    """Pure: True when WARDCOPY_DEBUG is set to something other than "", "0" or "false"."""
    value = (os.environ if environ is None else environ).get(ENV_DEBUG, "").strip().lower()
    return value not in ("", "0", "false", "no")


def level_for(verbose: int, environ: Mapping[str, str] | None = None) -> int:
    """Pure: the log level for `verbose` (-v count) and the environment."""
    if verbose >= 2 or debug_requested(environ):
        return logging.DEBUG
    if verbose == 1:
        return logging.INFO
    return logging.WARNING


# Our packages' loggers; third-party libraries keep their own (httpx would log request URLs).
PACKAGES = ("sync", "app", "wardcopy_demo")
_handler: logging.Handler | None = None


def configure_logging(verbose: int = 0, environ: Mapping[str, str] | None = None) -> int:
    """Send the log records of Wardcopy's own modules at the chosen level to stderr, one line
    each. Side effect: sets the level of the `sync`, `app` and `wardcopy_demo` loggers and gives
    them one stderr handler (replacing the one an earlier call installed; other handlers stay).
    Returns the level. Called once by each CLI's `main`."""
    global _handler
    level = level_for(verbose, environ)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
    for name in PACKAGES:
        logger = logging.getLogger(name)
        if _handler is not None:
            logger.removeHandler(_handler)
        logger.addHandler(handler)
        logger.setLevel(level)
    _handler = handler
    return level


def add_verbose_argument(parser: argparse.ArgumentParser) -> None:
    """Add `-v/--verbose` (repeatable: -v INFO, -vv DEBUG) to a CLI's main parser."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log each step to stderr (-v), with detail (-vv); also WARDCOPY_DEBUG=1",
    )
