"""Chapter 13, the LSTM in context: cost (C19), delay limit (C20), steps against attention (C21).

No test reads a clock: a claim about speed is pinned by its cause, the counts of
parameters, multiply-adds and sequential steps, and by the equality of the
implementations that are timed. The delay study is stored by
``scripts/run_delay_limit.py``; a slice of it is retrained here and must match.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from lstm_lessons.cells import attention as at
from lstm_lessons.experiments import in_context as ic
from lstm_lessons.experiments import rnn_memory
from lstm_lessons.pytorch import attention as pa
from lstm_lessons.pytorch.cells import LSTM

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_in_context.json"


def _flops(fn):
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


# C19 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("D, H", [(1, 1), (32, 64), (7, 13)])
def test_c19_lstm_has_four_times_the_parameters_of_a_simple_rnn(D, H):
    """C19: four blocks against one, exactly; the GRU three."""
    counts = {k: ic.parameter_count(k, D, H) for k in ("rnn", "gru", "lstm")}
    assert counts["lstm"] == 4 * counts["rnn"] == 4 * H * (D + H + 2)
    assert counts["gru"] == 3 * counts["rnn"]
    for k, n in counts.items():
        assert n == ic.count_formula(k, D, H)


def test_c19_stacked_and_bidirectional_counts():
    D, H = 5, 8
    one = ic.count_formula("lstm", D, H)
    second_layer = ic.count_formula("lstm", H, H)
    assert ic.parameter_count("lstm", D, H, num_layers=2) == one + second_layer
    assert ic.parameter_count("lstm", D, H, bidirectional=True) == 2 * one
    assert ic.parameter_count("lstm", D, H, 2, True) == 2 * one + 2 * ic.count_formula(
        "lstm", 2 * H, H
    )


@pytest.mark.parametrize("D, H, N", [(32, 64, 1), (32, 64, 64), (5, 7, 3)])
def test_c19_a_step_costs_four_times_the_multiply_adds(D, H, N):
    """C19: the cause of the longer step, counted in torch's own cells: 4x the RNN's products."""
    x = torch.randn(N, D)
    for kind in ("rnn", "gru", "lstm"):
        cell = ic.CELLS[kind](D, H)
        assert _flops(lambda c=cell: c(x)) == ic.step_flops(kind, D, H, N)
    assert ic.step_flops("lstm", D, H, N) == 4 * ic.step_flops("rnn", D, H, N)
    assert ic.step_flops("gru", D, H, N) == 3 * ic.step_flops("rnn", D, H, N)
    assert ic.step_flops("rnn", 32, 64, 1) == 2 * 64 * (32 + 64)


# C20 -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def study():
    return ic.load_study()


def test_c20_stored_study_has_the_chapters_settings(study):
    results, settings, _ = study
    assert settings["seeds"] == list(ic.DELAY_STUDY["seeds"])
    assert settings["delays"] == list(ic.DELAY_STUDY["delays"])
    assert settings["steps"] == ic.DELAY_STUDY["steps"] == 150
    assert settings["long_steps"] == 4 * settings["steps"]
    assert settings["forget_bias"] == 5.0 and settings["input_bias"] == -2.0
    S = len(ic.DELAY_STUDY["seeds"])
    assert results["budget"]["accuracy"].shape == (S, len(ic.DELAY_STUDY["delays"]))
    assert results["reach"]["grad"].shape == (S, len(ic.REACH["delays"]))


def test_c20_a_retrained_slice_reproduces_the_stored_study(study):
    """Seed 0 at delays 10 and 250, the untrained control, and the gradient reach at delay 50."""
    results, _, _ = study
    delays = ic.DELAY_STUDY["delays"]
    c = ic.DELAY_STUDY
    settings = {k: c[k] for k in ("hidden_size", "forget_bias", "input_bias")}
    again = ic.delay_limit((10, 250), seeds=(0,), steps=c["steps"], **settings)
    cols = [delays.index(10), delays.index(250)]
    stored = results["budget"]
    for key in ("accuracy", "accuracy_untrained"):
        np.testing.assert_allclose(again[key][0], stored[key][0, cols], atol=2 / 256, err_msg=key)
    for key in ("f_product", "f_product_untrained"):
        np.testing.assert_allclose(again[key][0], stored[key][0, cols], rtol=1e-3, err_msg=key)
    model, _ = rnn_memory.train_recall("lstm", ic.REACH["trained_delay"], seed=0,
                                       steps=c["steps"], **settings)  # fmt: skip
    reach = ic.gradient_reach(model, ic.REACH["delays"])
    np.testing.assert_allclose(reach["grad"], results["reach"]["grad"][0], rtol=1e-3)
    np.testing.assert_allclose(reach["f_product"], results["reach"]["f_product"][0], rtol=1e-3)


def test_c20_delay_study_assembles_what_it_says():
    """A tiny study: its rows are delay_limit's and gradient_reach's for the same networks."""
    config = ic.DELAY_STUDY | {"delays": (2, 3), "steps": 3, "long_steps": 4, "long_delays": (3,)}
    reach = {"trained_delay": 3, "delays": (2, 6)}
    got = ic.delay_study(seeds=(0, 1), config=config, reach=reach)
    settings = {k: config[k] for k in ("hidden_size", "forget_bias", "input_bias")}
    long = ic.delay_limit((3,), seeds=(0, 1), steps=4, **settings)
    np.testing.assert_array_equal(got["long"]["f_product"], long["f_product"])
    for s, seed in enumerate((0, 1)):
        model, _ = rnn_memory.train_recall("lstm", 3, seed=seed, steps=3, **settings)
        np.testing.assert_array_equal(got["reach"]["grad"][s],
                                      ic.gradient_reach(model, (2, 6))["grad"])
        untrained = rnn_memory.recall_model("lstm", seed=seed, **settings)
        np.testing.assert_array_equal(got["reach_untrained"]["f_product"][s],
                                      ic.gradient_reach(untrained, (2, 6))["f_product"])
    assert got["budget"]["accuracy"].shape == (2, 2) and "models" not in got["budget"]


def test_c20_the_untrained_control_keeps_what_its_forget_bias_says(study):
    """sigma(5)^d: the untrained network's storing unit keeps about what its initial bias gives."""
    results, settings, _ = study
    b = results["budget"]
    sigma5 = 1 / (1 + np.exp(-settings["forget_bias"]))
    assert sigma5**250 == pytest.approx(0.187, abs=5e-4)
    # Its forget gates sit at sigma(5 + the inputs' small share): 0.9897 to 0.9951 per step.
    assert np.median(b["f_mean_untrained"]) == pytest.approx(sigma5, abs=2e-4)
    assert np.all(np.abs(b["f_mean_untrained"] - sigma5) < 4e-3)
    # The untrained network names the symbol at chance level (1/4; 256 sequences: +- 0.08).
    assert np.all(np.abs(b["accuracy_untrained"] - 0.25) < 0.08)


