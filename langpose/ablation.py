"""The alignment study: does aligning motion with text help lifting, and which part carries it?

Every variant shares the backbone (the ``tiny`` preset), the CPU recipe of ``langpose.zoo``,
the data, the pretraining corruption, the step budget and the seeds:

- ``aligned`` (a): pose + λ·alignment to MiniLM embeddings of the 35 fine-grained labels;
- ``labels`` (b): pose + λ·cross-entropy of a linear classification head over the same 35
  labels, no text encoder (``model.text.name=onehot``: class vectors are the columns of a
  learned linear map, weight-normalised, with the same learned logit scale as (a));
- ``coarse`` (c): as (a), aligned to 22 coarse labels that merge side and direction variants
  (``langpose.data.label_sets``);
- ``no_labels`` (d): pose only (λ = 0);
- floors (e): ``mlp``, the per-frame MLP lifter (same recipe), and ``linear``, the per-frame
  linear lifter fitted in closed form on the clean training windows.

λ is chosen from ``lambdas`` on the validation subject (stage-1 val P1 of (a), seed
``seeds[0]``) and then fixed for (a), (b) and (c); the chosen (a) run is seed 0 of (a).
Stage 1 pretrains every variant with its objective; stage 2 fine-tunes all of them with the
same steps and no labels (``langpose.zoo`` fine-tuning recipe). Each model is evaluated after
both stages on the synthetic test subject (clean P1/P2; 30 % and 50 % of joints masked; each
arm, leg and the lower body hidden, P1 of its hidden joints; 5- and 15-frame gaps), on the 15
DeepMimic clips (per clip and mean), and, for (a)-(c), on recognition (top-1/top-5,
text->motion R@1; for (a) also zero-shot paraphrases).

CLI (the whole study, two runs at a time, resumable: finished runs are reused)::

    OMP_NUM_THREADS=1 python -m langpose.ablation --out results/ablation --runs-dir runs/ablation

writes ``results.json`` (every run, per-seed numbers, the paired statistics, the command,
config and hardware) and ``table.md`` after every finished run, and ``RUNS_DIR/study.json``
(the chosen λ), by which ``langpose.interactive.load_pair`` finds the (a)/(d) pair.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import multiprocessing as mp
import os
import platform
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from langpose.config import ConfigError, from_dict, to_dict
from langpose.report import write_json, write_text

__all__ = ["AblationConfig", "VARIANTS", "run_study", "run_job", "paired_stats", "study_markdown", "main"]

#: variant -> (label, pretraining overrides on top of the CPU recipe; None: closed form)
VARIANTS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "aligned": ("(a) aligned to fine-grained text", ("model.text.name=minilm",)),
    "labels": ("(b) labels, no language", ("model.text.name=onehot",)),
    "coarse": ("(c) coarse language", ("model.text.name=minilm", "data.labels=coarse")),
    "no_labels": ("(d) no labels (λ = 0)", ("loss.w_align=0",)),
    "mlp": ("(e) floor: per-frame MLP", ("model.arch=mlp", "loss.w_align=0")),
    "linear": ("(e) floor: closed-form linear", None),
}
WEIGHTED = ("aligned", "labels", "coarse")  # the variants that take λ
PARTS = ("left_arm", "right_arm", "left_leg", "right_leg", "lower_body")

#: (key, column title, unit) of every reported metric, in table order
METRICS = (
    ("p1", "clean P1", "mm"), ("p2", "clean P2", "mm"),
    ("mask_0.3", "P1, 30 % masked", "mm"), ("mask_0.5", "P1, 50 % masked", "mm"),
    *((f"hidden_{p}", f"hidden {p.replace('_', ' ')}", "mm") for p in PARTS),
    ("gap_5", "P1, 5-frame gaps", "mm"), ("gap_15", "P1, 15-frame gaps", "mm"),
    ("deepmimic_p1", "DeepMimic P1", "mm"),
    ("top1", "top-1", "%"), ("top5", "top-5", "%"), ("r1", "text→motion R@1", "%"),
    ("para_top1", "paraphrase top-1", "%"),
)


@dataclass
class AblationConfig:
    """The study's budget and protocol.

    Attributes:
        preset: backbone preset (``langpose.train_config.PRESETS``).
        seeds: training seeds (>= 3 for mean ± std and paired statistics).
        variants: which of ``VARIANTS`` to run.
        lambdas: λ candidates for (a); the best stage-1 val P1 is used for (a), (b), (c).
        lam: a fixed λ instead of the selection (None: select).
        pretrain_steps, finetune_steps, steps_per_epoch: the step budget of each stage.
        eval_frames: cap on synthetic test frames (whole views, evenly picked; 0: all).
        eval_seed, corruption_seed: camera placement of the test views; corruption draws.
        deepmimic: also evaluate on the DeepMimic clips.
        workers: runs trained at once (one torch thread each).
        overrides: extra ``key=value`` overrides for both stages of every run.
    """

    preset: str = "tiny"
    seeds: tuple[int, ...] = (0, 1, 2)
    variants: tuple[str, ...] = tuple(VARIANTS)
    lambdas: tuple[float, ...] = (0.1, 0.3, 1.0)
    lam: float | None = None
    pretrain_steps: int = 1000
    finetune_steps: int = 250
    steps_per_epoch: int = 250
    eval_frames: int = 0
    eval_seed: int = 0
    corruption_seed: int = 0
    deepmimic: bool = True
    workers: int = 2
    overrides: tuple[str, ...] = ()

    def __post_init__(self):
        self.seeds, self.variants, self.overrides = tuple(int(s) for s in self.seeds), tuple(self.variants), tuple(self.overrides)
        self.lambdas = tuple(float(x) for x in self.lambdas)
        if not self.seeds:
            raise ConfigError("AblationConfig.seeds: give at least one seed")
        unknown = [v for v in self.variants if v not in VARIANTS]
        if unknown:
            raise ConfigError(f"AblationConfig.variants: unknown {unknown}; valid: {', '.join(VARIANTS)}")
        if self.lam is None and not self.lambdas:
            raise ConfigError("AblationConfig: give lambdas to select from, or a fixed lam")
        if min(self.pretrain_steps, self.steps_per_epoch) < 1 or self.finetune_steps < 0:
            raise ConfigError("AblationConfig: step budgets must be positive")


def run_name(variant: str, seed: int, lam: float | None) -> str:
    return f"{variant}_lam{lam:g}_seed{seed}" if variant in WEIGHTED else f"{variant}_seed{seed}"


def stage_configs(cfg: AblationConfig, variant: str, seed: int, lam: float | None):
    """(pretrain TrainConfig, finetune TrainConfig) of one run: the zoo's CPU recipe + the variant."""
    from langpose.zoo import CPU_FINETUNE, CPU_RECIPE, Recipe
    from langpose.zoo import stage_configs as recipe_stages

    extra = tuple(VARIANTS[variant][1]) + ((f"loss.w_align={lam}",) if variant in WEIGHTED else ())
    recipe = Recipe(cfg.preset, variant, CPU_RECIPE + extra, CPU_FINETUNE, cfg.pretrain_steps,
                    cfg.finetune_steps, cfg.steps_per_epoch, seed)
    return recipe_stages(recipe, list(cfg.overrides))


