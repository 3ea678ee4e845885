"""Overlapping inference windows on the validation sets: stride = window vs window // 2 (the default since this probe).

Scores each checkpoint on the synthetic *validation* subject (clean, 30 % of joints hidden) and on the
DeepMimic real-motion validation clips, with the inference defaults otherwise (flip test on, cosine
blending of overlapping windows, ``langpose.inference``). It chose the evaluation's stride: window // 2
(``langpose.inference.default_stride``), as ``langpose lift`` already used.

    OMP_NUM_THREADS=1 python bench/overlap_probe.py langpose/weights/small.pt   # results/flip_test/overlap_probe.txt
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from langpose import checkpoint as ckpt
from langpose.data.registry import load_views
from langpose.evaluate import evaluate, evaluate_real, make_condition, robustness


def probe(model, views, stride: int) -> dict:
    """{clean, joint_mask_0.3, deepmimic} P1 (mm) with windows of the model's length every ``stride`` frames."""
    w = model.cfg.max_frames
    masked = robustness(model, views, window=w, stride=stride, conditions=[make_condition("joint_mask", 0.3)])
    dm = evaluate_real(model, sources=("deepmimic",), window=w, stride=stride, robust=False, skip_missing=False)
    return {"clean": evaluate(model, views, window=w, stride=stride, recognition=False)["p1"],
            "joint_mask_0.3": masked["conditions"]["joint_mask_0.3"]["p1"],
            "deepmimic": dm["sources"]["deepmimic"]["p1"]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+")
    args = ap.parse_args(argv)
    for path in args.checkpoints:
        if not Path(path).is_file():
            ap.error(f"{path}: no such checkpoint file")
    views = load_views("synthetic", "val")
    for path in args.checkpoints:
        model = ckpt.load_model(path).eval()
        w = model.cfg.max_frames
        for stride in (w, w // 2):
            t = time.time()
            r = probe(model, views, stride)
            print(f"{path} stride {stride}: val clean {r['clean']:.2f} | 30% hidden {r['joint_mask_0.3']:.2f} | "
                  f"DeepMimic {r['deepmimic']:.2f} ({time.time() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