def test_c20_lstm_fails_when_the_delay_is_pushed_far_enough(study):
    """C20: every seed recalls at delay 10, none beats chance at delay 250, at either budget."""
    results, settings, _ = study
    b, long = results["budget"], results["long"]
    delays, long_delays = settings["delays"], settings["long_delays"]
    assert np.all(b["accuracy"][:, delays.index(10)] == 1.0)
    assert np.all(np.abs(b["accuracy"][:, delays.index(250)] - 0.25) < 0.08)
    assert np.all(np.abs(long["accuracy"][:, long_delays.index(250)] - 0.25) < 0.08)


def test_c20_four_times_the_training_moves_the_limit_past_100_not_to_250(study):
    """No seed solves delay 100 in 150 steps, 5 of 8 in 600; none solves 250 in either."""
    results, settings, _ = study
    b, long = results["budget"], results["long"]
    solved = lambda acc: int(np.sum(acc >= 0.95))  # noqa: E731
    assert solved(b["accuracy"][:, settings["delays"].index(100)]) == 0
    assert solved(long["accuracy"][:, settings["long_delays"].index(100)]) == 5
    assert solved(long["accuracy"][:, settings["long_delays"].index(250)]) == 0
    assert np.median(b["accuracy"][:, settings["delays"].index(100)]) < 0.5


