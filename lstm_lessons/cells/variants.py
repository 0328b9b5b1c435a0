r"""Which LSTM variant a cell computes, and which parameters that variant has.

A :class:`Variant` is a set of switches on the standard cell. Each switch
changes one line of the cell (see :mod:`lstm_lessons.cells.lstm`):

    name          switch                     the line that changes
    peephole      peephole=True              a_i += p_i * c_prev; a_f += p_f * c_prev;
                                             a_o += p_o * c
    cifg          cifg=True                  f = 1 - i          (coupled input-forget gate)
    nfg           forget_gate=False          f = 1              (the 1997 cell)
    nig           input_gate=False           i = 1
    nog           output_gate=False          o = 1
    niaf          input_activation=False     g = a_g            (no tanh on the candidate)
    noaf          output_activation=False    h = o * c          (no tanh on the output)
    hard_sigmoid  gate_fn="hard_sigmoid"     sigma = hard sigmoid

The same lines in the book's notation (a_t^i is the code's block a_i of the
pre-activation, c_{t-1} its c_prev, and \odot its element-wise *), each of
which replaces its line of the standard cell:

.. math::

    \text{peephole:}\quad i_t = \sigma(a_t^i + p_i \odot c_{t-1})
    f_t = \sigma(a_t^f + p_f \odot c_{t-1})
    o_t = \sigma(a_t^o + p_o \odot c_t)
    \text{cifg:}\quad f_t = 1 - i_t
    \text{nfg:}\quad f_t = 1
    \text{nig:}\quad i_t = 1
    \text{nog:}\quad o_t = 1
    \text{niaf:}\quad g_t = a_t^g
    \text{noaf:}\quad h_t = o_t \odot c_t
    \text{hard sigmoid:}\quad \sigma(a) = \min(1, \max(0,\, s\,a + b))

where s and b are the hard sigmoid's slope and offset (see
:mod:`lstm_lessons.cells.activations`); the hard sigmoid replaces sigma in the
three gates i, f, o, and the candidate keeps its tanh.

NIG, NOG, NIAF, NOAF and the peephole, CIFG and NFG cells follow Greff et
al. (2017), "LSTM: A Search Space Odyssey". Variants combine with ``+``, e.g.
``"cifg+peephole"``.

The gate order is the one of ``torch.nn.LSTM``: i, f, g, o. A variant without a
gate simply has no block for it, so CIFG has three blocks (i, g, o) and a
quarter fewer gate weights than the standard cell.
"""

from dataclasses import dataclass

from .activations import get_activation

GATE_ORDER = "ifgo"

_SWITCHES = {
    "peephole": {"peephole": True},
    "cifg": {"cifg": True},
    "nfg": {"forget_gate": False},
    "nig": {"input_gate": False},
    "nog": {"output_gate": False},
    "niaf": {"input_activation": False},
    "noaf": {"output_activation": False},
    "hard_sigmoid": {"gate_fn": "hard_sigmoid"},
}
VARIANT_NAMES = ("standard", *_SWITCHES)


@dataclass(frozen=True)
class Variant:
    peephole: bool = False
    cifg: bool = False
    forget_gate: bool = True
    input_gate: bool = True
    output_gate: bool = True
    input_activation: bool = True
    output_activation: bool = True
    gate_fn: str = "sigmoid"

    def __post_init__(self):
        get_activation(self.gate_fn)
        if self.cifg and not self.input_gate:
            raise ValueError("cifg sets f = 1 - i, so it needs the input gate; got cifg+nig")
        if self.cifg and not self.forget_gate:
            raise ValueError(
                "cifg defines the forget gate as 1 - i; it cannot be combined with nfg"
            )

    @property
    def has_f_block(self):
        """Whether f has parameters of its own (not under CIFG or NFG)."""
        return self.forget_gate and not self.cifg

    @property
    def gates(self):
        """The blocks of the pre-activation, in the order they are stored."""
        present = {
            "i": self.input_gate,
            "f": self.has_f_block,
            "g": True,
            "o": self.output_gate,
        }
        return "".join(k for k in GATE_ORDER if present[k])

    @property
    def peepholes(self):
        """Names of the peephole weight vectors, one per gate that reads c."""
        if not self.peephole:
            return ()
        return tuple(f"p_{k}" for k in "ifo" if k in self.gates)

    @property
    def name(self):
        parts = [
            n for n, sw in _SWITCHES.items() if all(getattr(self, k) == v for k, v in sw.items())
        ]
        return "+".join(parts) or "standard"


def get_variant(spec="standard"):
    """A :class:`Variant` from a name such as ``"standard"``, ``"cifg+peephole"``, or a Variant."""
    if isinstance(spec, Variant):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"variant: expected a name or a Variant, got {type(spec).__name__}")
    switches = {}
    for part in spec.lower().replace("-", "_").split("+"):
        part = part.strip()
        if part == "standard":
            continue
        if part not in _SWITCHES:
            raise ValueError(
                f"unknown LSTM variant {part!r} in {spec!r}; expected names from {VARIANT_NAMES}"
            )
        switches.update(_SWITCHES[part])
    return Variant(**switches)


def param_shapes(variant, D, H):
    """``{name: (shape, axis letters)}`` of the NumPy parameters of ``variant``."""
    G = len(variant.gates)
    GH = f"{G}H"
    shapes = {
        "W_x": ((D, G * H), ("D", GH)),
        "W_h": ((H, G * H), ("H", GH)),
        "b": ((G * H,), (GH,)),
    }
    for p in variant.peepholes:
        shapes[p] = ((H,), "H")
    return shapes
