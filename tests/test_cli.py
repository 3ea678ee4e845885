"""The ``langpose`` command line: training commands, evaluate, lift delegation, one-line errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch

from langpose import cli

SMALL = ["--quick", "--no-progress", "--set", "data.max_train_windows=32", "--set", "data.batch_size=16",
         "--set", "data.max_val_frames=120", "--set", "model.depth=1", "--set", "optim.epochs=1",
         "--set", "optim.max_steps=1"]
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # a shared 2-core machine: 2 threads oversubscribe
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    run = tmp_path_factory.mktemp("cli") / "pretrain"
    assert cli.main(["pretrain", "--preset", "tiny", *SMALL, "--run-dir", str(run)]) == 0
    return run


def test_pretrain_finetune_evaluate(pretrained, tmp_path, capsys):
    assert (pretrained / "checkpoint.pt").is_file()
    assert json.loads((pretrained / "config.json").read_text())["data"]["quick"] is True
    ft = tmp_path / "ft"
    assert cli.main(["finetune", *SMALL, "--init", str(pretrained / "checkpoint.pt"), "--run-dir", str(ft)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("finetune done:") and "val_p1_mm" in out
    assert json.loads((ft / "config.json").read_text())["stage"] == "finetune"
    # resume a finished run: nothing left to do, same weights
    before = torch.load(ft / "last.pt", weights_only=True)["model"]["pose_head.out.weight"]
    assert cli.main(["finetune", *SMALL, "--resume", "--run-dir", str(ft)]) == 0
    assert torch.equal(before, torch.load(ft / "last.pt", weights_only=True)["model"]["pose_head.out.weight"])
    capsys.readouterr()

    ev = tmp_path / "eval"
    assert cli.main(["evaluate", "--checkpoint", str(ft / "checkpoint.pt"), "--run-dir", str(ev),
                     "--split", "val", "--quick"]) == 0
    res = json.loads((ev / "results.json").read_text())
    assert res["p1"] > 0 and res["p2"] <= res["p1"] and res["split"] == "val"
    assert (ev / "results.md").read_text().strip()
    out = capsys.readouterr().out
    assert out.startswith(f"P1 {res['p1']:.1f} mm, P2 {res['p2']:.1f} mm") and "results.json" in out


@pytest.mark.parametrize("argv, message", [
    (["pretrain", "--set", "optim.bogus=1", "--run-dir", "{tmp}/r"], "unknown config key 'optim.bogus'"),
    (["pretrain", "--set", "nonsense", "--run-dir", "{tmp}/r"], "not of the form key=value"),
    (["pretrain", "--preset", "huge", "--run-dir", "{tmp}/r"], "unknown preset 'huge'"),
    (["finetune", "--run-dir", "{tmp}/r"], "finetune needs init_checkpoint"),
    (["finetune", "--init", "{tmp}/missing.pt", "--run-dir", "{tmp}/r"], "missing.pt: no such file"),
    (["evaluate", "--checkpoint", "{tmp}/missing.pt", "--run-dir", "{tmp}/e"], "missing.pt: no such file"),
    (["evaluate", "--checkpoint", "{tmp}/garbage.pt", "--run-dir", "{tmp}/e"], "garbage.pt: corrupt"),
    (["pretrain", "--run-dir", "{tmp}/file/r"], "not writable"),
])
def test_user_errors_exit_2_with_one_line(argv, message, tmp_path, capsys):
    (tmp_path / "garbage.pt").write_bytes(b"garbage")
    (tmp_path / "file").write_text("x")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"langpose {argv[0]}: error:")


def test_lift_delegates_to_langpose_lift(monkeypatch):
    seen = {}
    fake = types.ModuleType("langpose.lift")

    def fake_main(argv):
        seen["argv"] = argv
        return 0

    fake.main = fake_main
    monkeypatch.setitem(sys.modules, "langpose.lift", fake)
    monkeypatch.setattr("langpose.lift", fake, raising=False)
    assert cli.main(["lift", "keypoints.json", "--checkpoint", "c.pt"]) == 0
    assert seen["argv"] == ["keypoints.json", "--checkpoint", "c.pt"]

    def failing(argv):
        raise FileNotFoundError("keypoints.json: no such file")

    fake.main = failing
    assert cli.main(["lift", "keypoints.json"]) == 2


def test_python_dash_m_entry_point(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    ok = subprocess.run([sys.executable, "-m", "langpose.cli", "--help"], capture_output=True, text=True,
                        cwd=REPO, env=env, timeout=120)
    assert ok.returncode == 0 and "pretrain" in ok.stdout and "finetune" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "langpose.cli", "pretrain", "--set", "bogus=1",
                          "--run-dir", str(tmp_path / "r")], capture_output=True, text=True, cwd=REPO, env=env,
                         timeout=120)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr and "unknown config key 'bogus'" in bad.stderr
