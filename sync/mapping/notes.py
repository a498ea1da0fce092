"""Notes and reports: DocumentReference and DiagnosticReport text, decoded from attachments."""

from __future__ import annotations

import base64
import binascii
import html
import re
from typing import Any

from sync.mapping._common import (
    Mapper,
    cc_text,
    dicts,
    obj,
    party_name,
    ref_id,
    status_of,
    text_of,
)
from sync.model import TRUNCATED_MARK, Note, NoteVersion, SourceRef

_TEXT_TYPES = ("text/", "application/xhtml", "application/xml", "application/json",
               "application/fhir+json", "application/fhir+xml", "application/rtf")  # fmt: skip
_HTML_TYPES = ("text/html", "application/xhtml")
_BLOCK_TAGS = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6]|p|div|li|tr|h[1-6])\b[^>]*>", re.I)
_DROP = re.compile(r"<(script|style)\b.*?</\1\s*>", re.I | re.S)
_TAGS = re.compile(r"<[^>]*>")
_BLANKS = re.compile(r"[ \t\r\f\v]+")
_MANY_NEWLINES = re.compile(r"\n\s*\n\s*\n+")
_SKIP_DOC_STATUS = frozenset({"entered-in-error"})
MAX_NOTE_CHARS = 200_000  # a runaway attachment must not bloat the ward snapshot


def html_to_text(markup: str) -> str:
    """Plain text from HTML: tags dropped, block ends become line breaks, entities decoded."""
    text = _DROP.sub("", markup)
    text = _BLOCK_TAGS.sub("\n", text)
    text = _TAGS.sub("", text)
    text = html.unescape(text)
    lines = (_BLANKS.sub(" ", line).strip() for line in text.split("\n"))
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def _charset(content_type: str) -> str:
    match = re.search(r"charset\s*=\s*\"?([\w.:-]+)", content_type, re.I)
    return match.group(1) if match else "utf-8"


def attachment_text(att: dict[str, Any]) -> tuple[str | None, str | None]:
    """Decoded text of an Attachment and a problem reason when it cannot be shown.

    Returns (text, None) on success, (None, reason) otherwise. Binary formats (PDF, images) and
    url-only attachments give (None, reason); the caller writes "(not included)".
    """
    content_type = text_of(att.get("contentType")) or ""
    lowered = content_type.lower()
    data = att.get("data")
    if not isinstance(data, str) or not data.strip():
        return None, "url only" if att.get("url") else "empty"
    if lowered and not lowered.startswith(_TEXT_TYPES):
        return None, "binary"
    try:
        raw = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        return None, "bad base64"
    charset = _charset(content_type)
    try:
        text = raw.decode(charset, errors="replace")
    except LookupError:  # unknown charset name
        text = raw.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    if lowered.startswith(_HTML_TYPES) or (not lowered and text.lstrip().startswith("<")):
        text = html_to_text(text)
    text = text.strip()
    if len(text) > MAX_NOTE_CHARS:
        text = text[:MAX_NOTE_CHARS] + TRUNCATED_MARK  # counted and named in the build report
    return (text, None) if text else (None, "empty")


