"""Checks for the exercise sets of chapters 12 (the gates at work) and 13 (the LSTM in context).

    check                         the student's answer
    check_rolling_volatility      rolling_volatility(r, w) -> s (T,), std of the last w returns
    check_unit_correlations       unit_correlations(states, feature) -> r (H,), Pearson per unit
    check_lstm_param_count        lstm_param_count(D, H, num_layers, bidirectional) -> an int
    check_growth_exponent         growth_exponent(lengths, times) -> slope of log time on log T

Chapter 12: s_t is the population standard deviation (ddof 0) of r_{t-w+1}, ..., r_t,
over the steps that exist (the first w - 1 steps use fewer). The correlation of
unit k is the Pearson correlation of states[:, k] with the feature, 0 for a unit or
a feature that never varies. Chapter 13: a torch.nn.LSTM layer has 4 blocks of
H * D_in + H * H + 2 H parameters, D_in = D for the first layer and H (2 H when
bidirectional) above; a bidirectional layer has two such sets. The growth
exponent is the slope of the least-squares line through (log T, log time).
"""

import numbers

import numpy as np
import torch

from ..checks.calling import call, describe, display_name, fail
from ..checks.report import verdict
from ..language import tr


def _rolling_std(r, w, ddof=0, include_current=True):
    T = len(r)
    out = np.empty(T)
    for t in range(T):
        hi = t + 1 if include_current else t
        window = r[max(0, hi - w) : hi]
        out[t] = window.std(ddof=ddof) if len(window) > ddof else 0.0
    return out


def check_rolling_volatility(rolling_volatility, cases=((50, 5, 0), (30, 1, 1), (40, 12, 2))):
    """Check ``rolling_volatility(r, w) -> s``: population std of the last w returns, (T,)."""
    name = display_name(rolling_volatility, "rolling_volatility")
    for T, w, seed in cases:
        r = np.random.default_rng(seed).standard_normal(T) * np.linspace(0.5, 2.0, T)
        got = call(rolling_volatility, {"r": r, "w": w}, name=name)
        expected = _rolling_std(r, w)
        verdict(
            f"{name}(r, w={w})",
            np.asarray(got, dtype=float) if isinstance(got, (list, np.ndarray)) else got,
            expected,
            "s",
            candidates=lambda r=r, w=w: {
                tr(
                    "you used ddof=1 (the sample standard deviation); use np.std's default, "
                    "ddof=0, the spread of exactly these w returns."
                ): _rolling_std(r, w, ddof=1),
                tr(
                    "your window ends one step early: s_t should include r_t itself, "
                    "r[max(0, t - w + 1) : t + 1]."
                ): _rolling_std(r, w, include_current=False),
                tr(
                    "your window is one step too long: it should hold w returns, "
                    "r[max(0, t - w + 1) : t + 1]."
                ): _rolling_std(r, w + 1),
            },
            recipe="s[t] = np.std(r[max(0, t - w + 1) : t + 1]) for every t.",
        )
    return tr("{name}: passed.", name=name)


