"""Write the notebook copies of the book's pages: what a reader opens outside the site.

Usage (after ``make book``, which executes the notebooks and leaves them in ``_build``):
    python tools/build_notebooks.py           write notebooks/<name>.ipynb for every page
    python tools/build_notebooks.py --check   compare instead: exit 1, listing the problems, if
                                              a committed copy differs from what the build makes

The chapters are MyST Markdown notebooks (``book/<name>.md`` with a ``kernelspec``). Their prose
is full of syntax that only the book's build understands: numbers glued from the code
(``{glue:text}`key```), figures glued with ``display=False`` and placed by ``{glue:figure}``,
cross-references, citations, glossary terms, ``literalinclude`` of the package's code,
numbered equations. Colab, Binder, a JupyterHub, JupyterLab and GitHub show none of it. So each
page becomes ``notebooks/<name>.ipynb``, built from the notebook the book build executed:

- every role and directive is resolved as the built site shows it: glued numbers and tables as
  their text, figures as attachments of the Markdown cell where the book places them (with their
  number, caption and alt text), references as "Fig. 4.2" or a section's number and title linked
  to the published page, citations as "Author (year)" linked to the references page, equations
  numbered with ``\\tag``, included code as a code block;
- code cells keep their code and the outputs the build stored (cells the page hides are collapsed,
  not removed: they make the numbers); ``from myst_nb import glue`` becomes the package's
  :func:`lstm_lessons.plotting.glue.glue`, which shows a glued figure when the reader runs the
  cell, so a re-run refreshes every figure;
- a first cell that on Colab (only) clones the release of the repository that the copy was built
  from and installs the package; elsewhere it moves into ``book/`` as the build does.

Launch buttons (Colab, Binder, JupyterHub) of a chapter page open its copy
(``tools/sphinx_launch.py``). ``--check`` rebuilds the copies from the executed notebooks and
compares: the Markdown and code byte for byte, the outputs up to images (compared by count) and
to the values of cells that nbval also leaves unchecked (timings, tagged ``nbval-ignore-output``),
and fails on any copy that still shows MyST syntax or lacks a figure. ``make test`` runs it after
the book build, so it costs no second execution.
"""

import argparse
import copy
import hashlib
import pickle
import re
import sys
from pathlib import Path, PurePosixPath

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from sphinx_launch import COPY_DIR, SOURCE_DIR, copy_path, launch_url  # noqa: E402

BUILD = ROOT / "_build"
# Where a Colab session keeps the clone (its working folder is /content).
CLONE_DIR = "/content/lstm-lessons"
# What the copies' metadata is kept under.
META = "lstm_lessons_copy"
# The tag that marks a cell whose outputs nbval does not compare (timings).
VOLATILE_TAG = "nbval-ignore-output"
GLUE_IMPORT = "from myst_nb import glue"
GLUE_SHIM = "from lstm_lessons.plotting.glue import glue  # shows glued figures when run"
RECORD = "application/papermill.record/"

ROLE = re.compile(r"\{(?P<role>[a-zA-Z][\w:.-]*)\}`(?P<content>[^`]+)`")
FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[^}]+)\}[ \t]*(?P<arg>.*)$")
TARGET = re.compile(r"^\([\w:.-]+\)=[ \t]*$")
LABELLED_MATH = re.compile(r"\$\$(?P<body>.+?)\$\$[ \t]*\((?P<label>[\w:.-]+)\)", re.DOTALL)
# What must never reach a reader of a copy: a MyST role or directive, a label target, a
# labelled equation's label. (Plain Markdown, inline and display math stay: Jupyter renders them.)
RAW_SYNTAX = re.compile(
    r"\{[a-zA-Z][\w:.-]*\}`|^(`{3,}|:{3,})\{|^\([\w:.-]+\)=|\$\$[ \t]*\([\w:.-]+\)", re.MULTILINE
)


# --- What the build knows ------------------------------------------------------------------


