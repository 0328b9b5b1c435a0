"""``python -m lstm_lessons.grade``: grade a class (:mod:`lstm_lessons.homework.grading`)."""

import sys

from .homework.grading import Limits, grade_folder, main, write_gradebook

__all__ = ["Limits", "grade_folder", "main", "write_gradebook"]

if __name__ == "__main__":
    sys.exit(main())
