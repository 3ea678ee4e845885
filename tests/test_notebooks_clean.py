"""Notebooks are committed without outputs and keep a first code cell tagged 'parameters'."""
import ast
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean_and_parameterised(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code cells"
    for i, cell in enumerate(code):
        assert not cell.get("outputs"), f"{path.name}: code cell {i} has committed outputs"
        assert cell.get("execution_count") is None, f"{path.name}: code cell {i} has an execution count"
    first = code[0]
    assert "parameters" in first.get("metadata", {}).get("tags", []), f"{path.name}: first code cell is not tagged 'parameters'"
    # The parameters cell holds plain literals only (papermill overrides them).
    tree = ast.parse("".join(first["source"]))
    names = set()
    for node in tree.body:
        assert isinstance(node, ast.Assign), f"{path.name}: parameters cell has a non-assignment: {ast.dump(node)[:60]}"
        ast.literal_eval(node.value)
        names.update(t.id for t in node.targets)
    assert {"quick", "seed", "run_dir"} <= names, f"{path.name}: parameters cell lacks quick/seed/run_dir"
    assert path.name[:2].isdigit(), f"{path.name}: notebooks are ordered NN_name.ipynb"
    assert nb["cells"][0]["cell_type"] == "markdown", f"{path.name}: should open with a markdown cell saying what it shows"
