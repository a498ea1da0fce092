"""Exit codes shared by `wardcopy-sync` and `wardcopy`, the error type the CLIs turn into them,
and `run_handler`, which does the turning for both.

Documented in docs/cli.md. Keep the numbers stable: hospital scripts check them. Imports only the
standard library, so both sides use it without loading the other.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from sync.logs import debug_requested

EXIT_OK = 0
EXIT_PROBLEMS = 1  # verification found problems, or a package was refused (rollback, wrong ward)
EXIT_USAGE = 2  # bad command line or configuration
EXIT_IO = 3  # a file, folder, key or network source could not be read or written
EXIT_NOT_READY = (
    4  # a prerequisite is missing: no signing key, device not initialised, not enrolled
)
EXIT_BUSY = 5  # another receive (or build) holds this home's lock; try again later
EXIT_DENIED = 6  # login refused: wrong password, locked out, ward not permitted, no break-glass
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A failure to report as one line on stderr, with the exit code to return."""

    def __init__(self, message: str, exit_code: int = EXIT_IO) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def run_handler(
    handler: Callable[[argparse.Namespace], int], args: argparse.Namespace, prog: str
) -> int:
    """Run a CLI handler, turning expected failures into one line on stderr and an exit code.

    CliError -> its exit code; KeyboardInterrupt -> 130; OSError -> EXIT_IO; anything else ->
    EXIT_PROBLEMS with the exception's type and message (no traceback: it could show patient
    data). With WARDCOPY_DEBUG=1 unexpected errors are re-raised with their traceback.
    Prints to stderr (side effect).
    """
    try:
        return handler(args)
    except CliError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"{prog}: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_IO
    except Exception as exc:
        if debug_requested():
            raise
        print(f"{prog}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
