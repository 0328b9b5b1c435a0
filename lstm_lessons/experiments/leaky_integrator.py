"""The cell as a filter: leaky integrators, their lag-noise trade-off, and an LSTM that escapes it.

Shapes: N batch size, T number of steps, D input size, H hidden size, A
number of leaks tried at once.

With its gates held constant, the cell update of :mod:`lstm_lessons.cells.lstm`,

    c_t = f * c_{t-1} + i * g_t,

is a leaky integrator (:mod:`lstm_lessons.cells.leaky`), and with f = a, i = 1 - a
and g_t = x_t it is the exponential moving average (EMA)

    c_t = a * c_{t-1} + (1 - a) * x_t.

On a step of height 1 in white noise of standard deviation s, an EMA with
leak a lags and leaves noise by the textbook formulas

    lag  = ceil(log 0.1 / log a) - 1   steps after the step until c >= 0.9
    std  = s * sqrt((1 - a) / (1 + a))  in the steady state,

so no single a is both fast and smooth. An LSTM's gates depend on its input;
Gers, Schmidhuber & Cummins (2000) introduced the forget gate so that a cell
could reset itself, and the gates can open and close around a change.
With f < 1 and |g| <= 1, |c_t| <= i / (1 - f) whatever the input
(:func:`lstm_lessons.cells.leaky.leaky_bound`).

Inside:

- :func:`constant_gate_params`: an LSTM whose gates are constants, one unit per input channel.
- :func:`step_lag`, :func:`residual_noise`, :func:`tradeoff_sweep`: the
  lag and noise of EMAs, measured, beside the formulas above.
- :func:`best_ema`: the leak with the smallest mean squared error on given data.
- :func:`train_level_tracker`: an LSTM trained on
  :func:`lstm_lessons.training.tasks.piecewise_constant`.
- :func:`steps_since_change`, :func:`output_shares`, :func:`around_changes`:
  the trained LSTM's gates on stable stretches and right after change points.
- :func:`tracker_output`, :func:`lag_and_noise`: the trained LSTM's lag
  after a change and its noise on stable stretches, measured as for an EMA.
- :func:`greedy_drive`: an adversary that picks, at every step, the input
  that pushes one unit's cell state highest.
"""

import numpy as np

from ..cells.leaky import ema, residual_noise, step_lag
from ..cells.lstm import lstm_forward, lstm_step_forward
from ..cells.validation import check_array, check_int
from ..training import tasks
from ..training.harness import fit


def _logit(p):
    return np.log(p) - np.log1p(-p)


def _check_open_interval(name, values):
    values = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if values.ndim != 1 or not np.all((values > 0) & (values < 1)):
        raise ValueError(f"{name}: expected numbers strictly between 0 and 1, got {values}")
    return values


def constant_gate_params(f, i, variant="niaf", gain=1.0):
    """Parameters of a cell whose gates are the constants ``f`` and ``i`` (o = 1/2).

    ``f`` and ``i`` are numbers or (H,) arrays, strictly between 0 and 1;
    the cell has D = H inputs and unit k reads input channel k only. Every
    weight into the gates is zero and their biases are logit(f) and logit(i),
    so sigma gives f and i back (to rounding). The candidate is
    g = gain * x under ``variant="niaf"`` (no tanh), or tanh(gain * x) under
    ``"standard"``. W_h = 0, so the hidden state never feeds back.
    """
    f = _check_open_interval("f", f)
    i = _check_open_interval("i", i)
    if variant not in ("niaf", "standard"):
        raise ValueError(f"variant: expected 'niaf' or 'standard', got {variant!r}")
    f, i = np.broadcast_arrays(f, i)
    H = len(f)
    W_x = np.zeros((H, 4 * H))
    W_x[:, 2 * H : 3 * H] = gain * np.eye(H)  # unit k's candidate reads channel k
    b = np.concatenate([_logit(i), _logit(f), np.zeros(H), np.zeros(H)])  # blocks i, f, g, o
    return {"W_x": W_x, "W_h": np.zeros((H, 4 * H)), "b": b}


