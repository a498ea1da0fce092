"""The one German/English message table (`app.present.messages`): every id once, German and
English for each, the same placeholders in both, and a word translated only once; no module
keeps a catalogue of its own."""

from __future__ import annotations

import ast
import string
from collections import defaultdict
from pathlib import Path

import pytest

from app.present.catalog import register, t
from app.present.messages import TOPICS, Same, TableError, build_table, same

APP = Path(__file__).resolve().parents[1] / "app"


def fields(template: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(template) if name}


def test_every_message_has_german_and_english_with_the_same_fields() -> None:
    table = build_table()
    assert len(table) > 400
    for key, texts in table.items():
        assert set(texts) == {"de", "en"}, key
        assert texts["de"].strip() and texts["en"].strip(), key
        assert fields(texts["de"]) == fields(texts["en"]), key


def test_a_word_is_translated_once() -> None:
    """Two ids that read alike in both languages must be one entry and a `same(...)` alias."""
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for messages in TOPICS.values():
        for key, entry in messages.items():
            if not isinstance(entry, Same):
                seen[(entry["de"], entry["en"])].append(key)
    twice = {pair: keys for pair, keys in seen.items() if len(keys) > 1}
    assert not twice, f"translated more than once (use same('...')): {twice}"


def test_an_id_in_two_topics_or_without_a_language_is_refused() -> None:
    word = {"de": "Station", "en": "Ward"}
    with pytest.raises(TableError, match=r"'x\.ward' is in both 'a' and 'b'"):
        build_table({"a": {"x.ward": word}, "b": {"x.ward": word}})
    with pytest.raises(TableError, match=r"x\.only_en"):
        build_table({"a": {"x.only_en": {"en": "Ward"}}})
    with pytest.raises(TableError, match=r"x\.alias"):
        build_table({"a": {"x.alias": same("x.nowhere")}})
    with pytest.raises(TableError, match=r"x\.chain"):
        build_table({"a": {"x.w": word, "x.alias": same("x.w"), "x.chain": same("x.alias")}})
    assert build_table({"a": {"x.w": word}, "b": {"x.alias": same("x.w")}})["x.alias"] == word


def test_screen_and_paper_read_the_same_word_from_one_entry() -> None:
    # The due list's columns (screen and paper) and the printed MAR read the shared words.
    for lang in ("de", "en"):
        assert t("due.col.drug", lang) == t("print.col.drug", lang) == t("col.drug", lang)
        assert t("due.col.bed", lang) == t("print.col.bed", lang) == t("col.bed", lang)
        assert t("print.col.diagnosis", lang) == t("ui.census.col.diagnosis_short", lang)
    assert t("print.col.drug", "de") == "Medikament"


def test_register_cannot_translate_a_table_word_again() -> None:
    with pytest.raises(ValueError, match=r"place\.ward"):
        register({"place.ward": {"de": "Abteilung", "en": "Unit"}})
    assert t("place.ward", "de") == "Station"


def test_no_module_keeps_a_catalogue_of_its_own() -> None:
    """Messages go into `app.present.messages`; no module registers its own at import."""
    offenders = []
    for path in APP.rglob("*.py"):
        if path.name == "catalog.py" and path.parent.name == "present":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            named = isinstance(func, ast.Name) and func.id == "register"
            via = (
                isinstance(func, ast.Attribute)
                and func.attr == "register"
                and isinstance(func.value, ast.Name)
                and func.value.id in ("i18n", "catalog")
            )
            if named or via:
                offenders.append(f"{path.relative_to(APP.parent)}:{node.lineno}")
    assert not offenders, offenders
