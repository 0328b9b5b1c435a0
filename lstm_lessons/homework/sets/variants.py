"""Checks for the exercise sets of chapters 9 (coupled gates) and 11 (the ablation).

    check                       the student's answer
    check_count_params          count_params(cell, D, H) -> int, cell in standard, cifg, gru
    check_mean_and_spread       mean_and_spread(scores) -> (mean, sd)
    check_permutation_p         permutation_p(a, b) -> p
    check_ablation_p            p_nfg, a number computed from the stored ablation (the
                                first FIRST_SEEDS runs of NFG and the standard cell)

Parameter counts are those of the NumPy layout: one bias vector per gate block,
and the GRU's extra ``b_hn`` (H,). The spread is the sample standard deviation
(``ddof=1``). The permutation test is exact and two-sided: the share of all
C(n + m, n) splits of the pooled scores whose |difference of means| is at least
the observed one.
"""

import itertools
import json
import numbers
from pathlib import Path

import numpy as np

from ..checks.calling import call, describe, display_name, fail
from ..checks.report import unpack, verdict
from ..language import tr

CELLS = ("standard", "cifg", "gru")
BLOCKS = {"standard": 4, "cifg": 3, "gru": 3}
COUNT_CASES = ((6, 16), (3, 5), (10, 2))
# The stored ablation of chapter 11 (written by scripts/run_ablation.py), read as data: the
# homework layer may not import the experiments.
ABLATION_FILE = Path(__file__).resolve().parents[2] / "experiments" / "data" / "ablation.json"


def _count(cell, D, H):
    return BLOCKS[cell] * H * (D + H + 1) + (H if cell == "gru" else 0)


def _count_mistakes(cell, D, H):
    G = BLOCKS[cell]
    extra = H if cell == "gru" else 0
    out = {
        tr("the biases are missing: each gate block has H of them."): G * H * (D + H) + extra,
        tr("the recurrent weights W_h (H x H per block) are missing."): G * H * (D + 1) + extra,
        tr(
            "you counted two bias vectors per block, as PyTorch stores them (bias_ih and "
            "bias_hh); the course's layout has one, their sum."
        ): G * H * (D + H + 2) + extra,
    }
    if cell == "cifg":
        out[tr("CIFG has no forget-gate block: f = 1 - i has no weights of its own.")] = _count(
            "standard", D, H
        )
    if cell == "gru":
        out[tr("the GRU has one more bias vector, b_hn (H,), inside the reset gate.")] = (
            3 * H * (D + H + 1)
        )
        out[tr("the GRU has three blocks (r, z, n), not four.")] = 4 * H * (D + H + 1) + H
    return out


def check_count_params(count_params, cases=COUNT_CASES):
    """Check ``count_params(cell, D, H) -> int`` for each cell and each (D, H) of ``cases``."""
    name = display_name(count_params, "count_params")
    for D, H in cases:
        for cell in CELLS:
            got = call(count_params, {"cell": cell, "D": D, "H": H}, name=name)
            if isinstance(got, bool) or not isinstance(got, (numbers.Integral, np.integer)):
                if isinstance(got, numbers.Real) and float(got).is_integer():
                    got = int(got)
                else:
                    fail(
                        tr(
                            "Your {call} returned {got}; expected a whole number of parameters.",
                            call=f"{name}('{cell}', {D}, {H})",
                            got=describe(got),
                        )
                    )
            if got == _count(cell, D, H):
                continue
            lines = [tr("Your {call} is not right yet.", call=f"{name}('{cell}', D={D}, H={H})")]
            cause = [m for m, v in _count_mistakes(cell, D, H).items() if v == got]
            if cause:
                lines.append(tr("Likely cause: {cause}", cause=cause[0]))
            else:
                lines.append(
                    tr(
                        "Count, for each gate block, the input weights, the recurrent weights "
                        "and the biases; then the blocks the cell has."
                    )
                )
            fail("\n".join(lines))
    return tr("{name}: passed.", name=name)


def _spread_mistakes(s):
    mean, sd = s.mean(), s.std(ddof=1)
    return {
        tr(
            "the spread divides by n (ddof=0, NumPy's default); the sample standard deviation "
            "divides by n - 1: s.std(ddof=1)."
        ): (mean, s.std()),
        tr("that is the variance; the spread asked for is its square root."): (
            mean,
            s.var(ddof=1),
        ),
        tr(
            "that is the standard error of the mean (sd / sqrt(n)), not the spread of the scores."
        ): (mean, sd / np.sqrt(len(s))),
        tr("you returned (sd, mean); the order is `return mean, sd`."): (sd, mean),
        tr("that is the median; the task asks for the mean."): (np.median(s), sd),
    }


def check_mean_and_spread(mean_and_spread, seeds=(0, 1)):
    """Check ``mean_and_spread(scores) -> (mean, sd)`` on 1-D arrays of scores."""
    name = display_name(mean_and_spread, "mean_and_spread")
    for seed in seeds:
        rng = np.random.default_rng(seed)
        s = rng.gamma(2.0, 0.1, size=5 + 3 * seed)  # skewed, like test losses
        got = call(mean_and_spread, {"scores": s}, name=name)
        got = unpack(got, ("mean", "sd"), name, want=tr("two numbers (mean, sd)"))
        for value, what in zip(got, ("mean", "sd"), strict=True):
            if np.ndim(value) != 0:
                fail(
                    tr(
                        "Your {name} returned {what} as {got}; expected one number.",
                        name=name,
                        what=what,
                        got=describe(value),
                    )
                )
        verdict(
            name,
            tuple(np.asarray(v, float) for v in got),
            (np.asarray(s.mean()), np.asarray(s.std(ddof=1))),
            ("mean", "sd"),
            candidates={k: tuple(np.asarray(x) for x in v) for k, v in _spread_mistakes(s).items()},
        )
    return tr("{name}: passed.", name=name)


