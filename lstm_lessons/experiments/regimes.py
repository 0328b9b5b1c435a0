"""Finance: an LSTM that tells a calm market from a volatile one, and what its gates do at a switch.

Shapes: T steps, N series, H hidden size.

The data are :func:`lstm_lessons.training.applied_tasks.regime_returns`: daily
returns whose standard deviation switches between a calm and a volatile
regime. At every step the network answers "how likely is it that the market
is volatile now?" (a ``SequenceModel(1, H, 1, readout="all")`` trained with
the squared error against the 0/1 regime). A good answer needs a memory of
recent volatility that is forgotten when the regime changes: the forget
gate's job.

- :func:`train_regime_model`, :func:`regime_accuracy`.
- :func:`rolling_baseline`: the classic answer, a threshold on the rolling
  standard deviation over the best window.
- :func:`gate_tracking`: how strongly each unit's gates follow the regime
  (correlation), and the gates averaged around the switches.
"""

import numpy as np

from ..cells.validation import check_int
from ..training.applied_tasks import regime_returns
from ..training.harness import HELD_OUT_SEED, batch_seed
from ..training.loop import train
from ..training.model import SequenceModel


def train_regime_model(*, hidden_size=8, T=200, steps=300, batch_size=32, lr=1e-2, seed=0):
    """Train a small LSTM to name the regime at every step; returns the model and its history."""
    for name, value in (
        ("hidden_size", hidden_size),
        ("T", T),
        ("steps", steps),
        ("batch_size", batch_size),
    ):
        check_int(name, value, 1)
    model = SequenceModel(1, hidden_size, 1, readout="all", forget_bias=1.0, seed=seed)

    def batches(step):
        x, regime, _ = regime_returns(batch_size, T, rng=batch_seed(seed, step))
        return x, regime[..., None].astype(np.float32)

    history = train(model, batches, steps, loss="mse", lr=lr, clip=1.0, seed=seed, progress=False)
    return model, history


def held_out(n=256, T=400, seed=HELD_OUT_SEED):
    """Held-out series: x (T, n, 1), regime (T, n), changes (T, n)."""
    return regime_returns(n, T, rng=seed)


def predict(model, x):
    """The model's estimate of P(volatile) at every step, (T, N)."""
    import torch

    with torch.no_grad():
        return model(torch.as_tensor(np.asarray(x, dtype=np.float32)))[..., 0].numpy()


def regime_accuracy(prob, regime, skip=20):
    """Fraction of steps after the first ``skip`` where ``prob > 0.5`` names the regime."""
    return float(((prob[skip:] > 0.5) == (regime[skip:] == 1)).mean())


def rolling_baseline(x, regime, windows=(5, 10, 20, 40), skip=20):
    """Best accuracy of "volatile if the rolling std over w steps exceeds a threshold".

    Window and threshold are both chosen on the data themselves, which favours
    the baseline. Returns (accuracy, window, threshold).
    """
    r = np.asarray(x)[..., 0]
    best = (0.0, None, None)
    for w in windows:
        check_int("window", w, 2)
        sq = np.cumsum(np.concatenate([np.zeros((1, r.shape[1])), r**2]), axis=0)
        s = np.cumsum(np.concatenate([np.zeros((1, r.shape[1])), r]), axis=0)
        steps = np.arange(1, len(r) + 1)[:, None]
        lo = np.maximum(steps - w, 0)
        count = steps - lo
        mean = (s[steps[:, 0]] - s[lo[:, 0]]) / count
        std = np.sqrt(np.maximum((sq[steps[:, 0]] - sq[lo[:, 0]]) / count - mean**2, 0))
        for threshold in np.linspace(0.5, 2.0, 31):
            acc = regime_accuracy((std > threshold).astype(float), regime, skip)
            if acc > best[0]:
                best = (acc, w, float(threshold))
    return best


def gate_tracking(cache, regime, changes, window=(-10, 30)):
    """How the gates follow the regime.

    Returns a dict with ``corr[k]`` (H,): each unit's correlation between gate
    k (one of "i", "f", "o") and the regime indicator over all steps and
    series; and ``triggered[k]`` (steps, H): gate k averaged over the switches
    into the volatile regime (``"up"``) and out of it (``"down"``), at offsets
    ``window[0] .. window[1] - 1`` from the switch, with ``offsets``.
    """
    out = {"corr": {}, "up": {}, "down": {}, "offsets": np.arange(*window)}
    reg = np.asarray(regime, dtype=float)
    T = reg.shape[0]
    events = {"up": [], "down": []}
    for t, n in zip(*np.nonzero(changes), strict=True):
        if t + window[0] >= 0 and t + window[1] <= T:
            events["up" if reg[t, n] == 1 else "down"].append((t, n))
    for k in "ifo":
        g = cache.gate(k)  # (T, N, H)
        gz = (g - g.mean((0, 1))) / (g.std((0, 1)) + 1e-12)
        rz = (reg - reg.mean()) / reg.std()
        out["corr"][k] = np.einsum("tnh,tn->h", gz, rz) / reg.size
        for kind in ("up", "down"):
            rows = [g[t + window[0] : t + window[1], n] for t, n in events[kind]]
            out[kind][k] = np.mean(rows, axis=0) if rows else None
    out["n_events"] = {kind: len(v) for kind, v in events.items()}
    return out
