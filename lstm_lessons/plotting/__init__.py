"""The course's figures: one style for every chart (:mod:`~lstm_lessons.plotting.style`) and
the schematics of the cells and their variants, drawn from named parts
(:mod:`~lstm_lessons.plotting.diagrams`), and those of the later cells and the scan
(:mod:`~lstm_lessons.plotting.later_diagrams`)."""

from .diagrams import (
    diagram_graph,
    draw_gru_cell,
    draw_lstm_cell,
    draw_rnn_cell,
    draw_unrolled,
    draw_variant_comparison,
    part_names,
)
from .later_diagrams import (
    draw_mingru_comparison,
    draw_mlstm_memory,
    draw_scan_tree,
    draw_slstm_cell,
)
from .style import CYCLE, GATE_STYLE, OKABE_ITO, figure_myst, plot_gates, use_course_style

__all__ = [
    "CYCLE",
    "GATE_STYLE",
    "OKABE_ITO",
    "diagram_graph",
    "draw_gru_cell",
    "draw_lstm_cell",
    "draw_mingru_comparison",
    "draw_mlstm_memory",
    "draw_rnn_cell",
    "draw_scan_tree",
    "draw_slstm_cell",
    "draw_unrolled",
    "draw_variant_comparison",
    "figure_myst",
    "part_names",
    "plot_gates",
    "use_course_style",
]
