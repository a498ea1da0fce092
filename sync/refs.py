"""Reference resolution: from the many ways FHIR writes a reference to one key, "Type/id".

Forms handled (all seen in real exports):
- relative literal `Patient/123`, also with `/_history/2`
- absolute `https://server/fhir/Patient/123` (looked up as a Bundle fullUrl first, then by its
  trailing `Type/id`)
- `urn:uuid:...` / `urn:oid:...`, the fullUrls of transaction Bundle entries
- conditional `Patient?identifier=system|value`, `Patient?identifier=value` and
  `Patient?identifier=|value` (value without system), URL-encoded or not
- logical references: a Reference with only `identifier` (and `type`), as in ISiK
- `#id` references to resources contained in the referring resource (see `RefIndex.resolve`)

Pure apart from the in-memory index; no I/O. Memory grows with the number of *indexed*
resources, so the importer indexes only patients (key, fullUrl, identifiers; not their content)
and the small set of shared resources (Location, Organization, Practitioner, ...).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from sync.sources.fhir_types import RESOURCE_TYPES

__all__ = ["RefIndex", "canonical_key", "literal_key", "resource_key"]


def resource_key(resource: dict[str, Any]) -> str | None:
    """`"Type/id"` of a resource, or None when it has no usable id."""
    rtype = resource.get("resourceType")
    rid = resource.get("id")
    if isinstance(rtype, str) and isinstance(rid, str) and rid:
        return f"{rtype}/{rid}"
    return None


def literal_key(reference: str) -> str | None:
    """`"Type/id"` from a relative or absolute literal reference, without any index.

    Returns None for urn:, conditional and contained forms, and for unknown types.
    """
    ref = reference.strip()
    if not ref or ref.startswith(("#", "urn:")) or "?" in ref:
        return None
    parts = ref.split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) < 2:
        return None
    rtype, rid = parts[-2], parts[-1]
    if rtype not in RESOURCE_TYPES or not rid:
        return None
    return f"{rtype}/{rid}"


def _split_token(token: str) -> tuple[str | None, str]:
    """`system|value` -> (system, value); `value` and `|value` -> (None, value)."""
    if "|" in token:
        system, _, value = token.partition("|")
        return (system or None), value
    return None, token


def conditional_reference(rtype: str, system: str | None, value: str) -> str:
    """The conditional reference string `Type?identifier=system|value` (percent-encoded)."""
    token = f"{system}|{value}" if system else value
    return f"{rtype}?identifier={quote(token, safe=':/|.-_~')}"


def parse_conditional(reference: str) -> tuple[str, str | None, str] | None:
    """`Type?identifier=system|value` -> (Type, system, value); None for other forms."""
    rtype, sep, query = reference.strip().partition("?")
    if not sep or rtype not in RESOURCE_TYPES:
        return None
    # Split by hand: parse_qsl would turn "+" into a space, and identifier values contain "+".
    for param in query.split("&"):
        name, _, token = param.partition("=")
        if name == "identifier" and token:
            system, value = _split_token(unquote(token) if "%" in token else token)
            if value:
                return rtype, system, value
    return None


class RefIndex:
    """Index of known resources by key, fullUrl and identifier.

    `add(resource, full_url, keep=...)` registers a resource; `keep=False` records only that it
    exists (used for patients, whose content lives in the encrypted staging store).
    """

    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}
        self.known: set[str] = set()
        self.by_full_url: dict[str, str] = {}
        # (Type, system, value) -> keys; and (Type, value) -> keys for value-only lookups
        self.by_identifier: dict[tuple[str, str, str], set[str]] = {}
        self.by_value: dict[tuple[str, str], set[str]] = {}
        self.ambiguous: int = 0  # lookups that matched more than one resource
        self.types: set[str] = set()  # resource types seen, for untyped logical references

    def add(
        self, resource: dict[str, Any], full_url: str | None = None, *, keep: bool = True
    ) -> str | None:
        """Index `resource`; returns its key, or None when it has neither id nor fullUrl."""
        key = resource_key(resource)
        if key is None:
            return None
        self.known.add(key)
        self.types.add(key.partition("/")[0])
        if keep:
            self.resources[key] = resource
        if full_url:
            self.by_full_url[full_url] = key
        self.add_identifiers(key, resource.get("identifier"))
        return key

    def add_identifiers(self, key: str, identifiers: Any) -> None:
        """Index `key` under each of `identifiers` (a FHIR Identifier list or one Identifier)."""
        rtype = key.partition("/")[0]
        if isinstance(identifiers, dict):
            identifiers = [identifiers]
        if not isinstance(identifiers, list):
            return
        for ident in identifiers:
            if not isinstance(ident, dict):
                continue
            value = ident.get("value")
            if not isinstance(value, str) or not value:
                continue
            system = ident.get("system")
            if isinstance(system, str) and system:
                self.by_identifier.setdefault((rtype, system, value), set()).add(key)
            self.by_value.setdefault((rtype, value), set()).add(key)

    def __contains__(self, key: object) -> bool:
        return key in self.known

    def get(self, key: str) -> dict[str, Any] | None:
        """The kept resource for `key`, or None."""
        return self.resources.get(key)

    def by_ident(self, rtype: str, system: str | None, value: str) -> str | None:
        """The one key with this identifier; None when unknown or ambiguous."""
        if system:
            keys = self.by_identifier.get((rtype, system, value))
        else:
            keys = self.by_value.get((rtype, value))
        if not keys:
            return None
        if len(keys) > 1:
            self.ambiguous += 1
            return None
        return next(iter(keys))

    def key_of(self, reference: Any, expected_type: str | None = None) -> str | None:
        """Key of the resource a Reference (dict) or reference string points at, if indexed.

        A dict without `reference` falls back to its `identifier` (logical reference), typed by
        `Reference.type` or `expected_type`.
        """
        if isinstance(reference, str):
            return canonical_key(reference, self)
        if not isinstance(reference, dict):
            return None
        ref = reference.get("reference")
        if isinstance(ref, str) and ref:
            key = canonical_key(ref, self)
            if key is not None:
                return key
        ident = reference.get("identifier")
        rtype = reference.get("type") or expected_type
        if not isinstance(ident, dict):
            return None
        value = ident.get("value")
        system = ident.get("system")
        if not isinstance(value, str) or not value:
            return None
        system = system if isinstance(system, str) and system else None
        if isinstance(rtype, str):
            return self.by_ident(rtype, system, value)
        # No type given: unique across all indexed types, or nothing.
        hits = {k for t in self.types if (k := self.by_ident(t, system, value)) is not None}
        return hits.pop() if len(hits) == 1 else None

    def resolve(
        self,
        reference: Any,
        from_resource: dict[str, Any] | None = None,
        expected_type: str | None = None,
    ) -> dict[str, Any] | None:
        """The kept resource a reference points at: contained (`#id`, looked up in
        `from_resource.contained`), or indexed by any form above. None when not found."""
        ref = reference.get("reference") if isinstance(reference, dict) else reference
        if isinstance(ref, str) and ref.startswith("#"):
            return find_contained(from_resource, ref[1:])
        key = self.key_of(reference, expected_type)
        return self.resources.get(key) if key else None

    def __len__(self) -> int:
        return len(self.known)


def find_contained(container: dict[str, Any] | None, local_id: str) -> dict[str, Any] | None:
    """The resource with id `local_id` in `container.contained`, or None."""
    if not container:
        return None
    contained = container.get("contained")
    if not isinstance(contained, list):
        return None
    for item in contained:
        if isinstance(item, dict) and item.get("id") == local_id:
            return item
    return None


def canonical_key(reference: str, context: RefIndex | None = None) -> str | None:
    """`"Type/id"` for a reference string, or None when it cannot be resolved.

    Literal references (relative or absolute) resolve without an index (the target may still be
    missing; check `key in index`). urn: and conditional references need the index `context`.
    Contained references (`#id`) have no global key: use `RefIndex.resolve` with the container.
    """
    ref = reference.strip()
    if not ref or ref.startswith("#"):
        return None
    if context is not None:
        key = context.by_full_url.get(ref)
        if key is not None:
            return key
    if ref.startswith("urn:"):
        return None
    if "?" in ref:
        parsed = parse_conditional(ref)
        if parsed is None or context is None:
            return None
        return context.by_ident(*parsed)
    return literal_key(ref)