def test_c20_training_adds_nothing_measurable_to_the_forget_product_at_250(study):
    """The fraction the carousel keeps over 250 steps is the initial bias's, trained or not."""
    results, settings, _ = study
    b = results["budget"]
    k = settings["delays"].index(250)
    trained, untrained = b["f_product"][:, k], b["f_product_untrained"][:, k]
    assert np.median(untrained) == pytest.approx(0.188, abs=0.005)  # sigma(5)^250 = 0.187
    assert np.median(trained) == pytest.approx(0.196, abs=0.005)
    assert np.sum(trained > untrained) == 5  # 5 of 8 pairs above, 3 below: no consistent gain


def test_c20_gradient_reaching_the_stored_step_fades_with_delay(study):
    """C20: from delay 50 to 2000 the gradient falls by orders of magnitude, the product far
    less."""
    results, _, _ = study
    grad, prod = results["reach"]["grad"], results["reach"]["f_product"]
    k = {d: ic.REACH["delays"].index(d) for d in (50, 250, 1000, 2000)}
    grad_drop = grad[:, k[50]] / grad[:, k[2000]]
    prod_drop = prod[:, k[50]] / prod[:, k[2000]]
    assert np.all(grad_drop > 300) and np.median(grad_drop) > 1e5
    assert np.all(prod_drop < 50) and np.median(prod_drop) < 10
    assert np.all(np.diff(grad[:, k[250] :], axis=1) < 0)
    assert np.sum(grad[:, k[250]] > grad[:, k[50]]) == 2  # two networks first gain, then lose
    # Training pushed the storing unit's forget gate far closer to 1 than the bias of 5 put it.
    untrained = results["reach_untrained"]["f_product"]
    assert np.all(prod[:, k[2000]] > 100 * untrained[:, k[2000]])
    assert np.median(prod[:, k[2000]] ** (1 / 2000)) == pytest.approx(0.9989, abs=5e-5)


def test_c20_the_untrained_networks_pass_back_more_gradient_at_the_longest_delay(study):
    """Training raises the gradient at short delays about 57-fold, yet at 2000 the untrained
    lead."""
    results, _, _ = study
    trained, untrained = results["reach"]["grad"], results["reach_untrained"]["grad"]
    assert np.median(trained[:, 0] / untrained[:, 0]) == pytest.approx(57, abs=1)
    k = ic.REACH["delays"].index(2000)
    assert np.sum(untrained[:, k] > trained[:, k]) == 7
    assert np.median(untrained[:, k]) > 100 * np.median(trained[:, k])


# C21 -----------------------------------------------------------------------------------------


def test_c21_the_block_has_the_lstm_layers_parameter_count():
    """D = 64: the feed-forward width 127 brings the block within 0.2 % of torch.nn.LSTM(64, 64)."""
    lstm = ic.parameter_count("lstm", 64, 64)
    F = ic.matched_ff_width(64, lstm)
    block = pa.transformer_encoder_layer(64, F, 4)
    assert (lstm, F) == (33_280, 127)
    assert sum(p.numel() for p in block.parameters()) == at.block_param_count(64, F) == 33_343
    for F_other in (F - 1, F + 1):
        assert abs(at.block_param_count(64, F_other) - lstm) >= abs(33_343 - lstm)
    assert ic.matched_ff_width(8, at.block_param_count(8, 5)) == 5
    with pytest.raises(ValueError, match="target"):
        ic.matched_ff_width(64, 100)


@pytest.mark.parametrize("T, N, D, F, A", [(6, 3, 8, 5, 2), (17, 1, 12, 7, 3), (1, 2, 4, 3, 1)])
def test_c21_matmul_flops_are_what_torch_counts(T, N, D, F, A):
    """The FLOP counts beside the times, against torch's own counter on the torch twins."""
    torch.manual_seed(0)
    x = torch.randn(T, N, D, requires_grad=True)
    block, lstm = pa.CausalBlock(D, F, A), LSTM(D, D)
    for kind, layer in (("transformer", block), ("lstm", lstm)):

        def fwd(layer=layer):
            out = layer(x)
            return out[0] if isinstance(out, tuple) else out

        assert _flops(fwd) == ic.matmul_flops(kind, T, N, D, F)
        assert _flops(lambda f=fwd: f().sum().backward()) == ic.matmul_flops(kind, T, N, D, F, True)


