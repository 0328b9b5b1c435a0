"""The grader a student uses inside an exercise notebook: ``grader.check("q1")`` after each task.

(otter's own ``otter.Notebook`` reads the tests from the notebook file, which Colab does
not have, and refuses such tests on Colab; this grader reads the public manifest that
ships with the package, through :mod:`lstm_lessons.homework.runner`.)
"""

import inspect

from .runner import load_public_manifest, run_question


class Grader:
    """``grader = Grader("ch01_simple_rnn")``, then ``grader.check("q1")`` after task 1."""

    def __init__(self, assignment):
        manifest = load_public_manifest(assignment)
        self.assignment = assignment
        self.questions = {q["name"]: q for q in manifest["questions"]}

    def check(self, question, global_env=None):
        """Run the public tests of ``question`` against the caller's variables."""
        if question not in self.questions:
            raise ValueError(
                f"{self.assignment} has no question {question!r}; "
                f"its questions are {', '.join(self.questions)}"
            )
        if global_env is None:
            global_env = inspect.currentframe().f_back.f_globals
        return run_question(self.questions[question], global_env)

    def check_all(self, global_env=None):
        """Run the public tests of every question."""
        if global_env is None:
            global_env = inspect.currentframe().f_back.f_globals
        return [self.check(name, global_env) for name in self.questions]