class Book:
    """What resolving a page needs, read from the book build and the configuration.

    ``labels``: ``{label: (docname, anchor, title)}``; ``numbers``: ``{docname: {"figure":
    {anchor: (4, 2)}, "table": ...}}``; ``sections``: ``{docname: {"#anchor": (4, 1)}}``;
    ``equations``: ``{label: (docname, number)}``; ``titles``: ``{docname: title}``;
    ``objects``: ``{python name: (docname, anchor)}``; ``terms``: ``{term (lower case):
    anchor}`` of the glossary page; ``citations``: ``{key: (authors, year)}``; ``site``: the
    published book's URL, ending in ``/``; ``theme``: the launch settings (sphinx_launch).
    """

    def __init__(self, labels, numbers, sections, equations, titles, objects, terms, citations,
                 site, theme, root=ROOT):  # fmt: skip
        self.labels, self.numbers, self.sections = labels, numbers, sections
        self.equations, self.titles, self.objects = equations, titles, objects
        self.terms, self.citations, self.site, self.theme = terms, citations, site, theme
        self.root = root

    @classmethod
    def from_build(cls, build=BUILD, root=ROOT):
        """The book as the last ``make book`` left it in ``build``."""
        pickled = build / ".doctrees" / "environment.pickle"
        if not pickled.is_file():
            raise SystemExit(f"{pickled} not found: build the book first (make book)")
        with pickled.open("rb") as f:
            env = pickle.load(f)
        std = env.domaindata["std"]
        labels = {k: tuple(v) for k, v in std["labels"].items()}
        terms = {
            name.lower(): anchor
            for (kind, name), (doc, anchor) in std["objects"].items()
            if kind == "term"
        }
        equations = {k: (v[0], v[1]) for k, v in env.domaindata["math"]["objects"].items()}
        objects = {k: (v[0], v[1]) for k, v in env.domaindata["py"]["objects"].items()}
        titles = {doc: node.astext() for doc, node in env.titles.items()}
        numbers = {doc: dict(kinds) for doc, kinds in env.toc_fignumbers.items()}
        sections = {doc: dict(n) for doc, n in env.toc_secnumbers.items()}
        config = settings(root)
        cited = citations(root / "references.bib")
        return cls(labels, numbers, sections, equations, titles, objects, terms, cited,
                   config["site"], config["theme"], root)  # fmt: skip

    # How a copy names what it numbers, in English and in the Chinese copies.
    WORDS = {
        "en": {
            "figure": "Fig.",
            "table": "Table",
            "code-block": "Listing",
            "section": "Section",
            "numbered": "{kind} {number}",
            "caption": "{kind} {number}.",
            "equation of": "({number}) of {title}",
        },
        "zh": {
            "figure": "图",
            "table": "表",
            "code-block": "代码",
            "section": "节",
            "numbered": "{kind}{number}",
            "caption": "{kind}{number}",
            "equation of": "{title}中的({number})",
        },
    }
    words = WORDS["en"]

    # A glued value as the copy's language says it, and a glued table's Markdown translated:
    # as they are, in English; the Chinese copies set both (build()).
    @staticmethod
    def say(text):
        return text

    @staticmethod
    def translate(markdown):
        return markdown

    def url(self, docname, anchor=""):
        return f"{self.site}{docname}.html" + (f"#{anchor}" if anchor else "")


