"""The upright test on the validation sets: which frames to roll upright, and whether to average or replace.

Scores checkpoints on the DeepMimic real-motion validation clips and on the synthetic *validation*
subject, with the inference defaults (flip test, overlapping windows, limb completion) and each
variant of ``langpose.upright`` in place of the default one:

- ``off``: no upright test;
- ``avg@D``: frames leaning more than D degrees get the average of ``lift(x)`` and ``R(a) lift(R(-a) x)``
  (the default is ``avg@MIN_LEAN``);
- ``roll@D``: those frames get ``R(a) lift(R(-a) x)`` alone;
- ``ens@D``: every frame gets the mean of ``R(b) lift(R(-b) x)`` over the fixed rolls b = -D, 0, +D degrees
  (a test-time ensemble over camera roll, whatever the lean).

A variant whose threshold is above every lean in the validation subject cannot change its numbers;
the probe counts those frames and scores the subject only for variants that touch it. It chose
``langpose.upright.MIN_LEAN`` and the average (results/upright_test).

    OMP_NUM_THREADS=1 python bench/upright_probe.py small small-noalign tiny tiny-noalign
"""
from __future__ import annotations

import argparse
import math
import time

import torch

from langpose import zoo
from langpose.data.registry import load_views
from langpose.evaluate import evaluate, evaluate_real, make_condition, robustness
from langpose.inference import view_to_input
from langpose.upright import lean_angles, roll, upright_average

VARIANTS = ("off", "avg@0", "avg@30", "avg@45", "avg@60", "roll@45")


class Upright(torch.nn.Module):
    """``model`` whose ``lift`` applies one upright-test variant ("avg@D", "roll@D" or "ens@D")."""

    def __init__(self, model, variant: str):
        super().__init__()
        self.model, self.cfg = model, model.cfg
        self.kind, deg = variant.split("@")
        self.min_lean = float(deg)

    def lift(self, x):  # (B, T, 17, 3) -> (B, T, 17, 3)
        if self.kind == "avg":
            return upright_average(self.model.lift, x, self.model.lift(x), min_lean=self.min_lean)
        if self.kind == "ens":
            b = torch.full(x.shape[:2], math.radians(self.min_lean))  # (B, T) the fixed roll
            return (self.model.lift(x) + roll(self.model.lift(roll(x, -b)), b) + roll(self.model.lift(roll(x, b)), -b)) / 3
        a = lean_angles(x, min_lean=self.min_lean)  # (B, T)
        return roll(self.model.lift(roll(x, -a)), a)


def max_lean_deg(views) -> float:
    """The largest lean (degrees) of any frame with pelvis and thorax visible."""
    return max(float(lean_angles(torch.as_tensor(view_to_input(v)), min_lean=0.0).abs().max()) for v in views) \
        * 180 / math.pi


def probe(model, variant: str, val, touches_val: bool) -> dict:
    net = model if variant == "off" else Upright(model, variant)
    w = model.cfg.max_frames
    dm = evaluate_real(net, sources=("deepmimic",), window=w, robust=False, skip_missing=False, upright_test=False)
    out = {"deepmimic": dm["sources"]["deepmimic"]["p1"], "deepmimic_p2": dm["sources"]["deepmimic"]["p2"],
           "clips": {c.removeprefix("deepmimic_"): r["p1"] for c, r in dm["sources"]["deepmimic"]["clips"].items()}}
    if touches_val:
        out["val"] = evaluate(net, val, window=w, recognition=False, upright_test=False)["p1"]
        out["val_mask_0.3"] = robustness(net, val, window=w, conditions=[make_condition("joint_mask", 0.3)],
                                         upright_test=False)["conditions"]["joint_mask_0.3"]["p1"]
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="shipped model names (langpose.pretrained())")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS))
    args = ap.parse_args(argv)
    val = load_views("synthetic", "val")
    lean = max_lean_deg(val)
    print(f"synthetic validation subject: {len(val)} views, largest lean {lean:.1f} deg", flush=True)
    for name in args.models:
        model = zoo.pretrained(name)
        base = None
        for variant in args.variants:
            t = time.time()
            touches = variant != "off" and (variant.startswith("ens") or float(variant.split("@")[1]) < lean)
            r = probe(model, variant, val, touches_val=touches or base is None)
            if base is None:
                base = r
            vals = (f"val {r['val']:.2f} | 30% hidden {r['val_mask_0.3']:.2f}" if "val" in r
                    else f"val {base['val']:.2f} | 30% hidden {base['val_mask_0.3']:.2f} (untouched)")
            clips = " ".join(f"{c} {p:.0f}" for c, p in r["clips"].items())
            print(f"{name} {variant}: DeepMimic {r['deepmimic']:.2f} (P2 {r['deepmimic_p2']:.2f}) | {vals} "
                  f"({time.time() - t:.0f} s)\n    {clips}", flush=True)


if __name__ == "__main__":
    main()
