"""Launch links: every one is built from the repository setting in ``_config.yml``.

- ``tools/sphinx_launch.py``: the URLs of the ``{binder}``/``{colab}`` roles, and the Colab
  button of a Markdown page pointed at its notebook copy (on a fake page context, then in a
  small Sphinx build with the book's theme);
- ``tools/build_notebooks.py``: the committed copies in ``notebooks/`` are what the pages and
  ``_config.yml`` build, byte for byte (the fix for a failure is ``make notebooks``);
- every repository URL still written by hand anywhere in the repository (README, install
  cells of the exercises, binder/, ...) is the one ``_config.yml`` names.
"""

import copy
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import MYST_HEADER, load_tool

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"


sphinx_launch = load_tool("sphinx_launch")
build_notebooks = load_tool("build_notebooks")

OPTIONS = {
    "repository_url": "https://github.com/someone/course",
    "repository_branch": "spring",
    "path_to_docs": "",
    "launch_buttons": {
        "notebook_interface": "classic",
        "binderhub_url": "https://binder.example.org/",
        "colab_url": "https://colab.example.com",
    },
}


# --- URL logic ---------------------------------------------------------------------------


def test_binder_and_colab_urls_come_from_the_options():
    path = "exercises/ch01_simple_rnn.ipynb"
    assert sphinx_launch.launch_url("binder", OPTIONS, path) == (
        "https://binder.example.org/v2/gh/someone/course/spring"
        "?urlpath=tree/exercises/ch01_simple_rnn.ipynb"
    )
    assert sphinx_launch.launch_url("colab", OPTIONS, path) == (
        "https://colab.example.com/github/someone/course/blob/spring/"
        "exercises/ch01_simple_rnn.ipynb"
    )


def test_jupyterlab_interface_and_a_git_suffix():
    options = copy.deepcopy(OPTIONS)
    options["launch_buttons"]["notebook_interface"] = "jupyterlab"
    options["repository_url"] = "https://github.com/someone/course.git/"
    assert sphinx_launch.launch_url("binder", options, "a b.ipynb") == (
        "https://binder.example.org/v2/gh/someone/course/spring?urlpath=lab/tree/a%20b.ipynb"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"repository_url": "https://gitlab.com/someone/course"}, "must look like"),
        ({"repository_url": "https://github.com/someone"}, "must look like"),
        ({"launch_buttons": {"colab_url": ""}}, "binderhub_url is not set"),
        (
            {"launch_buttons": {"binderhub_url": "https://b.org", "notebook_interface": "x"}},
            "notebook_interface must be one of",
        ),
    ],
)
def test_bad_settings_say_what_was_expected(change, message):
    options = {**OPTIONS, **change}
    with pytest.raises(ValueError, match=message):
        sphinx_launch.launch_url("binder", options, "x.ipynb")


def test_an_unknown_service_is_refused():
    with pytest.raises(ValueError, match="service must be one of"):
        sphinx_launch.launch_url("kaggle", OPTIONS, "x.ipynb")


def test_copy_path_and_repository_path():
    assert sphinx_launch.copy_path("book/ch01_simple_rnn") == "notebooks/ch01_simple_rnn.ipynb"
    assert sphinx_launch.copy_path("book/part/x") == "notebooks/part/x.ipynb"
    with pytest.raises(ValueError, match="only pages under book/"):
        sphinx_launch.copy_path("exercises/ch01_simple_rnn")
    assert sphinx_launch.repo_path({**OPTIONS, "path_to_docs": "/docs/"}, "a.md") == "docs/a.md"


# --- The Colab button, on a fake page context --------------------------------------------


