"""Code status, allergy and isolation words shared by the census and the chart (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from app.present.clinical import LIMITING_CODE_STATUS, code_status_text
from app.ui import fmt
from sync.model import (
    CodeStatusKind,
)

# Any limitation of resuscitation is shown as an alarm, never as a quiet grey word.
RESTRICTIVE_CODES = LIMITING_CODE_STATUS


@dataclass(frozen=True)
class CodeStatusView:
    label: str  # short: "DNR", "REA: ja" ...
    detail: str | None  # as documented ("Keine Reanimation, keine Intubation")
    restrictive: bool  # DNR/DNI/comfort: shown as a red alarm
    unknown: bool


def code_status_view(
    kind: CodeStatusKind, text: str | None, lang: str, *, short: bool = False
) -> CodeStatusView:
    """Display form of a code status; any limitation is `restrictive` (shown red, large).

    `short` gives the census form ("DNR"); the chart uses the long one ("DNR – keine Reanimation").
    The words are the printouts' (`app.present.clinical.code_status_text`).
    """
    words = code_status_text(kind, text, lang, short=short)
    return CodeStatusView(
        label=words.label,
        detail=words.documented,
        restrictive=words.limiting,
        unknown=words.unknown,
    )


_ISOLATION_WORDS = ("isolation", "isolier", "mrsa", "vre", "mrgn", "esbl", "c. diff", "noro")


def is_isolation_flag(text: str, category: str | None = None) -> bool:
    """Isolation flags get their own marker (gown and gloves before entering the room)."""
    if category and category.casefold() == "isolation":
        return True
    folded = fmt.fold(text)
    return any(word in folded for word in _ISOLATION_WORDS)
