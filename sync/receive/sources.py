"""Where packages come from: an outbox folder (a share, a USB stick) or an HTTP(S) base URL.

A `Source` only reads: small files (LATEST, index.json, signing.pub, documents) and streams of
package bytes into a file object the caller owns. Every byte it returns is untrusted until
`sync.receive.trust` says otherwise. One `TransferBudget` covers everything a source reads
during one receive: an overall deadline and a minimum rate (issue: a server that drips a byte
every few seconds must not hold a receive for days).
"""

from __future__ import annotations

import errno
import hashlib
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urljoin, urlparse

from sync.receive.errors import ReceiveError
from sync.receive.trust import DEFAULT_MIN_RATE, DEFAULT_TIMEOUT, RATE_WINDOW, TransferBudget

if TYPE_CHECKING:
    # httpx is imported where an HTTP source uses it: opening an installed snapshot (the viewer,
    # `wardcopy print`) or a folder source needs none of it, and it costs a tenth of a second.
    import httpx

__all__ = ["READ_TIMEOUT", "Source"]

#: The longest one network read may wait for a byte (capped by the overall deadline).
READ_TIMEOUT = 30.0
_CHUNK = 1 << 20
# Errors of the laptop's own disk while writing a download: never the source's fault.
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})


def disk_error(exc: OSError, where: Path | str) -> ReceiveError:
    """A ReceiveError "disk" for a failed write on this laptop (not the source's fault)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        what = "this laptop's disk is full"
    else:
        what = f"cannot write on this laptop ({exc.strerror or exc})"
    return ReceiveError(
        "disk",
        f"{what} while writing {where}: free up space; the installed snapshot stays in use",
    )


class Source:
    """A folder or an HTTP(S) base URL holding an outbox.

    `timeout` is the overall deadline in seconds for everything read through this source;
    `min_rate` (bytes/s over `rate_window` seconds) the slowest acceptable download. Opening
    an HTTP source creates an httpx client (close it with `close()`); a folder source raises
    ReceiveError "source" if the folder does not exist.
    """

    def __init__(
        self,
        source: str,
        timeout: float = DEFAULT_TIMEOUT,
        min_rate: float = DEFAULT_MIN_RATE,
        rate_window: float = RATE_WINDOW,
    ) -> None:
        self.source = source
        self.timeout = timeout
        self.min_rate = min_rate
        self.rate_window = rate_window
        self.started = time.monotonic()
        parsed = urlparse(source)
        self.is_url = parsed.scheme in ("http", "https")
        self.client: httpx.Client | None = None
        self.base = ""
        self.root = Path(source)
        if self.is_url:
            import httpx

            self.base = source if source.endswith("/") else source + "/"
            per_read = min(READ_TIMEOUT, timeout)
            self.client = httpx.Client(
                timeout=httpx.Timeout(per_read, connect=min(per_read, 10.0)),
                follow_redirects=True,
            )
        elif not self.root.is_dir():
            raise ReceiveError(
                "source",
                f"{source} is not a folder or an http(s) URL: check the path (is the share or "
                "USB stick connected?)",
            )

    def close(self) -> None:
        """Close the HTTP client, if any."""
        if self.client is not None:
            self.client.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def budget(self, what: str) -> TransferBudget:
        """A budget sharing this source's overall deadline (started when it was opened)."""
        return TransferBudget(
            self.started,
            what,
            self.timeout,
            self.min_rate,
            window=self.rate_window,
            opened=time.monotonic(),
        )

    def _url(self, name: str) -> str:
        return urljoin(self.base, name)

    def _timed_out(self, url: str, exc: httpx.TimeoutException) -> ReceiveError:
        return ReceiveError(
            "timeout",
            f"{url}: no answer in time ({type(exc).__name__}); the server or the network is "
            "too slow or down. Try again later",
        )

    def read_small(self, name: str, limit: int) -> bytes | None:
        """The file `name` (relative), or None if it does not exist. Raises ReceiveError
        ("source", "timeout")."""
        if self.client is None:
            path = self.root / name
            try:
                if path.stat().st_size > limit:
                    raise ReceiveError("source", f"{path} is larger than expected")
                return path.read_bytes()
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise ReceiveError("source", f"cannot read {path}: {exc.strerror}") from exc
        # One HTTP read for both: with no validator a 304 is not asked for, so it is an error.
        return self._read_with_validator(name, limit, {})[0]

    def read_small_unless(
        self, name: str, limit: int, validator: str | None
    ) -> tuple[bytes | None, str | None]:
        """Like `read_small`, but over HTTP asks only for a copy newer than `validator` (what
        an earlier call returned): (None, validator) when the server answers 304 Not
        Modified. Otherwise (body or None when missing, the new validator or None). A folder
        source always reads. The validator is the ETag, else the Last-Modified date, and only
        when that date is at least 2 s before the server's Date: a file replaced within the
        same second as the copy fetched would otherwise look unchanged for ever (dates have
        whole seconds). Raises ReceiveError ("source", "timeout")."""
        if self.client is None or validator is None:
            return self._read_with_validator(name, limit, {})
        kind, _, value = validator.partition(":")
        headers = {"If-None-Match": value} if kind == "etag" else {"If-Modified-Since": value}
        return self._read_with_validator(name, limit, headers, validator)

    def _read_with_validator(
        self, name: str, limit: int, headers: dict[str, str], known: str | None = None
    ) -> tuple[bytes | None, str | None]:
        if self.client is None:
            return self.read_small(name, limit), None
        import email.utils

        import httpx

        url = self._url(name)
        budget = self.budget(url)
        chunks: list[bytes] = []
        size = 0
        try:
            with self.client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304 and known is not None:
                    return None, known
                if response.status_code == 404:
                    return None, None
                if response.status_code != 200:
                    raise ReceiveError("source", f"{url}: HTTP {response.status_code}")
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise ReceiveError("source", f"{url} is larger than expected")
                    budget.check(time.monotonic(), size)
                    chunks.append(chunk)
                etag = response.headers.get("ETag")
                modified = response.headers.get("Last-Modified")
                date = response.headers.get("Date")
        except httpx.TimeoutException as exc:
            raise self._timed_out(url, exc) from exc
        except httpx.HTTPError as exc:
            raise ReceiveError("source", f"cannot fetch {url}: {type(exc).__name__} {exc}") from exc
        new: str | None = None
        if etag and not etag.startswith("W/"):
            new = f"etag:{etag}"
        elif modified and date:
            try:
                settled = (
                    email.utils.parsedate_to_datetime(date)
                    - email.utils.parsedate_to_datetime(modified)
                ).total_seconds() >= 2
            except (TypeError, ValueError):
                settled = False
            new = f"date:{modified}" if settled else None
        return b"".join(chunks), new

    def fetch_to(self, name: str, out: IO[bytes], limit: int) -> str:
        """Copy `name` into `out`, at most `limit` bytes (more means the file is not what LATEST
        announced). Returns the SHA-256 of what was copied. Raises ReceiveError: "payload-size",
        "no-package", "source", "truncated", "timeout", or "disk" when writing `out` fails."""
        digest = hashlib.sha256()
        size = 0
        budget = self.budget(name)

        def take(chunk: bytes) -> None:
            nonlocal size
            size += len(chunk)
            if size > limit:
                raise ReceiveError(
                    "payload-size", f"{name} is larger than its LATEST pointer announced"
                )
            budget.check(time.monotonic(), size)
            digest.update(chunk)
            try:
                out.write(chunk)
            except OSError as exc:
                raise disk_error(exc, getattr(out, "name", "the download")) from exc

        if self.client is None:
            path = self.root / name
            try:
                with path.open("rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        take(chunk)
            except FileNotFoundError:
                raise ReceiveError(
                    "no-package", f"{path} is missing (pruned while fetching? try again)"
                ) from None
            except OSError as exc:
                raise ReceiveError("source", f"cannot read {path}: {exc.strerror}") from exc
            return digest.hexdigest()
        import httpx

        url = self._url(name)
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ReceiveError("no-package", f"{url}: HTTP {response.status_code}")
                # No chunk size: httpx would buffer a slow drip until the size is reached and
                # the budget would never be checked.
                for chunk in response.iter_bytes():
                    take(chunk)
        except httpx.TimeoutException as exc:
            raise self._timed_out(url, exc) from exc
        except httpx.HTTPError as exc:
            # An interrupted transfer (connection closed early, short body) lands here.
            raise ReceiveError(
                "truncated", f"download of {url} failed or was cut short: {type(exc).__name__}"
            ) from exc
        return digest.hexdigest()
