"""Regenerate every figure under ``figures/`` deterministically.

``python -m langpose.figures [--quick] [--out figures] [--run-dir runs/figures]``

Each figure ``NAME`` is written as ``NAME.png`` (and ``NAME.html`` where an
interactive view helps; the HTML pages share one ``plotly.min.js`` in the same
folder, so they open offline) next to ``NAME.json``: the config that made it,
the numbers it shows, and the environment (versions, seed, hardware, git commit).
``manifest.json`` lists everything.

Figures:
- ``robustness``: P1 (mm) of the aligned and non-aligned models under joint
  masking, hidden body parts and temporal gaps (``langpose.evaluate.robustness``).
- ``ablation``: bars from ``results/ablation/results.json`` (when present).
- ``embedding_map``: PCA and t-SNE of motion embeddings coloured by action, both models.
- ``similarity``: per-action mean motion embedding vs every label text (cosine).
- ``qualitative``: 2D input (dropped joints marked) beside 3D truth vs prediction,
  clean and with occluded body parts; ``qualitative_3d.html`` animates one case.
- ``training_curves``: per-epoch losses and validation metrics of both runs.

Models (``langpose.interactive.load_pair``): ``--checkpoint`` / ``--baseline-checkpoint``; else,
with ``--ablation-runs runs/ablation``, the ablation's ``{aligned,no_align}_seed0`` pair when both exist; else
``RUN_DIR/checkpoint.pt`` (aligned) and ``RUN_DIR/no_align/checkpoint.pt``; missing ones are trained tiny
(``langpose.interactive.load_or_train``). Quick mode writes to ``RUN_DIR/figures``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from langpose.atomic import atomic_path

FIGURES = ("robustness", "ablation", "embedding_map", "similarity", "qualitative", "training_curves")
OCCLUSION_CASES = (("clean", None), ("left arm hidden", "left_arm"), ("right leg hidden", "right_leg"),
                   ("lower body hidden", "lower_body"))


@dataclass
class FiguresConfig:
    """What ``generate`` makes. Paths are relative to the working directory."""

    quick: bool = False
    seed: int = 0
    out: str = "figures"
    run_dir: str = "runs/figures"
    checkpoint: str | None = None            # aligned model; default RUN_DIR/checkpoint.pt
    baseline_checkpoint: str | None = None   # non-aligned model; default RUN_DIR/no_align/checkpoint.pt
    ablation: str = "results/ablation/results.json"
    ablation_runs: str | None = None          # e.g. "runs/ablation": the study's (a)/(d) seed-SEED pair
    ablation_stage: str = "finetune"          # ... after this stage ("pretrain": the aligned embeddings)
    data_dir: str | None = None
    window: int = 27
    max_views: int = 0                        # views of the test split used (0: 4 quick / 24 full)
    crop_frames: int = 0                      # keep only the first N frames of each view (0: all)
    only: tuple = field(default_factory=tuple)  # subset of FIGURES (empty: all)


# ----------------------------------------------------------------------------- environment
def git_commit(cwd=None) -> str | None:
    """HEAD of the git checkout holding this package (None outside git)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd or Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def environment(seed: int) -> dict:
    """Versions, seed, hardware and git commit, for the JSON beside every figure."""
    import matplotlib
    import plotly
    import sklearn
    import torch

    import langpose

    return {
        "seed": int(seed), "git_commit": git_commit(), "python": platform.python_version(),
        "langpose": langpose.__version__, "torch": torch.__version__, "numpy": np.__version__,
        "matplotlib": matplotlib.__version__, "plotly": plotly.__version__, "scikit-learn": sklearn.__version__,
        "platform": platform.platform(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


# ----------------------------------------------------------------------------- writers
def _write_json(path: Path, obj) -> None:
    from langpose.report import write_json

    write_json(obj, path)


def save_png(fig, path: Path, dpi: int = 130) -> Path:
    """Save a matplotlib figure atomically with no timestamp metadata (same input -> same bytes)."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)
    return path


class _Writer:
    """Writes one figure's files and its JSON sidecar; remembers them for the manifest."""

    def __init__(self, out: Path, cfg: FiguresConfig, env: dict):
        self.out, self.cfg, self.env, self.made, self.seconds = out, cfg, env, {}, {}
        self._t = time.time()

    def write(self, name: str, png=None, html=None, data=None, note: str = "") -> list[str]:
        from langpose.viz.plotly3d import save_html

        files = []
        if png is not None:
            files.append(save_png(png, self.out / f"{name}.png").name)
        for suffix, fig in (html or {}).items():
            files.append(save_html(fig, self.out / f"{name}{suffix}.html", plotly_js="directory").name)
        meta = {"figure": name, "files": files, "note": note, "config": asdict(self.cfg),
                "environment": self.env, "data": data or {}}
        _write_json(self.out / f"{name}.json", meta)
        self.made[name] = files + [f"{name}.json"]
        self.seconds[name] = round(time.time() - self._t, 1)  # since the previous figure (incl. its computation)
        self._t = time.time()
        return files


# ----------------------------------------------------------------------------- figures
def plot_robustness(results: dict):
    """Two panels from {model name: robustness dict}: P1 vs joint-mask ratio (``eval_plots``);
    P1 per hidden body part / temporal gap, the models side by side."""
    import matplotlib.pyplot as plt

    from langpose.viz.eval_plots import mask_curve_from_robustness, plot_robustness_curves

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw=dict(width_ratios=[1, 1.6]))
    plot_robustness_curves({n: mask_curve_from_robustness(r) for n, r in results.items()}, ax=a)
    names = list(results)
    width = 0.8 / max(len(names), 1)
    for k, (name, res) in enumerate(results.items()):
        other = [(n, c) for n, c in res["conditions"].items() if c["kind"] in ("part", "gap")]
        xs = np.arange(len(other)) + (k - (len(names) - 1) / 2) * width
        b.bar(xs, [c["p1"] for _, c in other], width, label=name)
        b.set_xticks(np.arange(len(other)))
        b.set_xticklabels([n.replace("part_", "").replace("_", " ") for n, _ in other], rotation=30, fontsize=7,
                          ha="right")
    b.set_ylabel("P1 MPJPE (mm)")
    b.set_title("hidden body part (all frames) / temporal gaps (frames)", fontsize=9)
    b.legend(fontsize=7)
    fig.tight_layout()
    return fig


#: (metric key of ``langpose.ablation.METRICS``, bar-group title) of the pose and recognition panels
ABLATION_POSE = (("p1", "clean P1"), ("p2", "clean P2"), ("mask_0.3", "30 % masked"), ("mask_0.5", "50 % masked"),
                 ("hidden_left_arm", "hidden L arm"), ("hidden_right_arm", "hidden R arm"),
                 ("hidden_left_leg", "hidden L leg"), ("hidden_right_leg", "hidden R leg"),
                 ("hidden_lower_body", "hidden lower body"), ("gap_5", "5-frame gaps"), ("gap_15", "15-frame gaps"),
                 ("deepmimic_p1", "DeepMimic"))
ABLATION_RECOGNITION = (("top1", "top-1"), ("top5", "top-5"), ("r1", "R@1"), ("para_top1", "paraphrase top-1"))


def ablation_rows(result: dict, stage: str = "stage2", columns=ABLATION_POSE) -> dict:
    """{variant label: {column title: (mean, std)}} of one stage of ``langpose.ablation``'s results.json."""
    from langpose.ablation import VARIANTS

    labels = result.get("variants") or {}
    summary = (result.get("summary") or {}).get(stage) or {}
    rows = {}
    for variant, cols in sorted(summary.items(), key=lambda kv: list(VARIANTS).index(kv[0]) if kv[0] in VARIANTS else 99):
        row = {title: (cols[k]["mean"], cols[k].get("std")) for k, title in columns
               if isinstance(cols.get(k), dict) and cols[k].get("mean") is not None}
        if row:
            rows[labels.get(variant, variant)] = row
    return rows


def _bars(ax, rows: dict, cols: list, unit: str, title: str, cap_from=None, colors=None) -> None:
    """Grouped bars (mean ± std); with ``cap_from`` (labels) the y axis stops at 1.3 x their maximum
    and a taller bar is clipped with its value written on top."""
    width = 0.85 / max(len(rows), 1)
    top = None
    if cap_from:
        vals = [m for lab in cap_from if lab in rows for m, _ in rows[lab].values() if m is not None]
        top = 1.3 * max(vals) if vals else None
    for k, (label, row) in enumerate(rows.items()):
        xs = np.arange(len(cols)) + (k - (len(rows) - 1) / 2) * width
        means = np.array([row.get(c, (np.nan, None))[0] for c in cols], dtype=float)
        stds = np.array([row.get(c, (np.nan, None))[1] or 0.0 for c in cols], dtype=float)
        shown = np.minimum(means, top) if top else means
        ax.bar(xs, shown, width, yerr=np.where(shown < means, 0, stds), capsize=2, label=label,
               color=(colors or {}).get(label))
        for x, m, sh in zip(xs, means, shown):
            if sh < m:
                ax.text(x, sh, f"{m:.0f}", ha="center", va="bottom", fontsize=6, rotation=90)
    if top:
        ax.set_ylim(0, top * 1.12)
    ax.set_xticks(np.arange(len(cols)))
    ax.set_xticklabels(cols, fontsize=7, rotation=20, ha="right")
    ax.set_ylabel(unit)
    ax.set_title(title, fontsize=9)


def plot_ablation_summary(result: dict):
    """The alignment study: pose errors after each stage and recognition after stage 1, grouped
    bars per metric and variant with error bars (std over seeds)."""
    import matplotlib.pyplot as plt

    rows = {s: ablation_rows(result, s) for s in ("stage1", "stage2")}
    if not any(rows.values()):
        raise ValueError("plot_ablation_summary: the results have no summary numbers")
    rec = ablation_rows(result, "stage1", ABLATION_RECOGNITION)
    labels = result.get("variants") or {}
    main = [labels.get(v, v) for v in ("aligned", "labels", "coarse", "no_labels")]
    order = list(dict.fromkeys(lab for r in (rows["stage1"], rows["stage2"], rec) for lab in r))
    colors = {lab: f"C{i}" for i, lab in enumerate(order)}  # one colour per variant in every panel
    fig, axes = plt.subplots(3 if rec else 2, 1, figsize=(12, 10.5 if rec else 7.5))
    seeds = (result.get("config") or {}).get("seeds") or []
    for ax, stage, title in zip(axes, ("stage1", "stage2"), ("after pretraining", "after fine-tuning (no labels)")):
        cols = [t for _, t in ABLATION_POSE if any(t in r for r in rows[stage].values())]
        _bars(ax, rows[stage], cols, "P1 (mm)", f"{title}: mean ± std over {len(seeds)} seeds "
              "(floors above the axis: value written on the bar)", cap_from=main, colors=colors)
    if rec:
        cols = [t for _, t in ABLATION_RECOGNITION if any(t in r for r in rec.values())]
        _bars(axes[2], rec, cols, "%", "recognition after pretraining ((c): over its 22 coarse labels; "
              "chance 2.9 % top-1 over 35)", colors=colors)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[lab]) for lab in order]
    fig.legend(handles, order, loc="upper center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def _numeric_rows(obj, keys=("p1", "P1", "p1_mm", "mpjpe", "mpjpe_mm")) -> dict:
    """{row name: P1} from an ablation results JSON of unknown nesting ({name: {..., "p1": x}} or lists)."""
    rows = {}
    items = obj.items() if isinstance(obj, dict) else enumerate(obj if isinstance(obj, list) else [])
    for name, val in items:
        if isinstance(val, dict):
            hit = next((val[k] for k in keys if isinstance(val.get(k), (int, float))), None)
            if hit is None and isinstance(val.get("clean"), dict):
                hit = next((val["clean"][k] for k in keys if isinstance(val["clean"].get(k), (int, float))), None)
            label = str(val.get("name", name))
            if hit is not None:
                rows[label] = float(hit)
                continue
        if isinstance(val, (dict, list)):
            grouping = isinstance(val, list) or str(name) in ("results", "variants", "runs")
            rows.update({k if grouping else f"{name}/{k}": v for k, v in _numeric_rows(val, keys).items()})
    return rows


def plot_ablation(rows: dict):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(4, 0.8 * len(rows) + 2), 3.6))
    ax.bar(range(len(rows)), list(rows.values()), color="#4c72b0")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(list(rows), rotation=30, ha="right", fontsize=7)
    for i, v in enumerate(rows.values()):
        ax.text(i, v, f"{v:.1f}", ha="center", va="bottom", fontsize=7)
    ax.set_ylabel("MPJPE P1 (mm)")
    ax.set_title("ablation", fontsize=9)
    fig.tight_layout()
    return fig


