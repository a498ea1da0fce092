"""The census cell truncation rule: whole words, whole items, and a "+N" for the rest."""

from __future__ import annotations

import threading
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from app.ui.viewmodels.fit import WHOLE_SLACK, clipped, fit_items, hyphenate, text_width

FONT = 11.0


def px(value: str) -> float:
    return text_width(value, FONT)


def test_everything_fits_no_marker() -> None:
    fitted = fit_items(["Sturzgefahr"], width=px("Sturzgefahr"), lines=2, font_px=FONT)
    assert fitted.shown == ("Sturzgefahr",)
    assert fitted.more == 0 and fitted.more_text == ""


def test_a_two_line_flag_fits_whole_in_two_lines() -> None:
    width = px("Kontaktisolation:")
    fitted = fit_items(["Kontaktisolation: MRSA"], width=width, lines=2, font_px=FONT)
    assert fitted.shown == ("Kontaktisolation: MRSA",)


def test_a_flag_that_needs_three_lines_is_left_out_with_a_marker() -> None:
    width = px("Kontaktisolation:")
    items = ["Sturzgefahr", "Kontaktisolation: 3MRGN E. coli"]
    assert fit_items(items, width=width, lines=3, font_px=FONT).more == 0
    fitted = fit_items(items, width=width, lines=2, font_px=FONT)
    assert fitted.shown == ("Sturzgefahr",)
    assert fitted.more_text == "+1"
    assert fitted.full == "Sturzgefahr, Kontaktisolation: 3MRGN E. coli"


def test_a_word_wider_than_the_line_is_hyphenated_at_a_dictionary_point() -> None:
    # At 1024 px the renderer broke it "Hausstaubmil" / "be"; the cell now draws it itself.
    width = px("Hausstaubmilbe") * 0.9  # 10 % too narrow: beyond WHOLE_SLACK
    fitted = fit_items(["Hausstaubmilbe"], width=width, lines=2, font_px=FONT, inline=True)
    assert fitted.shown == ("Hausstaubmilbe",)
    assert fitted.display == ("Hausstaub-\nmilbe",)
    assert fitted.more == 0


def test_a_hyphenated_word_takes_its_lines_so_a_flag_may_not_fit() -> None:
    width = px("Kontaktisolation:") * 0.9
    assert fit_items(["Kontaktisolation: MRSA"], width=width, lines=3, font_px=FONT).display == (
        "Kontaktisola-\ntion: MRSA",
    )
    fitted = fit_items(["Kontaktisolation: MRSA"], width=width, lines=1, font_px=FONT)
    assert fitted.shown == () and fitted.more == 1


def test_a_trailing_colon_never_lands_alone_and_an_own_hyphen_is_not_doubled() -> None:
    assert hyphenate("Kontaktisolation:", px("Kontaktisolation") * 0.9, FONT)[-1] != ":"
    assert hyphenate("Kontaktisolation:", px("Kontaktisolation") * 0.9, FONT)[-1] != "n:"
    pieces = hyphenate("Schulze-Wöhrmann", px("Schulze-Wöhr"), FONT)
    assert pieces == ["Schulze-", "Wöhrmann"]


def test_punctuation_is_never_cut_onto_a_line_of_its_own() -> None:
    # found by the property test below: ":," at 5 px was drawn ":-" / ","
    assert hyphenate(":,", 5.0, FONT) == [":,"]
    fitted = fit_items([":", ":"], width=5.0, lines=3, font_px=FONT, inline=True)
    assert fitted.display == (":", ":")


def test_a_word_without_a_dictionary_point_is_cut_visibly() -> None:
    pieces = hyphenate("XXXXXXXXXXXX", px("XXXXX"), FONT)
    assert len(pieces) > 1
    assert all(p.endswith("-") for p in pieces[:-1])
    assert "".join(p[:-1] for p in pieces[:-1]) + pieces[-1] == "XXXXXXXXXXXX"
    assert all(px(p) <= px("XXXXX") for p in pieces)


