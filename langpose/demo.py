"""`make demo`: run the ordered notebooks headlessly on the embedded synthetic data.

Each ``notebooks/NN_*.ipynb`` is executed with papermill, in order, into
``<run_dir>/notebooks/`` (the executed copies keep their outputs; the committed
notebooks stay clean). All notebooks share one run directory, so 02 pretrains,
03 fine-tunes the 02 checkpoint, 04 evaluates it, and so on. At the end the run
times and the evaluation tables are printed, then the real-motion table (``real_motion_table``:
P1/P2/N-MPJPE per source and clip on the DeepMimic validation clips and the assimp and
holosoma test clips, ``langpose.evaluate.evaluate_real`` without the robustness sweep) of
the model notebook 04 evaluated, and the shipped models' recorded results.

    python -m langpose.demo                 # quick mode (minutes on a laptop CPU)
    python -m langpose.demo --full          # the notebooks' full CPU recipe
    python -m langpose.demo --only 01 02    # a subset
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from langpose.zoo import pretrained

ROOT = Path(__file__).resolve().parents[1]


def notebooks(only: list[str] | None = None) -> list[Path]:
    """The ordered notebooks, optionally restricted to some NN prefixes."""
    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if only:
        unknown = set(only) - {p.name[:2] for p in paths}
        if unknown:
            raise SystemExit(f"langpose.demo: no notebook numbered {', '.join(sorted(unknown))} in {ROOT / 'notebooks'}")
        paths = [p for p in paths if p.name[:2] in only]
    return paths


def run(run_dir: Path, quick: bool = True, only: list[str] | None = None, seed: int = 0) -> list[tuple[str, float]]:
    import papermill as pm

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("LANGPOSE_HEADLESS", "1")  # no front end: see langpose.viz.widgets
    # One torch / OpenMP thread per kernel unless the caller says otherwise: the demo's models are small, and
    # two threads on a 2-core machine whose other core is busy made 02/03's quick training 7x slower
    # (epoch 130 s against 14-23 s; README, "Run times"). The kernels inherit the environment.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    run_dir = run_dir.resolve()
    out_dir = run_dir / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    times = []
    for nb in notebooks(only):
        print(f"== {nb.name} (quick={quick}) ...", flush=True)
        t0 = time.perf_counter()
        pm.execute_notebook(
            str(nb), str(out_dir / nb.name),
            parameters=dict(quick=quick, seed=seed, run_dir=str(run_dir)),
            kernel_name="python3", cwd=str(ROOT / "notebooks"), progress_bar=False,
        )
        dt = time.perf_counter() - t0
        times.append((nb.name, dt))
        print(f"   done in {dt:.1f} s", flush=True)
    return times


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m langpose.demo", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run-dir", default="runs/demo", type=Path)
    ap.add_argument("--full", action="store_true", help="run the full CPU recipe instead of quick mode")
    ap.add_argument("--only", nargs="*", help="notebook numbers to run, e.g. 01 02")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    times = run(args.run_dir, quick=not args.full, only=args.only, seed=args.seed)
    print("\nNotebook run times:")
    for name, dt in times:
        print(f"  {name:<32s} {dt:7.1f} s")
    print(f"  {'total':<32s} {time.perf_counter() - t0:7.1f} s")
    # The evaluation tables the notebooks wrote: 03's before/after fine-tuning, 04's protocols.
    tables = [p for p in (args.run_dir / "finetune" / "comparison.md", args.run_dir / "eval" / "synthetic.md",
                          args.run_dir / "eval" / "deepmimic.md") if p.is_file()]
    for table in tables:
        print(f"\n## {table.relative_to(args.run_dir)}\n")
        print(table.read_text())
    t1 = time.perf_counter()
    real = real_motion_table(args.run_dir, seed=args.seed)
    if real is not None:
        print(f"\n## eval/real_motion.md ({time.perf_counter() - t1:.0f} s)\n")
        print(real)
    print("\n## The shipped models (langpose.pretrained(); retrain one with python -m langpose.zoo NAME)\n")
    print(shipped_table())
    print(f"\nExecuted notebooks (with outputs) are in {args.run_dir / 'notebooks'}")
    return 0


def real_motion_table(run_dir: Path, seed: int = 0, views: dict | None = None) -> str | None:
    """The real-motion table of the model notebook 04 evaluated (``run_dir/eval/summary.json``'s checkpoint).

    ``langpose.evaluate.evaluate_real`` with ``robust=False`` (the sweeps would add minutes),
    windows of the model's frame count, cameras placed by ``seed``; sources whose data is not
    installed are listed as such. Writes ``run_dir/eval/real_motion.{json,md}`` and returns the
    markdown, or None when notebook 04 has not run in ``run_dir``. ``views`` replaces the loaded
    clips (``{source: [View, ...]}``, for tests).
    """
    import json

    from langpose.checkpoint import load_model
    from langpose.evaluate import evaluate_real, real_markdown, write_real_results

    summary = Path(run_dir) / "eval" / "summary.json"
    if not summary.is_file():
        return None
    ckpt = json.loads(summary.read_text()).get("checkpoint")
    if not ckpt or not Path(ckpt).is_file():
        return None
    model = load_model(ckpt)
    result = evaluate_real(model, views=views, sources=list(views) if views else None, window=model.cfg.max_frames,
                           seed=seed, robust=False)
    result["checkpoint"] = str(ckpt)
    write_real_results(result, Path(run_dir) / "eval", name="real_motion")
    return real_markdown(result, title=None) + f"\nModel: {ckpt} (notebook 04's); no robustness sweep.\n"


def shipped_table() -> str:
    """A markdown table of the shipped models' recorded results (``langpose.pretrained()``)."""
    rows = ["| model | stage | synthetic test P1 (mm) | P2 (mm) | DeepMimic P1 (mm) | pretrain + finetune steps |",
            "|---|---|---|---|---|---|"]
    for name, e in pretrained().items():
        stage = e.get("stage", "finetune")
        steps = f"{e['pretrain_steps']} + {e['finetune_steps'] if stage == 'finetune' else 0}"
        rows.append(f"| {name} | {stage} | {e['p1_mm']:.1f} | {e['p2_mm']:.1f} | {e['deepmimic_p1_mm']:.1f} | {steps} |")
    return "\n".join(rows) if len(rows) > 2 else "(no shipped models in this installation)"


if __name__ == "__main__":
    sys.exit(main())