def theme_buttons(pagename, suffix):
    """header_buttons as sphinx-book-theme 1.3 leaves them (launch.py), for OPTIONS."""
    path = f"{pagename}{suffix}"
    return {
        "header_buttons": [
            {"type": "group", "label": "download-buttons", "buttons": []},
            {
                "type": "group",
                "label": "launch-buttons",
                "buttons": [
                    {"type": "link", "text": "Binder", "url": f"binder-url/{path}"},
                    {
                        "type": "link",
                        "text": "Colab",
                        "url": f"https://colab.example.com/github/someone/course/blob/spring/{path}",
                    },
                    {"type": "javascript", "text": "Live Code", "label": "launch-thebe"},
                ],
            },
        ]
    }


def launch_buttons(context):
    return {b["text"]: b.get("url") for b in context["header_buttons"][1]["buttons"]}


def test_launch_buttons_of_a_markdown_chapter_open_its_copy():
    context = theme_buttons("book/ch01_simple_rnn", ".md")
    seen = []
    problem = sphinx_launch.point_launch_buttons_at_copies(
        OPTIONS, "book/ch01_simple_rnn", ".md", lambda p: seen.append(p) or True, context
    )
    assert problem is None
    assert set(seen) == {"notebooks/ch01_simple_rnn.ipynb"}
    assert launch_buttons(context) == {
        "Binder": "binder-url/notebooks/ch01_simple_rnn.ipynb",
        "Colab": "https://colab.example.com/github/someone/course/blob/spring/"
        "notebooks/ch01_simple_rnn.ipynb",
        "Live Code": None,
    }


def test_without_a_copy_the_launch_buttons_go_and_a_warning_says_why():
    context = theme_buttons("book/ch01_simple_rnn", ".md")
    problem = sphinx_launch.point_launch_buttons_at_copies(
        OPTIONS, "book/ch01_simple_rnn", ".md", lambda p: False, context
    )
    assert "make notebooks" in problem and "book/ch01_simple_rnn" in problem
    assert list(launch_buttons(context)) == ["Live Code"]


def test_the_jupyterhub_button_pulls_and_opens_the_copy():
    from urllib.parse import quote, urlencode

    def hub_url(path):
        query = urlencode({"repo": OPTIONS["repository_url"], "urlpath": f"tree/course/{path}",
                           "branch": "spring"})  # fmt: skip
        return f"https://hub.example.edu/hub/user-redirect/git-pull?{query}"

    context = theme_buttons("book/ch04_forget_gate", ".md")
    hub = {"type": "link", "text": "JupyterHub", "url": hub_url("book/ch04_forget_gate.md")}
    context["header_buttons"][1]["buttons"].insert(1, hub)
    problem = sphinx_launch.point_launch_buttons_at_copies(
        OPTIONS, "book/ch04_forget_gate", ".md", lambda p: True, context
    )
    assert problem is None
    assert launch_buttons(context)["JupyterHub"] == hub_url("notebooks/ch04_forget_gate.ipynb")
    assert quote("book/ch04_forget_gate.md", safe="") not in launch_buttons(context)["JupyterHub"]


def test_a_bad_repository_setting_drops_the_button_with_a_warning():
    context = theme_buttons("book/ch01_simple_rnn", ".md")
    options = {**OPTIONS, "repository_url": "https://example.org/course"}
    problem = sphinx_launch.point_launch_buttons_at_copies(
        options, "book/ch01_simple_rnn", ".md", lambda p: True, context
    )
    assert "no Colab button" in problem and "must look like https://github.com/" in problem
    assert "Colab" not in launch_buttons(context)


def test_an_ipynb_page_keeps_the_themes_colab_button():
    context = theme_buttons("exercises/ch01_simple_rnn", ".ipynb")
    before = copy.deepcopy(context)
    problem = sphinx_launch.point_launch_buttons_at_copies(
        OPTIONS, "exercises/ch01_simple_rnn", ".ipynb", lambda p: True, context
    )
    assert problem is None and context == before


