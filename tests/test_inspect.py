"""The gate inspector: statistics against an independent computation, and the module untouched."""

import subprocess
import sys

import matplotlib
import numpy as np
import pytest
import torch

import lstm_lessons as ll
from lstm_lessons import inspect as li
from lstm_lessons.cells.activations import sigmoid
from lstm_lessons.experiments import char_language as cl
from lstm_lessons.experiments import inspection as ins
from lstm_lessons.training.applied_tasks import load_text
from lstm_lessons.training.model import SequenceModel

matplotlib.use("Agg")


def test_half_life_is_minus_ln2_over_ln_f():
    # f^n = 1/2: f = 0.5 halves in one step, f = 2^(-1/10) in ten.
    np.testing.assert_allclose(
        li.half_life([0.5, 2 ** (-1 / 10), 0.9]), [1, 10, 6.578813478960], rtol=1e-12
    )
    assert li.half_life(1.0) == np.inf and li.half_life(0.0) == 0.0
    with pytest.raises(ValueError, match=r"f_mean: expected values in \[0, 1\]"):
        li.half_life(1.5)


def _torch_gates(module, x):
    """Every gate of every layer and direction of a time-major torch.nn.LSTM, in time order,
    computed from its weights in torch, step by step, each layer reading torch's own output."""
    H, L = module.hidden_size, module.num_layers
    S = 2 if module.bidirectional else 1
    out, seq = [], x
    with torch.no_grad():
        for k in range(L):
            layer, outs = [], []
            for d in range(S):
                sfx = f"_l{k}" + ("_reverse" if d else "")
                W_ih, W_hh = getattr(module, "weight_ih" + sfx), getattr(module, "weight_hh" + sfx)
                b = getattr(module, "bias_ih" + sfx) + getattr(module, "bias_hh" + sfx)
                h = c = torch.zeros(x.shape[1], H, dtype=x.dtype)
                steps = range(len(seq)) if d == 0 else reversed(range(len(seq)))
                gates, hs = {g: [None] * len(seq) for g in "ifo"}, [None] * len(seq)
                for t in steps:
                    i, f, g, o = (seq[t] @ W_ih.T + h @ W_hh.T + b).chunk(4, dim=1)
                    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
                    c = f * c + i * torch.tanh(g)
                    h = o * torch.tanh(c)
                    gates["i"][t], gates["f"][t], gates["o"][t], hs[t] = i, f, o, h
                layer.append({g: torch.stack(v).numpy() for g, v in gates.items()})
                outs.append(torch.stack(hs))
            seq = torch.cat(outs, dim=2)
            out.append(layer)
    return out


def test_gates_and_statistics_equal_a_torch_computation_for_every_layer_and_direction():
    module = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True).double()
    x = torch.randn(9, 4, 3, dtype=torch.float64)
    report = ll.inspect(module, x)
    reference = _torch_gates(module, x)
    for k in range(2):
        for d in range(2):
            rows = report.rows(k, d)
            for g in "ifo":
                ref = reference[k][d][g]  # (T, N, H)
                np.testing.assert_allclose(report.traces[k][d].gates[g], ref, rtol=0, atol=1e-12)
                np.testing.assert_allclose(rows[f"{g}_mean"], ref.mean((0, 1)), atol=1e-12)
                np.testing.assert_allclose(rows[f"{g}_std"], ref.std((0, 1)), atol=1e-12)
            f = reference[k][d]["f"].mean((0, 1))
            np.testing.assert_allclose(rows["half_life"], np.log(0.5) / np.log(f), rtol=1e-10)
    assert report.steps == 9 and report.sequences == 4 and len(report.table) == 2 * 2 * 5