def tradeoff_sweep(leaks, noise=0.3, T=20_000, rng=0, frac=0.9):
    """Lag (to ``frac`` of a step) and residual noise of an EMA per leak, measured and by formula.

    Returns a dict of (A,) arrays: ``a``, ``lag`` (steps), ``noise`` (std),
    ``lag_formula`` and ``noise_formula``.
    """
    leaks = np.asarray(leaks, dtype=np.float64)
    if leaks.ndim != 1 or leaks.size == 0:
        raise ValueError(f"leaks: expected a 1-D array of leaks, got shape {leaks.shape}")
    lag = np.array([step_lag(a, frac) for a in leaks])
    resid = np.array([residual_noise(a, noise, T, rng) for a in leaks])
    with np.errstate(divide="ignore"):  # a = 0: log a = -inf, and the lag formula gives 0
        lag_formula = np.maximum(np.ceil(np.log(1 - frac) / np.log(leaks)) - 1, 0)
    noise_formula = noise * np.sqrt((1 - leaks) / (1 + leaks))
    return {
        "a": leaks,
        "lag": lag,
        "noise": resid,
        "lag_formula": lag_formula,
        "noise_formula": noise_formula,
    }


def best_ema(x, y, leaks):
    """The leak whose EMA of ``x`` is closest to ``y`` in mean squared error.

    x, y (T, N, 1) as from :func:`lstm_lessons.training.tasks.piecewise_constant`;
    ``leaks`` (A,). Every leak runs in one pass, as A parallel channels.
    Returns (best leak, its MSE, the (A,) MSEs).
    """
    check_array("x", np.asarray(x, dtype=np.float64), "TND")
    check_array("y", np.asarray(y, dtype=np.float64), "TND")
    if np.shape(x) != np.shape(y) or np.shape(x)[2] != 1:
        raise ValueError(
            f"x, y: expected two arrays of the same shape (T, N, 1), got {np.shape(x)} "
            f"and {np.shape(y)}"
        )
    leaks = np.asarray(leaks, dtype=np.float64)
    if leaks.ndim != 1 or np.any((leaks < 0) | (leaks > 1)):
        raise ValueError(f"leaks: expected a 1-D array of leaks in [0, 1], got {leaks}")
    x = np.asarray(x, dtype=np.float64)
    c = ema(np.broadcast_to(x, x.shape[:2] + leaks.shape), leaks)  # (T, N, A)
    mse = ((c - np.asarray(y, dtype=np.float64)) ** 2).mean(axis=(0, 1))  # (A,)
    k = int(np.argmin(mse))
    return float(leaks[k]), float(mse[k]), mse


def train_level_tracker(
    T=200,
    p_change=0.01,
    noise=0.3,
    hidden_size=8,
    steps=1000,
    forget_bias=2.0,
    lr=1e-2,
    clip=1.0,
    batch=32,
    seed=0,
):
    """Train an LSTM to output the clean level of a noisy piecewise-constant signal.

    A :class:`~lstm_lessons.training.loop.SequenceModel` with ``readout="all"``
    predicts the level at every step, with mean squared error. Each training
    step draws a fresh batch seeded by ``seed`` and the step number. Returns
    the model and its training :class:`~lstm_lessons.training.loop.History`.
    """
    check_int("T", T)
    check_int("batch", batch)

    def task(rng):
        x, y, _ = tasks.piecewise_constant(batch, T, p_change, noise, rng=rng)
        return x, y

    return fit(
        task,
        steps,
        seed=seed,
        loss="mse",
        lr=lr,
        clip=clip,
        input_size=1,
        hidden_size=hidden_size,
        output_size=1,
        readout="all",
        forget_bias=forget_bias,
    )