def test_the_chinese_edition_opens_the_chinese_copies():
    # A chapter: its copy in notebooks/zh; an exercise page: exercises/zh; none: the English.
    context = theme_buttons("book/ch01_simple_rnn", ".md")
    problem = sphinx_launch.point_launch_buttons_at_copies(
        OPTIONS, "book/ch01_simple_rnn", ".md", lambda p: True, context, "zh"
    )
    assert problem is None
    assert launch_buttons(context)["Binder"] == "binder-url/notebooks/zh/ch01_simple_rnn.ipynb"
    assert launch_buttons(context)["Colab"].endswith("/spring/notebooks/zh/ch01_simple_rnn.ipynb")
    context = theme_buttons("exercises/ch04_forget_gate", ".ipynb")
    sphinx_launch.point_launch_buttons_at_copies(
        OPTIONS, "exercises/ch04_forget_gate", ".ipynb", lambda p: True, context, "zh"
    )
    assert launch_buttons(context)["Colab"].endswith("/exercises/zh/ch04_forget_gate.ipynb")
    assert launch_buttons(context)["Binder"] == "binder-url/exercises/zh/ch04_forget_gate.ipynb"
    context = theme_buttons("exercises/ch04_forget_gate", ".ipynb")
    english_only = lambda p: "/zh/" not in p  # noqa: E731
    sphinx_launch.point_launch_buttons_at_copies(
        OPTIONS, "exercises/ch04_forget_gate", ".ipynb", english_only, context, "zh"
    )
    assert launch_buttons(context)["Binder"] == "binder-url/exercises/ch04_forget_gate.ipynb"
    assert sphinx_launch.localized("exercises/x.ipynb", None, bool) == "exercises/x.ipynb"


def test_a_page_without_launch_buttons_is_left_alone():
    context = {"header_buttons": [{"type": "group", "label": "download-buttons", "buttons": []}]}
    before = copy.deepcopy(context)
    assert (
        sphinx_launch.point_launch_buttons_at_copies(OPTIONS, "book/x", ".md", bool, context)
        is None
    )
    assert context == before


# --- The extension in a small Sphinx build -------------------------------------------------

PAGE = (
    MYST_HEADER
    + """
# Page

Open {binder}`../exercises/ex.ipynb` or {colab}`the notebook in Colab <../exercises/ex.ipynb>`.
{extra}

```{code-cell} ipython3
1 + 1
```
"""
)


