"""The course's figures: one style for every chart (:mod:`~lstm_lessons.plotting.style`) and
the schematics of the cells, drawn from named parts (:mod:`~lstm_lessons.plotting.diagrams`)."""

from .diagrams import draw_gru_cell, draw_lstm_cell, draw_rnn_cell, draw_unrolled, part_names
from .style import CYCLE, GATE_STYLE, OKABE_ITO, figure_myst, plot_gates, use_course_style

__all__ = [
    "CYCLE",
    "GATE_STYLE",
    "OKABE_ITO",
    "draw_gru_cell",
    "draw_lstm_cell",
    "draw_rnn_cell",
    "draw_unrolled",
    "figure_myst",
    "part_names",
    "plot_gates",
    "use_course_style",
]
