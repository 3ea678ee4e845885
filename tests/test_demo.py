import pytest

from langpose import demo


def test_notebooks_are_ordered_and_selectable():
    names = [p.name for p in demo.notebooks()]
    assert names == sorted(names) and names[0].startswith("00_") and len(names) == 8
    assert [p.name[:2] for p in demo.notebooks(["02", "01"])] == ["01", "02"]


def test_unknown_notebook_number_is_named():
    with pytest.raises(SystemExit, match="no notebook numbered 42"):
        demo.notebooks(["42"])