# --------------------------------------------------------------------------- evaluation
_VIEWS: dict = {}


def eval_views(cfg: AblationConfig) -> dict:
    """{"synthetic": test views, "deepmimic": clip views}, fixed camera placement (cached per process)."""
    key = (cfg.eval_frames, cfg.eval_seed, cfg.deepmimic)
    if key not in _VIEWS:
        from langpose.data.registry import load_views
        from langpose.evaluate import deepmimic_views

        views = load_views("synthetic", "test", seed=cfg.eval_seed)
        total = sum(len(v) for v in views)
        if cfg.eval_frames and total > cfg.eval_frames:  # whole views, evenly spaced
            n = max(1, round(len(views) * cfg.eval_frames / total))
            views = [views[i] for i in np.unique(np.linspace(0, len(views) - 1, n).round().astype(int))]
        _VIEWS[key] = {"synthetic": views, "deepmimic": deepmimic_views(seed=cfg.eval_seed) if cfg.deepmimic else []}
    return _VIEWS[key]


def measure(model, cfg: AblationConfig) -> dict:
    """Every metric of ``METRICS`` for one model (mm, %), plus DeepMimic per clip."""
    from langpose.evaluate import evaluate, label_set_recognition, make_condition, robustness

    views = eval_views(cfg)
    window = model.cfg.max_frames if hasattr(model, "cfg") else 27
    syn = views["synthetic"]
    # no flip test, overlap, limb completion or upright test: the committed study was measured without them
    clean = evaluate(model, syn, window=window, recognition=False, flip_test=False, stride=window, upright_test=False)
    conds = ([make_condition("joint_mask", r) for r in (0.3, 0.5)] + [make_condition("part", p) for p in PARTS]
             + [make_condition("gap", g) for g in (5, 15)])
    rob = robustness(model, syn, window=window, conditions=conds, seed=cfg.corruption_seed, flip_test=False,
                     stride=window, complete=False, upright_test=False)["conditions"]
    out = {"p1": clean["p1"], "p2": clean["p2"], "mask_0.3": rob["joint_mask_0.3"]["p1"],
           "mask_0.5": rob["joint_mask_0.5"]["p1"], "gap_5": rob["gap_5"]["p1"], "gap_15": rob["gap_15"]["p1"],
           **{f"hidden_{p}": rob[f"part_{p}"]["p1_hidden"] for p in PARTS},
           **{f"part_{p}": rob[f"part_{p}"]["p1"] for p in PARTS}}
    if views["deepmimic"]:
        dm_window = min(window, min(len(v) for v in views["deepmimic"]))
        dm = evaluate(model, views["deepmimic"], window=dm_window, recognition=False, flip_test=False,
                      stride=dm_window, upright_test=False)
        out["deepmimic_p1"] = dm["p1"]
        out["deepmimic_clips"] = {a: r["p1"] for a, r in dm["per_action"].items()}
    out.update(label_set_recognition(model, syn, window))
    return out


