"""Census filter preparation: the one folding (app.present.search) against the viewer's former
own folding, in the same run: `python -m bench.fold`.

The census filter folds every row's fields once after login (names, MRN, room, diagnosis,
attending, birth date) in both umlaut forms. Since the viewer uses the snapshot index's folding
(`sync.searchtext.fold`, which also maps Ł, Ø, Æ, ...), this checks that preparing the rows is
no slower than with the former NFKD-only fold, which is kept here as the baseline.
"""

from __future__ import annotations

import random
import time
import unicodedata

from app.present.search import fold_forms

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
NAMES = [
    *("Müller-Weiß, Jürgen", "Łukaszewicz, Grażyna", "Schmidt, Anna", "Øvergård, Åse"),
    *("Nguyễn, Văn Đức", "Şahin, Ayşe Gül", "Herzinsuffizienz NYHA III", "Dr. Παπαδόπουλος"),
    *("Pneumonie, ambulant erworben", "10000118", "Zimmer 104", "Bett A", "07.03.1950"),
]


def _former_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def former_fold_forms(text: str) -> tuple[str, str]:
    """The viewer's folding before the presentation layer (app/ui/fmt.py): the baseline."""
    lowered = unicodedata.normalize("NFC", text.casefold())
    return _former_fold(lowered), _former_fold(lowered.translate(_GERMAN))


def run(fields: int = 30_000, rounds: int = 7) -> dict[str, float]:
    """Best-of-`rounds` microseconds per field for both, interleaved so load hits both alike."""
    rnd = random.Random(1)
    values = [f"{rnd.choice(NAMES)} {i}" for i in range(fields)]
    best = {"former": float("inf"), "present": float("inf")}
    for _ in range(rounds):
        for name, fn in (("former", former_fold_forms), ("present", fold_forms)):
            started = time.perf_counter()
            for value in values:
                fn(value)
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: seconds * 1e6 / fields for name, seconds in best.items()}


def main() -> None:
    result = run()
    ratio = result["present"] / result["former"]
    print("| folding | µs per field |")
    print("|---|---|")
    print(f"| former viewer fold (baseline) | {result['former']:.2f} |")
    print(f"| app.present.search.fold_forms | {result['present']:.2f} ({ratio:.2f}x) |")


if __name__ == "__main__":
    main()
