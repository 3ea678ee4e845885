"""Time to accuracy: P1 on the synthetic test subject against training wall-clock on this CPU.

    OMP_NUM_THREADS=1 .venv/bin/python bench/time_to_accuracy.py --name tiny --preset tiny \
        --steps 3000 --eval-every 250 --out results/time_to_accuracy
    .venv/bin/python bench/time_to_accuracy.py --table results/time_to_accuracy   # table + PNG

Each run trains through ``langpose.train.fit`` (the package's one loop) from scratch, under the
default pretraining corruption, with the config of ``--preset`` plus ``--set`` overrides.
Every ``--eval-every`` steps the clock is paused and the model is scored on a fixed slice of
the synthetic test subject (every 4th of the 4-camera test views, seed 0 cameras: P1, mm,
per-action mean, clean 2D). The clock counts everything else: data loading, the closed-form
warm start, the steps. ``--finetune-steps`` adds stage 2 (clean 2D, no labels) after stage 1,
on the same clock. Baselines: ``--baseline linear`` fits the closed-form per-frame linear
lifter (``langpose.models.linear_lifter``) on the clean training windows and scores it once.

Writes ``OUT/NAME.json`` (config, curve of (seconds, steps, P1), hardware, threads) and, with
``--table``, prints the time-to-accuracy table of every run in OUT and plots ``OUT/curves.png``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from langpose.atomic import atomic_write
from langpose.data.registry import load_views
from langpose.evaluate import evaluate
from langpose.models.linear_lifter import LinearLifter
from langpose.train import build_dataset, fit, train_config

THRESHOLDS = (100.0, 60.0, 47.0, 40.0, 35.0, 30.0)


def test_slice():
    """Every 4th view of the synthetic test subject (seed-0 cameras): the fixed benchmark slice."""
    return load_views("synthetic", "test")[::4]


class Clock:
    """Wall-clock and this process's CPU time, both paused while the model is being scored.

    On a machine shared with other work, the CPU time of a one-thread run is what the same run
    takes in wall-clock on a quiet core; both are recorded.
    """

    def __init__(self):
        self.start, self.cpu_start, self.paused, self.cpu_paused = time.perf_counter(), time.process_time(), 0.0, 0.0

    def seconds(self) -> float:
        return time.perf_counter() - self.start - self.paused

    def cpu_seconds(self) -> float:
        return time.process_time() - self.cpu_start - self.cpu_paused

    def pause(self):
        t, c = time.perf_counter(), time.process_time()

        def resume():
            self.paused += time.perf_counter() - t
            self.cpu_paused += time.process_time() - c
        return resume


def score(model, views, window: int) -> float:
    was = model.training
    model.eval()
    try:
        return float(evaluate(model, views, window=window, recognition=False, flip_test=False, stride=window,
                              upright_test=False)["p1"])
    finally:
        model.train(was)


def run_model(args, views) -> dict:
    clock = Clock()
    curve = [(0.0, 0, None, 0.0)]  # (wall s, steps, P1 mm, cpu s)
    overrides = list(args.set) + ["data.val_split=", "progress=false", f"optim.max_steps={args.eval_every}",
                                  f"optim.epochs={max(1, args.steps // args.eval_every)}", f"seed={args.seed}"]
    cfg = train_config(args.preset, overrides)
    steps_done = {"n": 0}

    def on_epoch_end(model, rec):
        steps_done["n"] += rec["steps"]
        resume = clock.pause()
        p1 = score(model, views, cfg.data.window)
        resume()
        curve.append((round(clock.seconds(), 1), steps_done["n"], round(p1, 2), round(clock.cpu_seconds(), 1)))
        print(f"{args.name}: {curve[-1][0]:7.1f} s (cpu {curve[-1][3]:7.1f} s)  step {curve[-1][1]:5d}  "
              f"P1 {p1:6.1f} mm", flush=True)

    run_dir = Path(args.run_dir) / args.name
    fit(cfg, run_dir / "pretrain", on_epoch_end=on_epoch_end)
    if args.finetune_steps:
        ft = train_config(args.preset, list(args.set) + [
            "data.val_split=", "progress=false", f"optim.max_steps={args.eval_every}", f"seed={args.seed}",
            f"optim.epochs={max(1, args.finetune_steps // args.eval_every)}"] + list(args.finetune_set))
        fit(ft, run_dir / "finetune", stage="finetune", init_checkpoint=run_dir / "pretrain" / "checkpoint.pt",
            on_epoch_end=on_epoch_end)
    from langpose.train_config import config_from_dict  # noqa: F401 (config recorded below)
    from langpose.config import to_dict
    return {"config": to_dict(cfg), "curve": curve, "finetune_steps": args.finetune_steps}


def run_linear(args, views) -> dict:
    clock = Clock()
    cfg = train_config(args.preset, list(args.set))
    ds = build_dataset(cfg, "train", train=False)  # clean 2D
    batch = torch.utils.data.default_collate([ds[i] for i in range(len(ds))])
    lifter = LinearLifter().fit(batch["x2d"], batch["y3d"])
    seconds = clock.seconds()
    p1 = score(lifter, views, cfg.data.window)
    print(f"{args.name}: {seconds:7.1f} s  closed form  P1 {p1:6.1f} mm", flush=True)
    return {"config": {"baseline": "linear", "windows": len(ds)},
            "curve": [(0.0, 0, None, 0.0), (round(seconds, 1), 0, round(p1, 2), round(clock.cpu_seconds(), 1))]}


def time_to(curve, threshold: float, cpu: bool = False):
    """First (wall or CPU) second at which P1 <= threshold (None if never)."""
    for point in curve:
        if point[2] is not None and point[2] <= threshold:
            return point[3] if cpu else point[0]
    return None


def load_runs(out: Path, zoo: Path | None = None) -> list[dict]:
    """The runs of ``out/*.json``, plus the shipped models' curves from ``zoo/*/summary.json``.

    A zoo curve is stage 1 then stage 2 on one clock (``langpose.zoo.CurveRecorder``).
    """
    runs = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    for path in sorted(zoo.glob("*/summary.json")) if zoo else []:
        rec = json.loads(path.read_text())
        curve = [(0.0, 0, None, 0.0)] + [(c["wall_s"], c["steps"], c["p1_mm"], c["cpu_s"]) for c in rec.get("curve", [])]
        runs.append({"name": f"zoo {rec['name']} ({rec['preset']}, pretrain + finetune)", "curve": curve})
    return runs


def table(out: Path, zoo: Path | None = None) -> str:
    rows = []
    for rec in load_runs(out, zoo):
        curve = rec["curve"]
        final = [c for c in curve if c[2] is not None]
        best = min((c[2] for c in final), default=None)
        cells = [time_to(curve, t) for t in THRESHOLDS]
        rows.append((rec["name"], final[-1][0] if final else None, final[-1][1] if final else None,
                     final[-1][2] if final else None, best, cells))
        cpu_cells = [time_to(curve, t, cpu=True) for t in THRESHOLDS]
        rows.append((rec["name"] + " (CPU s)", final[-1][3] if final else None, None, None, None, cpu_cells))
    head = ("| run | seconds | steps | final P1 | best P1 | " + " | ".join(f"s to {t:g} mm" for t in THRESHOLDS)
            + " |\n|" + "---|" * (5 + len(THRESHOLDS)) + "\n")
    fmt = lambda v: "—" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v))  # noqa: E731
    return head + "".join(f"| {n} | {fmt(s)} | {fmt(k)} | {fmt(f)} | {fmt(b)} | " + " | ".join(fmt(c) for c in cells)
                          + " |\n" for n, s, k, f, b, cells in rows)


def plot(out: Path, zoo: Path | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    colours = iter(plt.get_cmap("tab20").colors)  # 20 colours: no two curves share one (tab10 repeats after 10)
    for rec in load_runs(out, zoo):
        pts = [(c[3] / 60, c[2]) for c in rec["curve"] if c[2] is not None]
        if len(pts) == 1:
            ax.axhline(pts[0][1], ls="--", lw=1, color="grey", label=f"{rec['name']} ({pts[0][1]:.1f} mm)")
        elif pts:
            shipped = rec["name"].startswith("zoo ")  # the shipped models' own runs: solid, the benchmark runs: thin
            ax.plot(*zip(*pts), marker="o", ms=3 if shipped else 2, lw=1.8 if shipped else 1, color=next(colours),
                    ls="-" if shipped else ":", label=rec["name"])
    ax.set(xlabel="training time (CPU minutes of one thread)", ylabel="P1 on the synthetic test slice (mm)",
           ylim=(0, 200), title="Time to accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "curves.png"
    fig.savefig(path, dpi=120)
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--name")
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--baseline", choices=["linear"], default=None)
    ap.add_argument("--steps", type=int, default=3000, help="stage-1 steps (the schedule's length)")
    ap.add_argument("--finetune-steps", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], help="config override key=value (repeatable)")
    ap.add_argument("--finetune-set", action="append", default=[], help="stage-2 override key=value")
    ap.add_argument("--out", default="results/time_to_accuracy")
    ap.add_argument("--run-dir", default="runs/time_to_accuracy")
    ap.add_argument("--table", metavar="DIR", help="print the table of the runs in DIR and plot them")
    ap.add_argument("--zoo", metavar="DIR", default=None, help="with --table: also the shipped models' curves "
                    "(results/zoo)")
    args = ap.parse_args(argv)
    if args.table:
        zoo = Path(args.zoo) if args.zoo else None
        print(table(Path(args.table), zoo))
        print(f"curves: {plot(Path(args.table), zoo)}")
        return 0
    if not args.name:
        ap.error("--name is required unless --table")
    views = test_slice()
    rec = run_linear(args, views) if args.baseline else run_model(args, views)
    rec.update(name=args.name, preset=args.preset, seed=args.seed, argv=sys.argv[1:],
               hardware=f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
               torch_threads=torch.get_num_threads(), load_avg_at_end=os.getloadavg()[0])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / f"{args.name}.json", "w") as fh:
        json.dump(rec, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
