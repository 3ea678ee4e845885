"""The run-directory policy (issue 10, item 2): no finished run is lost, no stale temporaries, no empty run dirs."""
from __future__ import annotations

import logging

import pytest

from langpose.rundir import RunDirError, prepare_run_dir, stale_temporaries


def _run(path, *names):
    path.mkdir(parents=True, exist_ok=True)
    for name in names:
        (path / name).write_text(name)
    return path


def test_a_folder_holding_a_run_is_refused_and_left_intact(tmp_path):
    run = _run(tmp_path / "r", "config.json", "metrics.jsonl", "last.pt", "checkpoint.pt")
    with pytest.raises(RunDirError, match=r"run dir .*r already holds a run \(checkpoint.pt, last.pt, metrics.jsonl\): "
                                          r"pass --resume to continue it, or --overwrite to replace it"):
        prepare_run_dir(run)
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "config.json", "last.pt", "metrics.jsonl"]
    assert (run / "last.pt").read_text() == "last.pt"
    with pytest.raises(RunDirError, match="exclude each other"):
        prepare_run_dir(run, resume=True, overwrite=True)
    prepare_run_dir(run, resume=True)  # continue it: fine, nothing touched
    assert len(list(run.iterdir())) == 4


def test_overwrite_deletes_only_the_previous_runs_files(tmp_path, caplog):
    run = _run(tmp_path / "r", "config.json", "metrics.jsonl", "last.pt", "checkpoint.pt", "notes.txt")
    with caplog.at_level(logging.WARNING, logger="langpose.rundir"):
        prepare_run_dir(run, overwrite=True)
    assert [p.name for p in run.iterdir()] == ["notes.txt"]
    assert "--overwrite: deleted the previous run" in caplog.text


def test_resume_without_last_pt_warns_at_warning_level(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="langpose.rundir"):
        prepare_run_dir(tmp_path / "new", resume=True)
        prepare_run_dir(_run(tmp_path / "failed", "config.json"), resume=True)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "starting a fresh run" in r.message]
    assert len(warnings) == 2
    # results without last.pt cannot be resumed: refused, not silently replaced
    with pytest.raises(RunDirError, match="holds checkpoint.pt but no last.pt to resume from: pass --overwrite"):
        prepare_run_dir(_run(tmp_path / "weights_only", "checkpoint.pt"), resume=True)


def test_stale_temporaries_are_removed(tmp_path, caplog):
    """A SIGKILL during ``checkpoint.save`` leaves ``.checkpoint.XXXXXXXX.tmp.pt``: removed on the next start."""
    run = _run(tmp_path / "r", "config.json", ".checkpoint.k3j2x9q1.tmp.pt", ".metrics.ab_cd123.tmp.jsonl",
               ".write-test.zz99aa00", ".hidden_user_file", "x.tmp.pt")
    assert [p.name for p in stale_temporaries(run)] == [".checkpoint.k3j2x9q1.tmp.pt", ".metrics.ab_cd123.tmp.jsonl",
                                                       ".write-test.zz99aa00"]
    with caplog.at_level(logging.WARNING, logger="langpose.rundir"):
        prepare_run_dir(run)
    assert sorted(p.name for p in run.iterdir()) == [".hidden_user_file", "config.json", "x.tmp.pt"]
    assert "removed 3 stale temporary file(s)" in caplog.text
    # a real interrupted atomic write has exactly that shape
    import os
    import tempfile

    fd, name = tempfile.mkstemp(prefix=".last.", suffix=".tmp.pt", dir=run)
    os.close(fd)
    assert [p.name for p in stale_temporaries(run)] == [os.path.basename(name)]


def test_a_failed_run_leaves_no_empty_run_dir(tmp_path):
    target = tmp_path / "runs" / "a" / "b"
    with pytest.raises(RuntimeError, match="boom"):
        with prepare_run_dir(target):
            target.mkdir(parents=True)
            (target / "config.json").write_text("{}")
            (target / ".last.abcdefgh.tmp.pt").write_text("partial")
            raise RuntimeError("boom")
    assert not (tmp_path / "runs").exists()  # every folder it created is gone
    # an existing folder is kept (emptied of the run's own files only); KeyboardInterrupt too
    keep = _run(tmp_path / "keep", "notes.txt")
    with pytest.raises(KeyboardInterrupt):
        with prepare_run_dir(keep):
            (keep / "config.json").write_text("{}")
            raise KeyboardInterrupt
    assert [p.name for p in keep.iterdir()] == ["notes.txt"]
    # a run that saved a checkpoint is kept whole: --resume continues it
    saved = tmp_path / "saved"
    with pytest.raises(RuntimeError):
        with prepare_run_dir(saved):
            _run(saved, "config.json", "last.pt", "metrics.jsonl")
            raise RuntimeError("later epoch failed")
    assert sorted(p.name for p in saved.iterdir()) == ["config.json", "last.pt", "metrics.jsonl"]
    # success: nothing removed
    ok = tmp_path / "ok"
    with prepare_run_dir(ok):
        _run(ok, "config.json")
    assert (ok / "config.json").is_file()


def test_non_main_ranks_only_check(tmp_path):
    run = _run(tmp_path / "r", "last.pt", ".checkpoint.k3j2x9q1.tmp.pt")
    with pytest.raises(RunDirError):
        prepare_run_dir(run, main=False)
    prepare_run_dir(run, overwrite=True, main=False)
    assert sorted(p.name for p in run.iterdir()) == [".checkpoint.k3j2x9q1.tmp.pt", "last.pt"]


def test_a_file_is_not_a_run_dir(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(RunDirError, match="not writable .*f is a file"):
        prepare_run_dir(tmp_path / "f" / "r")
    with pytest.raises(RunDirError, match="is a file, not a folder"):
        prepare_run_dir(tmp_path / "f")
