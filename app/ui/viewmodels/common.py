"""Code status, allergy and isolation words shared by the census and the chart (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from app.ui import fmt
from app.ui.strings import tr
from sync.model import (
    CodeStatusKind,
)

_CODE_LABEL_KEYS = {
    CodeStatusKind.FULL: "code.full",
    CodeStatusKind.DNR: "code.dnr",
    CodeStatusKind.DNI: "code.dni",
    CodeStatusKind.DNR_DNI: "code.dnr_dni",
    CodeStatusKind.COMFORT: "code.comfort",
    CodeStatusKind.OTHER: "code.other",
    CodeStatusKind.UNKNOWN: "code.unknown",
}

# Any limitation of resuscitation is shown as an alarm, never as a quiet grey word.
RESTRICTIVE_CODES = frozenset(
    {CodeStatusKind.DNR, CodeStatusKind.DNI, CodeStatusKind.DNR_DNI, CodeStatusKind.COMFORT}
)


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
    """
    key = _CODE_LABEL_KEYS[kind]
    label = tr(key.replace("code.", "code.short.") if short else key, lang)
    detail = text if text and text.strip() and text.strip() != label else None
    return CodeStatusView(
        label=label,
        detail=detail,
        restrictive=kind in RESTRICTIVE_CODES,
        unknown=kind == CodeStatusKind.UNKNOWN,
    )


_ISOLATION_WORDS = ("isolation", "isolier", "mrsa", "vre", "mrgn", "esbl", "c. diff", "noro")


def is_isolation_flag(text: str, category: str | None = None) -> bool:
    """Isolation flags get their own marker (gown and gloves before entering the room)."""
    if category and category.casefold() == "isolation":
        return True
    folded = fmt.fold(text)
    return any(word in folded for word in _ISOLATION_WORDS)