def _best_attachment(atts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Prefer plain text, then HTML, then any attachment with data, then the first."""

    def rank(att: dict[str, Any]) -> int:
        ct = (text_of(att.get("contentType")) or "").lower()
        has_data = isinstance(att.get("data"), str)
        if has_data and ct.startswith("text/plain"):
            return 0
        if has_data and ct.startswith(_HTML_TYPES):
            return 1
        if has_data and ct.startswith(_TEXT_TYPES):
            return 2
        return 3 if has_data else 4

    return min(atts, key=rank) if atts else None


def _note_body(
    m: Mapper, rtype: str, atts: list[dict[str, Any]], title: str
) -> tuple[str, str | None]:
    att = _best_attachment(atts)
    if att is None:
        return "", None
    text, reason = attachment_text(att)
    content_type = text_of(att.get("contentType"))
    if text is None:
        if reason in ("bad base64",):
            m.problem(f"{rtype}: attachment not decodable")
        label = text_of(att.get("title")) or title
        kind = f", {content_type}" if content_type and reason == "binary" else ""
        return f"{label} (not included{kind})", content_type
    return text, content_type


def map_document(m: Mapper, res: dict[str, Any]) -> Note | None:
    """A DocumentReference -> Note (decoded text, or title plus "(not included)")."""
    if status_of(res) in _SKIP_DOC_STATUS or res.get("docStatus") == "entered-in-error":
        return None
    atts = [
        c["attachment"] for c in dicts(res.get("content")) if isinstance(c.get("attachment"), dict)
    ]
    kind = cc_text(res.get("type"))
    first_title = next((t for t in (text_of(a.get("title")) for a in atts) if t), None)
    title = text_of(res.get("description")) or first_title or kind
    if not title:
        for cc in dicts(res.get("category")):
            title = cc_text(cc)
            if title:
                break
    title = title or "Document"
    text, content_type = _note_body(m, "DocumentReference", atts, title)
    if not text:
        m.problem("DocumentReference: no content")
        return None
    context = obj(res.get("context"))
    period = obj(context.get("period"))
    author = None
    for ref in dicts(res.get("author")):
        author = party_name(m, ref, res)
        if author:
            break
    status = status_of(res)
    return Note(
        title=title,
        kind=kind,
        date=m.dt(res.get("date")) or m.dt(period.get("start")),
        author=author,
        text=text,
        content_type=content_type,
        status=status_of(res, "docStatus") or status,
        superseded=status == "superseded",
        source=m.source(res),
    )


def map_report_note(m: Mapper, res: dict[str, Any]) -> Note | None:
    """A DiagnosticReport with a conclusion or presentedForm -> Note; None when it has neither."""
    if res.get("status") in ("entered-in-error", "cancelled"):
        return None
    title = cc_text(res.get("code")) or "Report"
    atts = [a for a in dicts(res.get("presentedForm"))]
    parts: list[str] = []
    content_type = None
    if atts:
        body, content_type = _note_body(m, "DiagnosticReport", atts, title)
        if body:
            parts.append(body)
    conclusion = text_of(res.get("conclusion"))
    codes = [t for t in (cc_text(cc) for cc in dicts(res.get("conclusionCode"))) if t]
    if conclusion and not any(conclusion in p for p in parts):
        parts.append(conclusion)
    if codes:
        parts.append("; ".join(codes))
    if not parts:
        return None
    performer = None
    for ref in [*dicts(res.get("resultsInterpreter")), *dicts(res.get("performer"))]:
        performer = party_name(m, ref, res)
        if performer:
            break
    period = obj(res.get("effectivePeriod"))
    kind = None
    for cc in dicts(res.get("category")):
        kind = cc_text(cc)
        if kind:
            break
    return Note(
        title=title,
        kind=kind or "report",
        date=m.dt(res.get("effectiveDateTime"))
        or m.dt(period.get("start"))
        or m.dt(res.get("issued")),
        author=performer,
        text="\n\n".join(parts),
        content_type=content_type,
        status=status_of(res),
        source=m.source(res),
    )


def mark_superseded(found: list[Note], documents: list[dict[str, Any]]) -> list[Note]:
    """Mark notes that another DocumentReference replaces (relatesTo code "replaces"); they
    stay (reachable), marked. Returns `found` (changed in place)."""
    replaced: set[str] = set()
    for doc in documents:
        for rel in dicts(doc.get("relatesTo")):
            if rel.get("code") == "replaces":
                target = ref_id(rel.get("target"))
                if target:
                    replaced.add(target)
    if replaced:
        for note in found:
            src = note.source
            if src and src.resource_type == "DocumentReference" and src.id in replaced:
                note.superseded = True
    return found


def _content_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def one_per_content(found: list[Note], documents: list[dict[str, Any]]) -> list[Note]:
    """One note per content: a DocumentReference that repeats a DiagnosticReport (same text, or
    naming it in context.related) and copies of one text collapse into the newest current one;
    the others are listed in its `also_in`. `found` must be newest first; order is kept."""
    related: dict[str, str] = {}  # DocumentReference id -> DiagnosticReport id it repeats
    for doc in documents:
        doc_id = doc.get("id")
        if not isinstance(doc_id, str):
            continue
        for ref in dicts(obj(doc.get("context")).get("related")):
            target = ref.get("reference")
            if isinstance(target, str) and "DiagnosticReport/" in target:
                rid = ref_id(ref)
                if rid:
                    related[doc_id] = rid
    report_key: dict[str, str] = {}
    keys: list[str] = []
    for note in found:
        key = _content_key(note.text)
        keys.append(key)
        src = note.source
        if src and src.resource_type == "DiagnosticReport":
            report_key[src.id] = key
    groups: dict[str, list[int]] = {}
    for i, note in enumerate(found):
        key = keys[i]
        src = note.source
        if src and src.resource_type == "DocumentReference" and src.id in related:
            key = report_key.get(related[src.id], key)
        groups.setdefault(key, []).append(i)
    drop: set[int] = set()
    for indexes in groups.values():
        if len(indexes) < 2:
            continue
        # Newest wins, but a current note before a superseded one.
        winner = next((i for i in indexes if not found[i].superseded), indexes[0])
        others: list[SourceRef] = []
        versions: list[NoteVersion] = []
        for i in indexes:
            if i != winner:
                drop.add(i)
                if found[i].source is not None:
                    others.append(found[i].source)  # type: ignore[arg-type]
                others.extend(found[i].also_in)
                same = _content_key(found[i].text) == keys[winner]
                versions += [_as_version(found[i], same), *found[i].versions]
        found[winner].also_in = [*found[winner].also_in, *others]
        found[winner].versions = _newest_versions([*found[winner].versions, *versions])
    return [note for i, note in enumerate(found) if i not in drop]


def _as_version(note: Note, same_content: bool) -> NoteVersion:
    """`note` as another version of a note shown; its text only when it differs."""
    return NoteVersion(
        title=note.title,
        kind=note.kind,
        date=note.date,
        author=note.author,
        text=None if same_content else note.text,
        status=note.status,
        superseded=note.superseded,
        source=note.source,
    )


def _newest_versions(versions: list[NoteVersion]) -> list[NoteVersion]:
    return sorted(versions, key=lambda v: v.date.timestamp() if v.date else 0.0, reverse=True)


def fold_replaced(found: list[Note], documents: list[dict[str, Any]]) -> list[Note]:
    """A note that another DocumentReference replaces (relatesTo "replaces") becomes a version
    of the replacing note (marked superseded, its text kept), so the newest version is shown
    and the older ones are one action away. Chains fold into the newest; a note whose
    replacement is not among the notes (entered in error, not sent) stays, marked. Order of
    the remaining notes is kept."""
    replaced_by: dict[str, str] = {}  # DocumentReference id -> id of the one replacing it
    for doc in documents:
        doc_id = doc.get("id")
        if not isinstance(doc_id, str):
            continue
        for rel in dicts(doc.get("relatesTo")):
            if rel.get("code") == "replaces":
                target = ref_id(rel.get("target"))
                if target and target != doc_id:
                    replaced_by[target] = doc_id
    if not replaced_by:
        return found

    def doc_ids(note: Note) -> set[str]:
        refs = [note.source, *note.also_in]
        return {r.id for r in refs if r is not None and r.resource_type == "DocumentReference"}

    notes = list(found)
    for _ in range(len(notes)):  # each pass folds at least one note, or stops
        holder = {doc_id: i for i, note in enumerate(notes) for doc_id in doc_ids(note)}
        moved = False
        for i, note in enumerate(notes):
            # Replaced when any copy it stands for is (a DiagnosticReport shown for its
            # DocumentReference copy that a correction replaces is replaced too).
            into = next(
                (
                    holder[by]
                    for by in (replaced_by.get(d) for d in sorted(doc_ids(note)))
                    if by is not None and by in holder and holder[by] != i
                ),
                None,
            )
            if into is None:
                continue
            keep = notes[into]
            same = _content_key(note.text) == _content_key(keep.text)
            note.superseded = True
            # Versions that shared `note`'s text (stored once) now sit under another text.
            carried = [
                v if v.text is not None or same else v.model_copy(update={"text": note.text})
                for v in note.versions
            ]
            keep.versions = _newest_versions([*keep.versions, _as_version(note, same), *carried])
            keep.also_in = [*keep.also_in, *([note.source] if note.source else []), *note.also_in]
            notes.pop(i)
            moved = True
            break
        if not moved:
            break
    return notes
