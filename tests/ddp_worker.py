"""Run by tests/test_ddp.py under torchrun: one tiny pretraining run; every rank writes its final weights.

    python -m torch.distributed.run --nproc_per_node 2 tests/ddp_worker.py RUN_DIR DUMP_DIR
"""
import os
import sys
from pathlib import Path

import torch

from langpose.train import fit, train_config


def main() -> None:
    run_dir, dump = Path(sys.argv[1]), Path(sys.argv[2])
    cfg = train_config("tiny", ["device=cpu", "data.quick=true", "data.max_train_windows=64", "data.batch_size=8",
                                "data.max_val_frames=60", "model.depth=1", "optim.epochs=1", "optim.max_steps=3",
                                "progress=false"])

    def dump_weights(model, record):  # on every rank: the DDP replicas must agree
        dump.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu() for k, v in model.state_dict().items() if isinstance(v, torch.Tensor)}
        torch.save(state, dump / f"rank{os.environ.get('RANK', '0')}.pt")

    fit(cfg, run_dir, on_epoch_end=dump_weights)
    if os.environ.get("RANK", "0") == "0":
        print("pretrain done")


if __name__ == "__main__":
    main()
