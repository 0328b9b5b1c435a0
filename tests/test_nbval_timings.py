"""A wall time that a chapter glues is kept out of nbval's strict comparison of outputs.

Two runs of the same notebook take different times, so a glued number of seconds differs
between the book build and nbval's rerun, and strict nbval fails on it, or passes by luck
when both round alike (CI failed so on chapter 13's "c20-seconds"). Such a glue must be in
a cell tagged ``nbval-ignore-output``, or be written with one decimal (``:.1f``), which
``tools/nbval_sanitize.cfg`` masks.
"""

import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "book").glob("*.md"))
# glue("<key>-seconds", f"{<expression>:<format>}" ...
TIME_GLUE = re.compile(
    r'glue\(\s*f?"(?P<key>[^"]*seconds)"\s*,\s*f"\{[^}]*?(?::(?P<fmt>[^}]*))?\}"'
)


def timing_glues(path):
    """(key, format, tags) of every glue of a number of seconds in the notebook at path."""
    text = path.read_text(encoding="utf-8")
    if "kernelspec" not in text:
        return []
    found = []
    for cell in jupytext.reads(text, fmt="md:myst").cells:
        if cell.cell_type != "code":
            continue
        for match in TIME_GLUE.finditer(cell.source):
            found.append((match["key"], match["fmt"], cell.metadata.get("tags", [])))
    return found


def test_the_chapters_glue_wall_times():
    # The test below has something to check (and its pattern still matches the chapters).
    assert sum(len(timing_glues(p)) for p in CHAPTERS) >= 5


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_glued_wall_time_is_kept_out_of_the_strict_comparison(path):
    for key, fmt, tags in timing_glues(path):
        assert "nbval-ignore-output" in tags or fmt == ".1f", (
            f"{path.name}: glue {key!r} ({fmt or 'no format'}) is a wall time in a cell without "
            "the tag nbval-ignore-output: strict nbval will compare it"
        )