def settings(root=ROOT):
    """The published site's URL and the launch settings, from ``_config.yml``."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    site = str((config.get("html") or {}).get("baseurl") or "")
    if not site.startswith("https://"):
        raise SystemExit(
            f"_config.yml: html.baseurl must be the published book's URL, got {site!r}"
        )
    repo = config.get("repository") or {}
    theme = {
        "repository_url": repo.get("url"),
        "repository_branch": repo.get("branch"),
        "path_to_docs": repo.get("path_to_book", ""),
        "launch_buttons": config.get("launch_buttons") or {},
    }
    return {"site": site.rstrip("/") + "/", "theme": theme}


def citations(bibfile):
    """``{key: (authors as cited, year)}``: "Hochreiter and Schmidhuber", "Greff et al."."""
    from pybtex.database import parse_file

    out = {}
    for key, entry in parse_file(str(bibfile)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        last = [" ".join(p.last_names).replace("{", "").replace("}", "") for p in people]
        if len(last) > 2:
            names = f"{last[0]} et al."
        else:
            names = " and ".join(last) or entry.fields.get("title", key)
        out[key] = (names, entry.fields.get("year", "n.d."))
    return out


def glued_values(executed):
    """``{key: {mime type: data}}`` of everything an executed notebook glued, and the keys
    whose values differ from run to run: those glued by cells tagged ``nbval-ignore-output``,
    and those whose text nbval's sanitiser masks: a memory address, or a wall-clock time, which
    the chapters glue under a key that names seconds. (The sanitiser's rule for times masks
    any text of one decimal, such as '0.3'; a value that is not a time is never pinned.)"""
    values, volatile = {}, set()
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                data = {
                    mime.removeprefix(RECORD): data for mime, data in output.get("data", {}).items()
                }
                values[name] = data
                text = data.get("text/plain")
                masked = isinstance(text, str) and _sanitise(text) != text
                if VOLATILE_TAG in cell.metadata.get("tags", []) or (
                    masked and ("seconds" in name or "0x" in text)
                ):
                    volatile.add(name)
    return values, volatile


# --- Markdown ------------------------------------------------------------------------------


class Page:
    """Resolves the MyST of one page's Markdown cells for a copy."""

    def __init__(self, docname, book, glued):
        self.docname, self.book, self.glued = docname, book, glued
        self.attachments = {}

    def problem(self, message):
        raise ValueError(f"{self.docname}: {message}")

    # Roles.

    def _text(self, key):
        name, _, spec = key.partition(":")
        if name not in self.glued or "text/plain" not in self.glued[name]:
            self.problem(f"nothing glued as text under {name!r}")
        text = str(self.glued[name]["text/plain"]).strip("'")
        if spec:
            text = f"{float(text):{spec}}"
        return self.book.say(text)

    def _md(self, key):
        name = key.partition(":")[0]
        if name not in self.glued or "text/markdown" not in self.glued[name]:
            self.problem(f"nothing glued as Markdown under {name!r}")
        return self.markdown(self.book.translate(str(self.glued[name]["text/markdown"]).strip()))

    def _target(self, content):
        match = re.fullmatch(r"(?P<title>.*?)\s*<(?P<target>[^<>]+)>", content, re.DOTALL)
        if match:
            return match["title"], match["target"]
        return None, content

    def _doc(self, target):
        parts = []
        for part in (PurePosixPath(self.docname).parent / target).parts:
            if part == "..":
                parts.pop()
            elif part != ".":
                parts.append(part)
        return "/".join(parts)

    def _label(self, label):
        if label not in self.book.labels:
            self.problem(f"no label {label!r} in the build")
        return self.book.labels[label]

    def _number(self, docname, anchor):
        for kind, numbers in self.book.numbers.get(docname, {}).items():
            if anchor in numbers:
                return self.book.words[kind], ".".join(map(str, numbers[anchor]))
        number = self.book.sections.get(docname, {}).get(f"#{anchor}")
        if number:
            return self.book.words["section"], ".".join(map(str, number))
        self.problem(f"{docname}#{anchor} has no number in the build")

    def role(self, match):
        role, content = match["role"], match["content"]
        title, target = self._target(content)
        if role == "glue:text":
            return self._text(content)
        if role == "glue:md":
            return self._md(content)
        if role in ("doc",):
            doc = self._doc(target)
            return f"[{title or self.book.titles.get(doc, doc)}]({self.book.url(doc)})"
        if role == "ref":
            doc, anchor, name = self._label(target)
            return f"[{title or name}]({self.book.url(doc, anchor)})"
        if role == "numref":
            doc, anchor, name = self._label(target)
            kind, number = self._number(doc, anchor)
            if title:
                text = title.replace("%s", number).replace("{number}", number)
                text = text.replace("{name}", name or "")
            else:
                text = self.book.words["numbered"].format(kind=kind, number=number)
            return f"[{text}]({self.book.url(doc, anchor)})"
        if role == "eq":
            if target not in self.book.equations:
                self.problem(f"no equation {target!r} in the build")
            doc, number = self.book.equations[target]
            text = (
                f"({number})"
                if doc == self.docname
                else self.book.words["equation of"].format(
                    number=number, title=self.book.titles[doc]
                )
            )
            return text if doc == self.docname else f"[{text}]({self.book.url(doc)})"
        if role in ("cite:t", "cite:p"):
            cited = []
            for key in (k.strip() for k in target.split(",")):
                if key not in self.book.citations:
                    self.problem(f"no reference {key!r} in references.bib")
                names, year = self.book.citations[key]
                text = f"{names} ({year})" if role == "cite:t" else f"{names}, {year}"
                cited.append(f"[{text}]({self.book.url('book/references')})")
            joined = "; ".join(cited)
            return joined if role == "cite:t" else f"({joined})"
        if role == "term":
            anchor = self.book.terms.get(target.lower())
            if anchor is None:
                self.problem(f"no glossary term {target!r}")
            return f"[{title or target}]({self.book.url('book/glossary', anchor)})"
        if role.startswith("py:"):
            name = target.lstrip("~.!")
            shown = title or (name.rsplit(".", 1)[-1] if target.startswith("~") else name)
            shown = f"`{shown}()`" if role == "py:func" and not title else f"`{shown}`"
            found = self.book.objects.get(name)
            return f"[{shown}]({self.book.url(*found)})" if found else shown
        if role == "download":
            path = self._doc(target)
            return f"[{title or PurePosixPath(path).name}]({self._repository_file(path)})"
        if role in ("binder", "colab"):
            url = launch_url(role, self.book.theme, self._doc(target))
            return f"[{title or role.capitalize()}]({url})"
        if role == "math":
            return f"${content}$"
        self.problem(f"role {{{role}}} has no rendering for notebook copies")

    def _repository_file(self, path):
        url = str(self.book.theme["repository_url"]).rstrip("/").removesuffix(".git")
        return f"{url}/blob/{self.book.theme['repository_branch']}/{path}"

    # Directives.

    def directive(self, name, arg, options, body):
        if name == "glue:figure":
            return self._figure(arg, options, body)
        if name == "glue:md":
            return self._md(arg)
        if name == "literalinclude":
            return self._include(arg, options)
        if name in ("note", "tip", "important", "warning", "admonition", "seealso"):
            heading = arg if name == "admonition" else name.capitalize()
            text = self.markdown("\n".join(body))
            return "\n".join(
                f"> {line}".rstrip() for line in [f"**{heading}**", "", *text.split("\n")]
            )
        self.problem(f"directive {{{name}}} has no rendering for notebook copies")

    def _figure(self, key, options, body):
        value = self.glued.get(key)
        if not value or not any(m.startswith("image/") for m in value):
            self.problem(f"nothing glued as a figure under {key!r}")
        mime = (
            "image/png"
            if "image/png" in value
            else next(m for m in value if m.startswith("image/"))
        )
        filename = f"{key}.{mime.split('/')[1].split('+')[0]}"
        self.attachments[filename] = {mime: value[mime]}
        alt = " ".join(options.get("alt", key).split()).replace("[", "(").replace("]", ")")
        caption = self.markdown("\n".join(body)).strip()
        label = options.get("name")
        if label:
            doc, anchor, _ = self._label(label)
            kind, number = self._number(doc, anchor)
            label = self.book.words["caption"].format(kind=kind, number=number)
            caption = f"**{label}** {caption}"
        return f"![{alt}](attachment:{filename})\n\n{caption}".rstrip()

    def _include(self, arg, options):
        from sphinx.directives.code import LiteralIncludeReader

        class Config:
            source_encoding = "utf-8"

        path = (self.book.root / self.docname).parent / arg
        text, _ = LiteralIncludeReader(str(path), options, Config()).read()
        language = options.get("language", "")
        return f"```{language}\n{text.rstrip()}\n```"

    # A whole cell.

    def markdown(self, text):
        """``text`` with every role and directive resolved."""
        lines, out, n = text.split("\n"), [], 0
        while n < len(lines):
            line = lines[n]
            match = FENCE.match(line)
            if match:
                fence = match["fence"]
                end = n + 1
                while end < len(lines) and lines[end].strip() != fence:
                    end += 1
                if end == len(lines):
                    self.problem(f"directive {match['name']} at {line!r} is not closed")
                block = lines[n + 1 : end]
                options = {}
                while block and re.match(r"^:[\w-]+:", block[0]):
                    key, _, value = block.pop(0)[1:].partition(":")
                    options[key] = value.strip()
                while block and not block[0].strip():
                    block.pop(0)
                out.append(self.directive(match["name"], match["arg"].strip(), options, block))
                n = end + 1
                continue
            if TARGET.match(line):
                n += 1
                continue
            if line.startswith(": ") and out and out[-1].strip():
                # A definition list item: "Term\n: definition\n  more" -> "**Term**: definition".
                out[-1] = f"**{out[-1].strip()}**: {line[2:]}"
                n += 1
                while n < len(lines) and lines[n].startswith("  "):
                    out.append(lines[n][2:])
                    n += 1
                continue
            out.append(line)
            n += 1
        text = "\n".join(out)
        text = LABELLED_MATH.sub(self._numbered_math, text)
        return ROLE.sub(self.role, text)

    def _numbered_math(self, match):
        label = match["label"]
        if label not in self.book.equations:
            self.problem(f"no equation {label!r} in the build")
        number = self.book.equations[label][1]
        return f"$${match['body'].rstrip()} \\tag{{{number}}}\n$$"


