"""lstm_lessons.pytorch.sequence: the whole-sequence engine and its hand-written backward.

Its values and every gradient must equal those of autograd through the step-by-step
engine (``lstm_cell`` in a loop, as the torch cells computed before), for every variant
and for stacked models, and pass ``torch.autograd.gradcheck``. That the engine's cells
equal ``torch.nn.LSTM`` and the NumPy cells is tested in test_against_torch_nn.py and
test_variants_agree.py, which now run through this engine.
"""

import pytest
import torch

from lstm_lessons.cells.variants import VARIANT_NAMES, get_variant
from lstm_lessons.pytorch.cells import LSTM, engine_weights, lstm_cell
from lstm_lessons.pytorch.sequence import run_sequence

COMBINED = ("cifg+peephole", "peephole+hard_sigmoid", "nog+noaf", "nig+peephole",
            "nfg+peephole", "niaf+noaf+peephole", "cifg+hard_sigmoid")  # fmt: skip
F64 = torch.float64


def step_loop(ax, h, c, W_rec, p_o, v):
    """The reference: the engine's step, recorded by autograd step after step."""
    reads_c = W_rec.shape[-2] > h.shape[-1]
    addmm = torch.addmm if W_rec.dim() == 2 else torch.baddbmm
    outputs = []
    for ax_t in ax.unbind(0):
        hc = torch.cat([h, c], dim=-1) if reads_c else h
        h, c = lstm_cell(addmm(ax_t, hc, W_rec), c, p_o, v)
        outputs.append(h)
    return torch.stack(outputs), c


def problem(name, lead, seed=0, T=7, D=3, H=5):
    """Random parameters (E stacked models when lead = (E, N)), input and initial state."""
    torch.manual_seed(seed)
    v = get_variant(name)
    E = lead[:-1]
    G = len(v.gates)
    leaves = {
        "x": torch.randn(T, *lead, D, dtype=F64),
        "h0": torch.randn(*lead, H, dtype=F64),
        "c0": torch.randn(*lead, H, dtype=F64),
        "weight_ih": torch.randn(*E, G * H, D, dtype=F64),
        "weight_hh": torch.randn(*E, G * H, H, dtype=F64),
        "bias": torch.randn(*E, G * H, dtype=F64),
    }
    leaves.update({p: torch.randn(*E, H, dtype=F64) for p in v.peepholes})
    for t in leaves.values():
        t.requires_grad_(True)
    return v, leaves


def run(engine, v, leaves):
    peep = {k: t for k, t in leaves.items() if k.startswith("p_")}
    W_in, b, W_rec, p_o = engine_weights(
        v, leaves["weight_ih"], leaves["weight_hh"], leaves["bias"], peep
    )
    ax = leaves["x"] @ W_in + (b.unsqueeze(-2) if b.dim() == 2 else b)
    return engine(ax, leaves["h0"], leaves["c0"], W_rec, p_o, v)


def sequence_engine(*args):
    return run_sequence(lstm_cell, *args)


def loss_of(out, c):
    # Every output step and the last cell state, unevenly weighted: each path of the
    # gradient (through h and through c, out of every step) reaches the loss.
    w = torch.linspace(-1.0, 2.0, out.shape[-1], dtype=out.dtype)
    return (out * w).sum() + 0.3 * (c**2).sum() + out[-1].sum()


@pytest.mark.parametrize("lead", [(4,), (3, 4)], ids=["one model", "3 stacked"])
@pytest.mark.parametrize("name", [*VARIANT_NAMES, *COMBINED])
def test_values_and_every_gradient_equal_autograd_through_the_steps(name, lead):
    v, leaves = problem(name, lead)
    results = []
    for engine in (step_loop, sequence_engine):
        out, c = run(engine, v, leaves)
        grads = torch.autograd.grad(loss_of(out, c), list(leaves.values()))
        results.append((out, c, grads))
    (out_ref, c_ref, g_ref), (out, c, g) = results
    torch.testing.assert_close(out, out_ref, rtol=0, atol=1e-13)
    torch.testing.assert_close(c, c_ref, rtol=0, atol=1e-13)
    for key, a, b in zip(leaves, g, g_ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-11, msg=lambda m, k=key: f"{k}: {m}")


@pytest.mark.parametrize("name", ["standard", "peephole", "cifg+peephole", "nig+noaf"])
def test_gradcheck(name):
    v, leaves = problem(name, (2,), seed=1, T=4, D=2, H=3)
    keys = list(leaves)

    def f(*tensors):
        out, c = run(sequence_engine, v, dict(zip(keys, tensors, strict=True)))
        return out, c

    assert torch.autograd.gradcheck(f, tuple(leaves.values()))


def test_only_the_last_cell_state_used():
    """A loss of c_T alone: the outputs' gradient is zero, and the result still right."""
    v, leaves = problem("peephole", (3,))
    grads = []
    for engine in (step_loop, sequence_engine):
        _, c = run(engine, v, leaves)
        grads.append(torch.autograd.grad(c.sum(), list(leaves.values())))
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_the_module_runs_through_the_sequence_engine(monkeypatch):
    """LSTM.forward uses run_sequence: replacing it changes what the module computes."""
    import lstm_lessons.pytorch.cells as cells

    calls = []

    def spy(*args):
        calls.append(args[-1].name)
        return run_sequence(*args)

    monkeypatch.setattr(cells, "run_sequence", spy)
    LSTM(3, 4, "cifg")(torch.randn(5, 2, 3))
    assert calls == ["cifg"]
