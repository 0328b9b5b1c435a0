r"""Checks for the exercise set of the appendix "Inspect your own network".

    check                  the student's answer
    check_half_life        half_life(f_mean) -> n (H,), the forget gate's half-life in steps
    check_carousel_units   carousel_units(f, i) -> the indices of the carousel units

Shapes: T steps, N sequences, H units. The references restate the inspector's
definitions (:mod:`lstm_lessons.inspect.report`, which the homework layer does not
import; ``tests/test_checks_inspection.py`` holds them equal):

- the half-life of a unit whose mean forget gate is :math:`\bar f` is
  :math:`n_{1/2} = -\ln 2 / \ln \bar f`, infinite at :math:`\bar f = 1` and 0 at 0;
  a mean outside [0, 1] is refused with a ValueError, and NaN (a mean of nothing)
  gives NaN;
- a unit is a carousel when f > :data:`CAROUSEL_F` and i < :data:`CAROUSEL_I` at
  the same step, at more than :data:`CAROUSEL_SHARE` of its T * N steps.

The check of ``carousel_units`` builds its gate arrays itself (:func:`carousel_case`):
random gates with one unit planted for each way to misread the rule, so that each
misreading gives another set of units.
"""

import numbers

import numpy as np

from ..checks.calling import call, describe, display_name, fail, refuse_package_call
from ..checks.report import diagnose, verdict
from ..language import tr

#: A carousel step: the forget gate above this ...
CAROUSEL_F = 0.95
#: ... and the input gate below this, at the same step.
CAROUSEL_I = 0.05
#: A carousel unit is a carousel at more than this share of its steps.
CAROUSEL_SHARE = 0.5


def reference_half_life(f_mean):
    """-ln 2 / ln f_mean for a float64 array of means in [0, 1]: inf at 1, 0 at 0, NaN at NaN."""
    f_mean = np.asarray(f_mean, dtype=np.float64)
    with np.errstate(divide="ignore"):
        steps = np.log(2.0) / -np.log(f_mean)
    return np.where(f_mean == 1.0, np.inf, steps)


def half_life_case(H, seed, edges=False):
    """Mean forget gates (H,) with half-lives from a tenth of a step to thousands.

    With ``edges`` the last entries are 0.5, values near 1, 0, then 1 and NaN (in that
    order: the finite answers come first).
    """
    rng = np.random.default_rng(seed)
    f = 1.0 - 10.0 ** rng.uniform(-4.0, -0.05, H)
    if edges:
        f[-7:] = [0.5, 0.999, 1.0 - 1e-9, np.nextafter(1.0, 0.0), 0.0, 1.0, np.nan]
    return f


def _half_life_mistakes(f):
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_f = np.log(f)
        return {
            tr(
                "this is -1 / ln f, the time constant (the steps to fall to 1/e of the content), "
                "or log2(2) over ln f: the half-life needs one logarithm throughout, "
                "-ln 2 / ln f."
            ): -1.0 / ln_f,
            tr(
                "you mixed logarithms: ln 2 over log2(f). Use one logarithm throughout: "
                "-ln 2 / ln f (or -1 / log2(f))."
            ): -np.log(2.0) / np.log2(f),
            tr(
                "your half-lives are negative: ln f < 0 for f < 1, so the formula needs its minus "
                "sign, -ln 2 / ln f."
            ): np.log(2.0) / ln_f,
            tr(
                "this is upside down: it is -ln f / ln 2, the halvings per step; the half-life is "
                "its inverse, -ln 2 / ln f."
            ): -ln_f / np.log(2.0),
            tr(
                "ln 2 / (1 - f) is an approximation that holds only for f near 1; use the "
                "logarithm, -ln 2 / ln f."
            ): np.log(2.0) / (1.0 - f),
            tr(
                "1 / (1 - f) is the mean time a content survives, not its half-life: -ln 2 / ln f."
            ): 1.0 / (1.0 - f),
        }


def _special(got, f, name):
    """The entries whose answer is not a finite number: inf at f = 1, NaN at NaN."""
    for k in np.flatnonzero(f == 1.0):
        if not (np.isinf(got[k]) and got[k] > 0):
            fail(
                tr(
                    "Your {name} gives {got} for f_mean[{k}] = 1.0; expected inf. A unit whose "
                    "mean forget gate is 1 never forgets: ln 1 = 0, so the formula divides by "
                    "zero there; return np.inf at f_mean == 1.",
                    name=name,
                    got=float(got[k]),
                    k=k,
                )
            )
    for k in np.flatnonzero(np.isnan(f)):
        if not np.isnan(got[k]):
            fail(
                tr(
                    "Your {name} gives {got} for f_mean[{k}] = nan; expected nan. A mean of "
                    "nothing (NaN) has no half-life: let the NaN through, as -ln 2 / ln(nan) does.",
                    name=name,
                    got=float(got[k]),
                    k=k,
                )
            )


