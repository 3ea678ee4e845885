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


# ----------------------------------------------------------------------------- issue 10
def _one_line(err: str, command: str) -> str:
    err = err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith(f"langpose {command}:"), err
    return err


def test_a_finished_run_is_not_replaced(pretrained, capsys):
    """Item 2: rerunning into a run dir that holds a run is refused; nothing in it changes."""
    before = {p.name: p.read_bytes() for p in pretrained.iterdir()}
    assert cli.main(["pretrain", "--preset", "tiny", *SMALL, "--run-dir", str(pretrained)]) == 2
    err = _one_line(capsys.readouterr().err, "pretrain")
    assert f"run dir {pretrained} already holds a run" in err and "--resume" in err and "--overwrite" in err
    assert {p.name: p.read_bytes() for p in pretrained.iterdir()} == before


@pytest.mark.parametrize("override, message", [
    ("optim.lr=abc", "optim.lr: expected a finite number, got 'abc'"),
    ("optim.lr=nan", "optim.lr: expected a finite number, got 'nan'"),
    ("loss.w_align=abc", "loss.w_align: expected a finite number"),
    ("seed=abc", "seed: expected an integer, got 'abc'"),
    ("optim.grad_clip=abc", "optim.grad_clip: expected a finite number"),
    ("data.quick=maybe", "data.quick: expected true or false, got 'maybe'"),
    ("device=tpu", "device: expected auto, cpu, cuda or cuda:N, got 'tpu'"),
])
def test_bad_set_values_are_one_line_errors(override, message, tmp_path, capsys):
    """Item 5: every --set value is checked before anything runs; no run dir is created."""
    assert cli.main(["pretrain", "--set", override, "--run-dir", str(tmp_path / "r")]) == 2
    assert message in _one_line(capsys.readouterr().err, "pretrain")
    assert not (tmp_path / "r").exists()


def test_model_presets_and_init_windows_are_explained(pretrained, tmp_path, capsys):
    """Item 6: --preset lite (a model preset) and a small preset on a tiny --init say what to do."""
    assert cli.main(["pretrain", "--preset", "lite", "--run-dir", str(tmp_path / "r")]) == 2
    err = _one_line(capsys.readouterr().err, "pretrain")
    assert "'lite' is a model preset, not a training preset" in err and "--preset paper --set model.dim=256" in err
    assert cli.main(["finetune", "--preset", "small", "--init", str(pretrained / "checkpoint.pt"),
                     "--run-dir", str(tmp_path / "ft")]) == 2
    err = _one_line(capsys.readouterr().err, "finetune")
    assert "the checkpoint's window is 27 frames" in err and "data.window=81" in err and "--preset tiny" in err
    assert not (tmp_path / "ft").exists()


def test_verbose_flag_after_the_subcommand(tmp_path, capsys):
    """Item 6: -v works before and after the subcommand."""
    for argv in (["-v", "pretrain"], ["pretrain", "-v"], ["pretrain", "--verbose"]):
        assert cli.main([*argv, "--set", "bogus=1", "--run-dir", str(tmp_path / "r")]) == 2
        assert "unknown config key 'bogus'" in capsys.readouterr().err


@pytest.mark.parametrize("exc, code, message", [
    (KeyError("data_3d_h36m.npz: no key 'positions_3d'"), 2, "error: data_3d_h36m.npz: no key 'positions_3d'"),
    (__import__("pickle").UnpicklingError("x.pkl: refused global os.system"), 2, "error: x.pkl: refused global"),
    (EOFError("x.pkl: truncated"), 2, "error: x.pkl: truncated"),
    (OSError(28, "disk full while writing checkpoint r/last.pt"), 2, "error: disk full while writing checkpoint"),
    (FloatingPointError("pretrain epoch 1 step 0: loss is nan"), 1, "error: FloatingPointError: pretrain epoch 1"),
    (TypeError("unsupported operand"), 1, "TypeError: unsupported operand (rerun with -v for the traceback)"),
])
def test_faults_inside_the_run_are_one_line(exc, code, message, tmp_path, capsys, monkeypatch):
    """Item 5: loader errors, a full disk, a NaN loss or a bug inside ``fit``: one line, no traceback;
    the run dir it created is removed again (item 2: no empty run dirs)."""
    def failing_fit(cfg, run_dir, **kw):
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        (Path(run_dir) / "config.json").write_text("{}")
        raise exc

    monkeypatch.setattr("langpose.train.fit", failing_fit)
    run = tmp_path / "runs" / "r"
    assert cli.main(["pretrain", "--run-dir", str(run)]) == code
    assert message in _one_line(capsys.readouterr().err, "pretrain")
    assert not (tmp_path / "runs").exists()
    if code == 1 and isinstance(exc, TypeError):
        assert cli.main(["pretrain", "-v", "--run-dir", str(run)]) == 1
        assert "Traceback" in capsys.readouterr().err


def test_loader_errors_through_evaluate(pretrained, tmp_path, capsys, monkeypatch):
    def failing(cfg, split):
        raise KeyError("h36m_sh_conf_cam_source_final.pkl: 'test' has no key 'joint_2d'")

    monkeypatch.setattr("langpose.train.load_split_views", failing)
    assert cli.main(["evaluate", "--checkpoint", str(pretrained / "checkpoint.pt"), "--run-dir",
                     str(tmp_path / "e")]) == 2
    err = _one_line(capsys.readouterr().err, "evaluate")
    assert "error: h36m_sh_conf_cam_source_final.pkl: 'test' has no key 'joint_2d'" in err


def test_interrupt_prints_how_to_resume(tmp_path, capsys, monkeypatch):
    """Item 5: Ctrl-C -> one line, exit 130; with last.pt saved it gives the --resume command."""
    def interrupted_fit(cfg, run_dir, **kw):
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        if kw.get("resume"):
            (Path(run_dir) / "last.pt").write_text("epoch 1")
        raise KeyboardInterrupt

    monkeypatch.setattr("langpose.train.fit", interrupted_fit)
    run = tmp_path / "r"
    assert cli.main(["pretrain", "--run-dir", str(run)]) == 130
    err = _one_line(capsys.readouterr().err, "pretrain")
    assert "interrupted before the first epoch finished; nothing was saved" in err and not run.exists()
    assert cli.main(["pretrain", "--preset", "tiny", "--run-dir", str(run), "--resume"]) == 130
    err = _one_line(capsys.readouterr().err, "pretrain")
    assert f"interrupted; {run / 'last.pt'} holds the last finished epoch: continue with " in err
    assert err.endswith(f"langpose pretrain --preset tiny --run-dir {run} --resume")


def test_epoch_lines_are_shown_without_a_terminal(tmp_path):
    """Item 7: stderr not a terminal, no -v: one line per epoch (logger langpose.train) is printed."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, "-m", "langpose.cli", "pretrain", "--preset", "tiny", *SMALL,
                          "--run-dir", str(tmp_path / "r")], capture_output=True, text=True, cwd=REPO, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert "epoch 1" in run.stderr and "langpose.train" in run.stderr


def test_evaluate_flip_test_is_on_unless_no_flip_test():
    from langpose.cli import build_parser
    base = ["evaluate", "--checkpoint", "c.pt", "--run-dir", "r"]
    assert build_parser().parse_args(base).flip_test is True
    assert build_parser().parse_args(base + ["--no-flip-test"]).flip_test is False
    assert build_parser().parse_args(base).upright_test is True
    assert build_parser().parse_args(base + ["--no-upright-test"]).upright_test is False