def test_clipped_keeps_whole_words_and_ends_a_cut_in_an_ellipsis() -> None:
    width = px("Hausstaub-")
    assert clipped("Penicillin Hausstaubmilbe", width, FONT, 3) == "Penicillin\nHausstaub-\nmilbe"
    # Two lines only: the cut is visible ("…"), never a dangling "Hausstaub-" with no more.
    two = clipped("Penicillin Hausstaubmilbe", width, FONT, 2)
    assert two.split("\n")[0] == "Penicillin"
    assert two.endswith("…") and not two.endswith("-…")
    assert all(px(line) <= width for line in two.split("\n"))


def test_allergies_run_on_and_keep_room_for_the_marker() -> None:
    items = ["Penicillin", "Jodhaltige Kontrastmittel"]
    width = px("Kontrastmittel") - 1
    fitted = fit_items(items, width=width, lines=2, font_px=FONT, inline=True)
    assert fitted.shown == ("Penicillin",)
    assert fitted.more_text == "+1"


def test_unlisted_allergies_count_in_the_marker() -> None:
    items = ["Latex", "Nuss"]
    fitted = fit_items(items, width=500, lines=1, font_px=FONT, inline=True, total=6)
    assert fitted.shown == ("Latex", "Nuss")
    assert fitted.more_text == "+4"


def test_narrow_letters_are_narrower_than_capitals() -> None:
    assert px("iiii") < px("MMMM")
    assert text_width("a", 12, bold=False) < text_width("a", 12)


words = st.text(alphabet="abcdefghijKLMNÄöß:.", min_size=1, max_size=20)
items_st = st.lists(st.lists(words, min_size=1, max_size=4).map(" ".join), max_size=6)


# Widths from 20 px: below about 17 px not even one wide letter and its "-" fit a line (no
# column is that narrow; the census's narrowest is over 60 px), so no rule could pass there.
@given(items_st, st.floats(20, 300), st.integers(1, 4), st.booleans())
@example(items=["::"], width=5.0, lines=1, inline=False)
@example(items=[":", ":"], width=5.0, lines=3, inline=True)
def test_shown_items_are_a_whole_prefix_and_the_count_adds_up(
    items: list[str], width: float, lines: int, inline: bool
) -> None:
    fitted = fit_items(items, width=width, lines=lines, font_px=FONT, inline=inline)
    assert list(fitted.shown) == items[: len(fitted.shown)]
    assert len(fitted.shown) + fitted.more == len(items)
    # what the cell draws: every piece fits a line, so the renderer never breaks a word; the
    # pieces are the item's words, hyphenated (an added "-" at the end of a piece) or whole
    assert len(fitted.display) == len(fitted.shown)
    for item, drawn in zip(fitted.shown, fitted.display, strict=True):
        # (a piece of punctuation alone, "::" at 5 px, stays whole rather than be stranded)
        assert all(
            px(p) <= width * WHOLE_SLACK
            for p in drawn.split()
            if len(p) > 1 and any(c.isalnum() for c in p)
        )
        pieces = [p for word in drawn.split(" ") for p in word.split("\n")]
        assert drawn.replace("-\n", "").replace("\n", "") in (
            item,
            item.replace("-", ""),
        ) or len(pieces) >= len(item.split())
    if fitted.more:
        assert fitted.more_text == f"+{fitted.more}"


def test_the_viewer_loads_the_hyphenation_dictionary_before_any_login(tmp_path: Path) -> None:
    # Loading pyphen's patterns took about 1.5 s in front of the first hospital-wide login on a
    # loaded machine; the viewer's entry point now starts loading them in the background.
    from app.present import hyphen
    from app.ui import shell

    hyphen.dictionary.cache_clear()
    shell.make_main(tmp_path)
    for thread in threading.enumerate():
        if thread.name == "hyphenation-warm-up":
            thread.join(timeout=60)
    assert hyphen.dictionary.cache_info().currsize == 1


def test_a_word_only_estimated_a_little_wide_stays_whole() -> None:
    # "Jodhaltige" is estimated 1 % wider than a severe allergy's room at 1024 px but drawn
    # 10 % narrower: "Jodhal-" / "tige" would break a word the renderer fits.
    assert hyphenate("Jodhaltige", px("Jodhaltige") / 1.01, FONT) == ["Jodhaltige"]
