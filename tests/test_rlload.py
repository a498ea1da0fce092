"""`wardcopy print` loads reportlab's platypus without compiling its unused URL pattern
(app.printing.rlload): the stand-in must be what reportlab got, behave like the real pattern,
and leave `re.compile` as it was. Fails when a reportlab release changes the pattern (then the
24 ms come back: docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys

_CHECK = """
import re
real = re.compile
from app.printing.rlload import CompiledOnUse, load_platypus
load_platypus()
assert re.compile is real, "re.compile was not restored"
import reportlab.platypus.paragraph as paragraph
assert isinstance(paragraph.uri_pat, CompiledOnUse), type(paragraph.uri_pat)
uri = "https://example.org/ward/1a?bed=3"
pairs = paragraph._uri_split_pairs(uri)
paragraph.uri_pat = real(paragraph.uri_pat._args[0], paragraph.uri_pat._args[1])
assert pairs == paragraph._uri_split_pairs(uri) and pairs, pairs
assert paragraph._uri_split_pairs("not a url") is None
print("ok")
"""


def test_platypus_loads_with_the_url_pattern_compiled_on_use() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CHECK], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
