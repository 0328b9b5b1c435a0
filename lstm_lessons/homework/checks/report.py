"""Comparing a student's result with the reference: where, which mistake, one message.

A check calls the student's function on seeded inputs
(:func:`~lstm_lessons.homework.checks.calling.call`), compares what came back with
the package's own result (:func:`compare`), and on a mismatch looks for the common
mistake that reproduces the student's output exactly (:func:`diagnose`);
:func:`verdict` puts the three together and raises :class:`CheckFailed` with one
message a student can act on.

Tolerance: an entry is right when ``|got - expected| <= ATOL + RTOL * |expected|``
(``np.allclose`` with rtol 1e-5, atol 1e-6). That admits float32 arithmetic inside
the student's function and any order of summation; every mistake the checks
diagnose changes some entry by far more on the seeded inputs, as the tests show
mistake by mistake. The result's dtype must still be the dtype of the inputs.
"""

import numbers

import numpy as np

from ..language import tr
from .calling import CheckFailed, describe, fail

RTOL = 1e-5
ATOL = 1e-6


def shape_text(shape, letters=None):
    """'(N, H) = (3, 4)' when the axes have letters, else '(3, 4)'."""
    if letters and len(letters) == len(shape):
        return f"({', '.join(letters)}) = {tuple(shape)}"
    return str(tuple(shape))


