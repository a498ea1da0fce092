"""German and English text and locale formatting: the old import name of `app.present`.

The catalogue lives in `app.present.catalog`, the formats in `app.present.formats`; this module
re-exports them so that `from app.i18n import t, fmt_date` keeps working.
"""

from __future__ import annotations

from app.present.catalog import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    detect_language,
    has_message,
    normalize_language,
    register,
    t,
)
from app.present.formats import (
    age_parts,
    fmt_age,
    fmt_date,
    fmt_datetime,
    fmt_duration,
    fmt_number,
    fmt_span,
    fmt_time,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "age_parts",
    "detect_language",
    "fmt_age",
    "fmt_date",
    "fmt_datetime",
    "fmt_duration",
    "fmt_number",
    "fmt_span",
    "fmt_time",
    "has_message",
    "normalize_language",
    "register",
    "t",
]