def _engineered(D=2, H=6):
    """One LSTM layer whose units are known: 0 and 1 carousels (f open, i shut), 2 with its
    output gate shut, 3 with every gate at sigma(0) = 1/2 (zero weights, zero biases), 4 with
    f open but i half open (no carousel), 5 with i shut and f open only where x_0 > 0.147
    (sigma(20 x_0) > 0.95): a carousel at fewer than half of the steps."""
    params = {"W_x": np.zeros((D, 4 * H)), "W_h": np.zeros((H, 4 * H)), "b": np.zeros(4 * H)}
    i, f, g, o = (slice(n * H, (n + 1) * H) for n in range(4))
    params["b"][i][[0, 1, 5]] = -10.0
    params["b"][f][[0, 1, 4]] = 10.0
    params["b"][o][2] = -10.0
    params["W_x"][0, f][5] = 20.0
    params["W_x"][:, g] = 1.0  # the candidate follows the input, so that c is not zero
    return params


def test_an_engineered_network_reads_as_built():
    x = np.random.default_rng(0).standard_normal((30, 3, 2))
    report = ll.inspect(_engineered(), x)
    rows = report.rows(0, 0)
    assert report.carousel_units() == [0, 1]
    share_5 = np.mean(x[..., 0] > np.log(0.95 / 0.05) / 20)
    assert 0.2 < share_5 < 0.5
    np.testing.assert_allclose(rows["carousel_share"], [1, 1, 0, 0, 0, share_5])
    assert report.stuck() == {
        ("i", "shut"): [0, 1, 5],
        ("f", "open"): [0, 1, 4],
        ("o", "shut"): [2],
    }
    np.testing.assert_allclose(rows["half_life"][:2], np.log(0.5) / np.log(sigmoid(10.0)))
    np.testing.assert_allclose(rows["half_life"][3], 1.0)  # f = 1/2 halves in one step
    np.testing.assert_allclose(rows["exposure"][:4], [0.5, 0.5, sigmoid(-10.0), 0.5], rtol=1e-12)
    np.testing.assert_allclose(rows["i_shut"], [1, 1, 0, 0, 0, 1])
    np.testing.assert_allclose(rows["o_std"], 0, atol=1e-15)
    text = report.summary()
    assert "carousels (f > 0.95 and i < 0.05 at over 50% of steps): 2 units [0, 1]" in text
    assert "i shut in units [0, 1, 5]; f open in units [0, 1, 4]; o shut in units [2]" in text


def test_a_gru_reports_its_update_and_reset_gates_and_says_there_is_no_output_gate():
    module = torch.nn.GRU(3, 4, num_layers=2).double()
    x = torch.randn(8, 2, 3, dtype=torch.float64)
    report = ll.inspect(module, x)
    assert "exposure" not in report.table.dtype.names and "o_mean" not in report.table.dtype.names
    with torch.no_grad():
        top = module(x)[0]  # the top layer's output; its update gate is rebuilt from its input
        below = torch.nn.GRU(3, 4).double()
        below.load_state_dict({k: v for k, v in module.state_dict().items() if "l0" in k})
        inp = below(x)[0]
    W_ih, W_hh = module.weight_ih_l1.detach(), module.weight_hh_l1.detach()
    b_ih, b_hh = module.bias_ih_l1.detach(), module.bias_hh_l1.detach()
    h, zs = torch.zeros(2, 4, dtype=torch.float64), []
    for t in range(8):
        a = inp[t] @ W_ih.T + b_ih
        r_ = h @ W_hh.T + b_hh
        z = torch.sigmoid(a[:, 4:8] + r_[:, 4:8])
        n = torch.tanh(a[:, 8:] + torch.sigmoid(a[:, :4] + r_[:, :4]) * r_[:, 8:])
        h = (1 - z) * n + z * h
        zs.append(z)
    np.testing.assert_allclose(h.numpy(), top[-1].numpy(), atol=1e-12)
    z_mean = torch.stack(zs).mean((0, 1)).numpy()
    rows = report.rows(1, 0)
    np.testing.assert_allclose(rows["z_mean"], z_mean, atol=1e-12)
    np.testing.assert_allclose(rows["half_life"], np.log(0.5) / np.log(z_mean), rtol=1e-10)
    assert "no output gate, so no exposure" in report.summary()


