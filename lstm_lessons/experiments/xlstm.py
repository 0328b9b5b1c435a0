"""xLSTM against the LSTM: exponential gates (sLSTM, claim C28) and a matrix memory (mLSTM, C29).

Shapes: T steps, N batch, D input size, H hidden size, K symbols, d the mLSTM's head size.

Inside:

- :func:`overflow`: the sLSTM run in float32 with and without its stabiliser on a
  long sequence with an exponential forget gate that remembers (forget pre-activation
  about +1 at every step, so the unstabilised n_t grows like e^t): the step at which
  the plain cell's output stops being finite, and the stabilised output against the
  float64 reference.
- The most-relevant-item task (:func:`lstm_lessons.training.recall_tasks.most_relevant`)
  and its controls: :func:`chance`, :func:`last_item_accuracy`, the best rule that
  overwrites the stored item whenever an item's relevance passes a threshold
  (:func:`best_threshold_rule`: what an input gate that reads only the input can do
  with a sigmoid's all-or-nothing decision), and :func:`hand_set_slstm`: an sLSTM
  with weights set by hand (input gate exp(beta r), forget gate 1, no recurrent
  weights), whose c / n is the softmax over time of beta r: it keeps the most
  relevant item without comparing it with anything stored.
- :func:`train_relevance`: the LSTM and the sLSTM trained on the task, several seeds, and
  :func:`untrained_relevance`, the same networks untrained.
- Associative recall (:func:`lstm_lessons.training.recall_tasks.associative_recall`):
  :func:`recall_sizes` (the LSTMs matched to an mLSTM of head size d: by state size,
  2H = d^2 + d, the numbers in C and n; and by parameter count of the recurrent layer),
  :func:`majority_value_accuracy` (the best rule that ignores the query),
  :func:`train_recall` and :func:`untrained_recall`.

Every run is seeded by the harness (:mod:`lstm_lessons.training.harness`) and scored
on held-out data; ``scripts/ch15_xlstm.py`` stores the trained runs in
``data/ch15_xlstm.json`` and ``tests/test_claims_ch15.py`` re-runs a slice.
"""

import json
from pathlib import Path

import numpy as np
import torch

from ..cells.slstm import FLOAT32_EXP_LIMIT, init_slstm_params, slstm_forward
from ..cells.validation import check_int, check_positive
from ..training import harness
from ..training.model import SequenceModel
from ..training.recall_tasks import associative_recall, most_relevant

RESULTS_FILE = Path(__file__).resolve().parent / "data" / "ch15_xlstm.json"
#: The most-relevant-item task and its training (C28).
RELEVANCE = dict(T=10, n_symbols=8, batch=64, hidden_size=16, steps=1000, lr=1e-2, seeds=(0, 1, 2))
#: Associative recall (C29): the pair counts, the mLSTM's head sizes, the training.
RECALL = dict(
    pairs=(2, 4, 8), n_keys=16, n_values=8, head_size=8, head_sizes=(4, 8, 16), batch=64,
    steps=1000, lr=1e-2, seeds=(0, 1, 2),
)  # fmt: skip
#: The thresholds the threshold rule tries.
THRESHOLDS = np.linspace(0.0, 0.99, 100)
#: The longer training of the check that the comparisons are not only about speed of learning.
LONG_STEPS = 3000
#: Held-out batch size for every score.
N_TEST = 2000


def overflow(T=200, H=8, D=4, forget_bias=1.0, seed=0):
    """float32 overflow without the stabiliser; returns a dict of what was measured.

    The sLSTM has an exponential forget gate whose pre-activation is biased to
    ``forget_bias`` (remember), inputs are standard normal. Keys: ``first_nonfinite_step``
    (the first step whose plain output holds inf or nan), ``max_exponent`` (the largest
    exponent the plain cell takes, log n_t), ``first_wrong_step`` (the first step whose plain
    output is off by more than 1e-3: once n_t is inf and c_t not yet, h_t = o c / inf = 0,
    finite and wrong), ``stabilised_error`` (the float32
    stabilised output against float64, largest absolute difference over all steps),
    ``plain_error_before`` (the float32 plain output against float64 before it overflows)
    and ``float64_plain_vs_stabilised`` (both cells in float64, where neither overflows).
    """
    params = init_slstm_params(D, H, seed=seed)
    params["b"][2 * H : 3 * H] = forget_bias
    x = np.random.default_rng(seed).normal(size=(T, 1, D))
    reference, ref_cache = slstm_forward(x, params, forget="exp")
    plain64, plain_cache = slstm_forward(x, params, forget="exp", stabilise=False)
    single = {k: v.astype(np.float32) for k, v in params.items()}
    plain, _ = slstm_forward(x.astype(np.float32), single, forget="exp", stabilise=False)
    stable, _ = slstm_forward(x.astype(np.float32), single, forget="exp")
    with np.errstate(invalid="ignore"):
        error = np.abs(plain - reference).max(axis=(1, 2))  # (T,), nan where plain is nan
    wrong = ~(error < 1e-3)
    first = int(np.argmax(wrong)) if wrong.any() else None
    nonfinite = ~np.isfinite(plain).all(axis=(1, 2))
    return {
        "T": T,
        "first_wrong_step": first,
        "first_nonfinite_step": int(np.argmax(nonfinite)) if nonfinite.any() else None,
        "exp_limit": FLOAT32_EXP_LIMIT,
        "max_exponent": float(np.log(plain_cache.n[1:]).max()),
        "stabilised_error": float(np.abs(stable - reference).max()),
        "plain_error_before": float(error[:first].max()),
        "float64_plain_vs_stabilised": float(np.abs(plain64 - reference).max()),
        "stabiliser_max": float(ref_cache.m.max()),
    }


