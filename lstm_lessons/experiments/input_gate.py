"""Writing to the cell state: the input gate, the candidate, and what a trained LSTM stores.

Shapes: N batch size, T number of steps, D input size, H hidden size, K
number of symbols in the delayed-recall task (:func:`lstm_lessons.training.tasks.delayed_recall`,
whose inputs have D = K + 2 channels: K symbols, the marker, the query).

The write of one step (Hochreiter & Schmidhuber 1997; Gers, Schmidhuber &
Cummins 2000), in the symbols of :mod:`lstm_lessons.cells.lstm`:

    g   = tanh(a_g)                  candidate: what could be written, in (-1, 1)
    i   = sigma(a_i)                 input gate: how much of it is written, in (0, 1)
    c   = f * c_prev + i * g         the write i * g is added to what f keeps

Inside:

- :func:`latch_params`: a hand-wired cell that solves delayed recall the
  textbook way: unit k stores symbol k; the input gate opens only at the
  marker, the forget gate stays at 1 - 5e-5 throughout.
- :func:`train_recall_model`: trains a :class:`~lstm_lessons.training.loop.SequenceModel`
  on delayed recall, seeded, in a few seconds.
- :func:`separation`: the fraction of a quantity's variance that a label
  explains (eta squared), unit by unit.
- :func:`storing_unit`: the unit whose cell state, just before the query,
  best separates the stored symbols.
- :func:`gate_summary`: that unit's gates at the marker and through the
  distractors, and how much of what it writes during the delay is explained
  by the stored symbol and how much by the distractor shown at that step.
"""

import numpy as np

from ..cells.validation import check_array, check_int
from ..pytorch.agreement import torch_gap  # noqa: F401  (chapter 5 checks the cell against torch)
from ..training import tasks
from ..training.harness import fit


def latch_params(n_symbols=4, gain=20.0):
    """A hand-wired cell for delayed recall: D = K + 2 inputs, H = K units, W_h = 0.

    With K = ``n_symbols`` and G = ``gain``, unit k stores symbol k:

        a_i = G * marker - G/2        i = sigma(+G/2) at the marker, sigma(-G/2) elsewhere
        a_f = + G/2                   f = sigma(G/2), a forget gate held open
        a_g = G/2 * symbol_k          g = tanh(G/2) ~ 1 when symbol k is shown, else 0
        a_o = + G/2                   o = sigma(G/2): the whole memory is visible

    With G = 20 the gates are 1 - 4.5e-5 and 4.5e-5, so after the marker
    c_k ~ 1 for the stored symbol and ~ 0 for the others, and the unit with
    the largest h at the query names the symbol. The hidden state does not
    feed back (W_h = 0): every gate reads the current input only.
    """
    K = check_int("n_symbols", n_symbols, 2)
    if not gain > 0:
        raise ValueError(f"gain: expected a positive number, got {gain!r}")
    D, H = K + 2, K
    W_x = np.zeros((D, 4 * H))
    W_h = np.zeros((H, 4 * H))
    b = np.zeros(4 * H)
    i_cols, f_cols, g_cols, o_cols = (slice(n * H, (n + 1) * H) for n in range(4))
    W_x[K, i_cols] = gain  # the marker channel opens every input gate
    b[i_cols] = -gain / 2
    b[f_cols] = gain / 2
    W_x[np.arange(K), np.arange(2 * H, 3 * H)] = gain / 2  # symbol k drives candidate k
    b[o_cols] = gain / 2
    return {"W_x": W_x, "W_h": W_h, "b": b}


def train_recall_model(
    delay=15,
    n_symbols=4,
    hidden_size=16,
    steps=400,
    forget_bias=2.0,
    lr=1e-2,
    clip=1.0,
    batch=64,
    seed=0,
):
    """Train an LSTM on delayed recall; returns the model and its training history.

    Each training step draws a fresh batch of ``batch`` sequences, seeded by
    ``seed`` and the step number, so the run is reproducible. The forget-gate
    bias starts at ``forget_bias`` (f = sigma(2) ~ 0.88 for the default), and
    the gradient norm is clipped at ``clip``: both make the run reliable. The
    history is a :class:`~lstm_lessons.training.loop.History`.
    """
    check_int("delay", delay)
    check_int("batch", batch)
    K = n_symbols
    return fit(
        lambda rng: tasks.delayed_recall(batch, delay, K, rng=rng),
        steps,
        seed=seed,
        loss="ce",
        lr=lr,
        clip=clip,
        input_size=K + 2,
        hidden_size=hidden_size,
        output_size=K,
        cell="lstm",
        forget_bias=forget_bias,
    )


