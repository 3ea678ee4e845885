"""Notebooks 02 (pretraining) then 03 (fine-tuning) run end to end in quick mode, through files."""
from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pytest

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NB02 = NB_DIR / "02_pretraining.ipynb"
NB03 = NB_DIR / "03_finetuning.ipynb"


@pytest.mark.parametrize("path", [NB02, NB03], ids=["02", "03"])
def test_notebook_is_committed_clean_with_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    first = code[0]
    assert "parameters" in first.metadata.get("tags", [])
    params = {}
    exec(first.source, {}, params)  # plain literals only
    assert params == {"quick": False, "seed": 0, "run_dir": "runs/demo", "data_dir": None, "device": "auto",
                      "epochs": None, "preset": "tiny"}
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "What to try next" in text and r"\mathcal{L}_{align}" in text and "20" in text


def _run(papermill, nb: Path, out: Path, params: dict) -> float:
    t0 = time.time()
    try:
        papermill.execute_notebook(str(nb), str(out), kernel_name="python3", parameters=params,
                                   progress_bar=False)
    except papermill.PapermillExecutionError as e:  # carries the failing cell's traceback
        pytest.fail(f"notebook {nb.name} failed:\n{e}")
    return time.time() - t0


@pytest.mark.slow
def test_notebooks_02_then_03_quick(tmp_path, monkeypatch):
    papermill = pytest.importorskip("papermill")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the kernels: no thread oversubscription on 2 cores
    params = dict(quick=True, run_dir=str(tmp_path / "run"), seed=0)
    t02 = _run(papermill, NB02, tmp_path / "02.ipynb", params)
    pre = tmp_path / "run" / "pretrain"
    records = [json.loads(line) for line in (pre / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
    assert all(r["train_total"] > 0 and r["val_p1_mm"] > 0 and "val_top1_pct" in r for r in records)
    for name in ("checkpoint.pt", "last.pt", "config.json", "loss_curves.png", "confusion_val.png"):
        assert (pre / name).is_file(), name
    import langpose

    if "tiny" in langpose.pretrained():  # the quick model beside the shipped one
        rows = json.loads((pre / "shipped_comparison.json").read_text())
        assert len(rows) == 2 and all(r["p1"] > 0 and r["top1"] is not None for r in rows.values())

    t03 = _run(papermill, NB03, tmp_path / "03.ipynb", params)
    ft = tmp_path / "run" / "finetune"
    comparison = json.loads((ft / "comparison.json").read_text())
    import langpose

    shipped = {"shipped 'tiny'"} if "tiny" in langpose.pretrained() else set()  # beside the shipped model, if any
    assert set(comparison) == {"pretrained (02)", "fine-tuned (03)"} | shipped
    assert all(r["p1"] > 0 and r["p2"] <= r["p1"] for r in comparison.values())
    assert "| fine-tuned (03) |" in (ft / "comparison.md").read_text()
    ft_records = [json.loads(line) for line in (ft / "metrics.jsonl").read_text().splitlines()]
    assert ft_records and all("train_align" not in r for r in ft_records)
    print(f"notebook 02: {t02:.1f} s, notebook 03: {t03:.1f} s")