@pytest.mark.parametrize("N", [3, 6])
def test_batch_first_is_read_from_the_module(N):
    # N = 6 = T: only the module's setting tells (N, T, D) from (T, N, D).
    tm = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    bf = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    bf.load_state_dict(tm.state_dict())
    x = torch.randn(6, N, 3, dtype=torch.float64)
    a, b = ll.inspect(tm, x), ll.inspect(bf, x.transpose(0, 1).numpy())
    for name in a.table.dtype.names:
        np.testing.assert_array_equal(a.table[name], b.table[name])
    assert (b.steps, b.sequences) == (6, N)


def test_the_module_is_not_changed():
    model = SequenceModel(3, 4, 2, seed=1)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(7, 2, 3)
    whole = ll.inspect(model, x)  # a whole model: a hook finds model.rnn and its input
    alone = ll.inspect(model.rnn, x)
    assert whole.name == "rnn" and whole.summary().startswith("rnn: LSTM")
    for name in alone.table.dtype.names:
        np.testing.assert_array_equal(whole.table[name], alone.table[name])
    assert all(m.training for m in model.modules())
    assert all(p.grad is None for p in model.parameters())
    assert not model.rnn._forward_pre_hooks
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_a_model_with_several_recurrent_layers_asks_which():
    model = torch.nn.ModuleDict({"a": torch.nn.LSTM(3, 4), "b": torch.nn.GRU(4, 4)})
    with pytest.raises(ValueError, match=r"several recurrent layers \['a', 'b'\]: say which"):
        ll.inspect(model, torch.randn(5, 1, 3))


def test_bad_input_gets_a_clear_error():
    bf = torch.nn.LSTM(3, 4, batch_first=True)
    with pytest.raises(ValueError, match=r"x: expected a 3-D array of shape \(N, T, D\)"):
        ll.inspect(bf, torch.randn(5, 3))
    with pytest.raises(
        ValueError, match=r"x: expected shape \(T, N, D\) with D=3 .*got \(5, 2, 4\)"
    ):
        ll.inspect(torch.nn.LSTM(3, 4), np.zeros((5, 2, 4)))
    with pytest.raises(TypeError, match="model: expected a torch.nn.LSTM/GRU .* got str"):
        ll.inspect("model.pt", np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"a parameter dict needs 'W_x' of shape \(D, G\*H\)"):
        ll.inspect({"W_h": np.zeros((2, 8))}, np.zeros((5, 2, 3)))
    with pytest.raises(TypeError, match="Linear holds none"):
        ll.inspect(torch.nn.Linear(3, 3), np.zeros((5, 2, 3)))


def test_the_table_is_a_dataframe_with_pandas_and_an_array_without(monkeypatch):
    report = ll.inspect(_engineered(), np.ones((4, 1, 2)))
    frame = report.to_frame()
    assert list(frame.columns) == list(report.table.dtype.names)
    np.testing.assert_array_equal(frame["half_life"], report.table["half_life"])
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="needs pandas .*Report.table is the same table"):
        report.to_frame()


def test_figures_show_the_gates_and_count_every_unit():
    model = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    report = ll.inspect(model, torch.randn(6, 2, 3))
    fig = report.plot_gates(layer=1, direction="backward", sample=1)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 3
    np.testing.assert_array_equal(images[1].get_array(), report.traces[1][1].gates["f"][:, 1].T)
    fig = report.plot_half_lives()
    counts = [sum(p.get_height() for p in ax.patches) for ax in fig.axes]
    assert counts == [8, 8]


