"""Whether a graded function hands its task to the package's reference, decided on the trusted side.

A check compares the student's function with the package's own implementation; a function
that calls that implementation (under any name: ``from ... import lstm_step_forward as _fwd``,
``getattr(ll, "lstm_step_" + "forward")``, the private helpers of the exercise sets) would
pass without doing the task. Inside the sandbox the student's code controls everything, so
no trap set there can be trusted. The decision is made here, in the grader, from the source
of the notebook's code cells as the grader read them from its own copy of the file:

1. every cell is parsed (IPython's ``%magic`` lines are parsed as the Python they run);
2. the *reach* of the graded function is its definition plus, transitively, every top-level
   statement of the notebook that binds a name it uses (helpers, aliases, imports, classes);
3. in that reach, it fails when

   - a forbidden name (the reference the check compares with) appears as a name, an
     attribute, an imported name or inside a string;
   - it imports from, or reads an attribute of, ``lstm_lessons.homework`` (the checks and the
     sets' reference helpers), other than the notebook's ``Grader``;
   - it reads an attribute of the package (a name bound by an ``import lstm_lessons ...``)
     that is not one of the helpers a task may use (:data:`ALLOWED`, plus what a check
     allows), imports any other name from it, or uses the package's module other than by
     reading such an attribute (``m = ll``, ``f(ll)``, a default argument);
   - it looks names up dynamically (``getattr`` with a computed name, ``vars``, ``globals``,
     ``__dict__``, ``__import__``, ``importlib``, ``sys.modules``, ``eval``, ``exec``,
     ``compile``, ``get_ipython`` ...), which no reading of the source can follow.

The rule is an allowlist where it can be (the package's attributes) and refuses what it
cannot follow, so a new path to the reference fails rather than passes; the price is that a
function using dynamic lookups for an honest reason is refused too, with a message saying
why (the instructor can still enter a mark by hand).
"""

import ast
import builtins
import re

from ..language import tr

# The package's helpers that any task may use: none of them computes a graded answer.
ALLOWED = frozenset({
    "sigmoid", "hard_sigmoid", "init_lstm_params", "init_rnn_params", "init_gru_params",
    "to_torch", "from_torch", "relative_error", "numerical_gradient",
})  # fmt: skip
DYNAMIC_NAMES = frozenset({
    "getattr", "vars", "globals", "locals", "__import__", "eval", "exec", "compile",
    "importlib", "import_module", "attrgetter", "methodcaller", "getmembers", "get_ipython",
    "__builtins__", "builtins", "breakpoint", "execfile", "runpy",
})  # fmt: skip
DYNAMIC_ATTRS = frozenset({
    "__dict__", "__getattribute__", "__getattr__", "__globals__", "__builtins__", "modules",
    "import_module", "__closure__", "__code__", "__wrapped__", "getmembers", "exec_module",
    "__loader__", "__spec__", "f_globals", "f_locals", "f_back", "run_cell", "ex", "ev",
    "user_ns", "user_global_ns", "__subclasses__", "__self__", "__func__", "func",
})  # fmt: skip
# Statements that can bind any name unseen: always part of a reach (and refused there).
BINDING_NAMES = frozenset({
    "exec", "eval", "compile", "get_ipython", "globals", "locals", "vars", "setattr",
    "__import__", "import_module", "__builtins__", "builtins", "execfile", "runpy",
})  # fmt: skip
BINDING_ATTRS = frozenset({"__dict__", "user_ns", "user_global_ns", "run_cell", "ex", "f_globals",
                           "__builtins__", "exec_module", "__setattr__"})  # fmt: skip
HARMLESS_MAGICS = frozenset({"pip", "matplotlib", "config", "load_ext", "autoreload"})
TIMING_MAGICS = frozenset({"time", "timeit"})
BUILTIN_NAMES = frozenset(dir(builtins)) | {"display", "get_ipython", "In", "Out", "_", "__", "___"}
PACKAGE = "lstm_lessons"
GRADER_MODULE = "lstm_lessons.homework.notebook"
_MAGIC = re.compile(r"^(\s*)(%{1,2}|!)(\S*)\s?(.*)$")


