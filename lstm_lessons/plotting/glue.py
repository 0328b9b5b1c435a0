"""``glue`` for the chapters' notebook copies: a glued figure is shown where it is made.

The book's chapters hand each number and figure to the text with ``myst_nb.glue(name, value,
display=False)``, and the build places it in the prose. Outside the build (Colab, Binder,
JupyterLab) nothing places it, so the notebook copies of the chapters import this function
instead: the same call, which shows a figure (or any value glued with ``display=True``) under
the cell that makes it, and nothing else. The copies' prose already holds the values the book
was built with.
"""

__all__ = ["glue"]


def glue(name, variable, display=True):
    """Show ``variable`` if it is a figure or ``display`` is true; ``name`` is only checked.

    ``name`` must be a non-empty string, as in ``myst_nb.glue``.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"glue: name must be a non-empty string, got {name!r}")
    from matplotlib.figure import Figure

    if display or isinstance(variable, Figure):
        from IPython.display import display as show

        show(variable)
