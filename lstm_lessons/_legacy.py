"""Old import paths of the flat 0.1 layout, kept so that handed-out notebooks keep working.

Deprecated: new code imports from the layers (``lstm_lessons.cells.lstm``,
``lstm_lessons.homework.checks``, ...). Each old name is an alias: importing
``lstm_lessons.carousel`` returns the module object of
``lstm_lessons.experiments.cell_state`` itself, so functions, classes and
anything patched on one are the same on the other. The table is the whole
shim; ``tests/test_layout.py`` imports every entry.
"""

import importlib
import importlib.abc
import importlib.util
import sys

MOVED = {
    "activations": "cells.activations",
    "variants": "cells.variants",
    "lstm": "cells.lstm",
    "rnn": "cells.rnn",
    "gru": "cells.gru",
    "leaky": "cells.leaky",
    "gradcheck": "cells.gradcheck",
    "torch_cells": "pytorch.cells",
    "convert": "pytorch.convert",
    "tasks": "training.tasks",
    "train": "training.loop",
    "recall": "experiments.rnn_memory",
    "gradient_flow": "experiments.vanishing_gradients",
    "carousel": "experiments.cell_state",
    "forgetting": "experiments.forget_gate",
    "gate_probes": "experiments.input_gate",
    "filtering": "experiments.leaky_integrator",
    "trapdoor": "experiments.output_gate",
    "exercise": "homework.notebook",
    "checks": "homework.checks",
    "checks.cells": "homework.checks.cells",
    "checks.gates": "homework.checks.gates",
    "checks.gradients": "homework.checks.gradients",
    "checks.experiments": "homework.checks.experiments",
    "checks.ex_gates": "homework.sets.gates",
    "checks.ex_gradients_flow": "homework.sets.gradient_flow",
    "checks.ex_memory": "homework.sets.memory",
}
SUBPACKAGES = ("cells", "pytorch", "training", "experiments", "plotting", "homework")
_PREFIX = "lstm_lessons."


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``lstm_lessons.<old>`` and loads it as the module it moved to."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith(_PREFIX) and fullname[len(_PREFIX) :] in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(_PREFIX + MOVED[spec.name[len(_PREFIX) :]])

    def exec_module(self, module):
        pass  # the module it aliases has run already


def install():
    # First in line: otherwise ``lstm_lessons.checks.cells`` would be found as a file in the
    # folder of the module that ``lstm_lessons.checks`` aliases, and loaded a second time.
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