def test_c21_flop_counts_grow_as_the_chapter_says():
    """Per sequence: the LSTM 16 T D^2, the block 2 T (4 D^2 + 2 D F) + 4 T^2 D (D=64, F=127)."""
    D, F = 64, 127
    assert ic.matmul_flops("lstm", 1, 1, D) == 65_536
    assert ic.matmul_flops("transformer", 1, 1, D, F) == 65_280 + 256
    for T in (16, 256, 1024):
        assert ic.matmul_flops("lstm", T, 16, D) == 16 * 65_536 * T
        assert ic.matmul_flops("transformer", T, 1, D, F) == 65_280 * T + 256 * T * T
        assert ic.matmul_flops("transformer", T, 4, D, F, backward=True) == 12 * (
            65_280 * T + 256 * T * T
        )


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_c21_the_numpy_and_torch_contenders_compute_the_same_function(kind):
    """The timed NumPy and torch layers, given the same weights, give the same outputs."""
    T, N, D, F, A = 9, 2, 8, 5, 4
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, N, D))
    if kind == "lstm":
        from lstm_lessons import init_lstm_params, lstm_forward, to_torch

        params = init_lstm_params(D, D, seed=1)
        expected = lstm_forward(x, np.zeros((N, D)), np.zeros((N, D)), params)[0]
        layer = torch.nn.LSTM(D, D).double()
        layer.load_state_dict(to_torch(params))
        got = layer(torch.from_numpy(x))[0]
    else:
        params = at.init_block_params(D, F, seed=1)
        expected = at.block_forward(x, params, A)[0]
        layer = pa.transformer_encoder_layer(D, F, A, dtype=torch.float64)
        layer.load_state_dict(pa.block_to_torch(params))
        got = layer(torch.from_numpy(x), src_mask=pa.causal_mask(T, torch.float64), is_causal=True)
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
@pytest.mark.parametrize("backward", [False, True])
def test_c21_the_timed_numpy_and_torch_runs_compute_the_same(kind, backward):
    """What the race times: the same output (or input gradient) in NumPy and torch, float32."""
    shape = dict(batch_size=3, width=8, ff_width=5, heads=2, backward=backward, seed=4)
    got = {lib: ic.race_contenders(kind, lib, 7, **shape)() for lib in ("numpy", "torch")}
    torch_out = got["torch"].detach().numpy()
    assert got["numpy"].dtype == torch_out.dtype == np.float32
    assert got["numpy"].shape == (7, 3, 8)
    np.testing.assert_allclose(got["numpy"], torch_out, rtol=1e-4, atol=2e-6)
    with pytest.raises(ValueError, match="kind"):
        ic.race_contenders("gru", "numpy", 5)
    with pytest.raises(ValueError, match="kind"):
        ic.race_contenders(kind, "jax", 5, ff_width=5)


def test_c21_race_reports_sizes_flops_and_crossover_of_what_it_timed():
    run = ic.race((2, 5), batch_size=2, width=8, heads=2, repeats=1)
    F = ic.matched_ff_width(8, ic.count_formula("lstm", 8, 8))
    assert (run["ff_width"], run["width"], run["batch_size"]) == (F, 8, 2)
    assert run["params"] == {"lstm": ic.count_formula("lstm", 8, 8),
                             "transformer": at.block_param_count(8, F)}  # fmt: skip
    for library in ("numpy", "torch"):
        for backward in (False, True):
            r = run[(library, backward)]
            assert r["flops"]["transformer"] == [
                ic.matmul_flops("transformer", T, 2, 8, F, backward) for T in (2, 5)
            ]
            assert r["flops"]["lstm"] == [ic.matmul_flops("lstm", T, 2, 8) * (3 if backward else 1)
                                          for T in (2, 5)]  # fmt: skip
            assert all(t > 0 for t in r["times"]["lstm"] + r["times"]["transformer"])
            assert r["crossover"] == ic.crossover((2, 5), r["times"]["lstm"],
                                                  r["times"]["transformer"])  # fmt: skip