# --------------------------------------------------------------------------- one run
def _linear_run(cfg: AblationConfig, seed: int) -> dict:
    """The closed-form floor: per-frame linear lifter on every clean training window of seed ``seed``."""
    import torch

    from langpose.models.linear_lifter import LinearLifter
    from langpose.train import build_dataset

    pre, _ = stage_configs(cfg, "no_labels", seed, None)
    t = time.time()
    ds = build_dataset(pre, "train", train=False)
    batch = torch.utils.data.default_collate([ds[i] for i in range(len(ds))])
    lifter = LinearLifter().fit(batch["x2d"], batch["y3d"])
    seconds = time.time() - t
    metrics = measure(lifter, cfg)
    return {"train_seconds": round(seconds, 1), "stage1": metrics, "stage2": metrics, "val_p1": None}


def run_job(cfg: AblationConfig, variant: str, seed: int, lam: float | None, runs_dir: str) -> dict:
    """Train (both stages) and evaluate one run; cached in ``runs_dir/<name>/result.json``.

    A run whose result file exists with the same config is not retrained; an interrupted
    run resumes its stages from ``last.pt`` (``fit(resume=True)``).
    """
    import torch

    from langpose import checkpoint as ckpt
    from langpose.train import fit

    torch.set_num_threads(1)
    run = Path(runs_dir) / run_name(variant, seed, lam)
    done = run / "result.json"
    key = {"study": to_dict(cfg) | {"seeds": None, "variants": None, "workers": None},
           "variant": variant, "seed": seed, "lam": lam}
    if done.is_file():
        old = json.loads(done.read_text())
        if old.get("key") == json.loads(json.dumps(key)):
            return old
    t0 = time.time()
    if VARIANTS[variant][1] is None:
        res = _linear_run(cfg, seed)
    else:
        pre, ft = stage_configs(cfg, variant, seed, lam)
        s1 = fit(pre, run / "pretrain", resume=True)
        t1 = time.time()
        model1 = ckpt.load_model(run / "pretrain" / "checkpoint.pt").eval()
        m1 = measure(model1, cfg)
        t2 = time.time()
        fit(ft, run / "finetune", stage="finetune", init_checkpoint=run / "pretrain" / "checkpoint.pt", resume=True)
        t3 = time.time()
        model2 = ckpt.load_model(run / "finetune" / "checkpoint.pt").eval()
        model2.vocab = list(model1.vocab)
        m2 = measure(model2, cfg)
        res = {"train_seconds": round((t1 - t0) + (t3 - t2), 1), "stage1": m1, "stage2": m2,
               "val_p1": s1.get("best")}
    res.update(key=key, variant=variant, seed=seed, lam=lam, name=run.name, seconds=round(time.time() - t0, 1))
    write_json(res, done)
    return res