# --- A copy --------------------------------------------------------------------------------


def sources(root=ROOT):
    """The Markdown notebooks of the book: ``book/**/*.md`` with a kernelspec."""
    pages = []
    for path in sorted((root / SOURCE_DIR).rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if text.startswith("---\n") and "\nkernelspec:" in text.split("\n---\n", 1)[0]:
            pages.append(path)
    return pages


def release(root=ROOT):
    """The git tag of the package's version: what a copy installs."""
    text = (root / "lstm_lessons" / "_version.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    if not match:
        raise SystemExit('lstm_lessons/_version.py must set __version__ = "X.Y.Z"')
    return f"v{match.group(1)}"


def first_cell_source(theme, tag):
    """The first cell of every copy."""
    url = str(theme["repository_url"]).rstrip("/").removesuffix(".git")
    return (
        f"# Sets up this notebook. On Colab it fetches release {tag} of the course, which this\n"
        "# copy was built from, and installs its package; elsewhere the package is installed\n"
        "# already and the notebook runs from the book's folder, as the book does.\n"
        "import os\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    if not os.path.isdir("{CLONE_DIR}"):\n'
        f"        !git clone --quiet --depth 1 --branch {tag} {url}.git {CLONE_DIR}\n"
        f"    %pip install --quiet {CLONE_DIR}\n"
        f"    %cd {CLONE_DIR}/{SOURCE_DIR}\n"
        f'elif os.path.isdir("../{SOURCE_DIR}"):\n'
        f'    os.chdir("../{SOURCE_DIR}")'
    )


def _cell_id(cell, seen):
    digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:12]
    seen[digest] = seen.get(digest, 0) + 1
    return digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"


def _visible_outputs(outputs):
    """The outputs a reader sees: glue records (shown in the prose instead) are dropped, and
    consecutive prints to one stream are one output (the kernel splits them at random)."""
    kept = []
    for output in outputs:
        if output.get("metadata", {}).get("scrapbook"):
            continue
        if (
            output.get("output_type") == "stream"
            and kept
            and kept[-1].get("output_type") == "stream"
            and kept[-1].get("name") == output.get("name")
        ):
            kept[-1]["text"] = "".join(kept[-1]["text"]) + "".join(output["text"])
            continue
        output = copy.deepcopy(output)
        data = output.get("data", {})
        if "image/png" in data:
            # The book's pages show the SVG; a copy needs only one, and PNG shows everywhere.
            data.pop("image/svg+xml", None)
        if output.get("output_type") == "execute_result":
            output["execution_count"] = None
        kept.append(output)
    return kept


def build_copy(page_path, executed, book, first_cell, root=ROOT, translate=None):
    """The copy of one page (a notebook node) from its executed notebook. ``translate`` (a
    Markdown cell's source -> its translation) makes a copy in another language."""
    docname = page_path.relative_to(root).with_suffix("").as_posix()
    source = jupytext.read(page_path)
    if translate is not None:
        for cell in source.cells:
            if cell.cell_type == "markdown":
                cell.source = translate(cell.source)
    glued, volatile = glued_values(executed)
    code_run = [c for c in executed.cells if c.cell_type == "code"]
    code_page = [c for c in source.cells if c.cell_type == "code"]
    if [c.source for c in code_run] != [c.source for c in code_page]:
        raise ValueError(f"{docname}: the executed notebook's code differs from the page's")
    page = Page(docname, book, glued)
    cells, outputs = [nbformat.v4.new_code_cell(first_cell)], iter(code_run)
    for cell in source.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown":
            page.attachments = {}
            new = nbformat.v4.new_markdown_cell(page.markdown(cell.source))
            if page.attachments:
                new["attachments"] = page.attachments
        elif cell.cell_type == "code":
            run = next(outputs)
            new = nbformat.v4.new_code_cell(cell.source.replace(GLUE_IMPORT, GLUE_SHIM))
            if "remove-output" not in tags:
                new.outputs = _visible_outputs(run.get("outputs", []))
            hidden = {"remove-cell", "remove-input", "hide-input", "hide-cell"} & set(tags)
            if hidden:
                new.metadata["jupyter"] = {"source_hidden": True}
            if VOLATILE_TAG in tags:
                new.metadata["tags"] = [VOLATILE_TAG]
        else:
            new = copy.deepcopy(cell)
        cells.append(new)
    seen = {}
    for cell in cells:
        cell["id"] = _cell_id(cell, seen)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": dict(source.metadata["kernelspec"]),
        META: {
            "page": f"{docname}.md",
            "url": book.url(docname),
            # The glued values that change from run to run (timings), which --check takes
            # from the committed copy rather than compare.
            "volatile": {k: glued[k] for k in sorted(volatile) if k in glued},
        },
    }
    nbformat.validate(nb)
    return nb