def _python_of(cell):
    """The cell with IPython's magic lines turned into the Python they run (or ``pass``)."""
    lines = cell.splitlines()
    out = []
    for line in lines:
        m = _MAGIC.match(line)
        if not m:
            out.append(line)
            continue
        indent, kind, word, rest = m.groups()
        if kind == "!" or word in HARMLESS_MAGICS:
            out.append(f"{indent}pass")
        elif word in TIMING_MAGICS:  # %time stmt, %%timeit: the statement or cell runs
            out.append(f"{indent}{rest}" if rest.strip() else f"{indent}pass")
        else:  # %run, %load, %%capture ...: code the grader cannot read; never trusted
            out.append(f"{indent}get_ipython()")
    return "\n".join(out)


def _walk_scope(node):
    """The nodes of ``node``'s own scope: not the bodies of the functions and classes inside."""
    todo = [node]
    while todo:
        sub = todo.pop()
        yield sub
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            if isinstance(sub, ast.ClassDef):
                todo += [*sub.decorator_list, *sub.bases, *sub.keywords]
            else:
                todo += [*getattr(sub, "decorator_list", []), *sub.args.defaults,
                         *[d for d in sub.args.kw_defaults if d is not None]]  # fmt: skip
            continue
        todo += list(ast.iter_child_nodes(sub))


def _bound(node):
    """The names a top-level statement binds in the notebook's namespace."""
    names = set()
    for sub in _walk_scope(node):
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            names.add(sub.id)
        elif isinstance(sub, ast.alias):
            names.add((sub.asname or sub.name).split(".")[0])
    for sub in ast.walk(node):  # `global x` inside a function binds x at the top
        if isinstance(sub, ast.Global):
            names.update(sub.names)
    return names


def _loaded(node):
    """The names a statement reads from the notebook's namespace (its free names)."""
    loads = {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name)}
    local = set()
    for sub in ast.walk(node):
        if sub is node and not isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = sub.args
            local |= {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
                      if x is not None}  # fmt: skip
            body = sub.body if isinstance(sub.body, list) else [sub.body]
            for stmt in body:
                local |= {n.id for n in ast.walk(stmt)
                          if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}  # fmt: skip
    globals_ = {n for sub in ast.walk(node) if isinstance(sub, ast.Global) for n in sub.names}
    return loads - (local - globals_)


def _statements(cells):
    """(top-level statements, texts of cells that could not be parsed)."""
    statements, unparsed = [], []
    for cell in cells:
        try:
            tree = ast.parse(_python_of(cell))
        except (SyntaxError, ValueError):
            unparsed.append(cell)
            continue
        statements += tree.body
    return statements, unparsed


def reach(cells, name):
    """The top-level statements the function ``name`` depends on, transitively."""
    statements, unparsed = _statements(cells)
    binds = [(_bound(s), s) for s in statements]
    out = [s for s in statements if _binds_unseen(s)]
    wanted, seen = {name} | {n for s in out for n in _loaded(s)}, set()
    while wanted:
        n = wanted.pop()
        seen.add(n)
        for names, s in binds:
            if n in names and all(s is not o for o in out):
                out.append(s)
                wanted |= _loaded(s) - seen
    return out, unparsed


def _binds_unseen(statement):
    for sub in ast.walk(statement):
        if isinstance(sub, ast.Name) and sub.id in BINDING_NAMES:
            return True
        if isinstance(sub, ast.Attribute) and sub.attr in BINDING_ATTRS:
            return True
    return False


def unbound(cells, statements):
    """The free names of ``statements`` that no cell binds and Python does not provide."""
    every, _ = _statements(cells)
    bound = set().union(*(_bound(s) for s in every)) if every else set()
    free = set().union(*(_loaded(s) for s in statements)) if statements else set()
    return sorted(free - bound - BUILTIN_NAMES)


def _package_modules(statements):
    """Names bound to the package or one of its modules by an ``import lstm_lessons...``."""
    names = set()
    for s in statements:
        for sub in ast.walk(s):
            if isinstance(sub, ast.Import):
                for a in sub.names:
                    if a.name.split(".")[0] == PACKAGE:
                        names.add((a.asname or a.name).split(".")[0])
    return names


def _parents(tree):
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _strings(node):
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield sub.value


