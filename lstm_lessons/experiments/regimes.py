"""Finance: an LSTM that tells a calm market from a volatile one, and what its gates do at a switch.

Shapes: T steps, N series, H hidden size.

The data are :func:`lstm_lessons.training.applied_tasks.regime_returns`: daily
returns whose standard deviation switches between a calm and a volatile
regime, a two-state Markov chain (Hamilton, 1989). At every step the network
answers "how likely is it that the market is volatile now?": a
:class:`RegimeClassifier`, two logits per step trained with the cross-entropy
against the 0/1 regime, so that its softmax is a probability. A good answer
needs a memory of recent volatility that is forgotten when the regime
changes: the forget gate's job.

- :func:`train_regime_model`, :func:`predict`, :func:`regime_accuracy`,
  :func:`log_loss`.
- :func:`hamilton_filter`: the Bayes-optimal answer, the forward filter of the
  model that generates the data: no classifier of the returns seen so far
  can do better (the ceiling). With ``p_switch=0.5`` it has no memory and
  judges each day alone (the best function of the current return).
- :func:`rolling_baseline`: the classic rule, a threshold on the rolling
  standard deviation over the best window.
- :func:`gate_tracking`: how strongly each unit's gates follow the regime
  (correlation), and the gates averaged around the switches.
- :func:`seed_summary`: one seed's numbers, as ``scripts/run_gates_at_work.py`` stores them
  (:func:`stored_seeds` reads them).
"""

import json
from pathlib import Path

import numpy as np
import torch

from ..cells.validation import check_int
from ..training import harness
from ..training.applied_tasks import DRIFTS, P_SWITCH, SIGMAS, regime_returns
from ..training.harness import HELD_OUT_SEED
from ..training.model import SequenceModel

#: Days at the start of a series that no method is scored on: every method starts from even odds.
SKIP = 20


class RegimeClassifier(SequenceModel):
    """``SequenceModel(1, H, 2, readout="all")`` with its logits as (N, 2, T).

    The layout is the one torch's cross-entropy takes for a label at every step
    (targets (N, T)); the layer and the readout are the plain model's.
    """

    def __init__(self, hidden_size=8, seed=0):
        super().__init__(1, hidden_size, 2, readout="all", forget_bias=1.0, seed=seed)

    def forward(self, x):
        return super().forward(x).permute(1, 2, 0)  # (N, 2, T)


def _task(batch_size, T):
    def task(rng):
        x, regime, _ = regime_returns(batch_size, T, rng=rng)
        return x, regime.T  # (T, N, 1), (N, T)

    return task


def train_regime_model(*, hidden_size=8, T=200, steps=200, batch_size=32, lr=1e-2, seed=0):
    """Train a :class:`RegimeClassifier` on the harness's batches; returns the model and history."""
    for name, value in (("hidden_size", hidden_size), ("T", T), ("batch_size", batch_size)):
        check_int(name, value, 1)
    model = RegimeClassifier(hidden_size, seed=harness.check_seed(seed))
    fitted = harness.fit(
        _task(batch_size, T), steps, seed=seed, model=model, loss="ce", lr=lr, clip=1.0
    )
    return fitted.model, fitted.history


def held_out(n=256, T=400, seed=HELD_OUT_SEED):
    """Held-out series: x (T, n, 1), regime (T, n), changes (T, n)."""
    return regime_returns(n, T, rng=seed)


@torch.no_grad()
def predict(model, x):
    """The model's probability that the market is volatile at every step, (T, N), in [0, 1]."""
    logits = model(torch.as_tensor(np.asarray(x, dtype=np.float32)))  # (N, 2, T)
    return torch.softmax(logits, dim=1)[:, 1].T.numpy()


def hamilton_filter(x, p_switch=P_SWITCH, sigmas=SIGMAS, drifts=DRIFTS):
    """P(volatile at t | returns 1..t) of the two-state model that generates the data, (T, N).

    The forward filter of Hamilton (1989): at each step the belief is carried
    through the Markov chain (prior), then weighed by each regime's Gaussian
    likelihood of the new return (posterior); the first step starts from even
    odds, as :func:`~lstm_lessons.training.applied_tasks.regime_returns` does.
    Written in log-odds, where the update is a sum.
    """
    r = np.asarray(x, dtype=np.float64)[..., 0]  # (T, N)
    if not 0.0 < p_switch < 1.0:
        raise ValueError(f"p_switch: expected a probability in (0, 1), got {p_switch!r}")
    (s0, s1), (m0, m1) = sigmas, drifts
    evidence = (  # log N(r; m1, s1) - log N(r; m0, s0)
        -0.5 * ((r - m1) / s1) ** 2 + 0.5 * ((r - m0) / s0) ** 2 - np.log(s1 / s0)
    )
    posterior = np.empty_like(r)
    belief = np.full(r.shape[1], 0.5)
    for t in range(len(r)):
        prior = belief if t == 0 else belief * (1 - p_switch) + (1 - belief) * p_switch
        log_odds = np.log(prior) - np.log1p(-prior) + evidence[t]
        belief = 1.0 / (1.0 + np.exp(-log_odds))
        posterior[t] = belief
    return posterior