def small_build(tmp_path, extra="", copy=True):
    """Build book/page.md with the book's theme and the extension; (html, warnings)."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    src = tmp_path / "src"
    (src / "book").mkdir(parents=True)
    (src / "exercises").mkdir()
    (src / "book" / "page.md").write_text(PAGE.replace("{extra}", extra), encoding="utf-8")
    (src / "exercises" / "ex.ipynb").write_text("{}", encoding="utf-8")
    if copy:
        (src / "notebooks").mkdir()
        (src / "notebooks" / "page.ipynb").write_text("{}", encoding="utf-8")
    (src / "index.md").write_text("# Index\n\n```{toctree}\nbook/page\n```\n", encoding="utf-8")
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(TOOLS)!r})\n"
        "extensions = ['myst_nb', 'sphinx_launch']\n"
        "html_theme = 'sphinx_book_theme'\n"
        f"html_theme_options = {OPTIONS!r}\n"
        "nb_execution_mode = 'off'\n"
        "exclude_patterns = ['exercises', 'notebooks']\n",
        encoding="utf-8",
    )
    warnings = tmp_path / "warnings.txt"
    # docutils_namespace: the roles registered by this build do not outlive it.
    with warnings.open("w") as stream, docutils_namespace():
        app = Sphinx(
            src, src, tmp_path / "html", tmp_path / "doctrees", "html",
            status=None, warning=stream, freshenv=True,
        )  # fmt: skip
        app.build()
    html = (tmp_path / "html" / "book" / "page.html").read_text(encoding="utf-8")
    if copy:
        # The page's .ipynb download is the copy.
        published = tmp_path / "html" / "_sources" / "book" / "page.ipynb"
        assert published.read_text(encoding="utf-8") == "{}"
    return html, warnings.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def built_page(tmp_path_factory):
    return small_build(tmp_path_factory.mktemp("launch"))


def test_roles_link_to_the_exercise_on_binder_and_colab(built_page):
    html, warnings = built_page
    assert "WARNING" not in warnings, warnings
    binder = (
        "https://binder.example.org/v2/gh/someone/course/spring?urlpath=tree/exercises/ex.ipynb"
    )
    colab = "https://colab.example.com/github/someone/course/blob/spring/exercises/ex.ipynb"
    assert f'href="{binder}">Binder</a>' in html.replace("&amp;", "&")
    assert f'href="{colab}">the notebook in Colab</a>' in html


def test_the_built_colab_button_opens_the_copy(built_page):
    html, _ = built_page
    copy_url = "https://colab.example.com/github/someone/course/blob/spring/notebooks/page.ipynb"
    assert f'href="{copy_url}"' in html
    assert "blob/spring/book/page.md" not in html
    assert (
        "binder.example.org/v2/gh/someone/course/spring?urlpath=tree/notebooks/page.ipynb" in html
    )
    assert "urlpath=tree/book/page.md" not in html


def test_a_missing_target_and_a_missing_copy_are_warnings(tmp_path):
    extra = "Also {colab}`../exercises/none.ipynb`."
    html, warnings = small_build(tmp_path, extra=extra, copy=False)
    assert "{colab} role: '../exercises/none.ipynb' is not a file of the book" in warnings
    assert "there is no notebook copy of it; run `make book && make notebooks`" in warnings
    assert "colab.example.com" in html  # the roles' links; no Colab button
    assert "blob/spring/book/page.md" not in html


# --- One repository setting ---------------------------------------------------------------

# Repositories other than the course's that a file may link to (none yet). Add one here when
# the text cites another project's repository.
THIRD_PARTY = set()
# This file, the copies' tests and the mutation list, whose examples and mutants name other
# repositories on purpose.
NOT_SCANNED = {"tests/test_launch.py", "tests/test_notebook_copies.py", "tools/mutations.txt"}

NAME = r"[A-Za-z0-9_.-]+"
# (pattern, what its groups are): each finds a reference to a GitHub repository.
REPOSITORY_URLS = [
    (re.compile(rf"github\.com/({NAME})/({NAME})(?:/(?:blob|tree)/([^/\s]+))?"), "github"),
    (re.compile(rf"git\+https?://github\.com/({NAME})/({NAME})@([^\s\"'#`)\]]+)"), "pip"),
    (re.compile(rf"/v2/gh/({NAME})/({NAME})/([^/?\s]+)"), "binder"),
    (re.compile(rf"colab\.research\.google\.com/github/({NAME})/({NAME})/blob/([^/\s]+)"), "colab"),
    (re.compile(rf"raw\.githubusercontent\.com/({NAME})/({NAME})/([^/\s]+)"), "raw"),
]


def repository_setting():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    org, repo, branch = sphinx_launch.repository(
        {
            "repository_url": config["repository"]["url"],
            "repository_branch": config["repository"]["branch"],
        }
    )
    return org, repo, branch


def release_tag():
    """``v<version>``: the release that handed-out notebooks install."""
    namespace = {}
    exec((ROOT / "lstm_lessons" / "_version.py").read_text(encoding="utf-8"), namespace)
    return f"v{namespace['__version__']}"


def stale_references(text, org, repo, branch):
    """Each reference in ``text`` to a repository, or a branch or tag, other than the setting's
    (its branch, or the release tag of the package's version)."""
    problems = []
    for pattern, kind in REPOSITORY_URLS:
        for match in pattern.finditer(text):
            found_org, found_repo = match.group(1), match.group(2).removesuffix(".git")
            found_branch = match.group(3) if pattern.groups >= 3 else None
            if (found_org, found_repo) in THIRD_PARTY:
                continue
            if (found_org.lower(), found_repo) != (org.lower(), repo) or (
                found_branch is not None and found_branch not in (branch, release_tag())
            ):
                problems.append(f"{kind}: {match.group(0)}")
    return problems


def test_the_scanner_finds_other_repositories_and_branches():
    hub = "github" + ".com"
    text = "\n".join(
        [
            f"git clone https://{hub}/someone/course.git",  # the setting: fine
            f"%pip install git+https://{hub}/someone/course.git@spring",  # fine
            f"`%pip install git+https://{hub}/someone/course.git@spring`.",  # fine
            f"https://{hub}/old-org/course/blob/spring/x.md",
            f"%pip install git+https://{hub}/someone/course.git@main",
            "https://mybinder.org/v2/gh/someone/course/main?urlpath=tree/x.ipynb",
            "https://colab.research.google.com/github/someone/old/blob/spring/x.ipynb",
        ]
    )
    assert stale_references(text, "someone", "course", "spring") == [
        f"github: {hub}/old-org/course/blob/spring",
        f"pip: git+https://{hub}/someone/course.git@main",
        "binder: /v2/gh/someone/course/main",
        "colab: colab.research.google.com/github/someone/old/blob/spring",
    ]


# Folders that hold no file of the repository (where git cannot list them: a copy without .git).
NOT_IN_REPOSITORY = {"_build", "__pycache__", "venv", "node_modules"}


def repository_paths():
    """The repository's files: what git tracks or would add; without git, the tree's files."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if listed.returncode == 0 and listed.stdout:
        return sorted(set(listed.stdout.split("\0")) - {""})
    return sorted(
        path.relative_to(ROOT).as_posix()
        for path in ROOT.rglob("*")
        if not any(
            part.startswith(".") or part in NOT_IN_REPOSITORY or part.endswith(".egg-info")
            for part in path.relative_to(ROOT).parts[:-1]
        )
    )


def repository_files():
    for rel in repository_paths():
        path = ROOT / rel
        if path.is_file() and path.stat().st_size < 5_000_000:
            try:
                yield rel, path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue  # binary data


def test_every_repository_url_in_the_repository_is_the_configured_one():
    org, repo, branch = repository_setting()
    problems, scanned = [], 0
    for rel, text in repository_files():
        if rel in NOT_SCANNED:
            continue
        scanned += 1
        problems += [f"{rel}: {problem}" for problem in stale_references(text, org, repo, branch)]
    assert scanned > 100
    assert not problems, (
        f"_config.yml names https://github.com/{org}/{repo} at branch {branch}; these differ "
        "(write the setting's URL, or build the link from it):\n" + "\n".join(problems)
    )


def test_the_hand_written_install_urls_are_covered_by_the_scan():
    """The scan sees the places the setting is copied to by hand (if they move, update this).

    The exercises' install cells name the release tag of the package's version, so that a
    notebook handed out keeps installing the package it was written for, and a version bump
    without ``make exercises`` fails here.
    """
    org, repo, branch = repository_setting()
    url = f"https://github.com/{org}/{repo}.git"
    texts = dict(repository_files())
    for place in ["README.md", "book/intro.md"]:
        assert url in texts[place], place
        for ref in re.findall(r"git\+https://github\.com/[^@\s]+@([^\s`\"']+)", texts[place]):
            assert ref == release_tag(), f"{place} installs @{ref}, not the release {release_tag()}"
    masters = sorted(p.stem for p in (ROOT / "exercises_src").glob("*.md"))
    assert masters
    for stem in masters:
        places = [f"exercises_src/{stem}.md", f"exercises/{stem}.ipynb", f"solutions/{stem}.ipynb"]
        for place in places:
            assert f"git+{url}@{release_tag()}" in texts[place], place
