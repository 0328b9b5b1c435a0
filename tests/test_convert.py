"""The one conversion between NumPy and PyTorch parameters, for every cell and variant."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from helpers import ALL_VARIANTS

import lstm_lessons as ll
from lstm_lessons.cells.stacked import StackedRNN, stacked_forward
from lstm_lessons.pytorch.cells import LSTM


@pytest.mark.parametrize("variant", ALL_VARIANTS)
def test_numpy_to_torch_to_numpy_is_exact(variant):
    params = ll.init_lstm_params(3, 4, variant, seed=5)
    back = ll.from_torch(ll.to_torch(params, "lstm", variant), "lstm", variant)
    assert back.keys() == params.keys()
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])


@pytest.mark.parametrize("variant", ALL_VARIANTS)
def test_module_state_dict_has_the_variant_layout(variant):
    module = LSTM(3, 4, variant)
    sd = ll.to_torch(ll.from_torch(module, "lstm", variant), "lstm", variant)
    assert {k: tuple(v.shape) for k, v in sd.items()} == {
        k: tuple(v.shape) for k, v in module.state_dict().items()
    }
    module.load_state_dict(sd)  # strict: every name must match


def test_torch_to_numpy_to_torch_keeps_the_function():
    ref = torch.nn.LSTM(3, 4)
    sd = ll.to_torch(ll.from_torch(ref))
    twin = torch.nn.LSTM(3, 4)
    twin.load_state_dict(sd)
    x = torch.randn(7, 2, 3)
    torch.testing.assert_close(twin(x)[0], ref(x)[0], rtol=0, atol=1e-6)


def test_standard_state_dict_moves_unchanged_between_our_module_and_torch_nn_lstm():
    ours, ref = LSTM(5, 6), torch.nn.LSTM(5, 6)
    ref.load_state_dict(ours.state_dict())
    ours.load_state_dict(ref.state_dict())
    assert list(ours.state_dict()) == list(ref.state_dict())


def test_gru_and_rnn_round_trip():
    for cell, ref in (("gru", torch.nn.GRU(3, 4)), ("rnn", torch.nn.RNN(3, 4))):
        params = ll.from_torch(ref, cell)
        twin = type(ref)(3, 4)
        twin.load_state_dict(ll.to_torch(params, cell))
        x = torch.randn(6, 2, 3)
        torch.testing.assert_close(twin(x)[0], ref(x)[0], rtol=0, atol=1e-6)


# Every setting of torch.nn.LSTM and GRU that changes the function: the NumPy forward of the
# converted module must give torch's output and final states, in float64 and float32.
GRID = [
    (cell, layers, bidirectional, batch_first, bias, proj)
    for cell in ("lstm", "gru")
    for layers in (1, 2, 3)
    for bidirectional in (False, True)
    for batch_first in (False, True)
    for bias in (False, True)
    for proj in ((0, 2) if cell == "lstm" else (0,))
]
SETTINGS = (
    "cell",
    "input_size",
    "hidden_size",
    "num_layers",
    "bidirectional",
    "batch_first",
    "proj_size",
    "bias",
    "is_cell",
)
TOLERANCE = {torch.float64: 1e-12, torch.float32: 1e-5}


def _module(cell, layers, bidirectional, batch_first, bias, proj, dtype=torch.float64, D=3, H=4):
    kind = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
    extra = {"proj_size": proj} if proj else {}
    return kind(
        D,
        H,
        num_layers=layers,
        bidirectional=bidirectional,
        batch_first=batch_first,
        bias=bias,
        **extra,
    ).to(dtype)


def _assert_same_function(module, x, dtype):
    with torch.no_grad():
        out, state = module(x)
    got = stacked_forward(ll.from_torch(module, stacked=True), x.numpy())
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(got.output, out.numpy(), rtol=0, atol=tol)
    h_n, c_n = state if isinstance(state, tuple) else (state, None)
    np.testing.assert_allclose(got.h_n, h_n.numpy(), rtol=0, atol=tol)
    if c_n is not None:
        np.testing.assert_allclose(got.c_n, c_n.numpy(), rtol=0, atol=tol)
    return got


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(
    "setting", GRID, ids=lambda s: "{}-L{}-bi{:d}-bf{:d}-bias{:d}-p{}".format(*s)
)
def test_numpy_forward_of_every_setting_equals_torch(setting, dtype):
    module = _module(*setting, dtype=dtype)
    T, N = 6, 2
    x = torch.randn((N, T, 3) if setting[3] else (T, N, 3), dtype=dtype)
    got = _assert_same_function(module, x, dtype)
    S = 2 if setting[2] else 1
    assert got.h_n.shape == (setting[1] * S, N, setting[5] or 4)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_batch_first_with_as_many_sequences_as_steps_is_transposed(cell):
    # With N == T a (N, T, D) batch also reads as (T, N, D): only the module's setting can
    # tell. Read the wrong way the outputs differ from torch's by far more than the tolerance.
    module = _module(cell, 2, True, True, True, 0)
    x = torch.randn(5, 5, 3, dtype=torch.float64)
    got = _assert_same_function(module, x, torch.float64)
    wrong = stacked_forward(
        replace(ll.from_torch(module, stacked=True), batch_first=False), x.numpy()
    )
    assert np.abs(wrong.output.transpose(1, 0, 2) - got.output).max() > 1e-2


@pytest.mark.parametrize("kind", [torch.nn.LSTMCell, torch.nn.GRUCell])
@pytest.mark.parametrize("bias", [False, True])
def test_cells_convert_and_run_over_a_sequence(kind, bias):
    cell = kind(3, 4, bias=bias).double()
    x = torch.randn(7, 2, 3, dtype=torch.float64)
    state = None
    hs = []
    with torch.no_grad():
        for t in range(7):
            state = cell(x[t], state)
            hs.append(state[0] if isinstance(state, tuple) else state)
    got = stacked_forward(ll.from_torch(cell, stacked=True), x.numpy())
    np.testing.assert_allclose(got.output, torch.stack(hs).numpy(), rtol=0, atol=1e-12)
    if isinstance(state, tuple):
        np.testing.assert_allclose(got.c_n[0], state[1].numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("setting", [GRID[-1], ("gru", 3, True, True, False, 0)])
def test_round_trip_through_numpy_keeps_every_tensor(setting):
    module = _module(*setting)
    sd = ll.to_torch(ll.from_torch(module, stacked=True))
    twin = _module(*setting)
    twin.load_state_dict(sd)  # strict: the same keys
    x = torch.randn(4, 4, 3, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(twin(x)[0], module(x)[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("setting", [GRID[-1], ("gru", 2, True, False, False, 0)])
def test_settings_are_read_from_a_state_dict_and_from_torchscript(setting):
    module = _module(*setting)
    from_module = ll.from_torch(module, stacked=True)
    from_keys = ll.from_torch(module.state_dict(), batch_first=setting[3], stacked=True)
    scripted = ll.from_torch(torch.jit.script(module), stacked=True)
    for other in (from_keys, scripted):
        for name in SETTINGS:
            assert getattr(other, name) == getattr(from_module, name), name
        for a, b in zip(other.layers, from_module.layers, strict=True):
            for pa, pb in zip(a, b, strict=True):
                assert pa.keys() == pb.keys()
                for k in pa:
                    np.testing.assert_array_equal(pa[k], pb[k])


def test_the_one_layer_dict_form_comes_where_it_says_everything():
    assert sorted(ll.from_torch(torch.nn.LSTM(3, 4))) == ["W_h", "W_x", "b"]
    for kind, settings in [
        (torch.nn.LSTM, {"num_layers": 2}),
        (torch.nn.LSTM, {"bidirectional": True}),
        (torch.nn.LSTM, {"batch_first": True}),
        (torch.nn.LSTM, {"proj_size": 2}),
        (torch.nn.GRU, {"bias": False}),
        (torch.nn.GRUCell, {}),
    ]:
        assert isinstance(ll.from_torch(kind(3, 4, **settings)), StackedRNN), (kind, settings)
    one_layer = ll.from_torch(torch.nn.LSTM(3, 4).state_dict(), stacked=True)
    assert isinstance(one_layer, StackedRNN) and one_layer.num_layers == 1


def test_the_one_layer_dict_form_still_comes_from_a_one_layer_state_dict():
    params = ll.from_torch(torch.nn.GRU(3, 4).state_dict())  # the cell is read from the shapes
    assert sorted(params) == ["W_h", "W_x", "b", "b_hn"]
    assert sorted(ll.from_torch(torch.nn.LSTM(3, 4).state_dict(), "lstm")) == ["W_h", "W_x", "b"]


def test_a_gru_is_told_from_an_lstm_by_its_type_and_its_shapes():
    assert ll.from_torch(torch.nn.GRU(3, 4, num_layers=2)).cell == "gru"
    assert "b_hn" in ll.from_torch(torch.nn.GRU(3, 4))
    with pytest.raises(ValueError, match=r"torch.nn.GRU, a gru; got cell='lstm'"):
        ll.from_torch(torch.nn.GRU(3, 4), "lstm")
    with pytest.raises(
        ValueError, match=r"expects 4H = 16 rows for H = 4, got 12: a GRU's.*pass cell='gru'"
    ):
        ll.from_torch(torch.nn.GRU(3, 4).state_dict(), "lstm")


def test_bad_sources_get_errors_that_name_the_cause():
    with pytest.raises(TypeError, match="expected a torch module or a state dict.*NoneType"):
        ll.from_torch(None)
    with pytest.raises(TypeError, match=r"state_dict\['weight_ih_l0'\]: expected a tensor.*list"):
        ll.from_torch({"weight_ih_l0": [1.0]})
    with pytest.raises(
        TypeError, match=r"'weight_ih_l0'\]: expected float32 or float64, got torch.bfl"
    ):
        ll.from_torch(torch.nn.LSTM(3, 4, num_layers=2).bfloat16())
    numpy_sd = {k: v.numpy() for k, v in torch.nn.LSTM(3, 4).state_dict().items()}
    assert sorted(ll.from_torch(numpy_sd)) == ["W_h", "W_x", "b"]
    sd = torch.nn.LSTM(3, 4, num_layers=2).state_dict()
    sd["weight_hh_l1"] = torch.zeros(16, 5)
    with pytest.raises(ValueError, match=r"'weight_hh_l1' expected shape \(16, 4\).*got \(16, 5\)"):
        ll.from_torch(sd)
    sd = torch.nn.LSTM(3, 4).state_dict()
    sd["bias_hh_l0"] = torch.zeros(12)
    with pytest.raises(ValueError, match=r"\['bias_hh_l0'\]: expected shape \(16,\) \(4H=16\)"):
        ll.from_torch(sd)
    sd = torch.nn.LSTM(3, 4, num_layers=2).state_dict()
    sd["scale_l1"] = torch.ones(4)
    with pytest.raises(ValueError, match=r"unknown keys \['scale_l1'\]"):
        ll.from_torch(sd)
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.LSTM(3, 4))
    with pytest.raises(TypeError, match=r"got Sequential; it contains '1' \(LSTM\): pass that"):
        ll.from_torch(model)
    with pytest.raises(ValueError, match="torch.nn.RNN converts with one layer"):
        ll.from_torch(torch.nn.RNN(3, 4, num_layers=2))
