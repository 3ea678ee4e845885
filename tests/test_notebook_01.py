"""Notebook 01 (data preparation) runs end to end in quick mode."""
import json

import pytest

from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_data_preparation.ipynb"


@pytest.mark.slow
def test_notebook_01_runs_quick(tmp_path):
    papermill = pytest.importorskip("papermill")
    try:
        papermill.execute_notebook(str(NOTEBOOK), str(tmp_path / "out.ipynb"), kernel_name="python3",
                                   parameters=dict(quick=True, run_dir=str(tmp_path), data_dir=str(tmp_path / "data")),
                                   progress_bar=False)
    except papermill.PapermillExecutionError as e:  # the message carries the failing cell's traceback
        pytest.fail(f"notebook 01 failed:\n{e}")
    summary = json.loads((tmp_path / "data_summary.json").read_text())
    assert set(summary["splits"]) == {"train", "val", "test"}
    assert summary["splits"]["train"]["sequences"] > 0 and summary["num_actions"] >= 30
    assert summary["deepmimic_clips"] == 15
    assert list((tmp_path / "data").glob("synthetic_*.npz"))