def chance(n_symbols=RELEVANCE["n_symbols"]):
    """The accuracy of guessing a symbol: 1 / K."""
    return 1.0 / n_symbols


def relevance_data(n=N_TEST, seed=harness.HELD_OUT_SEED, T=None, n_symbols=None):
    """The most-relevant-item task at the chapter's sizes: x (T, n, K + 1), y (n,)."""
    T = RELEVANCE["T"] if T is None else T
    K = RELEVANCE["n_symbols"] if n_symbols is None else n_symbols
    return most_relevant(n, T, n_symbols=K, rng=seed)


def last_item_accuracy(x, y):
    """Always name the last symbol shown."""
    K = x.shape[2] - 1
    return float(np.mean(x[-1, :, :K].argmax(axis=1) == y))


def threshold_rule(x, theta):
    """Keep the last symbol whose relevance passes ``theta`` (the first symbol if none does)."""
    K = x.shape[2] - 1
    symbols, relevance = x[:, :, :K].argmax(axis=2), x[:, :, K]  # (T, N)
    passed = relevance > theta
    passed[0] = True
    last = x.shape[0] - 1 - np.argmax(passed[::-1], axis=0)
    return symbols[last, np.arange(x.shape[1])]


def best_threshold_rule(thetas=THRESHOLDS):
    """The threshold chosen on validation data, and its held-out accuracy: (theta, accuracy)."""
    xv, yv = relevance_data(seed=harness.VALIDATION_SEED)
    scores = [np.mean(threshold_rule(xv, t) == yv) for t in thetas]
    theta = float(thetas[int(np.argmax(scores))])
    x, y = relevance_data()
    return theta, float(np.mean(threshold_rule(x, theta) == y))


def hand_set_slstm(beta, n_symbols=RELEVANCE["n_symbols"], gain=3.0, open_=20.0):
    """sLSTM parameters (D = K + 1, H = K) that keep the most relevant symbol.

    Unit k's candidate is tanh(gain) where symbol k is shown, else 0; every input gate
    reads beta times the relevance; the forget and output gates are held open
    (pre-activation ``open_``); R = 0. Then c / n is the average of the shown symbols
    weighted by softmax(beta r) over the steps so far.
    """
    check_positive("beta", beta)
    K = check_int("n_symbols", n_symbols, 2)
    params = {
        "W_x": np.zeros((K + 1, 4 * K)),
        "R": np.zeros((K, 4 * K)),
        "b": np.zeros(4 * K),
    }
    params["W_x"][:K, :K] = gain * np.eye(K)
    params["W_x"][K, K : 2 * K] = beta
    params["b"][2 * K :] = open_
    return params


def hand_set_accuracy(beta, stabilise=True, dtype=np.float64):
    """Held-out accuracy of :func:`hand_set_slstm`; nan outputs count as wrong."""
    x, y = relevance_data()
    params = {k: v.astype(dtype) for k, v in hand_set_slstm(beta).items()}
    hs, _ = slstm_forward(x.astype(dtype), params, stabilise=stabilise)
    finite = np.isfinite(hs[-1]).all(axis=1)
    return float(np.mean(finite & (np.nan_to_num(hs[-1]).argmax(axis=1) == y)))


def _model(cell, D, H, output_size, seed, options=None):
    model = SequenceModel(D, H, output_size, cell=cell, seed=seed, cell_options=options)
    if not hasattr(model.rnn, "input_size"):
        model.rnn.input_size = D  # harness.fit checks batch 0 against rnn.input_size
    return model


def _score(model, x, y):
    with torch.no_grad():
        return float((model(torch.as_tensor(x)).argmax(dim=1).numpy() == y).mean())