def test_reading_a_converted_model_needs_no_torch():
    code = (
        "import sys, numpy as np, lstm_lessons as ll\n"
        "from lstm_lessons.inspect import inspect\n"
        "r = inspect(ll.init_gru_params(3, 4), np.ones((5, 2, 3)))\n"
        "print('torch' in sys.modules, len(r.table), callable(ll.inspect))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["False", "4", "True"], done.stderr


# The claims of book/inspect_your_network.md.


def test_claims_the_character_model_of_chapter_12():
    model, vocab = cl.load_weights()
    x = ins.text_batch(vocab, load_text())
    trained = ll.inspect(model, x)
    untrained = ll.inspect(cl.char_model(len(vocab), model.rnn.hidden_size), x)
    assert trained.name == "rnn" and x.shape == (300, 8, len(vocab))
    hl, uh = trained.table["half_life"], untrained.table["half_life"]
    assert (f"{np.median(uh):.1f}", f"{uh.max():.1f}") == ("2.2", "2.6")
    assert (f"{np.median(hl):.1f}", f"{hl.max():.0f}", int(np.argmax(hl))) == ("4.7", "145", 25)
    assert int((hl > 20).sum()) == 7 and int((uh > 20).sum()) == 0
    stuck = trained.stuck()
    assert (len(stuck[("f", "open")]), len(stuck[("i", "open")])) == (5, 5)
    assert not [g for (g, end) in stuck if end == "shut"]  # no dead gate
    assert trained.carousel_units() == []
    o_shut, o_open = trained.table["o_shut"].mean(), trained.table["o_open"].mean()
    assert (f"{o_shut:.0%}", f"{o_open:.0%}") == ("25%", "25%")


def test_claims_the_bidirectional_recaller_retrains_as_stored():
    stored = ins.load_results()["seeds"]["0"]
    model, _ = ins.train_recaller(seed=0)
    assert ins.accuracy(model) == pytest.approx(stored["accuracy"], abs=1e-9)
    assert f"{stored['accuracy']:.2f}" == "1.00"
    x = ins.test_data()[0][:, :64]
    for got, want in (
        (ins.memory_counts(ll.inspect(model, x).table), stored["trained"]),
        (ins.memory_counts(ll.inspect(ins.recaller(0), x).table), stored["untrained"]),
    ):
        assert got.keys() == want.keys()
        for key in got:
            assert got[key]["long"] == want[key]["long"], key
            assert got[key]["carousels"] == want[key]["carousels"], key
            assert got[key]["median"] == pytest.approx(want[key]["median"], rel=1e-6), key
    long = {k: v["long"] for k, v in stored["trained"].items()}
    assert long == {"l0_forward": 3, "l0_backward": 0, "l1_forward": 1, "l1_backward": 0}


def test_claims_the_seed_study():
    rows = list(ins.load_results()["seeds"].values())
    assert len(rows) == len(ins.SEEDS) == 5
    acc = np.array([r["accuracy"] for r in rows])
    assert int((acc == 1.0).sum()) == 4 and f"{acc.min():.2f}" == "0.75"
    assert f"{max(r['untrained_accuracy'] for r in rows):.2f}" == "0.27"
    forward = [
        r["trained"]["l0_forward"]["long"] + r["trained"]["l1_forward"]["long"] for r in rows
    ]
    assert min(forward) == 4
    assert sum(r["trained"]["l1_backward"]["long"] for r in rows) == 0
    assert sum(r["trained"]["l0_backward"]["long"] > 0 for r in rows) == 1
    assert sum(v["long"] for r in rows for v in r["untrained"].values()) == 0


class _CellLoop(torch.nn.Module):
    """A model that steps an LSTMCell itself: the hook sees one input per step."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Linear(2, 3)
        self.cell = torch.nn.LSTMCell(3, 4)

    def forward(self, x):
        state = None
        for x_t in self.embed(x):
            state = self.cell(x_t, state)
        return state[0]


def test_a_cell_stepped_by_the_model_is_read_over_the_whole_sequence():
    model = _CellLoop().double()
    x = torch.randn(6, 2, 2, dtype=torch.float64)
    report = ll.inspect(model, x)
    with torch.no_grad():
        direct = ll.inspect(model.cell, model.embed(x))
    assert report.name == "cell" and (report.steps, report.sequences) == (6, 2)
    for name in report.table.dtype.names:
        np.testing.assert_array_equal(report.table[name], direct.table[name])
