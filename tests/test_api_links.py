"""Chapters link every package object their code uses to its entry in the API reference.

Issue #12: the API reference (book/api/) is linked "from the chapters where a function is used".
For each chapter, the code cells are parsed for the ``lstm_lessons`` names they import and the
attributes they reach through imported package modules (``recall.accuracy_vs_delay(...)`` after
``from lstm_lessons.experiments import rnn_memory as recall``). Each is resolved to its object,
and the chapter's prose (everything outside the code cells) must hold a ``{py:...}`` role whose
target is that same object, under its home module or under any other module the API pages
document. Separately, every ``{py:...}`` role of every page must name an object that exists,
with the role that fits its kind, under a module that the API pages document, so that a typo
shows here before the strict Sphinx build (``-n``) rejects it.
"""

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest
from sphinx.pycode import ModuleAnalyzer

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = sorted(BOOK.glob("ch[0-9][0-9]_*.md")) + [
    BOOK / "first_look.md",
    BOOK / "appendix_checks.md",
]
PAGES = sorted(BOOK.glob("*.md"))

# What a chapter may use without linking it, and why. Matched against the object's home
# (``module.qualname``, or the module's own name); ``.*`` also matches everything under it.
EXEMPT = {
    "lstm_lessons": "the package root (``import lstm_lessons as ll``) has no API page; the "
    "names taken from it are linked at their home modules",
    "lstm_lessons.plotting.*": "figure style, colours and diagrams: how the book's figures look, "
    "not what a chapter teaches",
}

CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
ROLE = re.compile(r"\{py:(\w+)\}`([^`]+)`")
AUTOMODULE = re.compile(r"^\.\. automodule:: (\S+)$", re.M)
KINDS = {
    "mod": ("module",),
    "func": ("function",),
    "class": ("class", "exception"),
    "exc": ("exception",),
    "meth": ("function",),
    "attr": ("data", "function"),
    "data": ("data",),
    "obj": ("module", "function", "class", "exception", "data"),
}


def documented_modules():
    """The modules that book/api/*.md pass to automodule."""
    names = set()
    for page in (BOOK / "api").glob("*.md"):
        names.update(AUTOMODULE.findall(page.read_text(encoding="utf-8")))
    return names


def split_page(text):
    """(code, prose): the code cells' sources, and the text outside them."""
    code = []
    for body in CODE_CELL.findall(text):
        lines = body.splitlines()
        while lines and (lines[0].startswith(":") or not lines[0].strip()):
            lines.pop(0)  # cell options (:tags: ...)
        code.append("\n".join(line for line in lines if not line.lstrip().startswith(("%", "!"))))
    return code, CODE_CELL.sub("", text)


def kind(obj):
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if inspect.isroutine(obj):
        return "function"
    return "data"


def home(obj, path):
    """The dotted name an object is defined under; ``path`` (how the code reached it) for data."""
    if inspect.ismodule(obj):
        return obj.__name__
    if inspect.isclass(obj) or inspect.isroutine(obj):
        return f"{obj.__module__}.{obj.__qualname__}"
    return path


