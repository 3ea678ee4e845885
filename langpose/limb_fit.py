"""Refit the shipped ``LimbRegressor`` on a shipped lifter's own predictions: one command.

The regressor completes a limb the lifter never saw (``langpose.completion``). It is fitted on what it
will meet: ``MODEL`` (default ``small``) lifts every ``EVERY``-th view of the embedded synthetic training
split five times, with one of ``PARTS`` hidden in every frame (2D confidence 0, as the evaluation's
``part`` conditions; inference defaults: flip test, overlapping windows, upright test, no completion), and
the regressor learns to map those predictions and the visible 2D to the true pose. Fitted this way it beats
one fitted on jittered true poses by 10-20 mm on the validation subject (results/hidden_parts/lifter_aware.md).
It writes the weights (``langpose.data.pose_dictionary.REGRESSOR_PATH``) and its record
(``results/hidden_parts/limb_regressor.json``: settings, seed, time, hardware)::

    OMP_NUM_THREADS=1 python -m langpose.limb_fit          # ~25 min on one core: ~20 lifting, ~4 fitting
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from langpose.atomic import atomic_write
from langpose.completion import REGRESSOR_WIDTH, fit_limb_regressor
from langpose.data.pose_dictionary import REGRESSOR_PATH, save_regressor
from langpose.data.registry import load_views
from langpose.inference import predict_arrays, view_target, view_to_input
from langpose.skeleton import H36M
from langpose.zoo import pretrained

__all__ = ["PARTS", "lifted_pairs", "main"]

PARTS = ("left_arm", "right_arm", "left_leg", "right_leg", "lower_body")
"""The parts hidden, one at a time, in the lifted training views (the evaluation's hidden-part conditions)."""


def hide(inputs: np.ndarray, joints) -> np.ndarray:
    """Lifter input (T, J, 3) -> a copy with ``joints`` hidden in every frame (x = y = confidence = 0)."""
    out = np.array(inputs, dtype=np.float32, copy=True)
    out[:, list(joints)] = 0.0
    return out


def lifted_pairs(model, views, parts=PARTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lift ``views`` with each of ``parts`` hidden -> (pred, target, inputs), each (N, 17, 3) with
    N = len(parts) x the views' frames: the model's root-relative predictions (no completion), the true
    root-relative camera-frame poses and the 2D inputs it was given."""
    clean = [view_to_input(v) for v in views]                                  # (T, 17, 3) each
    target = np.concatenate([view_target(v) for v in views])                   # (F, 17, 3)
    preds, targets, inputs = [], [], []
    for part in parts:
        hidden = [hide(x, H36M.part(part)) for x in clean]
        preds.append(np.concatenate(predict_arrays(model, hidden, window=model.cfg.max_frames)))
        targets.append(target)
        inputs.append(np.concatenate(hidden))
    return np.concatenate(preds), np.concatenate(targets), np.concatenate(inputs)


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Refit the shipped limb regressor on a shipped lifter's predictions "
                                             "of the synthetic training split with each part hidden.")
    ap.add_argument("--model", default="small", help="shipped lifter whose predictions it learns from")
    ap.add_argument("--every", type=int, default=2, help="lift every EVERY-th training view")
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--width", type=int, default=REGRESSOR_WIDTH)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(REGRESSOR_PATH))
    ap.add_argument("--record", default="results/hidden_parts/limb_regressor.json")
    args = ap.parse_args(argv)
    if args.every < 1 or args.steps < 1 or args.width < 1:
        ap.error("--every, --steps and --width must be positive")
    torch.set_num_threads(1)  # the recorded weights were fitted on one thread
    t0 = time.time()
    views = load_views("synthetic", "train")[::args.every]
    pred, target, inputs = lifted_pairs(pretrained(args.model), views)
    t_lift = time.time() - t0
    model = fit_limb_regressor(pred, target, inputs, steps=args.steps, seed=args.seed, width=args.width)
    record = {"model": args.model, "views": len(views), "every": args.every, "parts": list(PARTS),
              "frames": len(pred), "steps": args.steps, "width": model.width, "seed": args.seed,
              "lift_seconds": round(t_lift, 1), "seconds": round(time.time() - t0, 1),
              "torch": str(torch.__version__), "git_commit": _commit(),
              "hardware": f"{platform.machine()}, {platform.processor() or 'cpu'}, one thread",
              "stored": "float16", "command": "python -m langpose.limb_fit"}
    save_regressor(model, args.out, record)
    Path(args.record).parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(Path(args.record), "w") as fh:
        json.dump(record, fh, indent=1)
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
