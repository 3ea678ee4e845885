"""Notebook 04 (evaluation) runs end to end in quick mode and writes its result files."""
import json
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_evaluation.ipynb"


@pytest.mark.slow
def test_notebook_04_runs_quick(tmp_path):
    papermill = pytest.importorskip("papermill")
    try:
        papermill.execute_notebook(
            str(NOTEBOOK), str(tmp_path / "out.ipynb"), kernel_name="python3",
            parameters=dict(quick=True, run_dir=str(tmp_path / "run"), data_dir=str(tmp_path / "data"), device="cpu",
                            ablation_results=str(tmp_path / "no_ablation.json")),
            progress_bar=False)
    except papermill.PapermillExecutionError as e:  # the message carries the failing cell's traceback
        pytest.fail(f"notebook 04 failed:\n{e}")
    eval_dir = tmp_path / "run" / "eval"
    summary = json.loads((eval_dir / "summary.json").read_text())
    assert summary["quick"] is True and summary["model"] in ("shipped", "trained")
    for name in ("synthetic", "deepmimic"):
        assert summary[name]["p1"] > 0 and summary[name]["p2"] <= summary[name]["p1"] + 1e-6
        assert (eval_dir / f"{name}.md").read_text().startswith(f"# {name}")
    assert set(summary["robustness"]) == {"clean", "joint_mask_0.1", "joint_mask_0.3", "joint_mask_0.5",
                                          "part_left_arm", "gap_5"}
    rob = json.loads((eval_dir / "robustness.json").read_text())
    assert rob["conditions"]["part_left_arm"]["hidden_fraction"] == pytest.approx(3 / 17)