def separation(values, labels, n_classes):
    """Fraction of the variance of each column of ``values`` that ``labels`` explain.

    values (N, H), labels (N,) integers in [0, n_classes). Returns (H,):
    eta squared = 1 - (mean within-class variance) / (total variance), 1 when
    the classes are perfectly apart, about 0 when the label tells nothing.
    Classes are weighted equally; a column with no variance at all gets 0.
    """
    values = np.asarray(values, dtype=np.float64)
    check_array("values", values, "NH")
    labels = np.asarray(labels)
    if labels.shape != (len(values),) or labels.dtype.kind not in "iu":
        raise ValueError(
            f"labels: expected an integer array of shape ({len(values)},), "
            f"got {labels.dtype} with shape {labels.shape}"
        )
    total = values.var(axis=0)  # (H,)
    within = np.mean(
        [values[labels == k].var(axis=0) for k in range(n_classes) if np.any(labels == k)], axis=0
    )
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, 1.0 - within / safe, 0.0)


def _n_symbols(x):
    check_array("x", x, "TND")
    K = x.shape[2] - 2
    if K < 2 or x.shape[0] < 3:
        raise ValueError(
            "x: expected delayed-recall inputs of shape (delay + 2, N, K + 2) with K >= 2 "
            f"and delay >= 1, got {x.shape}"
        )
    return K


def storing_unit(cs, y, n_symbols):
    """The unit whose cell state before the query best separates the symbols: (unit, eta2).

    cs (T, N, H) from the model's forward pass on delayed recall, y (N,)
    the symbols. ``cs[-2]`` is the cell state after the last distractor,
    the memory that the query will read. Returns the index of the unit with
    the largest :func:`separation` there, and the (H,) separations.
    """
    cs = np.asarray(cs, dtype=np.float64)
    check_array("cs", cs, "TNH")
    eta2 = separation(cs[-2], y, n_symbols)
    return int(np.argmax(eta2)), eta2


def gate_summary(cache, x, y, unit):
    """What one unit does through a delayed-recall sequence, as a dict of floats.

    ``cache`` comes from running the cell on ``x`` (delay + 2, N, K + 2);
    step 0 is the marker, steps 1..delay the distractors, the last step the
    query. ``unit`` is one unit for all sequences, or an (N,) integer array
    naming each sequence's own unit (for the latch, unit y[n] for sequence n).
    Means are over the N sequences (and over the delay steps):

    - ``i_marker``, ``i_delay``: the input gate at the marker and during the delay;
    - ``f_delay``, ``f_delay_min``: the forget gate during the delay, mean and minimum;
    - ``f_product``: the product of f over the delay (how much of c_0 would
      survive if nothing else were written), averaged over sequences;
    - ``write_marker``, ``write_delay``: the mean |i g| at the marker and during the delay;
    - ``write_by_stored``, ``write_by_distractor``: at each delay step, the
      fraction of the variance of the write i g explained by the stored
      symbol and by the distractor shown at that step, averaged over steps;
    - ``c_marker``, ``c_query``: mean |c| after the marker and before the query.
    """
    K = _n_symbols(x)
    N, H = cache.h.shape[1:]
    units = np.broadcast_to(np.asarray(unit), (N,))
    if units.dtype.kind not in "iu" or units.min() < 0 or units.max() >= H:
        raise ValueError(f"unit: expected an integer (or N={N} integers) in [0, {H}), got {unit!r}")
    cols = np.arange(N)
    i, f, g = (cache.gate(k)[:, cols, units] for k in "ifg")  # (T, N) each
    c = cache.c[1:, cols, units]  # (T, N)
    write = i * g
    delay = slice(1, len(x) - 1)
    distractor = x[delay, :, :K].argmax(axis=2)  # (delay, N)
    by_stored = [separation(w[:, None], y, K)[0] for w in write[delay]]
    by_distractor = [
        separation(w[:, None], d, K)[0] for w, d in zip(write[delay], distractor, strict=True)
    ]
    return {
        "i_marker": float(i[0].mean()),
        "i_delay": float(i[delay].mean()),
        "f_delay": float(f[delay].mean()),
        "f_delay_min": float(f[delay].min()),
        "f_product": float(np.prod(f[delay], axis=0).mean()),
        "write_marker": float(np.abs(write[0]).mean()),
        "write_delay": float(np.abs(write[delay]).mean()),
        "write_by_stored": float(np.mean(by_stored)),
        "write_by_distractor": float(np.mean(by_distractor)),
        "c_marker": float(np.abs(c[0]).mean()),
        "c_query": float(np.abs(c[-2]).mean()),
    }
