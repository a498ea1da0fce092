"""Exit codes shared by `wardcopy-sync` and `wardcopy`, and the error type the CLIs turn into them.

Documented in docs/cli.md. Keep the numbers stable: hospital scripts check them.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_PROBLEMS = 1  # verification found problems, or a package was refused (rollback, wrong ward)
EXIT_USAGE = 2  # bad command line or configuration
EXIT_IO = 3  # a file, folder, key or network source could not be read or written
EXIT_NOT_READY = (
    4  # a prerequisite is missing: no signing key, device not initialised, not enrolled
)
EXIT_BUSY = 5  # another receive (or build) holds this home's lock; try again later
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A failure to report as one line on stderr, with the exit code to return."""

    def __init__(self, message: str, exit_code: int = EXIT_IO) -> None:
        super().__init__(message)
        self.exit_code = exit_code
