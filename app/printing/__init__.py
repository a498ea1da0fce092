"""Printed downtime documents (PDF via reportlab) and printing through the operating system.

Public API (see docs/printing.md):

    render_summary(record, meta, printed_by, lang, now, tz) -> bytes
    render_mar(record, meta, printed_by, lang, now, tz, hours=24) -> bytes
    render_census(rows, meta, printed_by, lang, now, tz) -> bytes
    render_due(records, meta, printed_by, lang, now, tz, hours=4) -> bytes
    print_pdf(pdf, printer=None) -> PrintResult
    list_printers() -> list[str]
    save_pdf(pdf, path) -> Path

The renderers are pure (bytes in memory); only `print_pdf` and `save_pdf` touch the OS.
`add_print_parser` lives in app.printing.cli.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.printing.census import render_census
    from app.printing.due import render_due
    from app.printing.layout import DocumentMeta, MetaLike
    from app.printing.mar import render_mar
    from app.printing.osprint import PrintResult, list_printers, print_pdf, save_pdf
    from app.printing.summary import render_summary

# Each name is imported from its module on first use (PEP 562), so `wardcopy --help` and
# `import app.printing.cli` do not load reportlab.
_HOMES = {
    "DocumentMeta": "app.printing.layout",
    "MetaLike": "app.printing.layout",
    "PrintResult": "app.printing.osprint",
    "list_printers": "app.printing.osprint",
    "print_pdf": "app.printing.osprint",
    "render_census": "app.printing.census",
    "render_due": "app.printing.due",
    "render_mar": "app.printing.mar",
    "render_summary": "app.printing.summary",
    "save_pdf": "app.printing.osprint",
}

__all__ = [
    "DocumentMeta",
    "MetaLike",
    "PrintResult",
    "list_printers",
    "print_pdf",
    "render_census",
    "render_due",
    "render_mar",
    "render_summary",
    "save_pdf",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'app.printing' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
