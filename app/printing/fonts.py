"""The bundled Unicode font (DejaVu Sans) registered with reportlab, once per process.

reportlab's built-in Helvetica only covers Latin-1: a Polish, Turkish, Greek or Cyrillic name
would print as black boxes. DejaVu Sans covers all of them. The TTF files ship in
`assets/fonts/` (see `docs/printing.md` for their source and licence); reportlab embeds only the
glyphs a document uses, so a PDF stays small.

Side effects: `register_fonts` reads the TTF files and registers them in reportlab's global font
registry (idempotent). Raises `FontMissingError` naming the folder when the files are missing.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "WardcopySans"
BOLD = "WardcopySans-Bold"

_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
_LOCK = threading.Lock()
_registered = False


class FontMissingError(RuntimeError):
    """The bundled font files cannot be found or read."""


def font_dirs() -> list[Path]:
    """Where the fonts are looked for, in order: the source tree's `assets/fonts`, then the
    copy installed next to the package (`app/printing/fonts/`), then the copy a wheel installs
    as data files (`<prefix>/share/wardcopy/fonts`), then the system DejaVu folder."""
    here = Path(__file__).resolve()
    return [
        here.parents[2] / "assets" / "fonts",
        here.parent / "fonts",
        Path(sys.prefix) / "share" / "wardcopy" / "fonts",
        Path("/usr/share/fonts/truetype/dejavu"),
    ]


def _find(filename: str) -> Path:
    for folder in font_dirs():
        candidate = folder / filename
        if candidate.is_file():
            return candidate
    searched = ", ".join(str(p) for p in font_dirs())
    raise FontMissingError(
        f"font {filename} not found (looked in {searched}); reinstall Wardcopy or copy "
        f"DejaVu Sans into assets/fonts/"
    )


def register_fonts() -> tuple[str, str]:
    """Register the regular and bold font once; return their reportlab names.

    Raises FontMissingError when a file is missing, or when reportlab cannot read it.
    """
    global _registered
    with _LOCK:
        if not _registered:
            for name, filename in _FILES.items():
                path = _find(filename)
                try:
                    pdfmetrics.registerFont(TTFont(name, str(path)))
                except Exception as exc:  # reportlab raises bare TTFError / OSError variants
                    raise FontMissingError(f"cannot read font {path}: {exc}") from exc
            # <b> inside a Paragraph switches to the bold face.
            addMapping(REGULAR, 0, 0, REGULAR)
            addMapping(REGULAR, 1, 0, BOLD)
            addMapping(REGULAR, 0, 1, REGULAR)
            addMapping(REGULAR, 1, 1, BOLD)
            _registered = True
    return REGULAR, BOLD