def _split_differences(a, b):
    """mean(chosen) - mean(rest) for every choice of len(a) of the pooled scores; and observed."""
    pooled = np.concatenate([a, b])
    n, m = len(a), len(b)
    chosen = np.array(list(itertools.combinations(range(n + m), n)))
    sums = pooled[chosen].sum(axis=1)
    return sums / n - (pooled.sum() - sums) / m, a.mean() - b.mean()


def _reference_p(a, b):
    diffs, observed = _split_differences(a, b)
    return float(np.mean(np.abs(diffs) >= abs(observed) - 1e-12))


def _p_one_sided(a, b):
    diffs, observed = _split_differences(a, b)
    return float(np.mean(diffs >= observed - 1e-12))


def _p_strict(a, b):
    diffs, observed = _split_differences(a, b)
    return float(np.mean(np.abs(diffs) > abs(observed) + 1e-12))


PERMUTATION_CASES = (
    (np.array([0.31, 0.12, 0.25, 0.4]), np.array([0.52, 0.33, 0.61, 0.45, 0.5])),
    (np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.5, 3.5])),
    (np.array([0.2, 0.21, 0.19, 0.2, 0.22]), np.array([0.9, 0.8, 0.85, 0.95, 0.7])),
)


def check_permutation_p(permutation_p, cases=PERMUTATION_CASES):
    """Check ``permutation_p(a, b) -> p``: exact, two-sided, over every split."""
    name = display_name(permutation_p, "permutation_p")
    for a, b in cases:
        got = call(permutation_p, {"a": a, "b": b}, name=name)
        if np.ndim(got) != 0 or isinstance(got, bool) or got is None or got is Ellipsis:
            fail(
                tr(
                    "Your {name} returned {got}; expected one number, the p-value.",
                    name=name,
                    got=describe(got),
                )
            )
        got = float(got)
        n_splits = len(list(itertools.combinations(range(len(a) + len(b)), len(a))))
        want = _reference_p(a, b)
        if abs(got - want) <= 1e-9:
            continue
        lines = [
            tr(
                "Your {name} is not right yet for samples of {n} and {m} scores.",
                name=name,
                n=len(a),
                m=len(b),
            )
        ]
        mistakes = {
            tr("a p-value is a share of splits, between 0 and 1, not a count."): want * n_splits,
            tr(
                "the test is two-sided: compare |difference of means|, not the signed difference."
            ): _p_one_sided(a, b),
            tr("the observed split itself must count: use >=, not >."): _p_strict(a, b),
        }
        cause = [m for m, v in mistakes.items() if abs(v - got) < 1e-9]
        if cause:
            lines.append(tr("Likely cause: {cause}", cause=cause[0]))
        elif abs(got - want) < 0.05 and 0 <= got <= 1:
            lines.append(
                tr(
                    "Your value is close but not exact: draw no random permutations; enumerate "
                    "every split with itertools.combinations."
                )
            )
        else:
            lines.append(
                tr(
                    "Pool the two samples; for every choice of len(a) positions, compare the "
                    "mean of the chosen values with the mean of the rest."
                )
            )
        fail("\n".join(lines))
    return tr("{name}: passed.", name=name)


#: Task 3 applies the exact test to the first runs of the stored study: C(16, 8) = 12870
#: splits, where all 20 against 20 would be C(40, 20), about 1.4e11.
FIRST_SEEDS = 8


def _stored_losses(task):
    """``{variant: test losses}`` of the stored ablation, and ``{variant: accuracies}``."""
    runs = json.loads(ABLATION_FILE.read_text())["results"][task]["variants"]
    losses = {v: np.asarray(r["loss"][:FIRST_SEEDS]) for v, r in runs.items()}
    accuracies = {
        v: np.asarray(r["accuracy"][:FIRST_SEEDS]) for v, r in runs.items() if "accuracy" in r
    }
    return losses, accuracies


def check_ablation_p(p_nfg):
    """Check ``p_nfg``: the exact p-value of NFG against the standard cell, recall test loss,
    first FIRST_SEEDS runs of each."""
    if p_nfg is None or p_nfg is Ellipsis:
        fail(tr("p_nfg is not computed yet: replace the ... with your code."))
    if np.ndim(p_nfg) != 0 or isinstance(p_nfg, bool):
        fail(tr("p_nfg should be one number, got {got}.", got=describe(p_nfg)))
    recall, recall_acc = _stored_losses("recall")
    adding, _ = _stored_losses("adding")
    want = _reference_p(recall["nfg"], recall["standard"])
    got = float(p_nfg)
    if abs(got - want) <= 1e-9:
        return tr("p_nfg: passed.")
    mistakes = {
        tr(
            "you compared accuracies; the task asks for the test losses, "
            "results['recall']['variants']['nfg']['loss']."
        ): _reference_p(recall_acc["nfg"], recall_acc["standard"]),
        tr("you used the adding task; the task asks for recall."): _reference_p(
            adding["nfg"], adding["standard"]
        ),
    }
    cause = [m for m, v in mistakes.items() if abs(v - got) <= 1e-9]
    lines = [tr("p_nfg is not right yet.")]
    lines.append(
        tr("Likely cause: {cause}", cause=cause[0])
        if cause
        else tr(
            "Pass the first {n} recall test losses of the NFG cell and of the "
            "standard cell to your permutation_p (check that function first).",
            n=FIRST_SEEDS,
        )
    )
    fail("\n".join(lines))