def executed_notebook(page_path, build=BUILD, root=ROOT):
    """The page as the book build executed it, from the build's jupyter-cache (which matches
    notebooks by their code; myst-nb's ``jupyter_execute`` copies have no outputs)."""
    from jupyter_cache import get_cache

    cache_dir = build / ".jupyter_cache"
    if not cache_dir.is_dir():
        raise SystemExit(f"{cache_dir} not found: build the book first (make book)")
    try:
        _, executed = get_cache(cache_dir).merge_match_into_notebook(jupytext.read(page_path))
    except KeyError:
        raise SystemExit(
            f"{page_path.relative_to(root)}: the build's cache has no run of this page's code; "
            "build the book first (make book)"
        ) from None
    return executed


def _pin_volatile(executed, committed):
    """``executed`` with the committed copy's values where they change from run to run: the
    glued values it lists as volatile, and the outputs of cells tagged ``nbval-ignore-output``
    (a rebuild of an unchanged page then writes the same file)."""
    old = (committed.metadata.get(META) or {}).get("volatile") or {}
    now = glued_values(executed)[1]
    old = {k: v for k, v in old.items() if k in now}  # still volatile in this run
    shown = {
        c.source: c.get("outputs", [])
        for c in committed.cells
        if c.cell_type == "code" and VOLATILE_TAG in c.metadata.get("tags", [])
    }
    executed = copy.deepcopy(executed)
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name in old and isinstance(old[name], dict):
                output["data"] = {f"{RECORD}{mime}": v for mime, v in old[name].items()}
        source = cell.source.replace(GLUE_IMPORT, GLUE_SHIM)
        if VOLATILE_TAG in cell.metadata.get("tags", []) and source in shown:
            records = [o for o in cell.outputs if o.get("metadata", {}).get("scrapbook")]
            cell.outputs = records + copy.deepcopy(shown[source])
    return executed


