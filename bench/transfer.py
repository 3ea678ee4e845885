"""Synthetic-to-real transfer trials: one change to the generator or the augmentation at a time.

Each trial retrains the alignment study's (d) model (``tiny``, the CPU recipe, no labels,
1,000 + 250 steps) with one change, for the study's seeds, through ``langpose.ablation.run_job``,
and scores it exactly as the study does: P1 on the DeepMimic clips (the real-motion
*validation* set: the number a trial may lower) and on the synthetic test subject (which must
not get worse by more than 2 mm). The baseline is the study's (d) runs (no retraining when
``runs/ablation`` holds them). The assimp and holosoma clips (the real-motion *test* set) are
never used here.

    OMP_NUM_THREADS=1 python bench/transfer.py --out results/transfer --runs-dir runs/transfer

writes ``results.json`` and ``table.md`` (per trial: mean ± std over seeds and the paired
difference against the baseline, mean ± standard error).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time
from pathlib import Path

import numpy as np

from langpose.ablation import AblationConfig, run_job
from langpose.report import write_json, write_text

#: trial -> (what changed, overrides of both stages)
TRIALS = {
    "baseline": ("the study's (d): default corruption (masks + 2 mm white noise), 24 sequences per subject", ()),
    "detector_noise": ("+ detector-like 2D noise: smooth 4 mm correlated jitter and soft confidences (std 0.15)",
                       ("corruption.correlated_noise_std=0.004", "corruption.correlated_smoothness=4.0",
                        "corruption.confidence_std=0.15")),
    "more_motion": ("twice the synthetic motion: 48 sequences per subject (more actions, transitions, speeds)",
                    ("data.sequences_per_subject=48",)),
    "body_variety": ("+ body variety: every training sequence its own body, each bone type scaled by up to "
                     "+-30 %, height 1.50-1.95 m", ("data.body_variety=0.3",)),
    "body_pose_variety": ("+ body variety (as above) and pose variety: smooth random joint-angle offsets up to "
                          "0.6 rad per channel, whole-body pitch and roll included",
                          ("data.body_variety=0.3", "data.pose_variety=0.6")),
    "pose_variety": ("+ pose variety alone: smooth random joint-angle offsets up to 0.6 rad per channel, "
                     "whole-body pitch and roll included (training bodies unchanged)", ("data.pose_variety=0.6",)),
    "pose_variety_0.3": ("+ pose variety alone at half the amplitude: offsets up to 0.3 rad per channel",
                         ("data.pose_variety=0.3",)),
    "floor_actions": ("+ floor-level and acrobatic actions: one of crawl, kneel, lie down on the back or face down "
                      "and get up, roll over, cartwheel inserted into half of the training sequences",
                      ("data.floor_actions=0.5",)),
}
METRICS = (("deepmimic_p1", "DeepMimic P1 (val)"), ("p1", "synthetic test P1"), ("p2", "synthetic test P2"))


def _job(args):
    trial, seed, runs_dir, eval_frames = args
    cfg = AblationConfig(seeds=(seed,), variants=("no_labels",), eval_frames=eval_frames,
                         overrides=TRIALS[trial][1])
    return trial, seed, run_job(cfg, "no_labels", seed, None, runs_dir)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", nargs="+", default=list(TRIALS), choices=list(TRIALS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--eval-frames", type=int, default=20000, help="as the study (results/ablation)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="results/transfer")
    ap.add_argument("--runs-dir", default="runs/transfer")
    ap.add_argument("--baseline-runs", default="runs/ablation", help="the study's runs (its (d) is the baseline)")
    a = ap.parse_args(argv)
    t0 = time.time()
    jobs = [(t, s, a.baseline_runs if t == "baseline" else str(Path(a.runs_dir) / t), a.eval_frames)
            for t in a.trials for s in a.seeds]
    with mp.get_context("spawn").Pool(a.workers, maxtasksperchild=1) as pool:
        done = pool.map(_job, jobs, chunksize=1)
    res = {t: {s: r for tt, s, r in done if tt == t} for t in a.trials}
    rows, out = [], {"command": "python bench/transfer.py " + " ".join(argv or []), "trials": {}}
    for t in a.trials:
        entry = {"change": TRIALS[t][0], "overrides": list(TRIALS[t][1]), "seeds": {}}
        for s, r in res[t].items():
            entry["seeds"][s] = {k: r["stage2"][k] for k, _ in METRICS} | {"train_seconds": r["train_seconds"]}
        cells = [t, TRIALS[t][0]]
        for k, _ in METRICS:
            vals = [entry["seeds"][s][k] for s in a.seeds]
            cell = f"{np.mean(vals):.1f} ± {np.std(vals, ddof=1):.1f}" if len(vals) > 1 else f"{vals[0]:.1f}"
            if t != "baseline" and "baseline" in res:
                d = [entry["seeds"][s][k] - res["baseline"][s]["stage2"][k] for s in a.seeds]
                se = np.std(d, ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
                cell += f" ({np.mean(d):+.1f} ± {se:.1f})"
                entry.setdefault("paired", {})[k] = {"mean": float(np.mean(d)), "se": float(se)}
            cells.append(cell)
        out["trials"][t] = entry
        rows.append("| " + " | ".join(cells) + " |")
    out["seconds"] = round(time.time() - t0, 1)
    table = ("# Synthetic-to-real transfer trials\n\nAfter fine-tuning, mean ± std over seeds "
             f"{', '.join(map(str, a.seeds))}; in brackets the paired difference against the baseline, mean ± "
             "standard error (negative = lower error). DeepMimic is the real-motion validation set; the test "
             "clips (assimp, holosoma) are not used.\n\n| trial | change | "
             + " | ".join(t for _, t in METRICS) + " |\n|" + "---|" * (len(METRICS) + 2) + "\n" + "\n".join(rows) + "\n")
    write_json(out, Path(a.out) / "results.json")
    write_text(Path(a.out) / "table.md", table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
