"""DistributedDataParallel on the CPU: 2 processes (gloo) through torchrun end with identical weights."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from langpose import distributed

REPO = Path(__file__).resolve().parents[1]


def test_single_process_setup_is_a_no_op(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    info = distributed.setup("cpu")
    assert (info.rank, info.world_size, info.is_main, info.enabled) == (0, 1, True, False)
    assert info.device == torch.device("cpu")
    assert distributed.all_reduce_mean(2.5, info) == 2.5
    assert distributed.broadcast_object({"a": 1}, info) == {"a": 1}
    distributed.cleanup(info)  # nothing to destroy
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="'cuda' requested but CUDA is not available"):
            distributed.resolve_device("cuda")
    assert distributed.resolve_device("cpu") == torch.device("cpu")


@pytest.mark.slow
def test_two_process_gloo_run_ends_with_identical_weights(tmp_path):
    run, dump = tmp_path / "run", tmp_path / "ranks"
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(REPO / "tests" / "ddp_worker.py"), str(run), str(dump)]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r0 = torch.load(dump / "rank0.pt", weights_only=True)
    r1 = torch.load(dump / "rank1.pt", weights_only=True)
    assert r0.keys() == r1.keys() and len(r0) > 10
    for k in r0:
        assert torch.equal(r0[k], r1[k]), f"rank weights differ at {k}"
    # rank 0 wrote the run files once; the checkpoint is the replicas' weights
    saved = torch.load(run / "last.pt", weights_only=True)
    assert saved["epoch"] == 1 and saved["history"][0]["steps"] == 3
    assert torch.equal(saved["model"]["pose_head.out.weight"], r0["pose_head.out.weight"])
    assert proc.stdout.count("pretrain done") == 1