# The Chinese copies: notebooks/zh/<name>.ipynb, from the catalogs of the Chinese edition (built
# into _build/zh, published under zh/), linking to its pages.
ZH = "zh"
ZH_BUILD = BUILD / "zh" / "_build"


def build(root=ROOT, build_dir=BUILD, committed=None, zh_build=ZH_BUILD):
    """Every copy: {path relative to the repository: notebook}. With ``committed`` (a dict of
    the same form), values that change per run are taken from the committed copies. With
    ``zh_build`` (the Chinese edition's build), the Chinese copies too."""
    book = Book.from_build(build_dir, root)
    first_cell = first_cell_source(book.theme, release(root))
    chinese = None
    if zh_build is not None:
        chinese = Book.from_build(zh_build, root)
        chinese.site = f"{book.site}{ZH}/"
        chinese.words = Book.WORDS[ZH]
        chinese.say = _glued_in_chinese(root)
    copies = {}
    for page in sources(root):
        rel = copy_path(page.relative_to(root).with_suffix("").as_posix())
        executed = executed_notebook(page, build_dir, root)
        if committed and rel in committed:
            executed = _pin_volatile(executed, committed[rel])
        copies[rel] = build_copy(page, executed, book, first_cell, root)
        if chinese is not None:
            rel_zh = f"{COPY_DIR}/{ZH}/{PurePosixPath(rel).name}"
            if committed and rel_zh in committed:
                executed = _pin_volatile(executed, committed[rel_zh])
            translate = _translator(page.relative_to(root).with_suffix("").as_posix())
            chinese.translate = translate
            copies[rel_zh] = build_copy(page, executed, chinese, first_cell, root, translate)
    return copies


