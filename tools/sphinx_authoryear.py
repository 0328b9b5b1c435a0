"""Sphinx extension: bibliography labels by author and year, like the citations in the text.

sphinxcontrib-bibtex cites author-year in the text (``bibtex_reference_style: author_year``)
but labels the bibliography with pybtex's label style, numbers by default. This registers a
pybtex style, ``authoryear``, whose labels are "Hochreiter and Schmidhuber, 1997", so that the
list of references reads the way the text cites it.
"""

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person):
    return " ".join(person.prelast_names + person.last_names).replace("{", "").replace("}", "")


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            names = [_surname(p) for p in entry.persons.get("author", [])] or ["Anonymous"]
            if len(names) == 1:
                authors = names[0]
            elif len(names) == 2:
                authors = f"{names[0]} and {names[1]}"
            else:
                authors = f"{names[0]} et al."
            yield f"{authors}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(PlainStyle):
    default_label_style = "authoryear"


def setup(app):
    register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabels)
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
