"""Which loss term slows pose learning at CPU budgets? Train the tiny lifter for a few hundred
steps under loss/corruption variants and print test-subject P1 (mm).

    OMP_NUM_THREADS=1 .venv/bin/python bench/diagnose_losses.py [--steps 200] [--variants ...]

Each variant: tiny preset, seed 0, AdamW lr 2e-3, batch 32 drawn with replacement from the
synthetic train split (windows of 27, flip augmentation), pose branch only (no alignment);
P1 on 256 fixed windows of the test subject. Variants:

- clean_mpjpe / clean_full: clean 2D; MPJPE only / MPJPE + 0.5 N-MPJPE + 20 velocity;
- masked_mpjpe / masked_full: the pretraining corruption (CorruptionConfig defaults) per item;
- masked_no_velocity / masked_no_nmpjpe: masked_full without one term.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

VARIANTS = {
    "clean_mpjpe": (False, dict(w_nmpjpe=0.0, w_velocity=0.0)),
    "clean_full": (False, {}),
    "masked_mpjpe": (True, dict(w_nmpjpe=0.0, w_velocity=0.0)),
    "masked_full": (True, {}),
    "masked_no_velocity": (True, dict(w_velocity=0.0)),
    "masked_no_nmpjpe": (True, dict(w_nmpjpe=0.0)),
}


def run(variant: str, steps: int, every: int = 100) -> list[tuple[int, float]]:
    from langpose.data.corruption import CorruptionConfig, build_corruption
    from langpose.config import apply_overrides
    from langpose.models import build_model
    from langpose.train import build_dataset, train_config, train_step

    masked, weights = VARIANTS[variant]
    cfg = train_config("tiny")
    ds = build_dataset(cfg, "train", train=True, corruption=build_corruption(CorruptionConfig()) if masked else None)
    te = build_dataset(cfg, "test", train=False)
    rng = np.random.default_rng(0)
    test = torch.utils.data.default_collate([te[int(i)] for i in rng.choice(len(te), 256, replace=False)])
    torch.manual_seed(0)
    model = build_model(cfg.model)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    cfg.loss = apply_overrides(cfg.loss, {"w_align": 0.0, **weights})
    curve = []
    for step in range(steps + 1):
        batch = torch.utils.data.default_collate([ds[int(i)] for i in rng.choice(len(ds), 32)])
        train_step(model, batch, cfg, opt)  # the package's step: loss, clip at cfg.optim.grad_clip (1.0), AdamW
        if step % every == 0:
            with torch.no_grad():
                p1 = (model.lift(test["x2d"]) - test["y3d"]).norm(dim=-1).mean().item() * 1000
            curve.append((step, p1))
    return curve


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    for v in args.variants:
        t0 = time.time()
        curve = run(v, args.steps)
        print(f"{v:<20s} " + "  ".join(f"step {s}: {p:6.1f} mm" for s, p in curve) + f"   ({time.time() - t0:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