def _glued_in_chinese(root=ROOT):
    """A glued value as the Chinese edition says it (tools/sphinx_i18n.py, the same rules)."""
    import sphinx_i18n

    rules = sphinx_i18n._rules(str(root / "locales" / "zh_CN" / "glued_values.yml"))
    return lambda text: sphinx_i18n.say_glued(text, rules)


def _translator(docname):
    """A Markdown cell's source -> its Chinese, from the page's catalog; a paragraph without a
    translation is an error (tools/translate_notebooks.py)."""
    import translate_notebooks

    from lstm_lessons.homework.language import read_po

    catalog = read_po(translate_notebooks.translations.CATALOG_DIR / f"{docname}.po")

    def translate(source):
        text, missing = translate_notebooks.translate_markdown(source, catalog)
        if missing:
            raise ValueError(f"{docname}: not translated: {missing[0][:80]!r}")
        return text

    return translate


# --- Checks --------------------------------------------------------------------------------


def problems_of(rel, nb):
    """What a reader of one copy would trip over: raw MyST, a figure missing, no setup cell."""
    problems = []
    for n, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            raw = RAW_SYNTAX.search(cell.source)
            if raw:
                problems.append(f"{rel}: cell {n} shows MyST syntax {raw.group(0)!r}")
            for name in re.findall(r"\(attachment:([^)]+)\)", cell.source):
                if name not in cell.get("attachments", {}):
                    problems.append(f"{rel}: cell {n} shows attachment {name} that it lacks")
    if not nb.cells or "google.colab" not in nb.cells[0].source:
        problems.append(f"{rel}: the first cell is not the setup cell")
    if any(GLUE_IMPORT in c.source for c in nb.cells if c.cell_type == "code"):
        problems.append(f"{rel}: imports myst_nb's glue, which shows no figure when run")
    return problems


