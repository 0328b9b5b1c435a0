"""Calling a student's function safely: copies in, every exception turned into a plain message.

A check never lets the student's code raise through it: :func:`call` runs the function
on copies of its arguments and reports an exception by type, message, the student's line
and a hint (never a traceback), a template that was not filled in as "not done yet", and
an argument changed in place as such. Every failure is a :class:`CheckFailed`, whose
message is what the student reads.
"""

import ast
import inspect
import numbers
import os
import textwrap
import traceback
import warnings
from contextlib import nullcontext

import numpy as np

from ..language import tr
from .delegation import delegation

# Frames in this package are the checks' own; the student's line is the last frame outside.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class CheckFailed(AssertionError):
    """Raised when the student's code is not right yet; the message says what and why."""


def fail(message):
    raise CheckFailed(message)


def display_name(fn, default):
    """The name the student gave the function, or ``default`` for a lambda or a partial."""
    name = getattr(fn, "__name__", "")
    return name if name.isidentifier() else default


def describe(value):
    """A short phrase for any value: 'an array of shape (3, 4)', 'a list of 2 items', 'None'."""
    if value is None:
        return "None"
    if value is Ellipsis:
        return tr("... (Ellipsis), so the task is not done yet")
    if isinstance(value, np.ndarray):
        return tr(
            "an array of shape {shape} and dtype {dtype}", shape=value.shape, dtype=value.dtype
        )
    if isinstance(value, (list, tuple)):
        kind, n = type(value).__name__, len(value)
        if n == 1:
            return tr("a {kind} of {n} item", kind=kind, n=n)
        return tr("a {kind} of {n} items", kind=kind, n=n)
    if isinstance(value, (bool, numbers.Number)):
        return tr("the number {value!r}", value=value)
    if isinstance(getattr(value, "grading_type", None), str):  # sent from a sandbox
        return tr("a {kind}", kind=value.grading_type)
    kind = f"{type(value).__module__.split('.')[0]}.{type(value).__name__}"
    return tr("a {kind}", kind=kind.replace("builtins.", ""))


def _describe_arg(name, value):
    if isinstance(value, np.ndarray):
        if value.size <= 2:
            return f"{name} = {np.array2string(value, separator=', ')} ({value.dtype})"
        return tr("{name} of shape {shape}", name=name, shape=value.shape)
    if isinstance(value, (list, tuple)) and all(isinstance(v, np.ndarray) for v in value):
        shapes = ", ".join(str(v.shape) for v in value)
        return tr(
            "{name} = a {kind} of {n} arrays of shapes {shapes}",
            name=name,
            kind=type(value).__name__,
            n=len(value),
            shapes=shapes,
        )
    if isinstance(value, dict):  # a dict of parameters: the names and shapes, not the numbers
        items = ", ".join(
            f"{k} {v.shape}" if isinstance(v, np.ndarray) else f"{k}" for k, v in value.items()
        )
        return tr("{name} = a dict of {items}", name=name, items=items)
    text = repr(value)
    return f"{name} = {text if len(text) <= 60 else text[:50] + '...'}"


def describe_args(args):
    return ", ".join(_describe_arg(k, v) for k, v in args.items())


