"""Chapter 14's claims. C26: gates that read only the input make the recurrence linear, so a scan
computes it, equal to the loop; the naive closed form underflows in float32 where the log-space
scan does not; the scan's cost is pinned by its operation counts and depth, and the torch forms'
by their autograd graph. C27: the minimal cells fall behind the LSTM where the state must steer
its own updates, match it elsewhere, and a second layer recovers the gap.
"""

import math

import numpy as np
import pytest
import torch

from lstm_lessons.cells.minimal import init_minimal_params, minimal_forward, minimal_step_forward
from lstm_lessons.experiments import parallel_scan as E
from lstm_lessons.pytorch import scan as P
from lstm_lessons.pytorch.minimal import MinGRU

EPS32 = float(np.finfo(np.float32).eps)


@pytest.mark.parametrize("cell", ["mingru", "minlstm"])
def test_C26_the_minimal_cells_by_scan_equal_their_step_loop(cell):
    rng = np.random.default_rng(7)
    T, N, D, H = 257, 3, 2, 5  # not a power of two
    params = init_minimal_params(cell, D, H, seed=7)
    params["b"] = rng.standard_normal(params["b"].shape)
    x, h0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, H))
    hs = minimal_forward(cell, x, h0, params)[0]
    h = h0
    for t in range(T):
        h = minimal_step_forward(cell, x[t], h, params)
        np.testing.assert_allclose(hs[t], h, rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def underflow_rows():
    return {row["T"]: row for row in E.underflow()}


def test_C26_the_naive_cumulative_product_underflows_in_float32(underflow_rows):
    a, b = E.underflow_inputs(max(E.UNDERFLOW["lengths"]))
    a, b = a[:4096], b[:4096]  # beyond, a* underflows even in float64
    # The cause: once a*_s is so small that b_s / a*_s, or the running sum of these terms,
    # passes float32's largest number, that channel is inf or nan from then on.
    big = float(np.finfo(np.float32).max)
    terms = b / np.cumprod(a, axis=0)  # float64: no overflow here
    over = (np.abs(terms) > big) | (np.abs(np.cumsum(terms, axis=0)) > big)
    broken = np.maximum.accumulate(over, axis=0)
    for T, row in underflow_rows.items():
        if T <= 4096:
            assert row["cumprod_nonfinite"] == pytest.approx(float(broken[:T].mean()), abs=1e-3)
        if row["log_a_star_min"] > -math.log(big) + 5:
            assert row["cumprod_nonfinite"] == 0.0 and row["cumprod_error"] < 1e-6
    assert underflow_rows[1024]["cumprod_nonfinite"] == 0.0
    assert underflow_rows[4096]["cumprod_nonfinite"] == pytest.approx(0.625, abs=0.01)
    assert underflow_rows[16384]["cumprod_nonfinite"] == pytest.approx(0.906, abs=0.01)


def test_C26_the_log_space_scan_survives_with_error_of_eps_times_log_a_star(underflow_rows):
    for T, row in underflow_rows.items():
        assert np.isfinite(row["log_error"])
        assert row["loop_error"] < 4 * EPS32  # the loop itself is stable in float32
        if T >= 1024:
            ratio = row["log_error"] / (EPS32 * abs(row["log_a_star_min"]))
            assert 0.8 < ratio < 2.5, (T, ratio)


def test_C26_blelloch_does_about_seven_operations_per_step_at_logarithmic_depth():
    table = {row["T"]: row for row in E.operation_table()}
    row = table[4096]
    assert (row["loop_ops"], row["loop_depth"]) == (8192, 4096)
    assert (row["blelloch_ops"], row["blelloch_depth"]) == (28667, 25)
    assert row["hillis_steele_ops"] == 135173 and row["hillis_steele_depth"] == 13
    for T, row in table.items():
        assert row["blelloch_ops"] == 2 * T + 5 * (T - 1)  # powers of two: T - 1 pairs in all
        assert row["blelloch_depth"] == 2 * int(math.log2(T)) + 1
        assert row["hillis_steele_ops"] > 3 * T * (math.log2(T) - 1)


def test_C26_the_torch_scan_and_loop_are_one_autograd_node_equal_to_autograd_through_the_loop():
    rng = np.random.default_rng(3)
    a, b, h0 = (torch.tensor(v, requires_grad=True) for v in
                (rng.uniform(-1, 1, (40, 2, 3)), rng.standard_normal((40, 2, 3)),
                 rng.standard_normal((2, 3))))
    dh = torch.tensor(rng.standard_normal((40, 2, 3)))
    h, steps = h0, []
    for t in range(40):  # autograd through the loop: a node per operation per step
        h = a[t] * h + b[t]
        steps.append(h)
    naive = torch.stack(steps)
    want = torch.autograd.grad(naive, (a, b, h0), dh)
    nodes = 0
    stack, seen = [naive.grad_fn], set()
    while stack:
        f = stack.pop()
        if f is None or f in seen:
            continue
        seen.add(f)
        nodes += 1
        stack.extend(g for g, _ in f.next_functions)
    assert nodes > 2 * 40  # the naive graph grows with T
    for form in (P.linear_scan, P.loop_scan):
        out = form(a, b, h0)
        assert {type(g).__name__ for g, _ in out.grad_fn.next_functions} == {"AccumulateGrad"}
        for got, exp in zip(torch.autograd.grad(out, (a, b, h0), dh), want, strict=True):
            torch.testing.assert_close(got, exp, rtol=0, atol=1e-12)


def test_C26_mingru_trains_through_the_scan_with_the_reverse_scan_backward():
    layer = MinGRU(2, 4).double()
    out, _ = layer(torch.randn(16, 3, 2, dtype=torch.float64))
    assert type(out.grad_fn).__name__ == "_LinearScanBackward"


def test_C27_the_marked_value_tasks_ask_for_the_first_or_the_last_mark():
    x, y_first = E.marked_value(200, 20, "first", rng=5)
    x2, y_last = E.marked_value(200, 20, "last", rng=5)
    np.testing.assert_array_equal(x, x2)
    marks = x[:, :, 1].astype(bool)
    assert set(marks.sum(0)) == {2, 3, 4}
    for j in range(200):
        steps = np.flatnonzero(marks[:, j])
        assert y_first[j, 0] == x[steps[0], j, 0] and y_last[j, 0] == x[steps[-1], j, 0]
    with pytest.raises(ValueError, match="which: expected 'first' or 'last'"):
        E.marked_value(4, 20, "middle")


STORED = E.load_results()
RESULTS = STORED["results"]


def _mse(task, cell, layers):
    return np.array([r["test_mse"] for r in RESULTS[task][cell][str(layers)]])


def test_C27_the_stored_sweep_is_the_sweep_the_module_defines():
    sweep = STORED["meta"]["sweep"]
    assert sweep["seeds"] == list(E.SWEEP["seeds"]) and sweep["steps"] == E.SWEEP["steps"]
    assert sweep["T"] == E.SWEEP["T"] and sweep["hidden_size"] == E.SWEEP["hidden_size"]
    for task, depths in E.SWEEP["layers"].items():
        assert RESULTS[task]["rules"] == pytest.approx(E.rule_errors(task), rel=1e-9)
        for cell in E.CELLS:
            assert sorted(RESULTS[task][cell]) == [str(L) for L in depths]


@pytest.mark.parametrize("cell", ["lstm", "minlstm"])
def test_C27_rerun_slice_matches_the_stored_runs(cell):
    # Seed 0 of the LSTM and of one-layer minLSTM on the first-mark task, retrained (~10 s each).
    stored = RESULTS["first"][cell]["1"][0]
    fresh = E.train_one("first", cell, 1, 0, stored["lr"])
    assert fresh["validation_mse"] == pytest.approx(stored["validation_mse"], rel=1e-3)
    assert fresh["test_mse"] == pytest.approx(stored["test_mse"], rel=1e-3)
    assert fresh["untrained_mse"] == pytest.approx(stored["untrained_mse"], rel=1e-6)


def test_C27_each_model_chose_its_learning_rate_on_validation_data():
    for task, depths in E.SWEEP["layers"].items():
        for cell in E.CELLS:
            for L in depths:
                choice = RESULTS[task]["choice"][cell][str(L)]
                tried = choice["runs"]
                assert [run["lr"] for run in tried] == list(E.SWEEP["lrs"])
                best = min(tried, key=lambda run: run["validation_mse"])
                assert choice["lr"] == best["lr"], (task, cell, L)
                runs = RESULTS[task][cell][str(L)]
                assert all(run["lr"] == choice["lr"] for run in runs)
                assert runs[0] == best  # seed 0's run is the one the choice made


def test_C27_choose_lr_takes_the_least_validation_error(monkeypatch):
    errors = {1e-2: 0.5, 3e-3: 0.1, 1e-3: 0.2}
    tests = {1e-2: 0.0, 3e-3: 0.9, 1e-3: 0.9}  # the test error must not decide

    def fake_train_one(name, cell, layers, seed, lr, **kwargs):
        return {"lr": lr, "validation_mse": errors[lr], "test_mse": tests[lr]}

    monkeypatch.setattr(E, "train_one", fake_train_one)
    lr, runs = E.choose_lr("first", "lstm", 1)
    assert lr == 3e-3 and [r["lr"] for r in runs] == [1e-2, 3e-3, 1e-3]


def test_C27_one_minimal_layer_falls_behind_where_the_state_must_steer_the_write():
    rules = RESULTS["first"]["rules"]
    lstm = _mse("first", "lstm", 1)
    assert lstm.mean() == pytest.approx(0.0021, abs=0.001)  # the book's 0.0021
    assert lstm.max() < 0.01 * rules["mean"]
    for cell in ("mingru", "minlstm"):
        one = _mse("first", cell, 1)
        # better than averaging the marked values, but far behind the LSTM on every seed
        assert one.mean() < rules["mean_of_marks"], cell
        assert one.mean() > 40 * lstm.mean(), cell  # the book: "50 times the LSTM's error or more"
        assert one.min() > 20 * lstm.max(), cell


def test_C27_a_second_layer_recovers_the_gap():
    lstm = _mse("first", "lstm", 1)
    for cell in ("mingru", "minlstm"):
        two, one = _mse("first", cell, 2), _mse("first", cell, 1)
        assert two.max() < 0.05 * one.min(), cell
        assert two.mean() < 3 * lstm.mean(), cell


@pytest.mark.parametrize("task", ["last", "adding"])
def test_C27_where_the_input_says_when_to_write_the_minimal_cells_learn_as_the_lstm(task):
    mean = RESULTS[task]["rules"]["mean"]
    for cell in E.CELLS:
        one = _mse(task, cell, 1)
        assert one.max() < 0.05 * mean, (task, cell)
        assert one.mean() < 0.1 * np.mean([r["untrained_mse"]
                                           for r in RESULTS[task][cell]["1"]])