def _comparable(nb):
    """The notebook as --check compares it: images and volatile outputs reduced to markers."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        for attachment in cell.get("attachments", {}).values():
            for mime in attachment:
                attachment[mime] = "<image>"
        for output in cell.get("outputs", []):
            if VOLATILE_TAG in cell.metadata.get("tags", []):
                if "text" in output:
                    output["text"] = "<volatile>"
                if "data" in output:
                    output["data"] = {mime: "<volatile>" for mime in output["data"]}
            for mime in output.get("data", {}):
                if mime.startswith("image/"):
                    output["data"][mime] = "<image>"
                elif isinstance(output["data"][mime], str):
                    output["data"][mime] = _sanitise(output["data"][mime])
            if "text" in output:
                output["text"] = _sanitise(output["text"])
    return nbformat.writes(nb)


def _sanitise(text):
    """Masks what nbval masks (tools/nbval_sanitize.cfg): memory addresses, timings."""
    import configparser

    config = configparser.RawConfigParser()
    config.read(Path(__file__).with_name("nbval_sanitize.cfg"), encoding="utf-8")
    for section in config.sections():
        text = re.sub(config[section]["regex"], config[section]["replace"], text)
    return text


def compare(copies, root=ROOT):
    """Problems that make the committed copies differ from ``copies``; empty if none."""
    problems = []
    for rel, nb in copies.items():
        problems += problems_of(rel, nb)
        path = root / rel
        if not path.exists():
            problems.append(f"{rel}: missing")
            continue
        old = nbformat.read(path, as_version=4)
        if _comparable(old) != _comparable(nb):
            problems.append(f"{rel}: differs from what its page builds")
    for path in sorted((root / COPY_DIR).rglob("*.ipynb")):
        rel = path.relative_to(root).as_posix()
        if rel not in copies:
            problems.append(f"{rel}: has no page in {SOURCE_DIR}/")
    return problems


def committed_copies(root=ROOT):
    return {
        path.relative_to(root).as_posix(): nbformat.read(path, as_version=4)
        for path in sorted((root / COPY_DIR).rglob("*.ipynb"))
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--build", type=Path, default=BUILD, help="the book build (_build)")
    args = parser.parse_args(argv)
    committed = committed_copies()
    try:
        # Values that change per run (timings) are kept as committed, so that a rebuild of an
        # unchanged page writes the same file.
        copies = build(build_dir=args.build, committed=committed)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    problems = compare(copies)
    if args.check:
        for problem in problems:
            print(problem)
        if problems:
            print("Rebuild with: make book && make notebooks", file=sys.stderr)
        return 1 if problems else 0
    for problem in problems:
        if problem.endswith(f"has no page in {SOURCE_DIR}/"):
            (ROOT / problem.split(":")[0]).unlink()
            print(f"removed {problem.split(':')[0]} (its page is gone)")
    for rel, nb in copies.items():
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = nbformat.writes(nb) + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {rel}")
    remaining = [p for p in problems_of_all(copies)]
    for problem in remaining:
        print(problem, file=sys.stderr)
    return 1 if remaining else 0


def problems_of_all(copies):
    return [p for rel, nb in copies.items() for p in problems_of(rel, nb)]


if __name__ == "__main__":
    sys.exit(main())
