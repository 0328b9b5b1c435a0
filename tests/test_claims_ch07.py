"""Claims C13 and C14 of chapter 7 (the output gate), and input checks of its experiments."""

import numpy as np
import pytest
from helpers import randomise_biases

from lstm_lessons import init_lstm_params
from lstm_lessons.experiments import output_gate as td
from lstm_lessons.training.tasks import key_query

T = 16  # the chapter's sequence length


@pytest.fixture(scope="module")
def trained():
    """The chapter's model (H = 2, seed 0): about a second of training on one thread."""
    model, history = td.train_trapdoor_model(T=T, hidden_size=2, seed=0)
    return model, history


def test_c13_output_gate_hides_stored_value_until_query(trained):
    """C13: the value sits in c from KEY on, but o ~ 0 keeps it out of h until QUERY opens o."""
    model, _ = trained
    x, y = key_query(256, T, rng=12345)
    r = td.inspect_trapdoor(model, x, y)
    assert r["accuracy"] > 0.9  # the task is solved: the query output has the right sign
    assert abs(r["corr_c"]) > 0.9  # the storing unit's c holds the value while it waits
    assert abs(r["signal_c"]) > 0.3
    # ... but h shows only a few per cent of it (correlation would not tell: h keeps c's sign).
    assert r["exposure"] < 0.05
    assert r["signal_h_layer"] < 0.1 * abs(r["signal_c"])
    assert r["o_hold"] < 0.05  # the trapdoor is shut while the value is held
    assert r["o_query"] > 0.4  # and opens at the query
    assert r["o_query"] > 10 * r["o_hold"]


def test_c13_mirrored_sequences_differ_in_c_not_in_h_before_query(trained):
    """C13, on one pair: flipping the stored value flips c, barely moves h, and flips the answer."""
    model, _ = trained
    x, y = key_query(256, T, rng=12345)
    unit = td.storing_unit(model.run_numpy(x)[1], x, y)
    x, y = td.mirrored_pair(x, y, n=0)
    hs, cs, _ = model.run_numpy(x)
    key = int(np.argmax(x[:, 0, td.KEY]))
    hold = slice(key + 1, T - 1)
    gap_c = np.abs(cs[hold, 0, unit] - cs[hold, 1, unit]).min()
    gap_h = np.abs(hs[hold, 0, unit] - hs[hold, 1, unit]).max()
    assert gap_c > 0.5
    assert gap_h < 0.05 * gap_c
    out = td.readout(model, x)
    assert np.sign(out[-1, 0]) == y[-1, 0, 0] and np.sign(out[-1, 1]) == y[-1, 1, 0]


def _random_step(seed=0, N=3, D=4, H=5):
    rng = np.random.default_rng(seed)
    params = randomise_biases(init_lstm_params(D, H, seed=seed))
    x = rng.standard_normal((N, D))
    h_prev = 0.5 * rng.standard_normal((N, H))
    c_prev = rng.standard_normal((N, H))
    dh = rng.standard_normal((N, H))
    return params, x, h_prev, c_prev, dh


def test_c14_gradient_into_cell_is_proportional_to_output_gate():
    """C14: dL/dc_t through h_t = dh * o_t * (1 - tanh^2 c_t): a fixed ratio to o, 0 as o -> 0."""
    params, x, h_prev, c_prev, dh = _random_step()
    shifts = np.linspace(-12.0, 12.0, 25)
    sweep = td.output_gate_gradient_sweep(params, x, h_prev, c_prev, dh, shifts)
    o, dc = sweep["o"], sweep["dc"]
    assert o.min() < 1e-4 and o.max() > 0.999  # the sweep spans a shut and an open gate
    ratio = dc / o  # (S, N, H): one slope per sequence and unit, whatever the shift
    spread = np.abs(ratio - ratio[0]).max() / np.abs(ratio[0]).max()
    assert spread < 1e-10
    assert np.abs(ratio[0]).min() > 1e-3  # the slopes are not trivially zero
    # A shut gate lets almost nothing through, an open one lets through dh * tanh'(c).
    assert np.abs(dc[0]).max() < 1e-4 * np.abs(dc[-1]).max()
    # What reaches the old memory, and the weights that write it, shrink with o as well.
    assert np.abs(sweep["dc_prev"][0]).max() < 1e-4 * np.abs(sweep["dc_prev"][-1]).max()
    assert np.all(np.diff(sweep["write_grad"]) > 0)
    assert sweep["write_grad"][0] < 1e-4 * sweep["write_grad"][-1]


def test_c14_output_gate_own_gradient_vanishes_when_shut_or_open():
    """C14, the starving side: the o block's own gradient goes as o (1 - o), small at both ends."""
    params, x, h_prev, c_prev, dh = _random_step(seed=1)
    sweep = td.output_gate_gradient_sweep(
        params, x, h_prev, c_prev, dh, np.linspace(-12.0, 12.0, 25)
    )
    g = sweep["gate_grad"]
    assert g[0] < 1e-3 * g.max() and g[-1] < 1e-3 * g.max()


def test_gradient_sweep_leaves_arguments_unchanged():
    params, x, h_prev, c_prev, dh = _random_step()
    before = {k: v.copy() for k, v in params.items()}
    td.output_gate_gradient_sweep(params, x, h_prev, c_prev, dh, [-1.0, 0.0, 1.0])
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])


def test_trapdoor_functions_reject_bad_input():
    x, y = key_query(4, 6, rng=0)
    hs = cs = o = np.zeros((6, 4, 2))
    with pytest.raises(ValueError, match="T: expected at least 3"):
        td.train_trapdoor_model(T=2)
    with pytest.raises(ValueError, match="hidden_size"):
        td.train_trapdoor_model(hidden_size=0)
    with pytest.raises(ValueError, match="lr"):
        td.train_trapdoor_model(lr=-1.0)
    with pytest.raises(ValueError, match="exactly one KEY"):
        td.hold_mask(np.zeros_like(x), y)
    with pytest.raises(ValueError, match=r"expected shape \(6, 4, 1\)"):
        td.stored_values(x, y[..., [0, 0]])
    with pytest.raises(TypeError, match="x: expected a NumPy array"):
        td.hold_mask(x.tolist(), y)
    with pytest.raises(ValueError, match="unit: expected an integer in"):
        td.visibility(hs, cs, o, x, y, unit=2)
    with pytest.raises(ValueError, match="o: expected shape"):
        td.visibility(hs, cs, o[:, :, :1], x, y, unit=0)
    with pytest.raises(ValueError, match="n: expected a sequence index"):
        td.mirrored_pair(x, y, n=4)
    params, xs, h_prev, c_prev, dh = _random_step()
    with pytest.raises(ValueError, match="bias_shifts"):
        td.output_gate_gradient_sweep(params, xs, h_prev, c_prev, dh, [])
    with pytest.raises(ValueError, match="dh: expected shape"):
        td.output_gate_gradient_sweep(params, xs, h_prev, c_prev, dh[:, :2], [0.0])
    with pytest.raises(TypeError, match="params"):
        td.output_gate_gradient_sweep(None, xs, h_prev, c_prev, dh, [0.0])