def _pearson(states, feature):
    s = states - states.mean(axis=0)
    f = feature - feature.mean()
    denom = np.sqrt((s**2).sum(axis=0) * (f**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, s.T @ f / np.where(denom > 0, denom, 1.0), 0.0)


def check_unit_correlations(unit_correlations, cases=((200, 5, 0), (50, 3, 1)), flat=False):
    """Check ``unit_correlations(states, feature) -> r``: Pearson correlation per unit, (H,).

    With ``flat``, one unit and then the feature are constant, and r must be 0 there.
    """
    name = display_name(unit_correlations, "unit_correlations")
    for T, H, seed in cases:
        rng = np.random.default_rng(seed)
        feature = rng.random(T)
        states = rng.standard_normal((T, H)) + np.outer(feature, np.arange(H) - H / 2)
        feature_used = feature
        if flat:
            states[:, 0] = 0.5
            for feature_used in (feature, np.ones(T)):
                got = call(
                    unit_correlations, {"states": states, "feature": feature_used}, name=name
                )
                verdict(
                    name,
                    got,
                    _pearson(states, feature_used),
                    "r",
                    recipe="r_k = 0 for a unit or a feature that never varies.",
                )
            continue
        got = call(unit_correlations, {"states": states, "feature": feature_used}, name=name)
        s, f = states - states.mean(0), feature - feature.mean()
        verdict(
            name,
            got,
            _pearson(states, feature),
            "r",
            candidates={
                tr(
                    "this is the covariance; divide by both standard deviations to get the "
                    "correlation."
                ): s.T @ f / T,
                tr("you did not subtract the means before multiplying."): (states.T @ feature)
                / np.sqrt((states**2).sum(0) * (feature**2).sum()),
            },
            recipe="r_k = sum((s_k - mean s_k)(f - mean f)) / sqrt(sum((s_k - mean s_k)^2) "
            "sum((f - mean f)^2)) for every unit k.",
        )
    return tr("{name}: passed.", name=name)


def _torch_count(D, H, layers, bidirectional):
    lstm = torch.nn.LSTM(D, H, num_layers=layers, bidirectional=bidirectional)
    return sum(p.numel() for p in lstm.parameters())


def check_lstm_param_count(
    lstm_param_count, cases=((3, 4, 1, False), (10, 7, 2, False), (5, 6, 1, True))
):
    """Check ``lstm_param_count(D, H, num_layers, bidirectional)`` against torch.nn.LSTM."""
    name = display_name(lstm_param_count, "lstm_param_count")
    for D, H, layers, bidir in cases:
        args = {"D": D, "H": H, "num_layers": layers, "bidirectional": bidir}
        got = call(lstm_param_count, args, name=name)
        if got is None or got is Ellipsis:
            fail(
                tr(
                    "{name} returned {got}: replace the ... with your code.",
                    name=name,
                    got=describe(got),
                )
            )
        if isinstance(got, bool) or not isinstance(got, (numbers.Integral, np.integer)):
            if not (isinstance(got, numbers.Real) and float(got).is_integer()):
                fail(
                    tr(
                        "{name} should return a whole number of parameters; got {got}.",
                        name=name,
                        got=describe(got),
                    )
                )
        expected = _torch_count(D, H, layers, bidir)
        if int(got) == expected:
            continue
        call_text = f"{name}({D}, {H}, num_layers={layers}, bidirectional={bidir})"
        dirs = 2 if bidir else 1
        causes = {
            4 * H * (D + H + 1) * dirs: tr(
                "torch keeps two bias vectors per block (bias_ih and bias_hh): 2 H per block, "
                "not H."
            ),
            4 * H * (D + H + 2) * dirs * layers: tr(
                "every layer above the first reads the hidden states of the one below, so its "
                "input size is H (2 H when bidirectional), not D."
            ),
            H * (D + H + 2) * dirs * layers: tr(
                "an LSTM has four blocks (i, f, g, o), each with its own weights."
            ),
        }
        if bidir:
            causes[4 * H * (D + H + 2) * layers] = tr(
                "a bidirectional layer has a second, backward set of weights: twice the parameters."
            )
        cause = causes.get(int(got))
        message = tr(
            "Your {call} returned {got}; torch.nn.LSTM has {expected}.",
            call=call_text,
            got=got,
            expected=expected,
        )
        if cause:
            message += "\n" + tr("Likely cause: {cause}", cause=cause)
        fail(message)
    return tr("{name}: passed.", name=name)


def check_growth_exponent(growth_exponent, cases=((1.0, 0), (2.0, 1), (1.5, 2))):
    """Check ``growth_exponent(lengths, times) -> slope`` on times that grow as T**p."""
    name = display_name(growth_exponent, "growth_exponent")
    for p, seed in cases:
        lengths = np.array([16, 32, 64, 128, 256, 512])
        noise = np.exp(0.05 * np.random.default_rng(seed).standard_normal(len(lengths)))
        times = 1e-5 * lengths**p * noise
        got = call(growth_exponent, {"lengths": lengths, "times": times}, name=name)
        if (
            isinstance(got, bool)
            or np.ndim(got) != 0
            or not isinstance(np.asarray(got).item(), numbers.Real)
        ):
            fail(
                tr(
                    "{name} should return one number, the slope; got {got}.",
                    name=name,
                    got=describe(got),
                )
            )
        expected = float(np.polyfit(np.log(lengths), np.log(times), 1)[0])
        if np.isclose(float(got), expected, rtol=1e-6, atol=1e-9):
            continue
        causes = {
            float(np.polyfit(lengths, times, 1)[0]): tr(
                "you fitted the times themselves; fit log(time) against log(T), whose slope is "
                "the exponent p of time ~ T^p."
            ),
            float(np.polyfit(np.log(times), np.log(lengths), 1)[0]): tr(
                "x and y are swapped: log(T) goes on the x axis, log(time) on the y axis."
            ),
        }
        cause = next((m for v, m in causes.items() if np.isclose(float(got), v, rtol=1e-6)), None)
        message = tr(
            "Your {name} returned {got:.4g} for times that grow as T^{p:g}; expected "
            "{expected:.4g}, the least-squares slope of log(time) against log(T).",
            name=name,
            got=float(got),
            p=p,
            expected=expected,
        )
        if cause:
            message += "\n" + tr("Likely cause: {cause}", cause=cause)
        fail(message)
    return tr("{name}: passed.", name=name)
