"""Score checkpoints on the synthetic *validation* subject, the one a recipe choice may be made on.

The shipped models' report (``langpose.zoo.evaluation_table``) scores the *test* subject; a trial
that is chosen on it would be tuned on the test set. This probe gives the validation-subject
numbers a choice rests on: clean P1, P1 with 30 % of the joints hidden (each joint of each frame
independently), the hidden-joint P1 with the left arm or the lower body hidden in every frame, and
the clean P1 with the subject raised 0.5 m and 1 m above the floor (as on a platform or a climbing
frame; the same cameras: ``load_views(..., raise_ground=)``).

    OMP_NUM_THREADS=1 python bench/val_probe.py langpose/weights/small.pt RUNS/small/finetune/checkpoint.pt

Prints one line per checkpoint (P1 in mm; about a minute each on one core).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from langpose import checkpoint as ckpt
from langpose.data.registry import load_views
from langpose.evaluate import evaluate, make_condition, robustness

CONDITIONS = (("joint_mask", 0.3), ("part", "left_arm"), ("part", "lower_body"))
RAISED = (0.5, 1.0)  # m


def probe(path, views, raised: dict | None = None) -> dict:
    """{clean, joint_mask_0.3, left_arm_hidden, lower_body_hidden, raised_<h>} P1 (mm) of the
    checkpoint at ``path``; ``raised`` maps a height (m) to the same views raised that much."""
    model = ckpt.load_model(path).eval()
    window = model.cfg.max_frames
    clean = evaluate(model, views, window=window, recognition=False)["p1"]
    conds = robustness(model, views, window=window,
                       conditions=[make_condition(k, p) for k, p in CONDITIONS])["conditions"]
    out = {"clean": clean, "joint_mask_0.3": conds["joint_mask_0.3"]["p1"],
           "left_arm_hidden": conds["part_left_arm"]["p1_hidden"],
           "lower_body_hidden": conds["part_lower_body"]["p1_hidden"]}
    for h, up in (raised or {}).items():
        out[f"raised_{h}"] = evaluate(model, up, window=window, recognition=False)["p1"]
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+")
    args = ap.parse_args(argv)
    for path in args.checkpoints:
        if not Path(path).is_file():
            ap.error(f"{path}: no such checkpoint file")
    views = load_views("synthetic", "val")
    raised = {h: load_views("synthetic", "val", raise_ground=h) for h in RAISED}
    for path in args.checkpoints:
        t = time.time()
        r = probe(path, views, raised)
        up = " | ".join(f"raised {h:g} m {r[f'raised_{h}']:.1f}" for h in RAISED)
        print(f"{path}: validation clean {r['clean']:.1f} | 30 % joints hidden {r['joint_mask_0.3']:.1f} | "
              f"left arm hidden {r['left_arm_hidden']:.1f} | lower body hidden {r['lower_body_hidden']:.1f} | "
              f"{up} ({time.time() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
