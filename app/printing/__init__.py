"""Printed downtime documents (PDF via reportlab) and printing through the operating system.

Public API (see docs/printing.md):

    render_summary(record, meta, printed_by, lang, now, tz) -> bytes
    render_mar(record, meta, printed_by, lang, now, tz, hours=24) -> bytes
    render_census(rows, meta, printed_by, lang, now, tz) -> bytes
    print_pdf(pdf, printer=None) -> PrintResult
    list_printers() -> list[str]
    save_pdf(pdf, path) -> Path
    add_print_parser(subparsers) -> argparse.ArgumentParser

The renderers are pure (bytes in memory); only `print_pdf` and `save_pdf` touch the OS.
"""

from __future__ import annotations

from app.printing.census import render_census
from app.printing.layout import DocumentMeta, MetaLike
from app.printing.mar import render_mar
from app.printing.osprint import PrintResult, list_printers, print_pdf, save_pdf
from app.printing.summary import render_summary

__all__ = [
    "DocumentMeta",
    "MetaLike",
    "PrintResult",
    "list_printers",
    "print_pdf",
    "render_census",
    "render_mar",
    "render_summary",
    "save_pdf",
]