def _finite_where_expected(got, expected, f, name):
    """A half-life that should be finite and is not: where, and which mistake gives that."""
    bad = ~np.isfinite(got)
    if not bad.any():
        return
    k = int(np.flatnonzero(bad)[0])
    ok = ~bad
    cause = diagnose(
        got[ok], {m: v[ok] for m, v in _half_life_mistakes(f).items() if np.isfinite(v[ok]).all()}
    )
    message = tr(
        "Your {name} gives {got} for f_mean[{k}] = {f!r}; expected {expected:.6g}, a finite "
        "number of steps ({n_bad} of {n} such entries).",
        name=name,
        got=float(got[k]),
        k=k,
        f=float(f[k]),
        expected=expected[k],
        n_bad=int(bad.sum()),
        n=len(got),
    )
    if cause:
        message += "\n" + tr("Likely cause: {cause}", cause=cause)
    fail(message)


def _refuses_out_of_range(half_life, f, name):
    """The function must raise a ValueError with a message for a mean outside [0, 1]."""
    for bad in (1.25, -0.1):
        f_bad = f.copy()
        f_bad[0] = bad
        try:
            got = half_life(f_bad.copy())
        except ValueError as exc:
            if not str(exc).strip():
                fail(
                    tr(
                        "Your {name} raised a ValueError without a message for f_mean[0] = {bad}; "
                        "say what was expected and what came, e.g. "
                        "'f_mean: expected values in [0, 1], got ...'.",
                        name=name,
                        bad=bad,
                    )
                )
            continue
        except Exception as exc:
            fail(
                tr(
                    "Your {name} raised {error} for f_mean[0] = {bad}; expected a ValueError (a "
                    "mean gate outside [0, 1] is a bad value, not a bad type).",
                    name=name,
                    error=type(exc).__name__,
                    bad=bad,
                )
            )
        fail(
            tr(
                "Your {name} returned {got} for f_mean[0] = {bad}, which is no mean of a gate (a "
                "gate lies between 0 and 1); expected it to raise a ValueError saying so. Note "
                "that NaN must still give NaN: test f_mean < 0 or f_mean > 1, comparisons that "
                "are False for NaN.",
                name=name,
                got=describe(got),
                bad=bad,
            )
        )


def check_half_life(half_life, cases=((12, 0, True),)):
    """Check ``half_life(f_mean) -> n`` on mean forget gates (H,): -ln 2 / ln f, inf at 1.

    Each case is (H, seed, edges); see :func:`half_life_case`. Then a mean outside
    [0, 1] must raise a ValueError with a message, and NaN must give NaN.
    """
    name = display_name(half_life, "half_life")
    refuse_package_call(half_life, ("half_life",), name)
    for H, seed, edges in cases:
        f = half_life_case(H, seed, edges)
        has_nan = bool(np.isnan(f).any())
        nan_hint = (
            lambda e, has_nan=has_nan: isinstance(e, ValueError) and has_nan,
            tr(
                "f_mean[{k}] is NaN, which is not a value outside [0, 1]: NaN must give NaN. A "
                "comparison with NaN is False, so test f_mean < 0 or f_mean > 1 (not "
                "'not 0 <= f_mean <= 1').",
                k=len(f) - 1,
            ),
        )
        got = call(half_life, {"f_mean": f}, name=name, hints=(nan_hint,))
        expected = reference_half_life(f)
        if not isinstance(got, np.ndarray) or got.shape != f.shape or got.dtype.kind != "f":
            if isinstance(got, np.ndarray) and got.shape == f.shape:
                fail(
                    tr(
                        "Your {name} returned an array of dtype {dtype}; expected float64 "
                        "half-lives (a number of steps need not be whole).",
                        name=name,
                        dtype=got.dtype,
                    )
                )
            fail(
                tr(
                    "Your {name} returned {got} for f_mean of shape {shape}; expected a NumPy "
                    "array of shape {shape}, one half-life per unit.",
                    name=name,
                    got=describe(got),
                    shape=f.shape,
                )
            )
        _special(got, f, name)
        finite = np.isfinite(expected)  # the finite answers come first (half_life_case)
        n = int(finite.sum())
        assert finite[:n].all()
        _finite_where_expected(got[:n], expected[:n], f[:n], name)
        verdict(
            f"{name}(f_mean)",
            got[:n],
            expected[:n],
            "n_half",
            candidates=lambda f=f[:n]: _half_life_mistakes(f),
            recipe="n = -ln 2 / ln f_mean; inf where f_mean == 1.",
        )
        _refuses_out_of_range(half_life, f, name)
    return tr("{name}: passed.", name=name)


