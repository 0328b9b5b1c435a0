"""The given cells of an exercise set: the data that its checks of values trust.

A check of a value (``slope``, ``gap``, ...) compares a number the student computed with the
number that the set's data gives. It must not read that data from the student's notebook:
there a changed given cell (``dh = 0``, another seed) would change both sides of the
comparison at once. So the manifest keeps the given cells that make the data, and a check's
argument named by one of them receives the value that the published cell makes when the
grader runs that cell itself, re-seeded as the submission's given cells were (``secret``),
never the value in the notebook.

    given_cells(cells, answer_names, wanted)   at build time: the cells and names to keep
    given_values(manifest, secret)             {name: value} the kept cells make
    GivenNamespace(env, values)                env, with the given names from values
    changed_given(given, codes, secret)        the given cells that a submission changed
    differing_names(env, values, names)        the given names a notebook holds other values in
"""

import ast
import copy
import re
import types
from functools import lru_cache

import numpy as np

GIVEN_KEY = "given"
MAGIC = re.compile(r"^\s*[%!]", re.MULTILINE)


def _stored_names(tree):
    """The names a cell assigns, defines or imports at its top level."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _imported_names(tree):
    return {
        (a.asname or a.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for a in node.names
    }


def _grader_names(tree):
    """The names bound to ``Grader(...)``: the notebook's grader is not data."""
    return {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "id", None) == "Grader"
        for target in node.targets
        if isinstance(target, ast.Name)
    }  # fmt: skip


def _loaded_names(tree):
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def answer_names(answer_sources):
    """Every name that the answer cells define (the student's functions and results)."""
    names = set()
    for source in answer_sources:
        names |= _stored_names(ast.parse(source))
    return names


def given_cells(cells, answers, wanted):
    """{"cells": [...], "names": [...]}: the given cells that make the ``wanted`` names.

    ``cells`` are the student notebook's code cells that are not answer cells and not
    ``grader.check`` cells, in order; ``answers`` the names the answer cells define; ``wanted``
    the names the checks take as arguments. Kept are the cells up to the last one that defines
    a wanted name, except a cell with a shell or magic line (the install cell) and a cell that
    reads a name of the answers (which the grader's own run of the given cells cannot make).
    ``names`` are the names those cells define, except imports, the grader and the answers'
    names. A wanted
    name that only such an excluded cell defines is an error: the check could not trust it.
    """
    kept, last = [], -1
    for source in cells:
        if MAGIC.search(source):
            continue
        tree = ast.parse(source)
        stored = _stored_names(tree) - answers
        reads = _loaded_names(tree) & answers
        if reads:
            if stored & wanted:
                raise ValueError(
                    f"a given cell defines {sorted(stored & wanted)}, which a check takes, from "
                    f"the answers' {sorted(reads)}: expected the given data to be made without "
                    "the student's code"
                )
            continue
        kept.append(source)
        if stored & wanted:
            last = len(kept) - 1
    kept = kept[: last + 1]
    names = set()
    for source in kept:
        tree = ast.parse(source)
        names |= _stored_names(tree) - _imported_names(tree) - _grader_names(tree) - answers
    return {"cells": kept, "names": sorted(names)}


@lru_cache(maxsize=16)
def _run_given(cells, secret):
    from .collect import reseed

    namespace = {"__name__": "exercise_given"}
    for k, source in enumerate(cells):
        code = reseed(source, secret) if secret else source
        exec(compile(code, f"<given cell {k + 1}>", "exec"), namespace)
    return namespace


def given_values(manifest, secret=None):
    """{name: value} of the manifest's given names, made by running its given cells here.

    The cells are re-seeded from ``secret`` as :func:`lstm_lessons.homework.collect.reseed`
    re-seeds a submission's. They run once per (cells, secret) in a process; every call gets
    its own copies, so that nothing a check or a student's function does to one reaches the
    next.
    """
    given = manifest.get(GIVEN_KEY) or {}
    cells, names = tuple(given.get("cells", ())), given.get("names", ())
    if not cells:
        return {}
    namespace = _run_given(cells, secret)
    return {
        name: copy.deepcopy(namespace[name])
        for name in names
        if name in namespace and not isinstance(namespace[name], types.ModuleType)
    }


class GivenNamespace:
    """``env`` (a dict or the grader's namespace), but the given names are read from ``values``."""

    def __init__(self, env, values):
        self._env, self._values = env, values

    def get(self, name, default=None):
        if name in self._values:
            return copy.deepcopy(self._values[name])
        return self._env.get(name, default)

    def __getitem__(self, name):
        value = self.get(name, KeyError)
        if value is KeyError:
            raise KeyError(name)
        return value

    def __contains__(self, name):
        return name in self._values or name in self._env


def _normalised(source):
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def changed_given(manifest, codes, secret=None):
    """The given cells of ``manifest`` that none of a submission's code cells ``codes`` equals.

    ``codes`` are the submission's code cells as it runs them (re-seeded from ``secret``);
    lines are compared without their trailing spaces.
    """
    from .collect import reseed

    present = {_normalised(code) for code in codes}
    cells = (manifest.get(GIVEN_KEY) or {}).get("cells", ())
    return [
        cell for cell in cells
        if _normalised(reseed(cell, secret) if secret else cell) not in present
    ]  # fmt: skip


def same_value(a, b):
    """Whether a notebook's value equals the given one (arrays, numbers, dicts, lists, tuples)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray | np.generic | int | float) and isinstance(
        b, np.ndarray | np.generic | int | float
    ):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    if type(a) is not type(b):
        return False
    if isinstance(a, str | bytes | bool | type(None)):
        return a == b
    return True  # an object without a value equality (a generator of random numbers)


def differing_names(env, values, names):
    """Those of ``names`` whose value in the notebook ``env`` differs from the given one."""
    return [
        name for name in names
        if name in values and name in env and not same_value(env[name], values[name])
    ]  # fmt: skip