def plot_training(histories: dict):
    """One row per run from {run name: [metrics.jsonl records]}: losses | val P1/P2 | val top-1 (``training_plots``)."""
    import matplotlib.pyplot as plt

    from langpose.viz.training_plots import plot_loss_curves, plot_val_curves

    fig, axes = plt.subplots(len(histories), 3, figsize=(14, 3.4 * len(histories)), squeeze=False)
    for i, (name, hist) in enumerate(histories.items()):
        # the training log names top-1 "val_top1" (percent); plot_val_curves reads "val_top1_pct"
        recs = [dict(r, val_top1_pct=r.get("val_top1_pct", r.get("val_top1"))) for r in hist]
        plot_loss_curves(recs, ax=axes[i, 0], title=f"{name}: training losses")
        plot_val_curves(recs, axes=axes[i, 1:], title=name)
    fig.tight_layout()
    return fig


def _occluded_cases(model, clips, n_clips: int, seed: int):
    from langpose import interactive as ia

    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(clips), size=min(n_clips, len(clips)), replace=False).tolist())
    cases, anim = [], None
    for ci, (title, part) in zip(picked * len(OCCLUSION_CASES), OCCLUSION_CASES):
        c = clips[ci]
        r = ia.occlude(model, c["x2d"], parts=part, with_actions=False)
        t = c["x2d"].shape[0] // 2
        err = 1000.0 * float(np.linalg.norm(r["pose"][t] - c["y3d"][t], axis=-1).mean())
        cases.append(dict(x2d=r["x2d"][t], reference2d=c["x2d"][t], gt=c["y3d"][t], pred=r["pose"][t],
                          visible=r["visible"][t], title=f"{title} ({c['name']})", error_mm=err))
        if part == "left_arm":
            anim = (c, r)
    return cases, anim


