import pytest

from langpose import demo


def test_notebooks_are_ordered_and_selectable():
    names = [p.name for p in demo.notebooks()]
    assert names == sorted(names) and names[0].startswith("00_") and len(names) == 8
    assert [p.name[:2] for p in demo.notebooks(["02", "01"])] == ["01", "02"]


def test_unknown_notebook_number_is_named():
    with pytest.raises(SystemExit, match="no notebook numbered 42"):
        demo.notebooks(["42"])


def test_demo_prints_every_shipped_model_with_its_recorded_p1():
    import langpose
    from langpose.demo import shipped_table

    table = shipped_table()
    listing = langpose.pretrained()
    assert listing, "no shipped models"
    for name, entry in listing.items():
        assert f"| {name} | {entry['p1_mm']:.1f} |" in table