def import_path(dotted):
    """The object a dotted name denotes: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return ".".join(parts[:cut]), obj
    raise ImportError(f"no module of {dotted!r} imports")


def _member(module, name):
    try:
        return getattr(module, name)
    except AttributeError:
        return importlib.import_module(f"{module.__name__}.{name}")


def used_objects(code):
    """{path: object} for every package name the code imports or reaches through a module."""
    used, modules = {}, {}
    trees = [ast.parse(source) for source in code]
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "lstm_lessons":
                        bound = alias.asname or alias.name.split(".")[0]
                        target = alias.name if alias.asname else "lstm_lessons"
                        modules[bound] = importlib.import_module(target)
                        used[target] = modules[bound]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "lstm_lessons"
            ):
                parent = importlib.import_module(node.module)
                for alias in node.names:
                    obj = _member(parent, alias.name)
                    used[f"{node.module}.{alias.name}"] = obj
                    if inspect.ismodule(obj):
                        modules[alias.asname or alias.name] = obj
    for tree in trees:
        inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or id(node) in inner:
                continue
            names = []
            while isinstance(node, ast.Attribute):
                names.append(node.attr)
                node = node.value
            if not isinstance(node, ast.Name) or node.id not in modules:
                continue
            obj = modules[node.id]
            path = obj.__name__
            for name in reversed(names):
                if not inspect.ismodule(obj):
                    break
                obj = _member(obj, name)
                path = f"{path}.{name}"
            used[path] = obj
    return used


def role_targets(prose):
    """[(role, target)] with the ``~``/``!`` prefixes and any ``title <target>`` form removed."""
    found = []
    for role, text in ROLE.findall(prose):
        match = re.search(r"<([^>]+)>\s*$", text)
        target = match.group(1) if match else text
        found.append((role, target.strip().lstrip("~!")))
    return found


def exempt(name):
    return any(
        name == entry.removesuffix(".*")
        or (entry.endswith(".*") and name.startswith(entry.removesuffix("*")))
        for entry in EXEMPT
    )


def missing_links(page):
    code, prose = split_page(page.read_text(encoding="utf-8"))
    linked = []
    for _role, target in role_targets(prose):
        try:
            linked.append((target, import_path(target)[1]))
        except (ImportError, AttributeError):
            pass  # reported by test_every_role_target_exists
    missing = []
    for path, obj in sorted(used_objects(code).items()):
        name = home(obj, path)
        if exempt(name):
            continue
        same_name = kind(obj) != "data" or path.rsplit(".", 1)[-1]
        if not any(
            other is obj and (same_name is True or target.endswith("." + same_name))
            for target, other in linked
        ):
            missing.append(f"{name} (used as {path}, a {kind(obj)})")
    return missing


@pytest.mark.parametrize("page", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_links_what_its_code_uses(page):
    missing = missing_links(page)
    assert not missing, (
        f"{page.name}: its code uses these package objects, but its prose has no "
        f"{{py:...}} role for them (link each where the text introduces it): {missing}"
    )


def test_every_chapter_uses_the_package():
    # Guards the parser: if it stopped finding imports, every chapter would pass trivially.
    for page in CHAPTERS:
        code, _ = split_page(page.read_text(encoding="utf-8"))
        assert any(not exempt(home(obj, path)) for path, obj in used_objects(code).items()), page


def documented(module_name, obj, rest):
    """Whether autodoc's ``:members:`` of ``module_name`` documents ``rest`` (a dotted name)."""
    if module_name not in documented_modules():
        return False
    if not rest:
        return True
    top = rest.split(".")[0]
    if top.startswith("_"):
        return False
    module = importlib.import_module(module_name)
    member = getattr(module, top)
    if kind(member) == "data":
        return ("", top) in ModuleAnalyzer.for_module(module_name).find_attr_docs()
    if member.__module__ != module_name and top not in getattr(module, "__all__", ()):
        return False
    return bool(inspect.getdoc(member))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_role_target_exists(page):
    _, prose = split_page(page.read_text(encoding="utf-8"))
    problems = []
    for role, target in role_targets(prose):
        try:
            module_name, obj = import_path(target)
        except (ImportError, AttributeError) as error:
            problems.append(f"{{py:{role}}}`{target}` does not import: {error}")
            continue
        if kind(obj) not in KINDS.get(role, ()):
            problems.append(f"{{py:{role}}}`{target}` is a {kind(obj)}")
        rest = target[len(module_name) + 1 :]
        if not documented(module_name, obj, rest):
            problems.append(f"{{py:{role}}}`{target}` is not documented by book/api/*.md")
    assert not problems, f"{page.name}: {problems}"


def test_the_parser_finds_imports_and_module_attributes():
    code = [
        "import lstm_lessons as ll\n"
        "from lstm_lessons.experiments import rnn_memory as recall\n"
        "from lstm_lessons.training.loop import evaluate\n"
        "h = ll.rnn_forward(x, h0, p)\n"
        "d = recall.train_recall.__kwdefaults__\n"
        "m = ll.lstm.lstm_step_forward\n"
    ]
    used = used_objects(code)
    names = {home(obj, path) for path, obj in used.items()}
    assert names == {
        "lstm_lessons",
        "lstm_lessons.experiments.rnn_memory",
        "lstm_lessons.training.loop.evaluate",
        "lstm_lessons.cells.rnn.rnn_forward",
        "lstm_lessons.experiments.rnn_memory.train_recall",
        "lstm_lessons.cells.lstm.lstm_step_forward",
    }


def test_a_missing_link_is_reported(tmp_path):
    page = tmp_path / "chapter.md"
    cell = (
        "```{code-cell} ipython3\nfrom lstm_lessons.training import tasks\n"
        "x, y = tasks.delayed_recall(1, 3)\n```\n"
    )
    page.write_text(
        f"The module {{py:mod}}`~lstm_lessons.training.tasks` makes the data.\n\n{cell}",
        encoding="utf-8",
    )
    assert missing_links(page) == [
        "lstm_lessons.training.tasks.delayed_recall "
        "(used as lstm_lessons.training.tasks.delayed_recall, a function)"
    ]
    page.write_text(
        page.read_text(encoding="utf-8")
        + "\nIt calls {py:func}`~lstm_lessons.training.tasks.delayed_recall`.\n",
        encoding="utf-8",
    )
    assert missing_links(page) == []


def test_documented_follows_autodoc():
    def check(target):
        module_name, obj = import_path(target)
        return documented(module_name, obj, target[len(module_name) + 1 :])

    assert check("lstm_lessons.cells.activations.sigmoid")
    assert check("lstm_lessons.cells.activations.HARD_SIGMOID_SLOPE")  # has a #: comment
    assert check("lstm_lessons.plotting.draw_lstm_cell")  # re-exported through __all__
    assert not check("lstm_lessons.sigmoid")  # the package root has no API page
    assert not check("lstm_lessons.experiments.ablation.RESULTS_FILE")  # no doc comment


def test_every_exemption_is_used():
    used = set()
    for page in CHAPTERS:
        code, _ = split_page(page.read_text(encoding="utf-8"))
        used.update(home(obj, path) for path, obj in used_objects(code).items())
    for entry in EXEMPT:
        assert any(exempt(name) and name.startswith(entry.removesuffix(".*")) for name in used), (
            f"the exemption {entry!r} matches nothing any chapter uses: remove it"
        )
