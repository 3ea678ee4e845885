"""Does a lifter do worse on clean input than on slightly corrupted input?

A lifter trained under the pretraining masks may never see a fully visible window (5 % of
joints and 10 % of frames hidden in every window, plus body parts and temporal gaps). This
probe scores models on the time-to-accuracy slice of the synthetic test subject (every 4th
view, clean 2D) and on the same slice with one light corruption at a time; a model that
does better with 1 % of its joints hidden than with none has learned to expect masks.

    OMP_NUM_THREADS=1 .venv/bin/python bench/clean_input.py small tiny-noalign runs/x/checkpoint.pt

Each argument is a shipped model name (``langpose.pretrained``) or a checkpoint path.
Prints one row per model: P1 (mm, per-action mean) under each condition.
"""
from __future__ import annotations

import argparse

import torch

from langpose import checkpoint as ckpt
from langpose.data import corruption as C
from langpose.evaluate import Condition, robustness
from langpose.zoo import benchmark_views, pretrained

CONDITIONS = (
    Condition("clean", "clean", None, None),
    Condition("2D noise 2 mm", "noise", 0.002, C.GaussianNoise(0.002)),
    Condition("1 % joints hidden", "joint_mask", 0.01, C.JointMask(0.01)),
    Condition("5 % joints hidden", "joint_mask", 0.05, C.JointMask(0.05)),
    Condition("10 % frames hidden", "frame_mask", 0.1, C.FrameMask(0.1)),
)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", help="shipped model names or checkpoint paths")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    views = benchmark_views()
    print("| model | " + " | ".join(c.name for c in CONDITIONS) + " |")
    print("|---|" + "---|" * len(CONDITIONS))
    for name in a.models:
        model = ckpt.load_model(name).eval() if name.endswith(".pt") else pretrained(name)
        res = robustness(model, views, window=model.cfg.max_frames, conditions=CONDITIONS)
        print(f"| {name} | " + " | ".join(f"{res['conditions'][c.name]['p1']:.1f}" for c in CONDITIONS) + " |",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
