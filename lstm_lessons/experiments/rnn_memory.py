"""How long a recurrent network remembers: recall accuracy against delay.

Shapes: N batch size, K number of symbols, T = delay + 2 steps, H hidden size.

The task is :func:`lstm_lessons.training.tasks.delayed_recall`: a symbol shown with a
marker at the first step must be named at the last, after ``delay`` random
distractor symbols. A simple RNN (Elman 1990) rewrites its whole hidden state
at every step, h_t = tanh(x_t W_x + h_{t-1} W_h + b), so the distractors are
written over the symbol it should keep; an LSTM (Hochreiter & Schmidhuber
1997) can keep it in its cell state behind a closed input gate.

What is inside:

- :func:`recall_model`: the network, a ``SequenceModel`` reading K + 2
  channels and answering with K logits.
- :func:`train_recall`: train one network at one delay;
  :func:`train_recall_side_by_side`: the same for several seeds at once.
- :func:`recall_accuracy`: its accuracy on held-out sequences (chance: 1/K).
- :func:`accuracy_vs_delay`: both, over a grid of cells, delays and seeds.
- :func:`symbol_trace`: how much the remembered symbol still changes the
  state after t steps: the distance between the states of two sequences
  that differ only in that symbol.
"""

from typing import NamedTuple

import numpy as np

from ..cells.gru import gru_forward
from ..cells.rnn import rnn_forward
from ..cells.validation import check_int
from ..training import tasks
from ..training.harness import HELD_OUT_SEED, check_seed, fit
from ..training.loop import evaluate
from ..training.model import SequenceModel
from ..training.wide import fit_side_by_side

CELLS = ("rnn", "lstm", "gru")


def _check_cell(cell):
    if cell not in CELLS:
        raise ValueError(f"cell: expected one of {CELLS}, got {cell!r}")


def recall_model(cell, *, n_symbols=4, hidden_size=16, seed=0, forget_bias=5.0, input_bias=-2.0):
    """An untrained ``SequenceModel(K + 2, hidden_size, K, cell)`` for delayed recall.

    For the LSTM only, the forget-gate bias b_f starts at ``forget_bias`` and
    the input-gate bias b_i at ``input_bias`` (None leaves PyTorch's random
    initialisation). With the defaults, f = sigma(5) ~ 0.99 and
    i = sigma(-2) ~ 0.12 before training: the cell keeps what it holds and
    writes little, so the symbol, and its gradient, survive the delay.
    """
    _check_cell(cell)
    check_int("n_symbols", n_symbols, 2)
    check_int("hidden_size", hidden_size, 1)
    check_seed(seed)
    K, H = n_symbols, hidden_size
    is_lstm = cell == "lstm"
    return SequenceModel(
        K + 2,
        H,
        K,
        cell=cell,
        forget_bias=forget_bias if is_lstm else None,
        input_bias=input_bias if is_lstm else None,
        seed=seed,
    )


def train_recall(
    cell,
    delay,
    *,
    seed=0,
    n_symbols=4,
    hidden_size=16,
    steps=300,
    batch_size=32,
    lr=1e-2,
    clip=1.0,
    forget_bias=5.0,
    input_bias=-2.0,
):
    """Train :func:`recall_model` (``cell``: "rnn", "lstm" or "gru") on ``delayed_recall``.

    Adam on cross-entropy, a fresh batch of ``batch_size`` sequences at every
    one of ``steps`` steps, gradient norm clipped at ``clip``. ``seed`` fixes
    the initial weights and the training batches; ``forget_bias`` and
    ``input_bias`` set the LSTM's starting gate biases (see
    :func:`recall_model`). Returns the model and its
    :class:`~lstm_lessons.training.loop.History`.
    """
    check_int("delay", delay, 0)
    check_int("batch_size", batch_size)
    model = recall_model(
        cell,
        n_symbols=n_symbols,
        hidden_size=hidden_size,
        seed=seed,
        forget_bias=forget_bias,
        input_bias=input_bias,
    )

    def task(rng):
        return tasks.delayed_recall(batch_size, delay, n_symbols=n_symbols, rng=rng)

    return fit(task, steps, seed=seed, model=model, loss="ce", lr=lr, clip=clip)


def train_recall_side_by_side(cell, delay, seeds, **settings):
    """:func:`train_recall` for every seed in ``seeds``, the models trained side by side.

    One wide layer holds all the seeds' models (:mod:`lstm_lessons.training.wide`), so
    model k is ``train_recall(cell, delay, seed=seeds[k], **settings)``'s model, up to
    float32 rounding, in less time for the simple RNN and the GRU. Returns a list of
    :class:`~lstm_lessons.training.harness.Fit`.
    """
    check_int("delay", delay, 0)
    defaults = dict(train_recall.__kwdefaults__)
    del defaults["seed"]
    unknown = sorted(set(settings) - set(defaults))
    if unknown:
        raise TypeError(f"train_recall_side_by_side: expected settings among {sorted(defaults)}, "
                        f"got {unknown}")  # fmt: skip
    opts = defaults | settings
    check_int("batch_size", opts["batch_size"])
    models = [
        recall_model(cell, n_symbols=opts["n_symbols"], hidden_size=opts["hidden_size"], seed=s,
                     forget_bias=opts["forget_bias"], input_bias=opts["input_bias"])
        for s in seeds
    ]  # fmt: skip

    def task(rng):
        return tasks.delayed_recall(opts["batch_size"], delay, n_symbols=opts["n_symbols"], rng=rng)

    return fit_side_by_side(task, models, seeds, opts["steps"], loss="ce", lr=opts["lr"],
                            clip=opts["clip"])  # fmt: skip