def test_c21_race_files_each_time_under_its_layer(monkeypatch):
    """With a fake clock-free race_time: every time lands under its kind, library and pass."""

    def fake(kinds, library, T, *, backward, **_):
        base = T * (10 if library == "torch" else 1) * (3 if backward else 1)
        return (base, 2 * base) if kinds == ("lstm", "transformer") else None

    monkeypatch.setattr(ic, "race_time", fake)
    run = ic.race((2, 5), width=8, heads=2)
    for library, scale in (("numpy", 1), ("torch", 10)):
        for backward, factor in ((False, 1), (True, 3)):
            times = run[(library, backward)]["times"]
            assert times["lstm"] == [2 * scale * factor, 5 * scale * factor]
            assert times["transformer"] == [4 * scale * factor, 10 * scale * factor]
            assert run[(library, backward)]["crossover"] == 2


def test_c21_stored_benchmark_matches_the_code():
    """The curves the chapter reads: their sizes, FLOPs and crossovers are today's code's."""
    bench = json.loads(BENCH.read_text())
    assert bench["machine"]["threads"] == 1 and bench["machine"]["cpu"]
    for N, run in bench["runs"].items():
        assert run["batch_size"] == int(N) and run["width"] == 64 and run["heads"] == 4
        assert run["ff_width"] == ic.matched_ff_width(64, ic.count_formula("lstm", 64, 64))
        assert run["params"] == {"lstm": 33_280, "transformer": 33_343}
        for key in ("numpy forward", "numpy forward+backward", "torch forward",
                    "torch forward+backward"):  # fmt: skip
            r = run[key]
            backward = key.endswith("backward")
            for kind in ("lstm", "transformer"):
                assert r["flops"][kind] == [
                    ic.matmul_flops(kind, T, int(N), 64, run["ff_width"], backward)
                    for T in run["lengths"]
                ]
                assert len(r["times"][kind]) == len(run["lengths"])
            assert r["crossover"] == ic.crossover(
                run["lengths"], r["times"]["lstm"], r["times"]["transformer"]
            )


def test_c21_sequential_steps_and_path_length():
    """C21: an LSTM steps T times and connects positions t1, t2 in t2 - t1 steps; attention in 1."""
    assert [ic.sequential_steps("lstm", T) for T in (1, 10, 1000)] == [1, 10, 1000]
    assert [ic.sequential_steps("attention", T) for T in (1, 10, 1000)] == [1, 1, 1]
    assert ic.path_length("lstm", 3, 500) == 497
    assert ic.path_length("attention", 3, 500) == 1
    assert ic.path_length("attention", 4, 4) == ic.path_length("lstm", 4, 4) == 0
    assert ic.state_size("lstm", 10_000, 64) == ic.state_size("lstm", 10, 64) == 128
    assert ic.state_size("attention", 10_000, 64) == 2 * 10_000 * 64
    with pytest.raises(ValueError, match="t1, t2"):
        ic.path_length("lstm", 5, 3)
    with pytest.raises(ValueError, match="kind"):
        ic.sequential_steps("gru", 3)


def test_c21_the_block_sees_every_earlier_position_in_one_step():
    """C21: the block's last output depends on its first input; an LSTM's first output on its
    first only."""
    torch.manual_seed(0)
    T, D = 30, 8
    x = torch.randn(T, 1, D, requires_grad=True)
    w = torch.randn(1, D)  # a layer norm's outputs sum to a constant: weigh them
    block = pa.CausalBlock(D, 5, 2)
    (block(x)[-1] * w).sum().backward()
    assert torch.all(x.grad.abs().sum(dim=(1, 2)) > 0)  # every input reaches the last output
    x.grad = None
    (block(x)[0] * w).sum().backward()
    assert torch.all(x.grad[1:] == 0)  # causal: no later input reaches the first output
    lstm = torch.nn.LSTM(D, D)
    x2 = x.detach().clone().requires_grad_(True)
    lstm(x2)[0][0].sum().backward()
    assert x2.grad[1:].abs().sum() == 0


def test_crossover_ignores_a_single_noisy_point():
    lengths = (1, 2, 3, 4, 5)
    lstm = (5, 5, 5, 5, 5)
    assert ic.crossover(lengths, lstm, (1, 6, 2, 6, 7)) == 4
    assert ic.crossover(lengths, lstm, (1, 1, 1, 1, 1)) is None
    assert ic.crossover(lengths, lstm, (6, 6, 6, 6, 6)) == 1
    assert ic.crossover(lengths, lstm, (6, 6, 6, 5, 6)) == 5  # a tie is not slower
