"""The visualisation notebooks run top to bottom in a fresh kernel (papermill, quick mode).

They share one run directory, as a user's session would. 00 runs with ``use_shipped=False``
and trains the tiny model there (the path that works without shipped weights); 05-07 run as
committed (the shipped models, or, where this installation has none, the run directory's,
trained where missing). A failing cell fails the test with its traceback.
"""
import ast
import json
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["00_quickstart", "05_visualization_3d", "06_embedding_alignment", "07_paper_figures"]
TIMES = {}
SIZES = {"06_embedding_alignment": {"max_views": 4},  # quick-mode sizes that keep the test short
         "00_quickstart": {"use_shipped": False}}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_clean_and_parameterised(name):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert nb.cells[0].cell_type == "markdown", "opens with what it shows and why"
    assert "what to try next" in nb.cells[-1].source.lower()
    params = code[0]
    assert "parameters" in params.metadata.get("tags", []), "first code cell must be tagged 'parameters'"
    values = {}
    for stmt in ast.parse(params.source).body:
        assert isinstance(stmt, ast.Assign), f"parameters cell holds only assignments, got {ast.dump(stmt)[:60]}"
        values[stmt.targets[0].id] = ast.literal_eval(stmt.value)  # plain literals only
    assert {"quick": False, "seed": 0, "run_dir": "runs/demo", "data_dir": None, "device": "auto"}.items() <= values.items()
    for c in code:
        assert not c.get("outputs") and c.get("execution_count") is None, "committed without outputs"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("nbrun")


def _execute(name, run_dir, tmp, **params):
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    t = time.time()
    try:
        pm.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"), str(tmp / f"{name}.out.ipynb"),
                            parameters=dict(quick=True, seed=0, run_dir=str(run_dir), **{**SIZES.get(name, {}), **params}),
                            kernel_name="python3",
                            cwd=str(ROOT), progress_bar=False, execution_timeout=240)
    except PapermillExecutionError as exc:
        pytest.fail(f"{name}: cell {exc.exec_count} failed: {exc.ename}: {exc.evalue}\n{''.join(exc.traceback)}")
    TIMES[name] = time.time() - t
    print(f"{name}: {TIMES[name]:.1f} s")


@pytest.mark.slow
def test_quickstart(run_dir, tmp_path):
    _execute("00_quickstart", run_dir, tmp_path)
    res = json.loads((run_dir / "quickstart.json").read_text())
    assert len(res["top_actions"]) == 5 and res["mpjpe_mm"] > 0
    assert res["model"]["source"] == "trained" and res["model"]["checkpoint"] == str(run_dir / "checkpoint.pt")
    assert (run_dir / "checkpoint.pt").exists() and (run_dir / "quickstart_3d.html").exists()


@pytest.mark.slow
def test_quickstart_in_quick_mode_lifts_its_clip_with_the_shipped_small(tmp_path):
    """What `make demo` shows (quick mode): the shipped small's own lift of the first test clip, and the true action
    in the top-5 of its stage-1 weights (fine-tuning erodes recognition). How close the lift is (issue 8 asks
    40 mm of this clip) is an accuracy figure: `make demo` prints it, the README reports it."""
    import langpose
    from langpose import interactive as ia
    from langpose import metrics

    if "small" not in langpose.pretrained():
        pytest.skip("this installation ships no 'small' model")
    out = tmp_path / "run"
    _execute("00_quickstart", out, tmp_path, use_shipped=True)
    res = json.loads((out / "quickstart.json").read_text())
    assert res["model"]["source"] == "shipped" and res["model"]["name"] == "small"
    assert res["recognizer"] == "small-stage1"
    model = langpose.pretrained("small")
    clip = ia.clips_from_views(ia.demo_views(quick=True, seed=0, max_views=4), window=model.cfg.max_frames)[0]
    expected = 1000 * float(metrics.mpjpe(ia.lift_clip(model, clip["x2d"]), clip["y3d"]))
    assert res["clip"] == clip["name"] and res["mpjpe_mm"] == pytest.approx(expected, abs=0.05)
    assert res["label"] in [label for label, _ in res["top_actions"]], res


@pytest.mark.slow
def test_visualization_3d(run_dir, tmp_path):
    _execute("05_visualization_3d", run_dir, tmp_path)
    res = json.loads((run_dir / "occlusion_demo.json").read_text())
    assert res["hidden_joints"] == [11, 12, 13] and min(res["shift_mm"].values()) > 0
    assert res["hidden_mpjpe_mm"]["occluded"] > 0 and res["mpjpe_mm"]["clean"] > 0
    assert (run_dir / "occlusion_3d.html").exists() and (run_dir / "occlusion_panel.png").exists()
    from importlib.util import find_spec

    if find_spec("Pose2Sim") is not None:  # the Pose2Sim section: 4 cameras lifted, their disagreement
        mv = json.loads((run_dir / "multiview_demo.json").read_text())
        assert set(mv["per_camera"]) == {f"cam_0{c}" for c in range(1, 5)} and mv["frames"] == 83
        assert mv["mpjpe"] > 0 and mv["mpjpe_rescaled"] > 0 and mv["reference_height_m"] > 1
        assert len(mv["zoom"]) == 4 and all(0.2 < f < 0.6 for f in mv["zoom"])  # zoomed to the training size


@pytest.mark.slow
def test_embedding_alignment(run_dir, tmp_path):
    _execute("06_embedding_alignment", run_dir, tmp_path)
    res = json.loads((run_dir / "embedding_alignment.json").read_text())
    assert set(res) >= {"aligned", "no text alignment", "query", "text_encoders"}
    assert res["text_encoders"]["minilm"]["available"] and len(res["query"]["hits"]) == 3
    assert res["query"]["pool"] >= 35  # every action of the vocabulary
    assert not res["text_encoders"]["clip"]["note"].endswith("Searched:")
    if not res["models"].startswith("shipped"):
        assert (run_dir / "no_align" / "checkpoint.pt").exists()


@pytest.mark.slow
def test_paper_figures(run_dir, tmp_path):
    _execute("07_paper_figures", run_dir, tmp_path)
    man = json.loads((run_dir / "figures" / "manifest.json").read_text())
    assert {"robustness", "embedding_map", "similarity", "qualitative"} <= set(man["figures"])
    if not all("/weights/" in p for p in man["checkpoints"].values()):  # trained here: metrics.jsonl beside them
        assert "training_curves" in man["figures"]
