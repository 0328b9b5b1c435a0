"""The grader a student uses inside an exercise notebook: ``grader.check("q1")`` after each task.

(otter's own ``otter.Notebook`` reads the tests from the notebook file, which Colab does
not have, and refuses such tests on Colab; this grader reads the public manifest that
ships with the package, through :mod:`lstm_lessons.homework.runner`.)
"""

import ast
import inspect

from .given import GivenNamespace, differing_names, given_values
from .language import set_language, tr
from .runner import load_public_manifest, run_question


class Grader:
    """``grader = Grader("ch01_simple_rnn")``, then ``grader.check("q1")`` after task 1.

    ``Grader("ch01_simple_rnn", language="zh")`` (the Chinese notebooks) gives the feedback in
    Chinese from then on (:mod:`lstm_lessons.homework.language`).
    """

    def __init__(self, assignment, language=None):
        if language is not None:
            set_language(language)
        manifest = load_public_manifest(assignment)
        self.assignment = assignment
        self.manifest = manifest
        self.questions = {q["name"]: q for q in manifest["questions"]}

    def check(self, question, global_env=None):
        """Run the public tests of ``question`` against the caller's variables."""
        if question not in self.questions:
            raise ValueError(
                tr(
                    "{assignment} has no question {question!r}; its questions are {questions}",
                    assignment=self.assignment,
                    question=question,
                    questions=", ".join(self.questions),
                )
            )
        if global_env is None:
            global_env = inspect.currentframe().f_back.f_globals
        # The checks take the given data from the given cells themselves (as the class
        # grader does), so a changed given cell is said here rather than failing obscurely.
        given = given_values(self.manifest)
        taken = set()
        for test in self.questions[question]["tests"]:
            taken |= {a.arg for a in ast.parse(test["source"]).body[0].args.args}
        changed = differing_names(global_env, given, sorted(taken))
        if changed:
            names = ", ".join(changed)
            if len(changed) > 1:
                note = tr(
                    "Note: {names} in your notebook differ from what the given cell makes; the "
                    "checks use the given cell's values. Run the given cell again as it was "
                    "handed out, then your own cells.",
                    names=names,
                )
            else:
                note = tr(
                    "Note: {names} in your notebook differs from what the given cell makes; the "
                    "checks use the given cell's values. Run the given cell again as it was "
                    "handed out, then your own cells.",
                    names=names,
                )
            print(note + "\n")
        return run_question(self.questions[question], GivenNamespace(global_env, given))

    def check_all(self, global_env=None):
        """Run the public tests of every question."""
        if global_env is None:
            global_env = inspect.currentframe().f_back.f_globals
        return [self.check(name, global_env) for name in self.questions]
