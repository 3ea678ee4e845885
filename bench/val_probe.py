"""Score checkpoints on the synthetic *validation* subject, the one a recipe choice may be made on.

The shipped models' report (``langpose.zoo.evaluation_table``) scores the *test* subject; a trial
that is chosen on it would be tuned on the test set. This probe gives the validation-subject
numbers a choice rests on: clean P1, P1 with 30 % of the joints hidden (each joint of each frame
independently), the hidden-joint P1 with the left arm or the lower body hidden in every frame, and
the clean P1 with the subject raised 0.5 m and 1 m above the floor (as on a platform or a climbing
frame; the same cameras: ``load_views(..., raise_ground=)``), and with ``--deepmimic`` the P1 on
the DeepMimic real-motion validation clips (``evaluate_real``). ``--flip`` scores without the flip
test ("off"), with it ("on", the inference default, ``langpose.inference.FLIP_TEST``) or both.

    OMP_NUM_THREADS=1 python bench/val_probe.py langpose/weights/small.pt RUNS/small/finetune/checkpoint.pt
    OMP_NUM_THREADS=1 python bench/val_probe.py --flip both --deepmimic langpose/weights/*.pt  # results/flip_test

Prints one line per checkpoint and flip setting (P1 in mm; about a minute each on one core).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from langpose import checkpoint as ckpt
from langpose.data.registry import load_views
from langpose.evaluate import evaluate, evaluate_real, make_condition, robustness

CONDITIONS = (("joint_mask", 0.3), ("part", "left_arm"), ("part", "lower_body"))
RAISED = (0.5, 1.0)  # m


def probe(path, views, raised: dict | None = None, flip_test: bool = False, deepmimic: bool = False) -> dict:
    """{clean, joint_mask_0.3, left_arm_hidden, lower_body_hidden, raised_<h>[, deepmimic]} P1 (mm)
    of the checkpoint at ``path``; ``raised`` maps a height (m) to the same views raised that much."""
    model = ckpt.load_model(path).eval()
    window = model.cfg.max_frames
    clean = evaluate(model, views, window=window, recognition=False, flip_test=flip_test)["p1"]
    conds = robustness(model, views, window=window, flip_test=flip_test,
                       conditions=[make_condition(k, p) for k, p in CONDITIONS])["conditions"]
    out = {"clean": clean, "joint_mask_0.3": conds["joint_mask_0.3"]["p1"],
           "left_arm_hidden": conds["part_left_arm"]["p1_hidden"],
           "lower_body_hidden": conds["part_lower_body"]["p1_hidden"]}
    for h, up in (raised or {}).items():
        out[f"raised_{h}"] = evaluate(model, up, window=window, recognition=False, flip_test=flip_test)["p1"]
    if deepmimic:
        out["deepmimic"] = evaluate_real(model, sources=("deepmimic",), window=window, robust=False,
                                         skip_missing=False, flip_test=flip_test)["sources"]["deepmimic"]["p1"]
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("--flip", choices=("off", "on", "both"), default="off",
                    help="flip test off (default, as the recipe trials were scored), on, or both")
    ap.add_argument("--deepmimic", action="store_true", help="also score the DeepMimic validation clips")
    args = ap.parse_args(argv)
    for path in args.checkpoints:
        if not Path(path).is_file():
            ap.error(f"{path}: no such checkpoint file")
    views = load_views("synthetic", "val")
    raised = {h: load_views("synthetic", "val", raise_ground=h) for h in RAISED}
    flips = {"off": (False,), "on": (True,), "both": (False, True)}[args.flip]
    for path in args.checkpoints:
        for flip in flips:
            t = time.time()
            r = probe(path, views, raised, flip_test=flip, deepmimic=args.deepmimic)
            up = " | ".join(f"raised {h:g} m {r[f'raised_{h}']:.1f}" for h in RAISED)
            dm = f" | DeepMimic {r['deepmimic']:.1f}" if args.deepmimic else ""
            print(f"{path} (flip {'on' if flip else 'off'}): validation clean {r['clean']:.1f} | 30 % joints hidden "
                  f"{r['joint_mask_0.3']:.1f} | left arm hidden {r['left_arm_hidden']:.1f} | lower body hidden "
                  f"{r['lower_body_hidden']:.1f} | {up}{dm} ({time.time() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
