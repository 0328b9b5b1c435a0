"""The checks of the exercise sets of chapters 12 and 13: right answers pass, common mistakes
get their diagnosis, and a wrong answer never passes."""

import numpy as np
import pytest
import torch

from lstm_lessons.homework.checks.calling import CheckFailed
from lstm_lessons.homework.sets import applied


def rolling_volatility(r, w):
    return np.array([np.std(r[max(0, t - w + 1) : t + 1]) for t in range(len(r))])


def rolling_volatility_ddof1(r, w):
    return np.array(
        [
            np.std(r[max(0, t - w + 1) : t + 1], ddof=1) if t > 0 and w > 1 else 0.0
            for t in range(len(r))
        ]
    )


def rolling_volatility_late(r, w):
    return np.array([np.std(r[max(0, t - w) : t]) if t else 0.0 for t in range(len(r))])


def unit_correlations(states, feature):
    s, f = states - states.mean(0), feature - feature.mean()
    denom = np.sqrt((s**2).sum(0) * (f**2).sum())
    r = np.zeros(states.shape[1])
    r[denom > 0] = (s.T @ f)[denom > 0] / denom[denom > 0]
    return r


def unit_covariance(states, feature):
    s, f = states - states.mean(0), feature - feature.mean()
    return s.T @ f / len(f)


def unit_corrcoef_nan(states, feature):
    return np.array([np.corrcoef(states[:, k], feature)[0, 1] for k in range(states.shape[1])])


def lstm_param_count(D, H, num_layers, bidirectional):
    dirs = 2 if bidirectional else 1
    return sum(
        dirs * 4 * (H * (D if k == 0 else dirs * H) + H * H + 2 * H) for k in range(num_layers)
    )


def growth_exponent(lengths, times):
    return float(np.polyfit(np.log(lengths), np.log(times), 1)[0])


def test_right_answers_pass():
    assert "passed" in applied.check_rolling_volatility(rolling_volatility)
    assert "passed" in applied.check_unit_correlations(unit_correlations)
    assert "passed" in applied.check_unit_correlations(unit_correlations, flat=True)
    assert "passed" in applied.check_lstm_param_count(lstm_param_count)
    assert "passed" in applied.check_growth_exponent(growth_exponent)


def test_the_param_count_reference_is_torch():
    for D, H, layers, bidir in ((3, 4, 2, True), (1, 1, 1, False)):
        lstm = torch.nn.LSTM(D, H, num_layers=layers, bidirectional=bidir)
        assert sum(p.numel() for p in lstm.parameters()) == lstm_param_count(D, H, layers, bidir)


@pytest.mark.parametrize(
    "check, wrong, cause",
    [
        (applied.check_rolling_volatility, rolling_volatility_ddof1, "ddof=1"),
        (applied.check_rolling_volatility, rolling_volatility_late, "one step early"),
        (applied.check_unit_correlations, unit_covariance, "covariance"),
        (
            applied.check_lstm_param_count,
            lambda D, H, num_layers, bidirectional: 4 * H * (D + H + 1),
            "two bias vectors",
        ),
        (
            applied.check_lstm_param_count,
            lambda D, H, num_layers, bidirectional: (
                (2 if bidirectional else 1) * num_layers * 4 * H * (D + H + 2)
            ),
            "input size is H",
        ),
        (
            applied.check_growth_exponent,
            lambda lengths, times: float(np.polyfit(lengths, times, 1)[0]),
            "fitted the times themselves",
        ),
        (
            applied.check_growth_exponent,
            lambda lengths, times: float(np.polyfit(np.log(times), np.log(lengths), 1)[0]),
            "swapped",
        ),
    ],
)
def test_common_mistakes_get_their_diagnosis(check, wrong, cause):
    with pytest.raises(CheckFailed, match=cause):
        check(wrong)


def test_constant_units_and_features_need_zero_not_nan():
    with pytest.raises(CheckFailed):
        applied.check_unit_correlations(unit_corrcoef_nan, cases=((60, 4, 3),), flat=True)


@pytest.mark.parametrize(
    "check, stub",
    [
        (applied.check_rolling_volatility, lambda r, w: ...),
        (applied.check_unit_correlations, lambda states, feature: None),
        (applied.check_lstm_param_count, lambda D, H, num_layers, bidirectional: ...),
        (applied.check_lstm_param_count, lambda D, H, num_layers, bidirectional: 1.5),
        (applied.check_growth_exponent, lambda lengths, times: ...),
        (applied.check_growth_exponent, lambda lengths, times: [1.0, 2.0]),
    ],
)
def test_templates_and_wrong_types_fail_with_a_message(check, stub):
    with pytest.raises(CheckFailed) as info:
        check(stub)
    assert str(info.value)
