"""The patient summary (IPS-like): who, where, alerts, problems, medications, results, notes.

Order of sections follows what a clinician needs first in a downtime: code status and
allergies at the top, then the stay, problems, medications (with next due times), vitals, labs,
pending orders, notes and contacts. Every list is printed in full (tables continue on the next
page with their header repeated); only note texts are abridged, and say so.

Pure: returns PDF bytes, writes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any
from xml.sax.saxutils import escape as _esc

from reportlab.platypus import Flowable, Table

from app.present.catalog import t
from app.present.clinical import (
    CRITICAL_INTERPRETATIONS,
    code_word,
    history_window_text,
    interpretation_flag,
    observation_value,
    reference_range,
    status_word,
)
from app.present.dose import related_text
from app.present.formats import date_text
from app.printing.common import (
    ABRIDGE_CHARS,
    abridge,
    allergy_block,
    code_status_block,
    dosage_lines,
    due_text,
    flags_line,
)
from app.printing.fonts import REGULAR
from app.printing.layout import (
    ABNORMAL_BG,
    CRITICAL_BG,
    NOTE_MAX_CHARS,
    PORTRAIT,
    MetaLike,
    Styles,
    build_pdf,
    cap_text,
    capped_fields,
    content_width,
    data_table,
    empty_line,
    keep,
    para,
    patient_context,
    section,
    spacer,
    styles,
    when_text,
    with_break_glass,
)
from sync.model import Observation, PatientRecord

MAX_NOTES = 5
#: Labs printed: those within this many days of the newest result (older ones are counted).
LAB_DAYS = 7
_CRITICAL = CRITICAL_INTERPRETATIONS
_ACTIVE_ORDER = {"active", "draft", "on-hold", ""}


def value_text(obs: Observation, lang: str) -> str:
    """ "7,2 mmol/l" / "120/80 mmHg" / "positiv" (`app.present.clinical.observation_value`)."""
    return observation_value(obs, lang)


def range_text(obs: Observation, lang: str) -> str:
    return reference_range(obs, lang)


def flag_text(obs: Observation) -> str:
    return interpretation_flag(obs)


def latest_per_test(observations: list[Observation]) -> list[Observation]:
    """The newest observation of each test (by code, else name), newest first."""
    seen: dict[str, Observation] = {}
    for obs in observations:
        key = obs.code or obs.name.casefold()
        current = seen.get(key)
        if current is None or (
            obs.effective and (current.effective is None or obs.effective > current.effective)
        ):
            seen[key] = obs
    return list(seen.values())


def recent_labs(labs: list[Observation]) -> tuple[list[Observation], int, datetime | None]:
    """Labs within `LAB_DAYS` of the newest dated result, the number left out, and the cutoff.

    Relative to the newest result rather than to now, so that a snapshot of older data still
    prints its latest results. Undated results are always kept. Pure.
    """
    dated = [o.effective for o in labs if o.effective is not None]
    if not dated:
        return list(labs), 0, None
    cutoff = max(dated) - timedelta(days=LAB_DAYS)
    keep = [o for o in labs if o.effective is None or o.effective >= cutoff]
    return keep, len(labs) - len(keep), cutoff


def _observation_rows(
    observations: list[Observation], lang: str, tz: tzinfo
) -> tuple[list[list[Any]], dict[int, Any], list[int]]:
    rows: list[list[Any]] = []
    backgrounds: dict[int, Any] = {}
    bold: list[int] = []
    for i, obs in enumerate(observations):
        rows.append(
            [
                when_text(obs.effective, lang, tz),
                obs.name,
                value_text(obs, lang),
                flag_text(obs),
                range_text(obs, lang),
            ]
        )
        if obs.interpretation in _CRITICAL:
            backgrounds[i] = CRITICAL_BG
            bold.append(i)
        elif obs.is_abnormal:
            backgrounds[i] = ABNORMAL_BG
            bold.append(i)
    return rows, backgrounds, bold


def _obs_table(
    observations: list[Observation], st: Styles, width: float, lang: str, tz: tzinfo
) -> Table:
    rows, backgrounds, bold = _observation_rows(observations, lang, tz)
    header = [
        t("col.time", lang),
        t("print.col.test", lang),
        t("print.col.value", lang),
        t("col.flag", lang),
        t("col.range", lang),
    ]
    widths = [width * 0.2, width * 0.33, width * 0.19, width * 0.07, width * 0.21]
    return data_table(header, rows, widths, st, row_backgrounds=backgrounds, bold_rows=bold)


def _alerts(
    record: PatientRecord, st: Styles, width: float, lang: str, tz: tzinfo
) -> list[Flowable]:
    out: list[Flowable] = [code_status_block(record, st, width, lang, tz), spacer(2)]
    out.append(section(t("print.allergies", lang), st))
    out.extend(allergy_block(record, st, width, lang))
    flags = flags_line(record, st, lang)
    if flags is not None:
        out += [spacer(2), flags]
    return out


def _stay(record: PatientRecord, st: Styles, lang: str, tz: tzinfo) -> list[Flowable]:
    stay = record.stay
    if stay is None:
        return []
    facts = [
        (t("col.admitted", lang), when_text(stay.admitted, lang, tz) if stay.admitted else None),
        (t("print.attending", lang), stay.attending),
        (t("print.department", lang), stay.department),
        (t("print.reason", lang), stay.reason),
    ]
    text = " · ".join(f"<b>{label}:</b> {_esc(value)}" for label, value in facts if value)
    if not text:
        return []
    return [section(t("print.stay", lang), st), para(text, st.body, markup=True)]


def _problems(record: PatientRecord, st: Styles, lang: str, tz: tzinfo) -> list[Flowable]:
    out: list[Flowable] = [section(t("print.problems", lang), st)]
    if not record.problems:
        return [*out, empty_line(t("print.none", lang), st)]
    for problem in record.problems:
        codes = ", ".join(c.code for c in problem.coding if c.code)
        text = _esc(problem.text) + (f" <font size=8>({_esc(codes)})</font>" if codes else "")
        if problem.is_main_diagnosis:
            text = f"<b>{text}</b> – {_esc(t('problem.main', lang))}"
        status = (problem.clinical_status or "").strip().lower()
        if status and status != "active":
            text += f" <font size=8>({_esc(status_word(status, lang, 'problem'))})</font>"
        onset = problem.onset_date or problem.onset  # a FHIR date stays that calendar date
        if onset:
            text += f" <font size=8>· {date_text(onset, lang, tz)}</font>"
        out.append(para(f"• {text}", st.body, markup=True))
    return out


def _medications(
    record: PatientRecord,
    st: Styles,
    width: float,
    lang: str,
    now: datetime,
    tz: tzinfo,
    as_of: datetime | None = None,
) -> list[Flowable]:
    out: list[Flowable] = [section(t("med.active", lang), st)]
    if not record.medications:
        return [*out, empty_line(t("print.none", lang), st)]
    rows: list[list[Any]] = []
    backgrounds: dict[int, Any] = {}
    for i, order in enumerate(record.medications):
        dose, route, timing = dosage_lines(order, lang, tz)
        due, overdue = due_text(order, record.administrations, now, tz, lang, as_of=as_of)
        drug = _esc(order.drug)
        if order.as_needed:
            drug += f" <font size=8>[{_esc(t('med.prn_short', lang))}]</font>"
        if order.status and order.status.strip().lower() != "active":
            status = status_word(order.status, lang, "medication")
            drug += f" <font size=8>({_esc(status)})</font>"
        related = related_text(order, record.medications, lang)
        if related:
            # An active and an on-hold order of the same drug name each other (chart, MAR).
            drug += f"<br/>{_esc(related)}"
        if order.note and order.note.strip():
            # The order's note in full (insulin scale, "time-critical", "level before 4th dose").
            note = cap_text(order.note.strip(), NOTE_MAX_CHARS) or ""
            label = _esc(t("print.mar.note", lang))
            drug += f"<br/><font name='{REGULAR}'>{label}: {_esc(note)}</font>"
        rows.append(
            [
                para(drug, st.cell_bold, markup=True),
                dose,
                route,
                timing,
                due,
                date_text(order.start, lang, tz),
            ]
        )
        if overdue:
            backgrounds[i] = ABNORMAL_BG
    header = [
        t("print.col.drug", lang),
        t("col.dose", lang),
        t("col.route", lang),
        t("print.col.timing", lang),
        t("col.next", lang),
        t("print.col.since", lang),
    ]
    widths = [0.25, 0.13, 0.08, 0.25, 0.18, 0.11]
    out.append(
        data_table(header, rows, [width * w for w in widths], st, row_backgrounds=backgrounds)
    )
    return out


def _orders(
    record: PatientRecord, st: Styles, width: float, lang: str, tz: tzinfo
) -> list[Flowable]:
    pending = [o for o in record.orders if (o.status or "").lower() in _ACTIVE_ORDER]
    if not pending:
        return []
    rows = [
        [
            o.text + (f" ({o.note})" if o.note else ""),
            code_word(o.priority, lang) or "–",
            when_text(o.occurrence or o.authored, lang, tz),
            o.requester or "–",
        ]
        for o in pending
    ]
    header = [
        t("print.col.order", lang),
        t("print.col.priority", lang),
        t("print.col.due", lang),
        t("print.col.requester", lang),
    ]
    widths = [width * 0.5, width * 0.12, width * 0.18, width * 0.2]
    return [section(t("print.orders", lang), st), data_table(header, rows, widths, st)]


def _notes(record: PatientRecord, st: Styles, lang: str, tz: tzinfo) -> list[Flowable]:
    if not record.notes:
        return []
    out: list[Flowable] = [section(t("print.notes", lang), st)]
    for note in record.notes[:MAX_NOTES]:
        # Marked as on screen: a superseded note says so; other versions are named (the
        # viewer opens them), not printed.
        count = len(note.versions)
        versions = ""
        if count:
            versions = (
                t("note.versions.one", lang) if count == 1 else t("note.versions", lang, n=count)
            )
        parts = (
            t("note.superseded", lang).upper() if note.superseded else "",
            note.title,
            note.kind,
            when_text(note.date, lang, tz),
            note.author,
            versions,
        )
        head = " · ".join(x for x in parts if x)
        out.append(
            keep(
                para(head, st.bold),
                para(abridge(note.text, ABRIDGE_CHARS, lang), st.body),
                spacer(4),
            )
        )
    return out


def _contacts(record: PatientRecord, st: Styles, lang: str) -> list[Flowable]:
    out: list[Flowable] = []
    if record.contacts:
        out.append(section(t("print.contacts", lang), st))
        for c in record.contacts:
            parts = [c.name, c.relationship, c.phone, c.email, c.address]
            out.append(para("• " + " · ".join(p for p in parts if p), st.body))
    if record.care_team:
        out.append(section(t("print.care_team", lang), st))
        for m in record.care_team:
            out.append(para("• " + " · ".join(p for p in (m.name, m.role, m.phone) if p), st.body))
    return out


def summary_flowables(
    record: PatientRecord,
    lang: str,
    now: datetime,
    tz: tzinfo,
    width: float,
    as_of: datetime | None = None,
) -> list[Flowable]:
    """The body of the summary (without page furniture); pure. `as_of` is the snapshot's
    data-as-of: only doses before it are printed as overdue (the chart's and the MAR's rule)."""
    st = styles()
    body: list[Flowable] = []
    body += _alerts(record, st, width, lang, tz)
    body += _stay(record, st, lang, tz)
    body += _problems(record, st, lang, tz)
    body += _medications(record, st, width, lang, now, tz, as_of)
    if record.vitals:
        body += [section(t("print.vitals", lang), st)]
        body.append(_obs_table(latest_per_test(record.vitals), st, width, lang, tz))
        window = history_window_text("vitals", record.vitals_since, lang, tz)
        if window:
            body.append(para(window, st.small))
    if record.labs:
        labs, older, cutoff = recent_labs(record.labs)
        body += [section(t("print.labs", lang), st), _obs_table(labs, st, width, lang, tz)]
        if older and cutoff is not None:
            note = t("print.labs_older", lang, count=older, date=when_text(cutoff, lang, tz))
            body.append(para(note, st.small))
        window = history_window_text("labs", record.labs_since, lang, tz)
        if window:
            body.append(para(window, st.small))
    body += _orders(record, st, width, lang, tz)
    body += _notes(record, st, lang, tz)
    body += _contacts(record, st, lang)
    return body


def render_summary(
    record: PatientRecord,
    meta: MetaLike,
    printed_by: str,
    lang: str,
    now: datetime,
    tz: tzinfo,
    *,
    break_glass: bool = False,
) -> bytes:
    """The patient summary as PDF bytes (A4 portrait). Writes nothing.

    `meta` gives the ward name and the data-as-of time (a `SnapshotMeta` fits); `now` is the
    print time shown in the footer and the reference for "next due". Raises FontMissingError
    when the bundled font is missing.
    """
    record = capped_fields(record)  # one bad field must not fail or stall the print
    ctx = patient_context(
        record,
        title=t("doc.summary", lang),
        meta=meta,
        printed_by=printed_by,
        lang=lang,
        now=now,
        tz=tz,
        pagesize=PORTRAIT,
    )
    flowables = summary_flowables(record, lang, now, tz, content_width(ctx), as_of=meta.data_as_of)
    ctx = with_break_glass(ctx, break_glass, printed_by)
    return build_pdf(flowables, ctx, subject="summary")