def _crop(view, n: int):
    import dataclasses

    if n < 1:
        raise ValueError(f"crop_frames: expected a positive number of frames, got {n}")
    return dataclasses.replace(view, keypoints2d=view.keypoints2d[:n], labels=view.labels[:n],
                               joints3d=None if view.joints3d is None else view.joints3d[:n])


def generate(cfg: FiguresConfig, progress: bool = True) -> dict:
    """Write every figure of ``cfg.only`` (all by default) to ``cfg.out``; returns the manifest."""
    import matplotlib

    matplotlib.use("Agg")
    import torch

    from langpose import interactive as ia
    from langpose.viz import embedding as emb_viz
    from langpose.viz import panels, plotly3d

    unknown = set(cfg.only) - set(FIGURES)
    if unknown:
        raise ValueError(f"only: unknown figures {sorted(unknown)}; figures are {', '.join(FIGURES)}")
    wanted = set(cfg.only or FIGURES)
    t0 = time.time()
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    run = Path(cfg.run_dir)
    env = environment(cfg.seed)
    say = print if progress else (lambda *a, **k: None)

    need_models = wanted & {"robustness", "embedding_map", "similarity", "qualitative", "training_curves"}
    models, ckpts = {}, {}
    if need_models:
        say(f"[figures] models: {cfg.checkpoint or cfg.ablation_runs or cfg.run_dir}")
        pair = ia.load_pair(run, quick=cfg.quick, seed=cfg.seed, ablation_runs=cfg.ablation_runs or None,
                            ablation_stage=cfg.ablation_stage,
                            data_dir=cfg.data_dir, checkpoint=cfg.checkpoint,
                            baseline_checkpoint=cfg.baseline_checkpoint)
        for name, key in (("aligned (LangPose)", "aligned"), ("no text alignment", "no_align")):
            models[name], ckpts[name] = pair[key], Path(pair["checkpoints"][key])
        say(f"[figures] models from {pair['source']}")
    main_name = "aligned (LangPose)"
    w = _Writer(out, cfg, env)  # its clock starts after the models are ready
    max_views = cfg.max_views or (4 if cfg.quick else 24)
    views = ia.demo_views(quick=cfg.quick, seed=cfg.seed, data_dir=cfg.data_dir, max_views=max_views) if need_models else []
    if cfg.crop_frames:
        views = [_crop(v, cfg.crop_frames) for v in views]

    if "robustness" in wanted:
        from langpose.evaluate import default_conditions, robustness

        say("[figures] robustness")
        conds = (default_conditions(ratios=(0.3,), parts=("left_arm", "lower_body"), gaps=(15,)) if cfg.quick
                 else default_conditions(ratios=(0.1, 0.3, 0.5), gaps=(5, 15)))
        res = {n: robustness(m, views, window=cfg.window, conditions=conds, seed=cfg.seed) for n, m in models.items()}
        w.write("robustness", png=plot_robustness(res), data={"views": len(views), "results": res})

    if "ablation" in wanted:
        path = Path(cfg.ablation)
        if path.is_file():
            result = json.loads(path.read_text())
            rows = ablation_rows(result) if isinstance(result, dict) else {}
            flat = {} if rows else _numeric_rows(result)
            if rows:
                w.write("ablation", png=plot_ablation_summary(result),
                        data={"source": str(path), "rows": rows, "seeds": (result.get("config") or {}).get("seeds")})
            elif flat:
                w.write("ablation", png=plot_ablation(flat), data={"source": str(path), "p1_mm": flat})
            else:
                say(f"[figures] ablation: no P1 numbers found in {path}; skipped")
        else:
            say(f"[figures] ablation: {path} not found (written by the ablation run); skipped")

    if wanted & {"embedding_map", "similarity"}:
        from langpose.evaluate import class_alignment, text_embeddings
        from langpose.inference import embed_windows, view_to_input

        inputs = [view_to_input(v) for v in views]
        labels = [v.labels for v in views]
        vocab = list(views[0].vocab)
        embs = {}
        for n, m in models.items():
            e, lab, seq, start = embed_windows(m, inputs, labels, window=cfg.window)
            embs[n] = e
        if "embedding_map" in wanted:
            say("[figures] embedding map")
            fig, coords = emb_viz.embedding_maps(embs, lab, vocab, seed=cfg.seed)
            names = [f"{views[s].name}@{st}" for s, st in zip(seq, start)]
            html = emb_viz.embedding_map_plotly(coords[(main_name, "tsne")], lab, vocab, names,
                                                title="t-SNE of motion embeddings (aligned model)")
            w.write("embedding_map", png=fig, html={"": html},
                    data={"windows": int(len(lab)), "actions": int(len(set(lab.tolist())))})
        if "similarity" in wanted:
            say("[figures] similarity")
            m = models[main_name]
            text = text_embeddings(m, vocab).numpy()
            al = class_alignment(embs[main_name], lab, text)
            ids = al["ids"]
            ax = emb_viz.plot_similarity(al["similarity"], [vocab[i] for i in ids], vocab,
                                         title="mean motion embedding per action vs label text (cosine)")
            w.write("similarity", png=ax.figure, data={"mean_matching": al["mean_matching"],
                                                       "mean_other": al["mean_other"],
                                                       "class_top1": al["class_top1"], "actions": len(ids)})

    if "qualitative" in wanted:
        say("[figures] qualitative panels")
        clips = ia.clips_from_views(views, window=cfg.window, per_view=1)
        cases, anim = _occluded_cases(models[main_name], clips, 2, cfg.seed)
        fig = panels.qualitative_grid(cases, suptitle="2D input (red x: dropped) | 3D truth (blue) vs prediction")
        html = {}
        if anim is not None:
            c, r = anim
            html["_3d"] = plotly3d.animate_poses(c["y3d"], r["pose"], r["visible"],
                                                 title=f"{c['name']}: left arm hidden from the lifter")
        w.write("qualitative", png=fig, html=html,
                data={"cases": [{"title": c["title"], "mpjpe_mm": c["error_mm"]} for c in cases]})

    if "training_curves" in wanted:
        from langpose.train import read_metrics

        hist = {}
        for n, p in ckpts.items():
            try:
                hist[n] = read_metrics(p.parent)
            except FileNotFoundError:
                say(f"[figures] training curves: no metrics.jsonl beside {p}")
        if hist:
            w.write("training_curves", png=plot_training(hist), data={"runs": {n: str(ckpts[n].parent) for n in hist}})

    # a run with ``only`` updates the manifest of the figures it made and keeps the others' entries
    old = json.loads((out / "manifest.json").read_text()) if cfg.only and (out / "manifest.json").is_file() else {}
    used = {n: str(p) for n, p in ckpts.items()}
    manifest = {"figures": {**old.get("figures", {}), **w.made}, "quick": cfg.quick,
                "seconds": round(time.time() - t0, 1), "seconds_per_figure": {**old.get("seconds_per_figure", {}), **w.seconds},
                "environment": env, "checkpoints": used,
                "checkpoints_by_figure": {**old.get("checkpoints_by_figure", {}),
                                          **{f: used for f in w.made if f in need_models}}}
    _write_json(out / "manifest.json", manifest)
    say(f"[figures] wrote {sum(len(v) for v in w.made.values())} files to {out} in {manifest['seconds']} s")
    return manifest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m langpose.figures", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny models and data; writes RUN_DIR/figures by default")
    ap.add_argument("--out", default=None, help="output folder (default: figures, or RUN_DIR/figures with --quick)")
    ap.add_argument("--run-dir", default=None, help="where models are loaded from / trained into "
                                                  "(default: runs/figures, runs/figures-quick with --quick)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", default=None, help="aligned model checkpoint")
    ap.add_argument("--baseline-checkpoint", default=None, help="non-aligned model checkpoint")
    ap.add_argument("--ablation", default="results/ablation/results.json")
    ap.add_argument("--ablation-runs", default=None, help="reuse langpose.ablation's checkpoints from this folder")
    ap.add_argument("--ablation-stage", default="finetune", choices=["pretrain", "finetune"],
                    help="with --ablation-runs: the checkpoints after this stage")
    ap.add_argument("--only", nargs="*", default=[], choices=FIGURES, help="a subset of the figures")
    a = ap.parse_args(argv)
    run_dir = a.run_dir or ("runs/figures-quick" if a.quick else "runs/figures")
    out = a.out or (str(Path(run_dir) / "figures") if a.quick else "figures")
    cfg = FiguresConfig(quick=a.quick, seed=a.seed, out=out, run_dir=run_dir, checkpoint=a.checkpoint,
                        baseline_checkpoint=a.baseline_checkpoint, ablation=a.ablation, ablation_runs=a.ablation_runs,
                        ablation_stage=a.ablation_stage,
                        only=tuple(a.only))
    generate(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
