"""Running an exercise set's tests: manifests, results, and one test against a namespace.

Each exercise set is written once, as a master notebook ``exercises_src/<set>.md`` in
otter-grader's format, and ``tools/build_exercises.py`` turns it into the student notebook,
the solution notebook and a *manifest*: the set's questions in order, each with its points
and its tests. A test is the source of one function whose parameters name variables of the
student's notebook (a parameter called ``env`` gets the whole namespace; a name that is not
defined arrives as ``None``), as in otter's exception-based tests. It passes unless it
raises. What it returns (a check's success message) or the message of what it raises is
what the student reads: no traceback, no line of test code.

The manifest of the public tests ships with the package, in ``homework/manifests/<set>.json``,
so ``grader.check`` works wherever the package is installed, Colab included, and whatever
the notebook file is called. The manifest with the hidden tests as well is kept in the
metadata of ``solutions/<set>.ipynb``, where :mod:`lstm_lessons.homework.grading` reads it.
"""

import inspect
import json
from importlib import resources
from typing import NamedTuple

from .language import tr

MANIFEST_KEY = "lstm_lessons"


class TimeLimitExceeded(BaseException):
    """Raised into student code that runs too long (by the grader's timer, never here).

    A ``BaseException``, so that an ``except Exception`` in the student's code does not
    swallow it.
    """


class TestResult(NamedTuple):
    question: str
    test: str
    hidden: bool
    points: float
    passed: bool
    message: str


class QuestionResult(NamedTuple):
    """The results of one question's tests; its ``repr`` is what a notebook shows."""

    name: str
    possible: float
    all_or_nothing: bool
    results: tuple[TestResult, ...]

    @property
    def passed(self):
        return all(r.passed for r in self.results)

    @property
    def score(self):
        if self.all_or_nothing:
            return self.possible if self.passed else 0.0
        return sum(r.points for r in self.results if r.passed)

    def __repr__(self):
        if not self.results:
            return tr("{name}: there is nothing to check automatically here.", name=self.name)
        if self.passed:
            lines = [tr("{name}: all checks passed", name=self.name)]
        else:
            lines = [tr("{name}: not passed yet", name=self.name)]
        for r in self.results:  # a message's later lines line up under its first
            lines.append(f"{'✅' if r.passed else '❌'} " + r.message.replace("\n", "\n   "))
        return "\n".join(lines)


def load_public_manifest(assignment):
    """The manifest of ``assignment`` with its public tests, as shipped with the package."""
    path = resources.files(__package__) / "manifests" / f"{assignment}.json"
    if not path.is_file():
        raise ValueError(
            tr(
                "no exercise set named {assignment!r}: expected {path}",
                assignment=assignment,
                path=path,
            )
        )
    return json.loads(path.read_text(encoding="utf-8"))


def load_manifest(solution_notebook):
    """The full manifest (public and hidden tests) from a solution notebook's metadata.

    Its ``published`` key holds the solution's code cells, which the grader compares every
    submission's answers with (the solutions are public).
    """
    with open(solution_notebook, encoding="utf-8") as f:
        nb = json.load(f)
    metadata = nb["metadata"]
    if MANIFEST_KEY not in metadata:
        raise ValueError(
            f"{solution_notebook} has no grading manifest (metadata key {MANIFEST_KEY!r}); "
            "build it with tools/build_exercises.py"
        )
    published = [
        "".join(c["source"]) if isinstance(c.get("source"), list) else str(c.get("source", ""))
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code"
    ]
    return {**metadata[MANIFEST_KEY], "published": published}


def _arguments(func, env):
    names = inspect.signature(func).parameters
    return {name: env if name == "env" else env.get(name) for name in names}


def run_test(question, test, env):
    """Run one test of the manifest against the namespace ``env``; never raises.

    Only ``KeyboardInterrupt`` gets through, so that a student can stop a slow check.
    """
    namespace = {"__name__": f"exercise_test_{question}"}
    try:
        exec(compile(test["source"], f"<test {test['name']}>", "exec"), namespace)
        func = namespace[test["name"]]
        returned = func(**_arguments(func, env))
    except KeyboardInterrupt:
        raise
    except (AssertionError, TimeLimitExceeded) as e:
        message = test.get("failure_message") or str(e) or tr("{test} failed.", test=test["name"])
        return TestResult(question, test["name"], test["hidden"], test["points"], False, message)
    except BaseException as e:  # the student's code may raise anything, SystemExit included
        message = test.get("failure_message") or f"{type(e).__name__}: {e}"
        return TestResult(question, test["name"], test["hidden"], test["points"], False, message)
    message = test.get("success_message") or (
        returned if isinstance(returned, str) else tr("{test} passed.", test=test["name"])
    )
    return TestResult(question, test["name"], test["hidden"], test["points"], True, message)


def run_question(question, env, run=run_test):
    """Run all tests of one manifest question; ``run`` may wrap ``run_test`` (time limits)."""
    results = tuple(run(question["name"], test, env) for test in question["tests"])
    return QuestionResult(question["name"], question["points"], question["all_or_nothing"], results)