def delegation(cells, name, forbidden, allowed=()):
    """Why the function ``name`` of the notebook ``cells`` may reach the reference, or None.

    ``forbidden`` are the package's names that compute the task's answer; ``allowed`` are
    helpers of the package that this task may use beyond :data:`ALLOWED`.
    """
    forbidden = tuple(forbidden)
    allowed = ALLOWED | set(allowed)
    statements, unparsed = reach(cells, name)
    for text in unparsed:  # not Python: only its text can be read
        for word in (*forbidden, "homework", *sorted(DYNAMIC_NAMES)):
            if re.search(rf"\b{re.escape(word)}\b", text):
                return tr("a cell that is not valid Python mentions `{word}`", word=word)
    if not statements:
        return None
    for n in unbound(cells, statements):
        return tr("it uses `{name}`, which no cell of the notebook defines", name=n)
    modules = _package_modules(statements)
    # Imports first, so that the reason names the import rather than a use of its name.
    statements.sort(key=lambda s: not isinstance(s, (ast.Import, ast.ImportFrom)))
    for s in statements:
        parents = _parents(s)
        local = {n.id for n in ast.walk(s) if isinstance(n, ast.Name)} - _loaded(s)
        for sub in ast.walk(s):
            if isinstance(sub, ast.Name) and sub.id in forbidden and sub.id != name:
                return tr("it uses the package's `{name}`", name=sub.id)
            if isinstance(sub, ast.Attribute) and sub.attr in forbidden:
                return tr("it uses the package's `{name}`", name=sub.attr)
            if isinstance(sub, ast.alias):
                if any(part in forbidden for part in sub.name.split(".")):
                    return tr("it imports the package's `{name}`", name=sub.name)
            if isinstance(sub, (ast.Import, ast.ImportFrom)):
                paths = (
                    [a.name for a in sub.names] if isinstance(sub, ast.Import)
                    else [f"{sub.module or ''}.{a.name}" for a in sub.names]
                )  # fmt: skip
                grader = f"{GRADER_MODULE}.Grader"
                for m in paths:
                    if m.startswith(f"{PACKAGE}.") and ".homework" in m and m != grader:
                        return tr("it imports `{module}`, the grading code's own", module=m)
                if isinstance(sub, ast.ImportFrom) and (sub.module or "").split(".")[0] == PACKAGE:
                    for a in sub.names:
                        if a.name not in allowed and f"{sub.module}.{a.name}" != grader:
                            return tr(
                                "it imports `{name}` from the package, which this task "
                                "does not allow",
                                name=a.name,
                            )
            if isinstance(sub, ast.Name) and sub.id in DYNAMIC_NAMES:
                call = parents.get(sub)
                if not (sub.id == "getattr" and isinstance(call, ast.Call) and call.func is sub
                        and _constant_name(call) and call.args[1].value in allowed):  # fmt: skip
                    return tr(
                        "it looks names up dynamically (`{name}`), which the grader cannot follow",
                        name=sub.id,
                    )
            if isinstance(sub, ast.Attribute) and sub.attr in DYNAMIC_ATTRS:
                return tr(
                    "it looks names up dynamically (`{name}`), which the grader cannot follow",
                    name=f".{sub.attr}",
                )
            if isinstance(sub, ast.Attribute) and sub.attr == "homework":
                return tr("it reaches into `lstm_lessons.homework`, the grading code's own")
            if (isinstance(sub, ast.Name) and sub.id in modules and sub.id not in local
                    and isinstance(sub.ctx, ast.Load)):  # fmt: skip
                parent = parents.get(sub)
                if not (isinstance(parent, ast.Attribute) and parent.value is sub):
                    return tr(
                        "it passes the package's module `{module}` around, which the "
                        "grader cannot follow",
                        module=sub.id,
                    )
                if parent.attr not in allowed:
                    return tr(
                        "it uses `{module}.{attr}` from the package, which this "
                        "task does not allow",
                        module=sub.id,
                        attr=parent.attr,
                    )
        for text in _strings(s):
            for word in (*forbidden, f"{PACKAGE}.homework"):
                if word in text:
                    return tr("it names `{word}` in a string", word=word)
    return None


def _constant_name(call):
    return (
        len(call.args) >= 2
        and isinstance(call.args[1], ast.Constant)
        and isinstance(call.args[1].value, str)
    )