def steps_since_change(changes):
    """For each step, how many steps ago the level last changed: (T, N) ints.

    ``changes`` (T, N) booleans, True where a jump happened. Steps before the
    first change of a sequence get a very large number: nothing has changed
    there yet, so they count as stable.
    """
    changes = np.asarray(changes)
    if changes.ndim != 2 or changes.dtype != bool:
        raise ValueError(
            f"changes: expected a boolean array of shape (T, N), got {changes.dtype} "
            f"with shape {changes.shape}"
        )
    T = len(changes)
    t = np.arange(T)[:, None]
    last = np.maximum.accumulate(np.where(changes, t, -1), axis=0)  # (T, N)
    return np.where(last >= 0, t - last, np.iinfo(np.int64).max // 2)


def output_shares(readout_weight, hs):
    """Each unit's share of the variance of the output, w_k^2 var(h_k) / sum: (H,).

    ``readout_weight`` (H,) are the weights of a one-output linear readout,
    hs (T, N, H) the hidden states it reads. Units that the output hardly
    depends on get small shares, so a share-weighted average of a gate
    follows the units that matter.
    """
    hs = np.asarray(hs, dtype=np.float64)
    check_array("hs", hs, "TNH")
    w = np.asarray(readout_weight, dtype=np.float64).reshape(-1)
    if w.shape != hs.shape[2:]:
        raise ValueError(f"readout_weight: expected shape ({hs.shape[2]},), got {w.shape}")
    contribution = w**2 * hs.reshape(-1, hs.shape[2]).var(axis=0)
    return contribution / contribution.sum()


def around_changes(values, y, changes, min_jump=0.6, after=3, stable=20, lags=None, stat="mean"):
    """A per-step quantity on stable stretches, right after large changes, and around them.

    ``values`` (T, N), for example a gate averaged over units; ``y`` (T, N, 1)
    the clean level and ``changes`` (T, N) from
    :func:`lstm_lessons.training.tasks.piecewise_constant`. Only changes whose jump is
    at least ``min_jump`` count as large: a jump no bigger than the noise
    cannot be seen. ``stat`` is "mean" or "median". Returns a dict:

    - ``stable``: the statistic over steps at least ``stable`` steps after the last change;
    - ``after``: over steps 0 .. ``after`` - 1 after a large change (0 is the
      first step on the new level);
    - ``lags``, ``curve``: the statistic at each lag around a large change
      (an event-triggered average; default lags -3 .. 11). At a lag, a change
      counts only if no other change lies between it and the step looked at;
    - ``n_changes``: how many large changes there were.
    """
    values = np.asarray(values, dtype=np.float64)
    since = steps_since_change(changes)
    if values.shape != since.shape:
        raise ValueError(
            f"values: expected shape {since.shape} to match changes, got {values.shape}"
        )
    y = np.asarray(y, dtype=np.float64)
    if y.shape != since.shape + (1,):
        raise ValueError(f"y: expected shape {since.shape + (1,)} to match changes, got {y.shape}")
    if stat not in ("mean", "median"):
        raise ValueError(f"stat: expected 'mean' or 'median', got {stat!r}")
    summary = np.mean if stat == "mean" else np.median
    lags = np.arange(-3, 12) if lags is None else np.asarray(lags)
    T, N = since.shape
    jump = np.zeros((T, N))
    jump[1:] = np.abs(np.diff(y[:, :, 0], axis=0))
    latest = np.clip(np.arange(T)[:, None] - since, 0, T - 1)  # step of the latest change
    large = jump[latest, np.arange(N)] >= min_jump  # (T, N): the latest change was large
    steps, cols = np.nonzero(changes & (jump >= min_jump))
    curve = []
    for lag in lags:
        s = steps + lag
        ok = (s >= 0) & (s < T)
        if lag >= 0:  # still on the new level
            ok[ok] = since[s[ok], cols[ok]] == lag
        else:  # still on the old level (changes never happen at step 0, so steps >= 1)
            ok[ok] = since[steps[ok] - 1, cols[ok]] >= -lag - 1
        curve.append(summary(values[s[ok], cols[ok]]))
    return {
        "stable": float(summary(values[since >= stable])),
        "after": float(summary(values[large & (since < after)])),
        "lags": lags,
        "curve": np.array(curve),
        "n_changes": len(steps),
    }


def tracker_output(model, x):
    """The trained tracker's prediction, computed by the NumPy cell in float64: (T, N).

    x (T, N, 1). The same function as ``model(x)``, computed with the
    package's cell, whose cache then shows the gates behind each prediction.
    """
    hs, _, _ = model.run_numpy(np.asarray(x, dtype=np.float64))  # (T, N, H)
    W = model.readout.weight.detach().double().numpy()  # (1, H)
    b = model.readout.bias.detach().double().numpy()  # (1,)
    return (hs @ W.T + b)[..., 0]


def lag_and_noise(pred, y, changes, min_jump=0.6, stable=20, frac=0.9, horizon=40):
    """The two sides of the trade-off, measured on a piecewise-constant task: (lag, noise).

    pred (T, N) a filter's output, y (T, N, 1) the clean level, changes (T, N).

    - lag: after a large change (jump >= ``min_jump``), the output's progress
      from the old level to the new one, (pred - old) / (new - old), is
      averaged over all such changes, which averages the noise away; the lag
      is the first step (0 = the step of the change) at which the average
      reaches ``frac``, or ``horizon`` if it never does. Only changes whose
      new level lasts ``horizon`` steps count.
    - noise: the standard deviation of pred - y at least ``stable`` steps
      after the last change.

    On an isolated step without noise, an EMA's lag here is :func:`step_lag`;
    on the task, the same measurement is applied to every filter, so their
    numbers can be compared with each other.
    """
    pred = np.asarray(pred, dtype=np.float64)
    since = steps_since_change(changes)
    y = np.asarray(y, dtype=np.float64)
    if pred.shape != since.shape or y.shape != since.shape + (1,):
        raise ValueError(
            f"pred, y: expected shapes {since.shape} and {since.shape + (1,)} to match changes, "
            f"got {pred.shape} and {y.shape}"
        )
    level = y[:, :, 0]
    T = len(level)
    steps, cols = np.nonzero(changes)
    old, new = level[steps - 1, cols], level[steps, cols]
    end = steps + horizon
    keep = (np.abs(new - old) >= min_jump) & (end <= T)
    steps, cols, old, new = steps[keep], cols[keep], old[keep], new[keep]
    keep = np.array(
        [since[s + horizon - 1, c] == horizon - 1 for s, c in zip(steps, cols, strict=True)]
    )
    if not keep.any():
        raise ValueError("changes: no large change whose new level lasts `horizon` steps")
    steps, cols, old, new = steps[keep], cols[keep], old[keep], new[keep]
    k = np.arange(horizon)[:, None]
    progress = ((pred[steps + k, cols] - old) / (new - old)).mean(axis=1)  # (horizon,)
    reached = np.flatnonzero(progress >= frac)
    lag = int(reached[0]) if reached.size else horizon
    noise = float((pred - level)[since >= stable].std())
    return lag, noise


def greedy_drive(params, candidates, T, unit=0):
    """An adversary that picks, at each step, the candidate input maximising c_t of one unit.

    ``params`` of a standard cell with D inputs; ``candidates`` (M, D) are
    the inputs it may choose from. All M are tried from the current state
    in one batched step; the best is kept. Starts from h_0 = c_0 = 0.
    Returns the chosen inputs x (T, 1, D) and the cache of re-running the
    cell on them, whose gates give the f and i the adversary provoked.
    """
    candidates = np.asarray(candidates, dtype=np.float64)
    check_array("candidates", candidates, "MD")
    M, D = candidates.shape
    if D != params["W_x"].shape[0]:
        raise ValueError(f"candidates: expected D={params['W_x'].shape[0]} columns, got {D}")
    check_int("T", T)
    H = params["W_h"].shape[0]
    h, c = np.zeros((1, H)), np.zeros((1, H))
    chosen = np.empty((T, 1, D))
    for t in range(T):
        h_all, c_all, _ = lstm_step_forward(
            candidates, np.repeat(h, M, axis=0), np.repeat(c, M, axis=0), params
        )  # (M, H) each
        best = int(np.argmax(c_all[:, unit]))
        chosen[t, 0] = candidates[best]
        h, c = h_all[best : best + 1], c_all[best : best + 1]
    _, _, cache = lstm_forward(chosen, np.zeros((1, H)), np.zeros((1, H)), params)
    return chosen, cache