def reference_carousel_units(f, i):
    """The units, ascending, with f > CAROUSEL_F and i < CAROUSEL_I at over CAROUSEL_SHARE."""
    holds = (f > CAROUSEL_F) & (i < CAROUSEL_I)  # (T, N, H)
    return [int(u) for u in np.flatnonzero(holds.mean(axis=(0, 1)) > CAROUSEL_SHARE)]


#: The units that :func:`carousel_case` plants: (kind, whether it is a carousel).
PLANTED = (
    ("always", True),  # holds at every step
    ("clear", True),  # holds at 80 % of the steps of every sequence
    ("low_mean", True),  # holds at 60 %, f = 0.3 elsewhere: its mean f is far below 0.95
    ("some_sequences", True),  # holds in every step of 3 sequences of 5, never in the rest
    ("exactly_half", False),  # holds at exactly half of the steps
    ("f_at_threshold", False),  # f = 0.95 exactly (and i small) at 70 % of the steps
    ("i_at_threshold", False),  # i = 0.05 exactly (and f large) at 70 % of the steps
    ("apart", False),  # f high at 60 % of the steps, i low at another 60 %, both at 20 %
    ("one_sequence", False),  # holds in every step of 1 sequence of 5
    ("swapped", False),  # f < 0.05 and i > 0.95 at 80 % of the steps
    ("rare", False),  # holds at 10 % of the steps
    ("high_mean", False),  # f = 0.999 at 45 %, 0.94 elsewhere, i small: mean f above 0.95
)


