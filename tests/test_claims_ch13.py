"""Chapter 13, the LSTM in context: cost (C19), delay limit (C20), steps against attention (C21)."""

import numpy as np
import pytest
import torch

from lstm_lessons.experiments import in_context as ic
from lstm_lessons.experiments import rnn_memory


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


def test_c19_step_time_is_measured():
    """C19: the timing helper returns a positive time (its size is the build machine's)."""
    t = ic.step_time("lstm", 4, 8, repeats=5)
    assert 0 < t < 1.0


def test_c20_lstm_fails_when_the_delay_is_pushed_far_enough():
    """C20: with chapter 13's budget the LSTM recalls at delay 10 and is at chance at delay 250."""
    limit = ic.delay_limit((10, 250), steps=150, hidden_size=16)
    short, long = limit["accuracy"][0]
    assert short > 0.9
    assert long < 0.4  # chance is 0.25
    assert np.all((limit["f_product"] > 0) & (limit["f_product"] <= 1))


def test_c20_gradient_reaching_the_stored_step_fades_with_delay():
    """C20: the gradient at the remembered input shrinks as the delay grows."""
    model, _ = rnn_memory.train_recall("lstm", 50, steps=150, hidden_size=16)
    reach = ic.gradient_reach(model, (50, 250, 2000))
    assert reach["grad"][0] > reach["grad"][1] > reach["grad"][2]
    assert reach["grad"][2] < 0.05 * reach["grad"][0]
    assert np.all(np.diff(reach["f_product"]) < 0)


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


def test_c21_self_attention_sees_every_position_at_once():
    """C21: one attention layer lets the output at step 0 depend on the input at step T - 1."""
    torch.manual_seed(0)
    T, H = 30, 8
    x = torch.randn(T, 1, H, requires_grad=True)
    ic.SelfAttention(H)(x)[0].sum().backward()
    assert x.grad[-1].abs().sum() > 0  # the last input reaches the first output
    lstm = torch.nn.LSTM(H, H)
    x2 = x.detach().clone().requires_grad_(True)
    lstm(x2)[0][0].sum().backward()
    assert x2.grad[1:].abs().sum() == 0  # an LSTM's first output sees only the first input


def test_crossover_ignores_a_single_noisy_point():
    lengths = (1, 2, 3, 4, 5)
    lstm = (5, 5, 5, 5, 5)
    assert ic.crossover(lengths, lstm, (1, 6, 2, 6, 7)) == 4
    assert ic.crossover(lengths, lstm, (1, 1, 1, 1, 1)) is None
    assert ic.crossover(lengths, lstm, (6, 6, 6, 6, 6)) == 1