def train_relevance(cell, seed, steps=None):
    """Train the LSTM or the sLSTM on the most-relevant-item task; held-out accuracy."""
    c = RELEVANCE
    steps = c["steps"] if steps is None else steps
    K = c["n_symbols"]
    task = lambda rng: most_relevant(c["batch"], c["T"], n_symbols=K, rng=rng)  # noqa: E731
    model = _model(cell, K + 1, c["hidden_size"], K, seed)
    harness.fit(task, steps, seed=seed, model=model, loss="ce", lr=c["lr"])
    return _score(model, *relevance_data())


def untrained_relevance(cell, seed):
    """The control: the same network as :func:`train_relevance`, untrained; held-out accuracy."""
    c = RELEVANCE
    model = _model(cell, c["n_symbols"] + 1, c["hidden_size"], c["n_symbols"], seed)
    return _score(model, *relevance_data())


def lstm_parameters(D, H):
    """Parameters of an LSTM layer: 4H (D + H + 1) (one bias per gate)."""
    return 4 * H * (D + H + 1)


def mlstm_parameters(D, d):
    """Parameters of an mLSTM layer of head size d: (D + 1)(4d + 2)."""
    return (D + 1) * (4 * d + 2)


def recall_sizes(d, D=None):
    """The LSTM hidden sizes matched to an mLSTM of head size d: (by state, by parameters).

    By state: the LSTM carries h and c (2H numbers), the mLSTM C and n (d^2 + d; its
    scalar m only rescales them), so H = (d^2 + d) / 2. By parameters: the H whose
    LSTM layer has the count nearest the mLSTM layer's (the readouts are left out).
    """
    D = RECALL["n_keys"] + RECALL["n_values"] + 1 if D is None else D
    by_state = (d * d + d) // 2
    target = mlstm_parameters(D, d)
    by_params = min(range(1, 4 * d * d), key=lambda H: abs(lstm_parameters(D, H) - target))
    return by_state, by_params


def recall_data(pairs, n=N_TEST, seed=harness.HELD_OUT_SEED):
    """Associative recall at the chapter's sizes: x (pairs + 1, n, D), y (n,)."""
    c = RECALL
    return associative_recall(n, pairs, c["n_keys"], c["n_values"], rng=seed)


def majority_value_accuracy(pairs):
    """Name the value shown most often (the smallest on a tie), ignoring the query."""
    x, y = recall_data(pairs)
    K, V = RECALL["n_keys"], RECALL["n_values"]
    counts = x[:-1, :, K : K + V].sum(axis=0)  # (N, V)
    return float(np.mean(counts.argmax(axis=1) == y))


def train_recall(cell, hidden_size, pairs, seed, steps=None):
    """Train an LSTM or mLSTM on associative recall with ``pairs`` pairs; held-out accuracy."""
    c = RECALL
    steps = c["steps"] if steps is None else steps
    D = c["n_keys"] + c["n_values"] + 1
    task = lambda rng: associative_recall(  # noqa: E731
        c["batch"], pairs, c["n_keys"], c["n_values"], rng=rng
    )
    model = _model(cell, D, hidden_size, c["n_values"], seed)
    harness.fit(task, steps, seed=seed, model=model, loss="ce", lr=c["lr"])
    return _score(model, *recall_data(pairs))


def untrained_recall(cell, hidden_size, pairs, seed):
    """The control: the same network as :func:`train_recall`, untrained; held-out accuracy."""
    c = RECALL
    model = _model(cell, c["n_keys"] + c["n_values"] + 1, hidden_size, c["n_values"], seed)
    return _score(model, *recall_data(pairs))


def load_results(path=RESULTS_FILE):
    """The runs that ``scripts/ch15_xlstm.py`` stored, as a dict (per-seed held-out accuracies)."""
    return json.loads(Path(path).read_text())


def spread(values):
    """Mean, smallest and largest of a list of per-seed scores."""
    a = np.asarray(values, dtype=float)
    return {"mean": float(a.mean()), "min": float(a.min()), "max": float(a.max())}


__all__ = [
    "LONG_STEPS",
    "N_TEST",
    "RECALL",
    "RELEVANCE",
    "RESULTS_FILE",
    "best_threshold_rule",
    "chance",
    "hand_set_accuracy",
    "hand_set_slstm",
    "last_item_accuracy",
    "load_results",
    "lstm_parameters",
    "majority_value_accuracy",
    "mlstm_parameters",
    "overflow",
    "recall_data",
    "recall_sizes",
    "relevance_data",
    "spread",
    "threshold_rule",
    "train_recall",
    "train_relevance",
    "untrained_recall",
    "untrained_relevance",
]
