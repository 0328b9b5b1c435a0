"""``python -m lstm_lessons.inspect MODEL --input BATCH.npy``: :mod:`lstm_lessons.inspect.cli`."""

from .cli import main

raise SystemExit(main())
