"""The API reference (book/api/) documents every public module of the package, layer by layer."""

import pkgutil
from pathlib import Path

import pytest

import lstm_lessons

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("cells", "pytorch", "training", "experiments", "plotting", "homework")


def _public_modules(package_name, path):
    names = [package_name]
    for info in pkgutil.iter_modules([str(path)]):
        if not info.name.startswith("_"):
            sub = path / info.name
            if info.ispkg:
                names += _public_modules(f"{package_name}.{info.name}", sub)
            else:
                names.append(f"{package_name}.{info.name}")
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_every_public_module_has_its_automodule(layer):
    page = (ROOT / "book" / "api" / f"{layer}.md").read_text(encoding="utf-8")
    path = Path(lstm_lessons.__file__).parent / layer
    missing = [
        name
        for name in _public_modules(f"lstm_lessons.{layer}", path)
        if f".. automodule:: {name}\n" not in page
    ]
    assert not missing, f"book/api/{layer}.md lacks {missing}"


def test_every_layer_page_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    for layer in LAYERS:
        assert f"- file: book/api/{layer}\n" in toc
    assert "- file: book/api/index\n" in toc