def _copy(value):
    """A copy of an argument, arrays, lists, tuples and dicts (``params``) all the way down."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def student_line(exc):
    """The last line of the traceback that lies outside NumPy and this package, quoted.

    An exception that the grader rebuilt from a sandboxed submission carries the line the
    sandbox found, as ``grading_line``.
    """
    given = getattr(exc, "grading_line", None)
    if isinstance(given, str):
        return given
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = os.path.abspath(frame.filename)
        if path.startswith(_PACKAGE_DIR) or "site-packages" in path or "/lib/python" in path:
            continue
        return f"`{frame.line.strip()}`" if frame.line else None
    return None


def _is_matmul_error(exc):
    text = str(exc)
    return isinstance(exc, ValueError) and ("matmul" in text or "not aligned" in text)


# Hints for any check; a check puts its own, more specific hints first. A hint is its text
# or, where it is made before the language is known (at import), a function returning it.
GENERIC_HINTS = (
    (
        lambda e: isinstance(e, NotImplementedError),
        lambda: tr(
            "the function is still the template: replace `raise NotImplementedError` with your "
            "code."
        ),
    ),
    (
        lambda e: isinstance(e, NameError),
        lambda: tr(
            "a name used inside your function is not defined. Did you run the cell that defines "
            "it, and is it spelt the same way?"
        ),
    ),
    (
        _is_matmul_error,
        lambda: tr(
            "the course uses row vectors: x (N, D) @ W_x (D, 4H) and h_prev (N, H) @ W_h (H, 4H). "
            "Check the order of the factors of `@` and that no weight is transposed."
        ),
    ),
    (
        lambda e: "could not be broadcast" in str(e),
        lambda: tr(
            "two arrays of different shapes met in an element-wise operation; print their .shape "
            "to see which one is not (N, H)."
        ),
    ),
    (
        lambda e: "NoneType" in str(e),
        lambda: tr("a value in your code is None: does a helper function end without `return`?"),
    ),
    (
        lambda e: isinstance(e, IndexError),
        lambda: tr("an index is out of range; check the sizes of your slices."),
    ),
)


def call(fn, args, *, name, hints=(), strict=False):
    """``fn(*args.values())`` on copies of the arguments; its result, or CheckFailed saying why not.

    ``args`` maps the student's parameter names to values, in the order of the
    signature. Any exception the function raises is reported with its type,
    message, the student's line and a hint, never as a traceback. ``strict``
    turns NumPy's RuntimeWarnings (overflow, invalid value) into failures.
    Afterwards the arguments must be unchanged: a function must not modify its
    inputs in place.
    """
    if fn is None:
        fail(
            tr(
                "`{name}` is not defined yet (got None): run the cell that defines it, then the "
                "check.",
                name=name,
            )
        )
    if not callable(fn):
        fail(tr("expected `{name}` to be a function, got {what}.", name=name, what=describe(fn)))
    copies = {k: _copy(v) for k, v in args.items()}
    errstate = (
        np.errstate(over="warn", invalid="warn", divide="warn", under="ignore")
        if strict
        else nullcontext()
    )
    try:
        with warnings.catch_warnings(), errstate:
            if strict:
                warnings.simplefilter("error", RuntimeWarning)
            result = fn(*copies.values())
    except Exception as exc:
        raise CheckFailed(_raised(exc, name, args, hints)) from None
    if result is None and _is_template(fn):
        fail(
            tr(
                "Your {name} is still the template: the task is not done yet "
                "(replace the ... with your code).",
                name=name,
            )
        )
    _check_unchanged(args, copies, name)
    return result


def _is_template(fn):
    """Whether ``fn``'s body is only a docstring and ``...``, as in the exercise notebooks."""
    try:
        tree = ast.parse(textwrap.dedent(source_of(fn)))
    except SyntaxError:
        return False
    if not tree.body or not isinstance(tree.body[0], ast.FunctionDef):
        return False
    body = tree.body[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            body = body[1:]  # the docstring
    return len(body) == 1 and isinstance(body[0], ast.Expr) and body[0].value.value is Ellipsis


def _raised(exc, name, args, hints):
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    called = describe_args(args)
    if isinstance(exc, Warning):
        head = tr(
            "Your {name} made NumPy warn ({detail}) when called with {args}.",
            name=name,
            detail=detail,
            args=called,
        )
    else:
        head = tr(
            "Your {name} raised {detail} when called with {args}.",
            name=name,
            detail=detail,
            args=called,
        )
    lines = [head]
    line = student_line(exc)
    if line:
        lines.append(tr("It happened in the line {line}.", line=line))
    for test, hint in (*hints, *GENERIC_HINTS):
        if test(exc):
            lines.append(tr("Hint: {hint}", hint=hint() if callable(hint) else hint))
            break
    return "\n".join(lines)


def _check_unchanged(args, copies, name):
    for key, before in args.items():
        after = copies[key]
        pairs = [(key, before, after)]
        if isinstance(before, dict):
            if not isinstance(after, dict) or after.keys() != before.keys():
                fail(
                    tr(
                        "Your {name} changed the keys of its argument `{key}` in place; leave the "
                        "inputs unchanged and make a new dict: `{{**params, 'b': b}}`.",
                        name=name,
                        key=key,
                    )
                )
            pairs = [(f"{key}[{k!r}]", before[k], after[k]) for k in before]
        elif isinstance(before, (list, tuple)):
            if len(after) != len(before):
                fail(
                    tr(
                        "Your {name} changed the length of its argument `{key}` "
                        "from {before} to {after}; leave the inputs unchanged "
                        "and return a new list.",
                        name=name,
                        key=key,
                        before=len(before),
                        after=len(after),
                    )
                )
            pairs = [
                (f"{key}[{j}]", b, a) for j, (b, a) in enumerate(zip(before, after, strict=True))
            ]
        for label, b, a in pairs:
            if isinstance(b, np.ndarray) and not (
                isinstance(a, np.ndarray)
                and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=True)
            ):
                var = label.split("[")[0] if label == key else "g"
                if isinstance(before, dict):
                    fail(
                        tr(
                            "Your {name} changed {label} in place (with `+=`, `*=`, `[...] =` or "
                            "an `out=`): a function must leave its inputs as they were, and every "
                            "later call would start from the changed `{key}`. Change a copy: "
                            "`{label}.copy()`, or `{key} = {{**{key}, ...}}`.",
                            name=name,
                            label=label,
                            key=key,
                        )
                    )
                fail(
                    tr(
                        "Your {name} changed its argument `{label}` in place (with `+=`, `*=`, "
                        "`[...] =` or an `out=`). A function must leave its inputs as they were: "
                        "`{var} = {var} * s` makes a new array, while `{var} *= s` overwrites "
                        "the caller's.",
                        name=name,
                        label=label,
                        var=var,
                    )
                )


