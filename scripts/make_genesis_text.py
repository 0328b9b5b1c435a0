"""Write lstm_lessons/data/genesis_kjv.txt from the Debian package bible-kjv.

The book of Genesis in the King James Version: the 1769 standard text of
Benjamin Blayney, in modern spelling (the translation dates from 1611), whose
copyright has expired; the Debian package bible-kjv-text ships it and its `bible` program
prints it. Each verse becomes a paragraph "chapter:verse text", wrapped at
WIDTH characters, so that the text has lines of nearly equal length (a
character model then has a reason to count its position in a line).

Run once, by hand, where `apt-get install bible-kjv` has been done:
    python scripts/make_genesis_text.py
"""

import re
import subprocess
import textwrap
from pathlib import Path

WIDTH = 64
OUT = Path(__file__).resolve().parents[1] / "lstm_lessons" / "data" / "genesis_kjv.txt"


def main():
    raw = subprocess.run(
        ["bible", "-f", "Genesis 1:1-50:26"], capture_output=True, text=True, check=True
    ).stdout
    paragraphs = []
    for line in raw.splitlines():
        match = re.match(r"Ge(\d+:\d+) (.*)", line)
        if match:
            paragraphs.append(textwrap.fill(f"{match[1]} {match[2]}", WIDTH))
    OUT.write_text("\n".join(paragraphs) + "\n", encoding="ascii")
    print(f"wrote {OUT}: {OUT.stat().st_size} bytes, {len(paragraphs)} verses")


if __name__ == "__main__":
    main()
