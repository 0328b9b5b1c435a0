"""tools/check_site.py finds each fault it is meant to find, on a small site made for it.

Needs Debian's Chromium. Where it is missing these tests skip in the unit stage; the
`browser` stage of `make test` installs it and runs them again, with
CHECK_SITE_TESTS=required, where they never skip, beside the check of the book. Under
`make test` they skip in the unit stage in any case (CHECK_SITE_TESTS=later), while Chromium
is being installed.
"""

import importlib.util
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"

# CHECK_SITE_TESTS=later: `make test` is installing Chromium in the background while the unit
# stage runs (a half-installed browser must not be tried); its browser stage runs these tests.
pytestmark = [
    pytest.mark.skipif(
        os.environ.get("CHECK_SITE_TESTS") == "later",
        reason="make test runs these tests in its browser stage, once Chromium is installed",
    ),
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK) and os.environ.get("CHECK_SITE_TESTS") != "required",
        reason=f"{CHROMIUM} is not installed (make browser installs it and runs these tests)",
    ),
]


def load_check_site():
    spec = importlib.util.spec_from_file_location("check_site", ROOT / "tools" / "check_site.py")
    module = importlib.util.module_from_spec(spec)
    # Registered, so that its browsers in worker processes (jobs > 1) find their function.
    sys.modules["check_site"] = module
    spec.loader.exec_module(module)
    return module


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
MATHJAX = '<script defer src="{up}_static/mathjax/tex-chtml.js"></script>'


def page(body, head=""):
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title>{head}</head>"
            f"<body>{body}</body></html>")


def make_site(root: Path):
    # The MathJax that the book ships (the package's folder name has dashes).
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    shutil.copytree(Path(spec.origin).parent / "static" / "mathjax", root / "_static" / "mathjax")
    (root / "_images").mkdir()
    (root / "_images" / "dot.png").write_bytes(PNG)
    (root / "book").mkdir()
    files = {
        "index.html": page(
            '<h1 id="top">Good</h1><p>Inline <span class="math">\\(x^2\\)</span>.</p>'
            '<div class="math">\\[ c_t = f_t c_{t-1} \\]</div>'
            '<img src="_images/dot.png" alt="a dot">'
            '<a href="book/other.html#here">other</a> <a href="#top">top</a>'
            '<a href="https://example.org/">outside links are not followed</a>'
            '<p>Prose may cost $5 or $10, and a | b is fine.</p>'
            '<p>Code may show markup: <code>{glue:text}`x` and $b_f$</code>.</p>'
            '<p>So may the API reference: <code>:class:`Ensemble`</code>, <code>``x``</code>;'
            ' prose may say 10:30 or quote `one tick`.</p>'
            '<pre>| a |\n|:--|</pre>',
            head=MATHJAX.format(up="")),
        "book/other.html": page('<p id="here">Other page, no math.</p>'),
        "book/no_alt.html": page('<img src="../_images/dot.png">'),
        "book/file_name_alt.html": page('<img src="../_images/dot.png" alt="../_images/dot.png">'),
        "book/missing_image.html": page('<img src="../_images/none.png" alt="gone">'),
        "book/broken_link.html": page('<a href="nowhere.html">x</a>'),
        "book/broken_fragment.html": page('<a href="other.html#not-there">x</a>'),
        "book/raw_tex.html": page('<p>Left as text: $$a + b$$</p>'),
        "book/no_mathjax.html": page('<span class="math">\\(y\\)</span>'),
        "book/tex_error.html": page('<div class="math">\\[ a & b \\]</div>',
                                    head=MATHJAX.format(up="../")),
        "book/tex_macro.html": page('<div class="math">\\[ a \\nosuchmacro b \\]</div>',
                                    head=MATHJAX.format(up="../")),
        "book/raw_table.html": page('<p>| gate | bias | |:--|--:| | f | 1 |</p>'),
        "book/raw_dollar.html": page('<table><tr><td>with $b_f$ set</td></tr></table>'),
        "book/raw_role.html": page('<p>σ(0) = {glue:text}`c4-f0`, see {term}`cell state`</p>'),
        "book/raw_directive.html": page('<p>```{glue:figure} fig-c4-cell</p>'),
        "book/raw_rest_role.html": page('<dl><dd><p>Returns a :class:`SequenceModel`.</p></dd>'
                                        '</dl>'),
        "book/raw_rest_literal.html": page('<dl><dd><p>The ``W_x`` matrix.</p></dd></dl>'),
        "book/cdn.html": page("", head='<script src="https://cdn.example.org/x.js"></script>'),
        "book/console.html": page("<script>console.error('boom')</script>"),
        "book/throws.html": page("<script>null.f()</script>"),
    }
    for name, html in files.items():
        (root / name).write_text(html, encoding="utf-8")


@pytest.fixture(scope="module")
def problems(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    make_site(root)
    return load_check_site().check(root, None, CHROMIUM)


def problems_of(problems, page):
    return [p for p in problems if p.startswith(page + ":")]


def test_a_good_page_passes(problems):
    assert problems_of(problems, "index.html") == []
    assert problems_of(problems, "book/other.html") == []


@pytest.mark.parametrize("page, expected", [
    ("book/no_alt.html", "image without alt text"),
    ("book/missing_image.html", "HTTP 404"),
    ("book/file_name_alt.html", "image whose alt text is a file name"),
    ("book/broken_link.html", "broken link to book/nowhere.html"),
    ("book/broken_fragment.html", "broken link to book/other.html#not-there"),
    ("book/raw_tex.html", "TeX left in the text"),
    ("book/no_mathjax.html", "MathJax did not load"),
    ("book/tex_error.html", "TeX error in math: 'a & b'"),
    ("book/tex_macro.html", "TeX error in math: 'a \\\\nosuchmacro b'"),
    ("book/raw_table.html", "Markdown table left as text"),
    ("book/raw_dollar.html", "$-math left as text: 'with $b_f$ set'"),
    ("book/raw_role.html", "MyST role left as text"),
    ("book/raw_directive.html", "MyST directive left as text"),
    ("book/raw_rest_role.html", "reST role left as text: 'Returns a :class:`SequenceModel`.'"),
    ("book/raw_rest_literal.html", "reST literal left as text: 'The ``W_x`` matrix.'"),
    ("book/cdn.html", "not local"),
    ("book/console.html", "console error: boom"),
    ("book/throws.html", "script error"),
])
def test_each_fault_is_reported(problems, page, expected):
    found = problems_of(problems, page)
    assert any(expected in p for p in found), f"{page}: expected {expected!r}, got {found}"


def test_browsers_in_parallel_report_the_same(problems, tmp_path):
    make_site(tmp_path)
    in_parallel = load_check_site().check(tmp_path, None, CHROMIUM, jobs=3)

    def without_port(lines):  # each check serves the site on a port of its own
        return [re.sub(r"http://127\.0\.0\.1:\d+/", "/", line) for line in lines]

    assert without_port(in_parallel) == without_port(problems)
