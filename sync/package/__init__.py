"""The package format (docs/package-format.md): canonical manifests, sealing, parsing and
verification of packages, and signed documents.

Pure apart from the functions that take a path or a file object (they read or write exactly that).
Every failure while reading is a `PackageError` whose `reason` is a short stable code (tests and
the CLI use it) and whose message says what is wrong and what to do. Every name is importable
from `sync.package` itself; the modules, each with one job:

- `canonical`: canonical JSON, timestamps, `PackageError`
- `manifest`: the manifest model and its strict schema check, frame constants, `wrap_info`
- `seal`: building manifests and sealing packages (sync server)
- `verify`: reading and verifying package headers and payloads, unwrapping the database key
- `documents`: small signed documents (the roster)
"""

from sync.package.canonical import (
    PackageError,
    canonical_dumps,
    canonical_loads,
    format_timestamp,
    parse_timestamp,
)
from sync.package.documents import (
    DOC_MAGIC,
    MAX_DOCUMENT_BODY,
    SignedDocument,
    open_document,
    parse_document,
    seal_document,
)
from sync.package.freshness import (
    FRESHNESS_FILE,
    FRESHNESS_KIND,
    MAX_FRESHNESS,
    Freshness,
    effective_as_of,
    parse_freshness,
    seal_freshness,
)
from sync.package.manifest import (
    MAGIC,
    MAX_MANIFEST,
    PAYLOAD_CIPHER,
    SIG_SIZE,
    WARD_RE,
    Delta,
    Manifest,
    Payload,
    Recipient,
    manifest_from_obj,
    wrap_info,
)
from sync.package.seal import (
    RecipientKey,
    build_manifest,
    seal_package,
    seal_package_bytes,
)
from sync.package.verify import (
    PackageHeader,
    TrustedKey,
    check_payload,
    hash_payload_file,
    read_header,
    read_header_file,
    unwrap_db_key,
    verify_package_bytes,
)

__all__ = [
    "DOC_MAGIC",
    "FRESHNESS_FILE",
    "FRESHNESS_KIND",
    "MAGIC",
    "MAX_DOCUMENT_BODY",
    "MAX_FRESHNESS",
    "MAX_MANIFEST",
    "PAYLOAD_CIPHER",
    "SIG_SIZE",
    "WARD_RE",
    "Delta",
    "Freshness",
    "Manifest",
    "PackageError",
    "PackageHeader",
    "Payload",
    "Recipient",
    "RecipientKey",
    "SignedDocument",
    "TrustedKey",
    "build_manifest",
    "canonical_dumps",
    "canonical_loads",
    "check_payload",
    "effective_as_of",
    "format_timestamp",
    "hash_payload_file",
    "manifest_from_obj",
    "open_document",
    "parse_document",
    "parse_freshness",
    "parse_timestamp",
    "read_header",
    "read_header_file",
    "seal_document",
    "seal_freshness",
    "seal_package",
    "seal_package_bytes",
    "unwrap_db_key",
    "verify_package_bytes",
    "wrap_info",
]
