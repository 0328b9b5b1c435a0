"""The course's figures: one style for every chart (:mod:`~lstm_lessons.plotting.style`)."""

from .style import CYCLE, GATE_STYLE, OKABE_ITO, plot_gates, use_course_style

__all__ = ["CYCLE", "GATE_STYLE", "OKABE_ITO", "plot_gates", "use_course_style"]