def recall_accuracy(model, delay, *, n_symbols=4, n=512, seed=HELD_OUT_SEED):
    """Fraction of ``n`` held-out sequences at ``delay`` whose symbol ``model`` names."""
    check_int("delay", delay, 0)
    check_int("n", n, 1)
    x, y = tasks.delayed_recall(n, delay, n_symbols=n_symbols, rng=seed)
    return evaluate(model, x, y, loss="ce")["accuracy"]


class RecallSweep(NamedTuple):
    """Results of :func:`accuracy_vs_delay`.

    ``accuracy[cell]`` is an array (S, L): one row per seed in ``seeds``, one
    column per delay in ``delays``. ``models[(cell, delay, seed)]`` is the
    trained model of that run. ``chance`` = 1/K is the accuracy of guessing.
    """

    delays: tuple
    seeds: tuple
    accuracy: dict
    models: dict
    chance: float


def accuracy_vs_delay(cells=("rnn", "lstm"), delays=(0, 10, 20, 40), seeds=(0, 1, 2), **settings):
    """Train and test every cell at every delay with every seed.

    ``settings`` go to :func:`train_recall` (``n_symbols`` to the test as
    well). Every run starts from its own seed's weights and data, so the
    cells of one seed see the same batches.
    """
    cells, delays, seeds = tuple(cells), tuple(delays), tuple(seeds)
    for cell in cells:
        _check_cell(cell)
    for delay in delays:
        check_int("delay", delay, 0)
    if not (cells and delays and seeds):
        raise ValueError(
            f"cells, delays, seeds: expected one or more of each, got {cells}, {delays}, {seeds}"
        )
    n_symbols = settings.get("n_symbols", 4)
    accuracy = {cell: np.empty((len(seeds), len(delays))) for cell in cells}
    models = {}
    for cell in cells:
        for d, delay in enumerate(delays):
            trained = _train_seeds(cell, delay, seeds, settings)
            for s, (seed, model) in enumerate(zip(seeds, trained, strict=True)):
                accuracy[cell][s, d] = recall_accuracy(model, delay, n_symbols=n_symbols)
                models[(cell, delay, seed)] = model
    return RecallSweep(delays, seeds, accuracy, models, 1.0 / n_symbols)


def _train_seeds(cell, delay, seeds, settings):
    """The models of ``train_recall(cell, delay, seed=s, **settings)`` for every seed s.

    The simple RNN's seeds train side by side in one wide layer
    (:mod:`~lstm_lessons.training.wide`: the same models, about 0.4x the time);
    the LSTM's gain nothing from it and train one after another.
    """
    if cell == "lstm" or len(seeds) == 1:
        return [train_recall(cell, delay, seed=seed, **settings)[0] for seed in seeds]
    return [f.model for f in train_recall_side_by_side(cell, delay, seeds, **settings)]


def _states(model, x):
    """Run the trained recurrent layer with the NumPy cells: {"h": (T, N, H)[, "c": ...]}."""
    x = np.asarray(x, dtype=np.float64)
    if model.cell == "lstm":
        hs, cs, _ = model.run_numpy(x)
        return {"h": hs, "c": cs}
    N, H = x.shape[1], model.rnn.hidden_size
    forward = rnn_forward if model.cell == "rnn" else gru_forward
    return {"h": forward(x, np.zeros((N, H)), model.numpy_params())[0]}


def symbol_trace(model, delay, *, n_symbols=4, n=256, seed=HELD_OUT_SEED):
    """How strongly the marked symbol still shows in the state, step by step.

    Draws ``n`` delayed-recall sequences, and a twin of each in which only the
    marked symbol differs (symbol k becomes k + 1 mod K). Returns a dict of
    arrays of shape (T,): for each state (``"h"``, and ``"c"`` for an LSTM),
    the mean over sequences of ||state_t - twin state_t||, t = 1..T. A
    distance near 0 at step t means the state no longer says which symbol
    was shown.
    """
    if not isinstance(model, SequenceModel):
        raise TypeError(f"model: expected a SequenceModel, got {type(model).__name__}")
    check_int("delay", delay, 0)
    check_int("n", n, 1)
    K = n_symbols
    x, y = tasks.delayed_recall(n, delay, n_symbols=K, rng=seed)
    if x.shape[2] != model.rnn.input_size:
        raise ValueError(
            f"n_symbols: the model reads {model.rnn.input_size - 2} symbols, got {n_symbols!r}"
        )
    twin = x.copy()
    cols = np.arange(n)
    twin[0, cols, y] = 0.0
    twin[0, cols, (y + 1) % K] = 1.0
    a, b = _states(model, x), _states(model, twin)
    return {k: np.linalg.norm(a[k] - b[k], axis=2).mean(axis=1) for k in a}