def carousel_case(T, N, H, seed):
    """Gate arrays f, i (T, N, H), float64, with the units of :data:`PLANTED` at random places.

    Returns ``(f, i, planted)``, ``planted`` mapping each kind to its unit. The other
    units are background: sigmoids of normal pre-activations, rarely carousels.
    ``T * N`` must be even (a unit holds at exactly half of the steps) and ``N`` a
    multiple of 5, ``H`` at least the number of kinds.
    """
    if T * N % 2 or N % 5 or H < len(PLANTED):
        raise ValueError(
            f"carousel_case: expected T * N even, N a multiple of 5 and H >= {len(PLANTED)}, "
            f"got T={T}, N={N}, H={H}"
        )
    rng = np.random.default_rng(seed)
    f = 1.0 / (1.0 + np.exp(-rng.normal(1.0, 1.5, (T, N, H))))  # sigmoid
    i = 1.0 / (1.0 + np.exp(-rng.normal(0.0, 1.5, (T, N, H))))
    units = rng.permutation(H)[: len(PLANTED)]
    planted = {kind: int(u) for (kind, _), u in zip(PLANTED, units, strict=True)}
    S = T * N

    def steps(share):
        """A random boolean mask (T, N) of round(share * S) steps."""
        mask = np.zeros(S, dtype=bool)
        mask[rng.permutation(S)[: round(share * S)]] = True
        return mask.reshape(T, N)

    def steps_each(share):
        """A boolean mask (T, N) of round(share * T) random steps in every sequence."""
        mask = np.zeros((T, N), dtype=bool)
        for n in range(N):
            mask[rng.permutation(T)[: round(share * T)], n] = True
        return mask

    def hold(u, mask, f_value=None, i_value=None):
        k = int(mask.sum())
        f[:, :, u][mask] = rng.uniform(0.96, 1.0, k) if f_value is None else f_value
        i[:, :, u][mask] = rng.uniform(0.0, 0.04, k) if i_value is None else i_value
        f[:, :, u][~mask] = np.minimum(f[:, :, u][~mask], 0.9)  # no carousel step elsewhere

    hold(planted["always"], np.ones((T, N), dtype=bool))
    hold(planted["clear"], steps_each(0.8))
    mask = steps(0.6)
    hold(planted["low_mean"], mask)
    f[:, :, planted["low_mean"]][~mask] = 0.3
    by_sequence = np.zeros((T, N), dtype=bool)
    by_sequence[:, rng.permutation(N)[: 3 * N // 5]] = True
    hold(planted["some_sequences"], by_sequence)
    hold(planted["exactly_half"], steps(0.5))
    hold(planted["f_at_threshold"], steps(0.7), f_value=CAROUSEL_F)
    hold(planted["i_at_threshold"], steps(0.7), i_value=CAROUSEL_I)
    u = planted["apart"]
    order = rng.permutation(S)
    f_high, i_low = np.zeros(S, dtype=bool), np.zeros(S, dtype=bool)
    f_high[order[: round(0.6 * S)]] = True
    i_low[order[round(0.4 * S) :]] = True
    f[:, :, u] = np.where(f_high.reshape(T, N), rng.uniform(0.96, 1.0, (T, N)), 0.5)
    i[:, :, u] = np.where(i_low.reshape(T, N), rng.uniform(0.0, 0.04, (T, N)), 0.5)
    by_sequence = np.zeros((T, N), dtype=bool)
    by_sequence[:, rng.permutation(N)[: N // 5]] = True
    hold(planted["one_sequence"], by_sequence)
    u = planted["swapped"]
    mask = steps(0.8)
    f[:, :, u][mask] = rng.uniform(0.0, 0.04, int(mask.sum()))
    i[:, :, u][mask] = rng.uniform(0.96, 1.0, int(mask.sum()))
    hold(planted["rare"], steps(0.1))
    u = planted["high_mean"]
    f[:, :, u] = np.where(steps(0.45), 0.999, 0.94)
    i[:, :, u] = rng.uniform(0.0, 0.04, (T, N))
    # Background units must not hold at over 40 % of their steps: ordinary units, not near-misses.
    share = ((f > CAROUSEL_F) & (i < CAROUSEL_I)).mean(axis=(0, 1))
    background = np.setdiff1d(np.arange(H), units)
    assert (share[background] < 0.4).all()
    return f, i, planted


def _carousel_mistakes(f, i):
    """What the common misreadings of the rule give on f, i: {diagnosis: units}."""

    def units_of(mask):
        return [int(u) for u in np.flatnonzero(mask)]

    holds = (f > CAROUSEL_F) & (i < CAROUSEL_I)
    share = holds.mean(axis=(0, 1))
    per_sequence = holds.mean(axis=0) > CAROUSEL_SHARE  # (N, H)
    return {
        tr(
            "you used >= where the rule says >: a forget gate of exactly 0.95 or an input gate of "
            "exactly 0.05 is not a carousel step, and a unit needs more than half of its steps, "
            "not half."
        ): units_of(((f >= CAROUSEL_F) & (i <= CAROUSEL_I)).mean(axis=(0, 1)) >= CAROUSEL_SHARE),
        tr(
            "you used f >= 0.95 and i <= 0.05: the rule is strict, f > 0.95 and i < 0.05."
        ): units_of(((f >= CAROUSEL_F) & (i <= CAROUSEL_I)).mean(axis=(0, 1)) > CAROUSEL_SHARE),
        tr(
            "a unit holding at exactly half of its steps is not a carousel: the rule asks for more "
            "than half (share > 0.5, not >= 0.5)."
        ): units_of(share >= CAROUSEL_SHARE),
        tr(
            "you asked for every step; the rule asks for more than half of the steps (share > 0.5)."
        ): units_of(holds.all(axis=(0, 1))),
        tr(
            "you asked for a single step; the rule asks for more than half of the steps "
            "(share > 0.5)."
        ): units_of(holds.any(axis=(0, 1))),
        tr(
            "you counted f > 0.95 and i < 0.05 separately; both must hold at the same step, and "
            "that joint condition at more than half of the steps."
        ): units_of(
            ((f > CAROUSEL_F).mean(axis=(0, 1)) > CAROUSEL_SHARE)
            & ((i < CAROUSEL_I).mean(axis=(0, 1)) > CAROUSEL_SHARE)
        ),
        tr(
            "you compared the mean gates (mean f > 0.95, mean i < 0.05); the rule counts the steps "
            "at which f > 0.95 and i < 0.05."
        ): units_of((f.mean(axis=(0, 1)) > CAROUSEL_F) & (i.mean(axis=(0, 1)) < CAROUSEL_I)),
        tr(
            "f and i are swapped: a carousel keeps its state (f > 0.95) and writes nothing new "
            "(i < 0.05)."
        ): units_of(((i > CAROUSEL_F) & (f < CAROUSEL_I)).mean(axis=(0, 1)) > CAROUSEL_SHARE),
        tr(
            "you asked for a majority in every sequence; the share is over all the steps of all "
            "the sequences together, mean over axes (0, 1)."
        ): units_of(per_sequence.all(axis=0)),
        tr(
            "you asked for a majority in some sequence; the share is over all the steps of all "
            "the sequences together, mean over axes (0, 1)."
        ): units_of(per_sequence.any(axis=0)),
    }


def _as_units(got, H, name):
    """The student's result as a sorted list of unit indices, or CheckFailed saying why not."""
    if isinstance(got, tuple) and len(got) == 1 and isinstance(got[0], np.ndarray):
        fail(
            tr(
                "Your {name} returned a tuple holding one array, as np.where(mask) or "
                "np.nonzero(mask) give; return the array of indices itself: np.flatnonzero(mask) "
                "or np.where(mask)[0].",
                name=name,
            )
        )
    if isinstance(got, np.ndarray) and got.dtype == bool:
        fail(
            tr(
                "Your {name} returned a boolean array of shape {shape}; expected the indices "
                "of the carousel units, e.g. np.flatnonzero(mask) for a mask of H entries.",
                name=name,
                shape=got.shape,
            )
        )
    if isinstance(got, np.ndarray) and got.ndim == 1:
        got = list(got)
    if not isinstance(got, (list, tuple)):
        fail(
            tr(
                "Your {name} returned {got}; expected the indices of the carousel units "
                "as a list or a 1-D array of integers (empty if there are none).",
                name=name,
                got=describe(got),
            )
        )
    units = []
    for u in got:
        if isinstance(u, (bool, np.bool_)) or not isinstance(u, (numbers.Integral, np.integer)):
            fail(
                tr(
                    "Your {name} returned {got} holding {item}; expected unit indices, whole "
                    "numbers from 0 to H - 1.",
                    name=name,
                    got=describe(got),
                    item=describe(u),
                )
            )
        if not 0 <= int(u) < H:
            fail(
                tr(
                    "Your {name} returned the unit index {unit}, but there are H = {H} units "
                    "(0 to {last}). Did you take the share over one axis only? It is over the "
                    "steps and the sequences together, axis=(0, 1).",
                    name=name,
                    unit=int(u),
                    H=H,
                    last=H - 1,
                )
            )
        units.append(int(u))
    return sorted(set(units))


def check_carousel_units(carousel_units, cases=((10, 5, 14, 0),)):
    """Check ``carousel_units(f, i) -> units`` on gate arrays (T, N, H) with planted units.

    Each case is (T, N, H, seed); see :func:`carousel_case`. The result may be a list
    or a 1-D integer array, in any order.
    """
    name = display_name(carousel_units, "carousel_units")
    refuse_package_call(carousel_units, ("unit_table", "carousel_units"), name)
    for T, N, H, seed in cases:
        f, i, _ = carousel_case(T, N, H, seed)
        got = _as_units(call(carousel_units, {"f": f, "i": i}, name=name), H, name)
        expected = reference_carousel_units(f, i)
        if got == expected:
            continue
        share = ((f > CAROUSEL_F) & (i < CAROUSEL_I)).mean(axis=(0, 1))
        lines = [
            tr(
                "Your {name}(f, i) for gates of shape (T, N, H) = {shape} is not right yet: "
                "it returned the units {units}.",
                name=name,
                shape=f.shape,
                units=got,
            )
        ]
        for u in sorted(set(expected) - set(got)):
            lines.append(
                tr(
                    "- unit {unit} is a carousel: f > {f_above} and i < {i_below} at the same "
                    "step at {share:.0%} of its {steps} steps.",
                    unit=u,
                    f_above=CAROUSEL_F,
                    i_below=CAROUSEL_I,
                    share=share[u],
                    steps=T * N,
                )
            )
        for u in sorted(set(got) - set(expected)):
            lines.append(
                tr(
                    "- unit {unit} is not: f > {f_above} and i < {i_below} at the same step at "
                    "only {share:.0%} of its steps, not more than half.",
                    unit=u,
                    f_above=CAROUSEL_F,
                    i_below=CAROUSEL_I,
                    share=share[u],
                )
            )
        cause = next((m for m, units in _carousel_mistakes(f, i).items() if units == got), None)
        if cause:
            lines.append(tr("Likely cause: {cause}", cause=cause))
        fail("\n".join(lines))
    return tr("{name}: passed.", name=name)