def refuse_package_call(fn, forbidden, name, allowed=()):
    """CheckFailed if ``fn`` hands its task to one of the package's functions ``forbidden``.

    A task that asks for an equation forbids calling the package's function that the check
    compares with. A function graded from a sandbox carries the notebook's code cells, as the
    grader read them from its own copy (``grading_cells``), and the name it was looked up
    by (``grading_name``): :func:`lstm_lessons.homework.checks.delegation.delegation` then
    decides from the whole notebook, aliases, imports and helpers included. A local function
    is judged by its own source and the globals it names; ``ll.lstm_step_forward(...)``,
    ``lstm_lessons.ema(...)`` and a bare ``rnn_step_forward(...)`` are refused (a function
    may still share the package's name).
    """
    cells = getattr(fn, "grading_cells", None)
    if isinstance(cells, (list, tuple)):
        why = delegation(list(cells), str(getattr(fn, "grading_name", name)), forbidden, allowed)
        if why:
            fail(
                tr(
                    "Your {name} was not checked: {why}. The task asks you not to use the "
                    "package's own implementation (it is what the check compares with) or the "
                    "grading code: write the equations yourself. This task scores nothing.",
                    name=name,
                    why=why,
                )
            )
        return
    try:
        tree = ast.parse(textwrap.dedent(source_of(fn)))
    except SyntaxError:
        return
    own = getattr(fn, "__name__", "")
    try:  # the globals and the closure the function reads
        seen = inspect.getclosurevars(fn)
        names = {**seen.globals, **seen.nonlocals}
    except (TypeError, ValueError):
        names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id != own:
            value = names.get(node.id)
            module = str(getattr(value, "__module__", "") or "")
            if module.startswith("lstm_lessons.") and getattr(value, "__name__", "") in forbidden:
                fail(
                    tr(
                        "Your {name} calls the package's `{func}` (as `{alias}`), "
                        "which the task asks you not to use: it is what the check compares with. "
                        "Write the equations yourself.",
                        name=name,
                        func=value.__name__,
                        alias=node.id,
                    )
                )
        if not isinstance(node, ast.Call):
            continue
        target = node.func
        called = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if called in forbidden and not (isinstance(target, ast.Name) and called == own):
            fail(
                tr(
                    "Your {name} calls the package's `{func}`, which the task asks you not to "
                    "use: it is what the check compares with. Write the equations yourself.",
                    name=name,
                    func=called,
                )
            )


def source_of(fn):
    """The source text of the student's function, or '' when it cannot be read.

    A function that runs in the grader's sandbox carries its source as ``grading_source``.
    """
    given = getattr(fn, "grading_source", None)
    if isinstance(given, str):
        return given
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return ""