# --------------------------------------------------------------------------- statistics
def _mean_std(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None, None, 0
    return float(np.mean(vals)), (float(np.std(vals, ddof=1)) if len(vals) > 1 else None), len(vals)


def summarize(runs: list[dict], stage: str) -> dict:
    """{variant: {metric: {"mean", "std", "n"}}} over seeds (std with ddof=1)."""
    out = {}
    for variant in dict.fromkeys(r["variant"] for r in runs):
        rs = [r[stage] for r in runs if r["variant"] == variant]
        out[variant] = {k: dict(zip(("mean", "std", "n"), _mean_std([r.get(k) for r in rs]))) for k, _, _ in METRICS}
    return out


def paired_stats(runs: list[dict], stage: str, against: str = "no_labels") -> dict:
    """{variant: {metric: {"mean", "se", "n", "exceeds_2se"}}}: per-seed paired differences
    (variant - ``against``) of (a), (b), (c); se = std(ddof=1) / sqrt(n)."""
    base = {r["seed"]: r[stage] for r in runs if r["variant"] == against}
    out = {}
    for variant in WEIGHTED:
        rs = {r["seed"]: r[stage] for r in runs if r["variant"] == variant}
        seeds = sorted(set(rs) & set(base))
        stats = {}
        for k, _, _ in METRICS:
            d = [rs[s][k] - base[s][k] for s in seeds if rs[s].get(k) is not None and base[s].get(k) is not None]
            if len(d) < 2:
                continue
            mean, se = float(np.mean(d)), float(np.std(d, ddof=1) / np.sqrt(len(d)))
            stats[k] = {"mean": mean, "se": se, "n": len(d), "exceeds_2se": bool(abs(mean) > 2 * se)}
        if stats:
            out[variant] = stats
    return out


def _pm(s) -> str:
    if not s or s.get("mean") is None:
        return "—"
    return f"{s['mean']:.1f}" + (f" ± {s['std']:.1f}" if s.get("std") is not None else "")


def study_markdown(result: dict) -> str:
    """The study's tables: per stage, mean ± std per variant; the paired differences against (d)."""
    cfg = result["config"]
    lines = [f"# Does language alignment help? ({cfg['preset']}, seeds {', '.join(map(str, cfg['seeds']))})\n\n"]
    if result.get("selection"):
        sel = result["selection"]
        lines.append("λ selection ((a), seed {seed}, stage-1 validation P1): ".format(**sel)
                     + ", ".join(f"λ={k}: {v:.1f} mm" for k, v in sel["val_p1"].items())
                     + f" → **λ = {sel['chosen']:g}**\n\n")
    for stage, title in (("stage1", "After stage 1 (pretraining)"), ("stage2", "After stage 2 (fine-tuning, no labels)")):
        summary = result["summary"].get(stage, {})
        if not summary:
            continue
        lines.append(f"## {title}: mean ± std over seeds\n\n")
        head = ["variant"] + [f"{t} ({u})" for _, t, u in METRICS]
        lines.append("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
        for v, s in summary.items():
            lines.append("| " + " | ".join([VARIANTS[v][0]] + [_pm(s[k]) for k, _, _ in METRICS]) + " |\n")
        lines.append("\n")
        paired = result.get("paired", {}).get(stage, {})
        if paired:
            lines.append(f"### {title}: paired difference against (d), mean ± standard error over seeds\n\n"
                         "Negative is lower (better) for errors in mm, positive is higher (better) for %. "
                         "A bold entry exceeds 2 standard errors.\n\n")
            keys = [k for k, _, _ in METRICS if any(k in p for p in paired.values())]
            lines.append("| variant − (d) | " + " | ".join(t for k, t, _ in METRICS if k in keys) + " |\n|"
                         + "---|" * (len(keys) + 1) + "\n")
            for v, p in paired.items():
                cells = []
                for k in keys:
                    if k not in p:
                        cells.append("—")
                        continue
                    c = f"{p[k]['mean']:+.1f} ± {p[k]['se']:.1f}"
                    cells.append(f"**{c}**" if p[k]["exceeds_2se"] else c)
                lines.append(f"| {VARIANTS[v][0]} | " + " | ".join(cells) + " |\n")
            lines.append("\n")
    clips = {}
    for r in result["runs"]:
        for clip, p1 in r["stage2"].get("deepmimic_clips", {}).items():
            clips.setdefault(clip, {}).setdefault(r["variant"], []).append(p1)
    if clips:
        variants = list(dict.fromkeys(r["variant"] for r in result["runs"]))
        lines.append("## DeepMimic per clip after stage 2: P1 (mm), mean over seeds\n\n| clip | "
                     + " | ".join(VARIANTS[v][0] for v in variants) + " |\n|" + "---|" * (len(variants) + 1) + "\n")
        for clip, per in sorted(clips.items()):
            lines.append(f"| {clip} | " + " | ".join(f"{np.mean(per[v]):.1f}" if v in per else "—" for v in variants) + " |\n")
        lines.append("\n")
    if result.get("command"):
        lines.append(f"Command: `{result['command']}`; {result.get('seconds', 0) / 60:.0f} min wall on "
                     f"{result.get('hardware', {}).get('description', 'this machine')}.\n")
    return "".join(lines)


# --------------------------------------------------------------------------- the study
def hardware() -> dict:
    import torch

    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch": torch.__version__, "python": platform.python_version(),
            "cuda": torch.cuda.is_available()}
    info["description"] = (f"{info['cpu_count']} CPU cores ({info['processor']}), torch {info['torch']}, "
                           "one torch thread per run" + (", CUDA" if info["cuda"] else ", no GPU"))
    return info


def run_study(cfg: AblationConfig, out_dir, runs_dir="runs/ablation", command: str | None = None, log=print) -> dict:
    """λ selection, then every variant x seed, ``cfg.workers`` runs at a time; writes
    ``out_dir/results.json`` and ``table.md`` after every finished run. Returns the result."""
    out_dir, t0 = Path(out_dir), time.time()
    result = {"command": command, "config": to_dict(cfg), "hardware": hardware(), "runs": [], "summary": {},
              "paired": {}, "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
              "variants": {v: VARIANTS[v][0] for v in cfg.variants}}

    def record(res: dict) -> None:
        result["runs"].append(res)
        log(f"study: {res['name']} done in {res['seconds']:.0f} s: stage-2 P1 {res['stage2']['p1']:.1f} mm")
        runs = [r for r in result["runs"] if r["variant"] not in WEIGHTED or r["lam"] == result.get("lam")]
        result["summary"] = {s: summarize(runs, s) for s in ("stage1", "stage2")}
        result["paired"] = {s: paired_stats(runs, s) for s in ("stage1", "stage2")}
        result["seconds"] = round(time.time() - t0, 1)
        write_json(result, out_dir / "results.json")  # partial results survive an interruption
        write_text(out_dir / "table.md", study_markdown(result))

    weighted = [v for v in cfg.variants if v in WEIGHTED]
    first = [("aligned", cfg.seeds[0], lam) for lam in (cfg.lambdas if cfg.lam is None else (cfg.lam,))] \
        if "aligned" in weighted else []
    rest = [(v, s, None) for v in cfg.variants if v not in WEIGHTED for s in cfg.seeds]
    ctx = mp.get_context("spawn")
    with ctx.Pool(cfg.workers, maxtasksperchild=1) as pool:
        pending = [pool.apply_async(run_job, (cfg, *job, str(runs_dir))) for job in first + rest]
        if first:
            chosen = [p.get() for p in pending[:len(first)]]
            for res in chosen:
                record(res)
            val = {f"{r['lam']:g}": r["val_p1"] for r in chosen}
            best = min(chosen, key=lambda r: r["val_p1"])
            result["lam"] = best["lam"]
            result["selection"] = {"seed": cfg.seeds[0], "val_p1": val, "chosen": best["lam"]}
            log(f"study: λ selection (val P1) {val} -> λ = {best['lam']:g}")
            write_json({"lam": best["lam"], "selection": result["selection"]}, Path(runs_dir) / "study.json")
            result["runs"] = [r for r in result["runs"] if r["lam"] == best["lam"]] + \
                [r for r in result["runs"] if r["lam"] != best["lam"]]
        else:
            result["lam"] = cfg.lam if cfg.lam is not None else cfg.lambdas[0]
            write_json({"lam": result["lam"]}, Path(runs_dir) / "study.json")
        later = [(v, s, result["lam"]) for v in weighted for s in cfg.seeds
                 if not (v == "aligned" and s == cfg.seeds[0] and first)]
        pending = pending[len(first):] + [pool.apply_async(run_job, (cfg, *job, str(runs_dir))) for job in later]
        while pending:
            for p in [p for p in pending if p.ready()]:
                pending.remove(p)
                record(p.get())
            time.sleep(2)
    result["finished"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    result["seconds"] = round(time.time() - t0, 1)
    write_json(result, out_dir / "results.json")
    write_text(out_dir / "table.md", study_markdown(result))
    return result


def _parser() -> argparse.ArgumentParser:
    d = AblationConfig()
    p = argparse.ArgumentParser(prog="python -m langpose.ablation", description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default=d.preset)
    p.add_argument("--seeds", type=int, nargs="+", default=list(d.seeds))
    p.add_argument("--variants", nargs="+", default=list(d.variants), choices=list(VARIANTS))
    p.add_argument("--lambdas", type=float, nargs="+", default=list(d.lambdas), help="λ candidates for (a)")
    p.add_argument("--lam", type=float, default=None, help="a fixed λ (skips the selection)")
    p.add_argument("--pretrain-steps", type=int, default=d.pretrain_steps)
    p.add_argument("--finetune-steps", type=int, default=d.finetune_steps)
    p.add_argument("--steps-per-epoch", type=int, default=d.steps_per_epoch)
    p.add_argument("--eval-frames", type=int, default=d.eval_frames, help="cap on synthetic test frames (0: all)")
    p.add_argument("--eval-seed", type=int, default=d.eval_seed)
    p.add_argument("--no-deepmimic", action="store_true")
    p.add_argument("--workers", type=int, default=d.workers)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override for both stages of every run, e.g. --set data.batch_size=64")
    p.add_argument("--out", default="results/ablation")
    p.add_argument("--runs-dir", default="runs/ablation")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    cfg = from_dict(AblationConfig, dict(
        preset=args.preset, seeds=args.seeds, variants=args.variants, lambdas=args.lambdas, lam=args.lam,
        pretrain_steps=args.pretrain_steps, finetune_steps=args.finetune_steps,
        steps_per_epoch=args.steps_per_epoch, eval_frames=args.eval_frames, eval_seed=args.eval_seed,
        deepmimic=not args.no_deepmimic, workers=args.workers, overrides=args.overrides))
    command = "python -m langpose.ablation " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else list(argv)))
    result = run_study(cfg, args.out, runs_dir=args.runs_dir, command=command)
    print(study_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