def _where(index, shape, letters, blocks):
    """' (n=1, column 6: block f, unit 2)' for an index into an array with named axes."""
    if not letters or len(letters) != len(index):
        return ""
    parts = []
    for k, letter, size in zip(index, letters, shape, strict=True):
        if blocks and letter[-1:] == "H" and letter[:-1].isdigit():
            width = size // len(blocks)
            parts.append(
                tr(
                    "column {k}: block {block}, unit {unit}",
                    k=k,
                    block=blocks[k // width],
                    unit=k % width,
                )
            )
        else:
            parts.append(f"{letter.lower()}={k}")
    return " (" + ", ".join(parts) + ")"


def _fmt(v):
    return f"{float(v):.6g}"


def _index_text(name, index):
    return f"{name}[{', '.join(str(int(k)) for k in index)}]" if index else name


def structure(got, expected, name, letters=None, blocks=None):
    """None when ``got`` is a finite array of ``expected``'s shape and dtype; else what is not.

    ``letters`` names the axes (('N', 'H') or ('N', '4H')); with ``blocks``
    ('ifgo') an axis '4H' is read as blocks of H columns, so that a position is
    placed in its gate.
    """
    expected = np.asarray(expected)
    shape = shape_text(expected.shape, letters)
    if got is None:
        return tr(
            "{name} is None; expected an array of shape {shape}. "
            "Does the function end without `return`?",
            name=name,
            shape=shape,
        )
    if got is Ellipsis:
        return tr(
            "{name} is ... (Ellipsis): the task is not done yet, replace the ... with code.",
            name=name,
        )
    if type(got).__name__ == "Tensor":
        return tr(
            "{name} is a torch.Tensor; expected a NumPy array of shape {shape}: "
            "compute with NumPy.",
            name=name,
            shape=shape,
        )
    if isinstance(got, (list, tuple)):
        return tr(
            "{name} is a {kind} of {n} items; expected a NumPy array of shape {shape}. "
            "Compute it with NumPy operations (or wrap a list of rows in np.array).",
            name=name,
            kind=type(got).__name__,
            n=len(got),
            shape=shape,
        )
    if isinstance(got, numbers.Number) and not isinstance(got, np.ndarray):
        if expected.ndim > 0:
            return tr(
                "{name} is a single number ({value!r}); expected an array of shape {shape}.",
                name=name,
                value=got,
                shape=shape,
            )
        got = np.asarray(got, dtype=expected.dtype)
    if not isinstance(got, np.ndarray):
        return tr(
            "{name} is {what}; expected a NumPy array of shape {shape}.",
            name=name,
            what=describe(got),
            shape=shape,
        )
    if got.shape != expected.shape:
        if got.ndim > 1 and got.shape == expected.shape[::-1]:
            return tr(
                "{name} has the wrong shape: expected {want}, got {got} "
                "(the transpose: check the order of the factors of `@`).",
                name=name,
                want=shape,
                got=got.shape,
            )
        return tr(
            "{name} has the wrong shape: expected {want}, got {got}.",
            name=name,
            want=shape,
            got=got.shape,
        )
    if got.dtype != expected.dtype:
        if got.dtype.kind in "biu":
            why = tr("the values were turned into integers (an integer array, or // used)")
        elif got.dtype.kind == "O":
            why = tr("an object array holds Python objects, not numbers")
        else:
            why = tr("keep the dtype of the inputs (dtype= or .astype changed it)")
        return tr(
            "{name} has dtype {got}; expected {want}: {why}.",
            name=name,
            got=got.dtype,
            want=expected.dtype,
            why=why,
        )
    finite = np.isfinite(got)
    if not finite.all():
        index = tuple(int(k) for k in np.argwhere(~finite)[0])
        count = int((~finite).sum())
        at = f"{_index_text(name, index)}{_where(index, got.shape, letters, blocks)}"
        if count == 1:
            return tr(
                "{name} contains {value} at {at}; {count} of {size} entry is NaN or infinite.",
                name=name,
                value=got[index],
                at=at,
                count=count,
                size=got.size,
            )
        return tr(
            "{name} contains {value} at {at}; {count} of {size} entries are NaN or infinite.",
            name=name,
            value=got[index],
            at=at,
            count=count,
            size=got.size,
        )
    return None


def largest_error(got, expected, name, letters=None, blocks=None, reveal=True):
    """'the largest error is at c[1, 2] (n=1, h=2), expected 0.5, got 0.2' for equal shapes.

    Without ``reveal`` the expected value is left out: for a task whose answer is the value
    itself, printing it would give the answer away.
    """
    err = np.abs(got - expected)
    if got.size == 1:
        if not reveal:
            return tr("got {got}, which is not the value asked for", got=_fmt(got.flat[0]))
        return tr("expected {want}, got {got}", want=_fmt(expected.flat[0]), got=_fmt(got.flat[0]))
    index = tuple(int(k) for k in np.unravel_index(np.argmax(err), err.shape))
    where = f"{_index_text(name, index)}{_where(index, got.shape, letters, blocks)}"
    if not reveal:
        return tr(
            "the largest error is at {where}, where you have {got}",
            where=where,
            got=_fmt(got[index]),
        )
    return tr(
        "the largest error is at {where}, expected {want}, got {got}",
        where=where,
        want=_fmt(expected[index]),
        got=_fmt(got[index]),
    )


def compare(got, expected, name, letters=None, blocks=None, reveal=True):
    """None when ``got`` matches ``expected``; otherwise one sentence on what differs and where."""
    problem = structure(got, expected, name, letters, blocks)
    if problem:
        return problem
    expected = np.asarray(expected)
    got = np.asarray(got)
    bad = np.abs(got - expected) > ATOL + RTOL * np.abs(expected)
    if not bad.any():
        return None
    n_bad = int(bad.sum())
    error = largest_error(got, expected, name, letters, blocks, reveal)
    if got.size == 1:
        return tr("{name} has wrong values: {error}.", name=name, error=error)
    if n_bad == 1:
        return tr(
            "{name} has wrong values: {error}; {count} of {size} entry is off.",
            name=name,
            error=error,
            count=n_bad,
            size=got.size,
        )
    return tr(
        "{name} has wrong values: {error}; {count} of {size} entries are off.",
        name=name,
        error=error,
        count=n_bad,
        size=got.size,
    )


def matches(got, value):
    if isinstance(value, tuple):
        return (
            isinstance(got, (tuple, list))
            and len(got) == len(value)
            and all(matches(g, v) for g, v in zip(got, value, strict=True))
        )
    if isinstance(got, numbers.Number) and not isinstance(got, bool):
        got = np.asarray(got)
    if not isinstance(got, np.ndarray) or got.dtype.kind not in "fiu":
        return False
    value = np.asarray(value)
    if got.shape != value.shape or not np.isfinite(value).all():
        return False
    return bool(np.allclose(got, value, rtol=RTOL, atol=ATOL))


def diagnose(got, candidates):
    """The first message of ``candidates`` ({message: wrong output}) that ``got`` equals, or None.

    A candidate is what a known mistake computes from the same inputs: an array,
    a tuple of arrays for a function with several outputs, or a callable
    returning one (evaluated only when reached).
    """
    for message, value in candidates.items():
        if callable(value):
            try:
                value = value()
            except Exception:
                continue
        if matches(got, value):
            return message
    return None


def unpack(got, names, name, want=None):
    """``got`` as a tuple of ``len(names)`` outputs, or CheckFailed saying what came instead."""
    if isinstance(got, (tuple, list)) and len(got) == len(names):
        return tuple(got)
    want = want or tr("the {n} values ({names})", n=len(names), names=", ".join(names))
    ret = f"`return {', '.join(names)}`"
    if got is None:
        fail(
            tr(
                "Your {name} returned None; expected {want}. Did you forget {ret}?",
                name=name,
                want=want,
                ret=ret,
            )
        )
    if got is Ellipsis:
        fail(
            tr(
                "Your {name} returned ... (Ellipsis): the task is not done yet "
                "(replace the ... with code).",
                name=name,
            )
        )
    if isinstance(got, (tuple, list)):
        fail(
            tr(
                "Your {name} returned {n} values; expected {want}: {ret}.",
                name=name,
                n=len(got),
                want=want,
                ret=ret,
            )
        )
    fail(
        tr(
            "Your {name} returned {what}; expected {want}: {ret}.",
            name=name,
            what=describe(got),
            want=want,
            ret=ret,
        )
    )


def verdict(
    name,
    got,
    expected,
    outputs,
    *,
    letters=None,
    blocks=None,
    candidates=(),
    recipe="",
    reveal=True,
):
    """Return if ``got`` matches ``expected``; otherwise raise CheckFailed with a diagnosis.

    ``outputs`` names the result: one name (``expected`` is an array) or a tuple
    of names (``expected`` is a tuple of arrays and ``got`` must be a sequence
    of as many). ``candidates`` maps a diagnosis to the output that mistake
    produces (see :func:`diagnose`), or is a function returning that dict, called
    only on a mismatch. ``recipe`` (the reference's equations) is never shown: pasted
    into a notebook it would be the answer; when no known mistake matches, the message
    points to the equations of the task instead. Without ``reveal`` no expected value is
    shown either (for a task whose answer is a value).
    """
    single = isinstance(outputs, str)
    names = (outputs,) if single else tuple(outputs)
    expected = (expected,) if single else tuple(expected)
    gots = (got,) if single else unpack(got, names, name)
    problems = {
        n: compare(g, e, n, letters, blocks, reveal)
        for n, g, e in zip(names, gots, expected, strict=True)
    }
    wrong = [n for n in names if problems[n]]
    if not wrong:
        return
    # A wrong shape, dtype or type needs no equations: the recipe is for wrong values.
    structural = {
        n: structure(g, e, n) is not None for n, g, e in zip(names, gots, expected, strict=True)
    }
    with np.errstate(all="ignore"):  # a mistake's overflow is no concern of the student's
        if callable(candidates):
            candidates = candidates()
        candidates = dict(candidates)
    lines = [tr("Your {name} is not right yet.", name=name)]
    lines += [("- " if not single else "") + problems[n] for n in wrong]
    right = [n for n in names if n not in wrong]
    if right:
        lines.append(tr("These are right: {names}.", names=", ".join(right)))
    if matches(gots, expected):  # the values are right; the problem is the dtype
        raise CheckFailed("\n".join(lines))
    with np.errstate(all="ignore"):
        cause = diagnose(got if single else gots, candidates)
    if cause:
        lines.append(tr("Likely cause: {cause}", cause=cause))
    else:
        per_output = _diagnose_each(gots, names, wrong, candidates)
        if per_output:
            lines.append(tr("Likely causes:"))
            lines += [f"- {n}: {msg}" for n, msg in per_output]
        elif recipe and not all(structural[n] for n in wrong):
            lines.append(
                tr(
                    "No common mistake gives exactly your result: check each wrong output, at "
                    "the entry named above, against the equations of the task."
                )
            )
    raise CheckFailed("\n".join(lines))


def _diagnose_each(gots, names, wrong, candidates):
    """For a function with several outputs: a diagnosis per wrong output, from the candidates."""
    if len(names) == 1:
        return []
    found = []
    for n in wrong:
        k = names.index(n)
        each = {}
        for msg, value in candidates.items():
            if callable(value):
                continue
            if isinstance(value, tuple) and len(value) == len(names):
                each[msg] = value[k]
        msg = diagnose(gots[k], each)
        if msg:
            found.append((n, msg))
    return found
