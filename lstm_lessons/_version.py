"""The package's version: the one place it is written (pyproject.toml reads it from here).

A release is tagged ``v<version>`` in the repository; the notebooks handed out (exercise sets,
the chapters' copies for Colab) install that tag, so a release's notebooks keep working with the
package they were written for. CHANGELOG.md lists what each release changed.
"""

__version__ = "0.3.0"
