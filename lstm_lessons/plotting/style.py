"""One look for every figure of the course.

Colours come from the Okabe-Ito palette, which stays distinguishable under
the common forms of colour blindness; each gate keeps its colour in every
chapter (i blue, f vermilion, g green, o orange, c purple, h black), and
line styles differ as well, so a figure also reads in grey.
"""

import matplotlib.pyplot as plt

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermilion": "#D55E00",
    "purple": "#CC79A7",
}
GATE_STYLE = {
    "i": {"color": OKABE_ITO["blue"], "linestyle": "-", "label": "input gate $i_t$"},
    "f": {"color": OKABE_ITO["vermilion"], "linestyle": "--", "label": "forget gate $f_t$"},
    "g": {"color": OKABE_ITO["green"], "linestyle": "-.", "label": "candidate $g_t$"},
    "o": {"color": OKABE_ITO["orange"], "linestyle": ":", "label": "output gate $o_t$"},
    "c": {"color": OKABE_ITO["purple"], "linestyle": "-", "label": "cell state $c_t$"},
    "h": {"color": OKABE_ITO["black"], "linestyle": "-", "label": "hidden state $h_t$"},
}
CYCLE = [OKABE_ITO[k] for k in ("blue", "vermilion", "green", "orange", "purple", "sky", "black")]


def use_course_style():
    """Set matplotlib defaults for the course: palette, sizes, grid, no top/right spines.

    In a notebook, figures are also shown (and glued) as SVG, so that they stay sharp at any
    zoom in the built book.
    """
    _svg_in_notebooks()
    plt.rcParams.update(
        {
            "axes.prop_cycle": plt.cycler(color=CYCLE),
            "figure.figsize": (7.0, 3.6),
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "font.size": 11,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "lines.linewidth": 1.8,
            "svg.hashsalt": "lstm-lessons",
        }
    )


def plot_gates(cache, unit=0, sample=0, names="ifgoc", ax=None, title=None):
    """Plot gates and states of one unit over time from an LSTM's forward cache.

    ``cache`` is the :class:`~lstm_lessons.cells.lstm.SequenceCache` of a forward pass.
    ``names`` picks from i, f, g, o (gates) and c, h (states).
    """
    if ax is None:
        _, ax = plt.subplots()
    T = cache.tc.shape[0]
    steps = range(1, T + 1)
    for k in names:
        if k in "ifgo":
            values = cache.gate(k)[:, sample, unit]
        elif k in "ch":
            values = getattr(cache, k)[1:, sample, unit]
        else:
            raise ValueError(f"names: expected letters from 'ifgoch', got {k!r}")
        ax.plot(steps, values, **GATE_STYLE[k])
    ax.set_xlabel("time step $t$")
    ax.set_ylabel("value")
    ax.set_title(title or f"unit {unit} of sequence {sample}")
    ax.legend(loc="best", ncols=min(len(names), 3))
    return ax


def _svg_in_notebooks():
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # no IPython: a script or a test, nothing to set
        return
    if get_ipython() is not None:
        # SVG for the book's pages, PNG as well for the chapters' notebook copies (Colab and
        # GitHub show a PNG in a Markdown cell; a scatter of many points is also far smaller
        # as one). No date in either file, and (with svg.hashsalt below) the same element ids
        # on every run: the same figure gives the same bytes, which the strict nbval stage
        # compares.
        set_matplotlib_formats("svg", "png", metadata={"Date": None})


def figure_myst(key, caption, alt, name=None):
    """MyST source of a ``{glue:figure}`` for ``key``, with alt text computed in the notebook.

    A directive's ``:alt:`` is plain text, so a number in it cannot be a glue role; glue this
    string as ``IPython.display.Markdown`` and show it with ``{glue:md}`` and ``:format: myst``,
    and the alt text's numbers come from the same code as the caption's.
    """
    for label, text in (("caption", caption), ("alt", alt)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{label}: expected a non-empty string, got {text!r}")
    if "\n" in alt:
        raise ValueError(f"alt: expected one line, got {alt!r}")
    return f"```{{glue:figure}} {key}\n:alt: {alt}\n:name: {name or key}\n\n{caption}\n```"