def regime_accuracy(prob, regime, skip=SKIP):
    """Fraction of steps after the first ``skip`` where ``prob > 0.5`` names the regime."""
    return float(((prob[skip:] > 0.5) == (regime[skip:] == 1)).mean())


def log_loss(prob, regime, skip=SKIP):
    """Mean cross-entropy of a probability of the volatile regime, in bits per step."""
    p = np.clip(np.asarray(prob, dtype=np.float64)[skip:], 1e-12, 1 - 1e-12)
    if p.min() < 0 or p.max() > 1:
        raise ValueError("prob: expected probabilities in [0, 1]")
    y = np.asarray(regime)[skip:] == 1
    return float(-np.mean(np.where(y, np.log2(p), np.log2(1 - p))))


def rolling_baseline(x, regime, windows=(5, 10, 20, 40), skip=SKIP):
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


def correlation(a, b):
    """Pearson correlation of two arrays of the same shape, over all their entries."""
    a = np.asarray(a, dtype=np.float64).ravel() - np.mean(a)
    b = np.asarray(b, dtype=np.float64).ravel() - np.mean(b)
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def gate_tracking(cache, regime, changes, window=(-10, 30)):
    """How the gates follow the regime.

    Returns a dict with ``corr[k]`` (H,): each unit's correlation between gate
    k (one of "i", "f", "o") and the regime indicator over all steps and
    series; and ``up[k]``, ``down[k]`` (steps, H): gate k averaged over the
    switches into the volatile regime and out of it, at offsets
    ``window[0] .. window[1] - 1`` from the switch, with ``offsets``;
    ``n_events`` counts the switches of each kind.
    """
    out = {"corr": {}, "up": {}, "down": {}, "offsets": np.arange(*window)}
    reg = np.asarray(regime, dtype=float)
    T = reg.shape[0]
    events = {"up": [], "down": []}
    for t, n in zip(*np.nonzero(changes), strict=True):
        if t + window[0] >= 0 and t + window[1] <= T:
            events["up" if reg[t, n] == 1 else "down"].append((t, n))
    rz = (reg - reg.mean()) / reg.std()
    for k in "ifo":
        g = cache.gate(k)  # (T, N, H)
        gz = (g - g.mean((0, 1))) / (g.std((0, 1)) + 1e-12)
        out["corr"][k] = np.einsum("tnh,tn->h", gz, rz) / reg.size
        for kind in ("up", "down"):
            rows = [g[t + window[0] : t + window[1], n] for t, n in events[kind]]
            out[kind][k] = np.mean(rows, axis=0) if rows else None
    out["n_events"] = {kind: len(v) for kind, v in events.items()}
    return out


def best_gates(corr):
    """For each gate k, the unit whose gate correlates most with the regime and that r."""
    return {k: (int(np.argmax(np.abs(r))), float(r[np.argmax(np.abs(r))])) for k, r in corr.items()}


def seed_summary(seed, *, steps=200, data=None):
    """One seed's trained network and its untrained twin, scored on the held-out series.

    Returns a dict: ``accuracy`` and ``bits`` (log loss) of the trained network,
    and ``gates`` / ``untrained_gates``: for each gate, the best-tracking unit and
    its correlation with the regime (see :func:`best_gates`). ``data`` is
    ``(x, regime, changes)``, by default :func:`held_out`.
    """
    x, regime, changes = held_out() if data is None else data
    model, _ = train_regime_model(steps=steps, seed=seed)
    prob = predict(model, x)
    out = {"seed": seed, "accuracy": regime_accuracy(prob, regime), "bits": log_loss(prob, regime)}
    for key, net in (("gates", model), ("untrained_gates", RegimeClassifier(seed=seed))):
        cache = net.run_numpy(x)[2]
        out[key] = best_gates(gate_tracking(cache, regime, changes)["corr"])
    return out


#: The seed study that ``scripts/run_gates_at_work.py`` writes.
RESULTS_FILE = Path(__file__).resolve().parent / "data" / "gates_at_work.json"


def stored_seeds(path=RESULTS_FILE):
    """The stored :func:`seed_summary` of every seed of the study, a list of dicts."""
    return json.loads(Path(path).read_text())["regimes"]
