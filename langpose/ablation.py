"""The ablation that tests the paper's claim: does aligning motion with text help lifting?

Three models, the same data, the same budget, several seeds (mean ± std):

- ``aligned``: LangPose, pretrained with 3D reconstruction + text alignment (masking + noise);
- ``no_align``: the identical model and recipe with the alignment weight set to 0
  (``loss.w_align = loss.w_infonce = 0``), still with masking and noise;
- ``mlp``: the single-frame MLP lifter baseline (``model.arch = "mlp"``, Martinez et al.),
  trained on the same corrupted windows.

Each is trained by ``langpose.train.fit`` (stage "pretrain"; the checkpoint with the best
validation P1 is kept), then evaluated on the synthetic test split (clean 2D: P1/P2/
N-MPJPE/MPJVE, action top-1/top-5, text->motion R@1/R@5; 30% random joint masking;
each body part hidden in every frame), and on the 15 real DeepMimic clips (clean 2D,
zero-shot recognition over their own label texts). The test views are the same for every
run (cameras placed with ``eval_seed``); corruptions use a fixed seed.

CLI::

    python -m langpose.ablation --preset tiny --seeds 0 1 2 --out results/ablation \\
        [--epochs 2] [--max-steps 0] [--quick] [--eval-frames 0] [--set key=value ...]

writes ``results.json`` (every run, the summary, the exact command, config and hardware)
and ``table.md``, and prints the table.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from langpose.config import ConfigError, apply_overrides, from_dict, to_dict
from langpose.report import fmt, markdown_table, write_json, write_text

__all__ = ["AblationConfig", "VARIANTS", "run_ablation", "summarize", "ablation_markdown", "variant_config",
           "main"]

#: Training-config overrides of each variant (applied on top of the preset and the user's --set).
VARIANTS: dict[str, dict] = {
    "aligned": {},
    "no_align": {"loss.w_align": 0.0, "loss.w_infonce": 0.0},
    "mlp": {"model.arch": "mlp", "loss.w_align": 0.0, "loss.w_infonce": 0.0},
}

VARIANT_LABELS = {
    "aligned": "(a) LangPose, with alignment",
    "no_align": "(b) same model, λ_align = 0",
    "mlp": "(c) single-frame MLP lifter",
}

PARTS = ("left_arm", "right_arm", "left_leg", "right_leg", "lower_body")


@dataclass
class AblationConfig:
    """The ablation budget and protocol.

    Attributes:
        preset: run preset of ``langpose.train.PRESETS`` ("tiny", "small", "paper").
        seeds: training seeds (>= 3 for mean ± std).
        variants: which of ``VARIANTS`` to train.
        epochs, max_steps: ``optim.epochs`` and ``optim.max_steps`` (steps per epoch, 0: all).
        window: frames per window (training and evaluation).
        quick: the small synthetic data set (``DataConfig.quick``).
        sequences_per_subject: synthetic sequences per subject (0: the generator's default).
        max_train_windows: cap on training windows per epoch (0: all).
        max_val_frames: cap on validation frames (0: all).
        eval_frames: cap on synthetic test frames (whole views, evenly picked; 0: all).
        eval_seed: seed of the test views' camera placement (the same for every run).
        corruption_seed: seed of the evaluation corruptions.
        joint_mask: ratio of the random joint-masking condition of the table.
        mask_curve: joint-masking ratios of the robustness curve (P1 against ratio).
        deepmimic: also evaluate on the DeepMimic clips.
        flip_test: flip-averaged evaluation.
        overrides: extra ``key=value`` TrainConfig overrides for every run.
        device: training device ("auto", "cpu", "cuda").
    """

    preset: str = "tiny"
    seeds: tuple[int, ...] = (0, 1, 2)
    variants: tuple[str, ...] = ("aligned", "no_align", "mlp")
    epochs: int = 2
    max_steps: int = 0
    window: int = 27
    quick: bool = False
    sequences_per_subject: int = 0
    max_train_windows: int = 0
    max_val_frames: int = 2000
    eval_frames: int = 0
    eval_seed: int = 0
    corruption_seed: int = 0
    joint_mask: float = 0.3
    mask_curve: tuple[float, ...] = (0.1, 0.3, 0.5)
    deepmimic: bool = True
    flip_test: bool = False
    overrides: tuple[str, ...] = ()
    device: str = "cpu"

    def __post_init__(self):
        self.seeds = tuple(int(s) for s in self.seeds)
        self.variants = tuple(self.variants)
        self.overrides = tuple(self.overrides)
        self.mask_curve = tuple(float(r) for r in self.mask_curve)
        if not self.seeds:
            raise ConfigError("AblationConfig.seeds: give at least one seed")
        unknown = [v for v in self.variants if v not in VARIANTS]
        if unknown:
            raise ConfigError(f"AblationConfig.variants: unknown {unknown}; valid: {', '.join(VARIANTS)}")
        if not 0 < self.joint_mask < 1:
            raise ConfigError(f"AblationConfig.joint_mask: expected a ratio in (0, 1), got {self.joint_mask}")


def variant_config(cfg: AblationConfig, variant: str, seed: int):
    """The ``TrainConfig`` of one run: preset + budget + user overrides + the variant's overrides."""
    from langpose.train import train_config

    base = {"seed": seed, "device": cfg.device, "optim.epochs": cfg.epochs, "optim.max_steps": cfg.max_steps,
            "data.window": cfg.window, "data.quick": cfg.quick,
            "data.sequences_per_subject": cfg.sequences_per_subject,
            "data.max_train_windows": cfg.max_train_windows, "data.max_val_frames": cfg.max_val_frames,
            "progress": False}
    tcfg = train_config(cfg.preset, base)
    tcfg = apply_overrides(tcfg, list(cfg.overrides))
    return apply_overrides(tcfg, VARIANTS[variant])


def _cap_views(views, max_frames: int):
    """Whole views, evenly spaced, until about ``max_frames`` frames (all if 0)."""
    views = list(views)
    total = sum(len(v) for v in views)
    if not max_frames or total <= max_frames:
        return views
    n = max(1, int(round(len(views) * max_frames / total)))
    idx = np.unique(np.linspace(0, len(views) - 1, n).round().astype(int))
    return [views[i] for i in idx]


def load_eval_views(cfg: AblationConfig) -> dict:
    """{"synthetic": test views, "deepmimic": clip views (if enabled)}, fixed camera placement."""
    from langpose.evaluate import deepmimic_views
    from langpose.train import load_split_views

    tcfg = variant_config(cfg, "aligned", cfg.eval_seed)
    out = {"synthetic": _cap_views(load_split_views(tcfg, "test"), cfg.eval_frames)}
    if cfg.deepmimic:
        out["deepmimic"] = deepmimic_views(seed=cfg.eval_seed)
    return out


_CLEAN_KEYS = ("p1", "p2", "n_mpjpe", "mpjve", "top1", "top5", "r1", "r5")


def evaluate_run(model, views: dict, cfg: AblationConfig) -> dict:
    """All the numbers of one trained model (mm, %)."""
    from langpose.evaluate import evaluate, make_condition, robustness

    kw = dict(window=cfg.window, flip_test=cfg.flip_test)
    syn = evaluate(model, views["synthetic"], **kw)
    out = {"synthetic": {k: syn[k] for k in _CLEAN_KEYS}, "confusions": syn["confusions"][:10],
           "side_confusion": syn.get("side_confusion"),
           "per_action_p1": {a: m["p1"] for a, m in syn["per_action"].items()}}
    ratios = sorted(set(cfg.mask_curve) | {cfg.joint_mask})
    masks = [make_condition("joint_mask", r) for r in ratios]
    conds = masks + [make_condition("part", p) for p in PARTS]
    rob = robustness(model, views["synthetic"], conditions=conds, seed=cfg.corruption_seed, **kw)
    mask = rob["conditions"][make_condition("joint_mask", cfg.joint_mask).name]
    out["joint_mask"] = {"ratio": cfg.joint_mask, "p1": mask["p1"], "p1_hidden": mask["p1_hidden"]}
    # P1 against the joint-masking ratio (0 = clean)
    out["mask_curve"] = {"0": syn["p1"], **{f"{r:g}": rob["conditions"][c.name]["p1"] for r, c in zip(ratios, masks)}}
    out["parts"] = {"p1": rob["part_mean"]["p1"], "p1_hidden": rob["part_mean"]["p1_hidden"],
                    **{p: rob["conditions"][f"part_{p}"]["p1"] for p in PARTS}}
    if "deepmimic" in views:
        dm = evaluate(model, views["deepmimic"], **kw)
        out["deepmimic"] = {k: dm[k] for k in _CLEAN_KEYS}
        out["deepmimic_per_clip_p1"] = {a: m["p1"] for a, m in dm["per_action"].items()}
    return out


#: (column title, path into a run's numbers) of the summary table.
COLUMNS = (
    ("clean P1", ("synthetic", "p1")),
    ("clean P2", ("synthetic", "p2")),
    ("P1 @mask", ("joint_mask", "p1")),
    ("P1 hidden @mask", ("joint_mask", "p1_hidden")),
    ("P1 part occl.", ("parts", "p1")),
    ("P1 hidden part", ("parts", "p1_hidden")),
    ("DeepMimic P1", ("deepmimic", "p1")),
    ("DeepMimic P2", ("deepmimic", "p2")),
    ("top-1 %", ("synthetic", "top1")),
    ("top-5 %", ("synthetic", "top5")),
    ("R@1 %", ("synthetic", "r1")),
    ("DeepMimic top-1 %", ("deepmimic", "top1")),
)


def _get(d, path):
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def summarize(runs: list[dict]) -> dict:
    """{variant: {column path joined by '.': {"mean", "std", "n"}}} over seeds (std: ddof=1, None for n=1)."""
    out: dict = {}
    for variant in dict.fromkeys(r["variant"] for r in runs):
        rs = [r for r in runs if r["variant"] == variant]
        cols = {}
        for _, path in COLUMNS:
            vals = [v for v in (_get(r["metrics"], path) for r in rs) if v is not None]
            if not vals:
                cols[".".join(path)] = {"mean": None, "std": None, "n": 0}
                continue
            std = float(np.std(vals, ddof=1)) if len(vals) > 1 else None
            cols[".".join(path)] = {"mean": float(np.mean(vals)), "std": std, "n": len(vals)}
        ratios = sorted({k for r in rs for k in r["metrics"].get("mask_curve", {})}, key=float)
        for k in ratios:
            vals = [r["metrics"]["mask_curve"][k] for r in rs if r["metrics"].get("mask_curve", {}).get(k) is not None]
            cols[f"mask_curve.{k}"] = {"mean": float(np.mean(vals)) if vals else None,
                                       "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else None, "n": len(vals)}
        cols["train_seconds"] = {"mean": float(np.mean([r["train_seconds"] for r in rs])), "std": None,
                                 "n": len(rs)}
        out[variant] = cols
    return out


def ablation_markdown(result: dict) -> str:
    """The ablation table (mean ± std over seeds, mm / %) plus the setup and the main confusions."""
    summary = result["summary"]
    cfg = result["config"]
    steps = f" of at most {cfg['max_steps']} steps" if cfg.get("max_steps") else ""
    lines = ["# Ablation: does text alignment help lifting?\n\n",
             f"Preset `{cfg['preset']}`, window {cfg['window']}, {cfg['epochs']} epoch(s){steps}, seeds "
             f"{', '.join(map(str, cfg['seeds']))} (mean ± std over seeds). P1/P2 in mm on root-relative "
             f"camera-frame poses (per-action means); '@mask' = {int(round(100 * cfg['joint_mask']))}% random "
             f"joint masking; 'part occl.' = mean over {', '.join(PARTS)} hidden in every frame; 'hidden' = "
             "error on the masked joints only. Recognition/retrieval from the aligned space (n/a for the MLP).\n\n",
             markdown_table(["model"] + [c for c, _ in COLUMNS],
                            [[VARIANT_LABELS.get(v, v)] + [s.get(".".join(p)) for _, p in COLUMNS]
                             for v, s in summary.items()])]
    conf = [r for r in result.get("runs", []) if r["variant"] == "aligned" and r["metrics"].get("confusions")]
    if conf:
        lines.append("\nMost frequent action confusions of (a), seed "
                     f"{conf[0]['seed']} (synthetic test windows):\n\n")
        lines.append(markdown_table(["true label", "predicted", "windows", "% of true"],
                                    [(c["true"], c["predicted"], c["count"], 100 * c["fraction_of_true"])
                                     for c in conf[0]["metrics"]["confusions"][:8]]))
    if result.get("command"):
        lines.append(f"\nCommand: `{result['command']}`; {result.get('seconds', 0):.0f} s on "
                     f"{result.get('hardware', {}).get('description', 'this machine')}.\n")
    return "".join(lines)


def hardware() -> dict:
    import torch

    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.is_available(), "python": platform.python_version()}
    info["description"] = (f"{info['cpu_count']} CPU cores ({info['processor']}), torch {info['torch']}, "
                           f"{info['torch_threads']} threads" + (", CUDA" if info["cuda"] else ", no GPU"))
    return info


def run_ablation(cfg: AblationConfig, out_dir, runs_dir=None, command: str | None = None,
                 log: Callable[[str], None] = print, eval_only: bool = False) -> dict:
    """Train and evaluate every variant x seed; write ``results.json`` and ``table.md`` after each run.

    Checkpoints go to ``runs_dir`` (default ``runs/ablation``; not committed). ``eval_only``
    re-evaluates the checkpoints already in ``runs_dir`` (training times are taken from
    the previous ``results.json`` when present). Returns the result dict.
    """
    import json

    previous = {}
    if eval_only and (Path(out_dir) / "results.json").is_file():
        old = json.loads((Path(out_dir) / "results.json").read_text())
        previous = {(r["variant"], r["seed"]): r for r in old.get("runs", [])}
    import langpose
    from langpose.train import fit

    out_dir = Path(out_dir)
    runs_dir = Path(runs_dir) if runs_dir is not None else Path("runs") / "ablation"
    t0 = time.time()
    result = {"command": command, "config": to_dict(cfg), "hardware": hardware(), "eval_only": bool(eval_only),
              "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
              "train_configs": {v: to_dict(variant_config(cfg, v, cfg.seeds[0])) for v in cfg.variants},
              "runs": [], "summary": {}}
    log(f"ablation: loading evaluation views (eval_seed={cfg.eval_seed})")
    views = load_eval_views(cfg)
    result["eval_data"] = {k: {"views": len(v), "frames": int(sum(len(x) for x in v))} for k, v in views.items()}
    log(f"ablation: eval data {result['eval_data']}")
    for seed in cfg.seeds:
        for variant in cfg.variants:
            tcfg = variant_config(cfg, variant, seed)
            run_dir = runs_dir / f"{variant}_seed{seed}"
            log(f"ablation: training {variant} seed {seed} -> {run_dir}")
            t = time.time()
            if eval_only:
                if not (run_dir / "checkpoint.pt").is_file():
                    raise FileNotFoundError(f"--eval-only: no checkpoint {run_dir / 'checkpoint.pt'}")
                summary = {"checkpoint": str(run_dir / "checkpoint.pt"), "epochs": None, "best": None,
                           "metrics": {}, "seconds": None}
                old = previous.get((variant, seed), {})
                train_s = old.get("train_seconds", 0.0)
                summary.update({k: old.get(k) for k in ("epochs",)}, best=old.get("best_val"),
                               metrics=old.get("final_train") or {})
            else:
                summary = fit(tcfg, run_dir, stage="pretrain")
                train_s = time.time() - t
            model = langpose.load_model(summary["checkpoint"])
            t = time.time()
            metrics = evaluate_run(model, views, cfg)
            run = {"variant": variant, "seed": seed, "train_seconds": round(train_s, 1),
                   "eval_seconds": round(time.time() - t, 1), "epochs": summary.get("epochs"),
                   "best_val": summary.get("best"), "final_train": summary.get("metrics"), "metrics": metrics}
            result["runs"].append(run)
            log(f"ablation: {variant} seed {seed}: clean P1 {fmt(metrics['synthetic']['p1'])} mm, "
                f"mask P1 {fmt(metrics['joint_mask']['p1'])} mm, top-1 {fmt(metrics['synthetic']['top1'])} %, "
                f"train {train_s:.0f} s, eval {run['eval_seconds']:.0f} s")
            result["summary"] = summarize(result["runs"])
            result["seconds"] = round(time.time() - t0, 1)
            write_json(result, out_dir / "results.json")  # partial results survive an interruption
            write_text(out_dir / "table.md", ablation_markdown(result))
    result["finished"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    result["seconds"] = round(time.time() - t0, 1)
    write_json(result, out_dir / "results.json")
    write_text(out_dir / "table.md", ablation_markdown(result))
    return result


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m langpose.ablation", description=__doc__.split("\n\n")[0])
    d = AblationConfig()
    p.add_argument("--preset", default=d.preset)
    p.add_argument("--seeds", type=int, nargs="+", default=list(d.seeds))
    p.add_argument("--variants", nargs="+", default=list(d.variants), choices=list(VARIANTS))
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--max-steps", type=int, default=d.max_steps, help="steps per epoch cap (0: all)")
    p.add_argument("--window", type=int, default=d.window)
    p.add_argument("--quick", action="store_true", help="the small synthetic data set")
    p.add_argument("--sequences-per-subject", type=int, default=d.sequences_per_subject)
    p.add_argument("--max-train-windows", type=int, default=d.max_train_windows)
    p.add_argument("--max-val-frames", type=int, default=d.max_val_frames)
    p.add_argument("--eval-frames", type=int, default=d.eval_frames, help="cap on synthetic test frames (0: all)")
    p.add_argument("--eval-seed", type=int, default=d.eval_seed)
    p.add_argument("--joint-mask", type=float, default=d.joint_mask)
    p.add_argument("--mask-curve", type=float, nargs="+", default=list(d.mask_curve),
                   help="joint-masking ratios of the robustness curve")
    p.add_argument("--no-deepmimic", action="store_true")
    p.add_argument("--flip-test", action="store_true")
    p.add_argument("--device", default=d.device)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="TrainConfig override for every run, e.g. --set loss.w_align=0.5")
    p.add_argument("--out", default="results/ablation")
    p.add_argument("--runs-dir", default="runs/ablation")
    p.add_argument("--eval-only", action="store_true",
                   help="re-evaluate the checkpoints already in --runs-dir instead of training")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    cfg = from_dict(AblationConfig, dict(
        preset=args.preset, seeds=args.seeds, variants=args.variants, epochs=args.epochs,
        max_steps=args.max_steps, window=args.window, quick=args.quick,
        sequences_per_subject=args.sequences_per_subject, max_train_windows=args.max_train_windows,
        max_val_frames=args.max_val_frames, eval_frames=args.eval_frames, eval_seed=args.eval_seed,
        joint_mask=args.joint_mask, mask_curve=args.mask_curve, deepmimic=not args.no_deepmimic, flip_test=args.flip_test,
        overrides=args.overrides, device=args.device))
    command = "python -m langpose.ablation " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else list(argv)))
    result = run_ablation(cfg, args.out, runs_dir=args.runs_dir, command=command, eval_only=args.eval_only)
    print(ablation_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
