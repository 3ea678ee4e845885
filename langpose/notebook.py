"""What the notebooks call to set themselves up (each function is tested in tests/test_notebook_helpers.py).

- :func:`resolve_run_dir`: where a notebook's ``run_dir`` really is. The kernel starts
  wherever the front end puts it (JupyterLab: the notebook's folder ``notebooks/``;
  papermill: its ``cwd``), so a relative run directory such as ``"runs/demo"`` is resolved
  against the repository root, or under ``$LANGPOSE_RUNS`` when that is set
  (``"runs/demo"`` -> ``$LANGPOSE_RUNS/demo``), never against the working directory.
  :func:`resolve_path` does the same for repository files (``results/...``, ``figures``).
- :func:`notebook_model` / :func:`model_pair`: the model a notebook shows: a shipped one
  (``langpose.pretrained``) by default, else a checkpoint in the run directory, else a tiny
  one trained there; one printed line says which checkpoint was used and how to retrain.
- :func:`notebook_train_config`: the training config of notebooks 02 and 03 (quick mode:
  a smoke test in seconds).
- :func:`action_clips`: a free-text search pool with clips of every action of the vocabulary.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Sequence as Seq

import numpy as np

import langpose
from langpose import interactive as ia
from langpose.checkpoint import load_model
from langpose.data import synthetic
from langpose.data.views import make_views
from langpose.evaluate import evaluate
from langpose.inference import majority_label, view_target, view_to_input, window_starts
from langpose.train_config import train_config

__all__ = ["RUNS_ENV", "repo_root", "resolve_path", "resolve_run_dir", "shipped_name", "shipped_checkpoint",
           "shipped_model", "notebook_model", "model_pair", "compare_models", "notebook_train_config", "action_clips"]

RUNS_ENV = "LANGPOSE_RUNS"
"""Environment variable: the folder that holds the notebooks' run directories (``runs/X`` -> ``$LANGPOSE_RUNS/X``)."""

QUICK_OVERRIDES = {"data.quick": True, "progress": False, "data.batch_size": 8, "optim.lr": 0.002}
"""Quick mode of notebooks 02/03: a few hundred windows, small batches (a smoke test in seconds)."""


# ----------------------------------------------------------------------------- paths
def repo_root() -> Path | None:
    """The repository checkout that holds this package (``pyproject.toml`` and ``notebooks/``), else None."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() else None


def resolve_path(path) -> Path:
    """A repository-relative path (``results/ablation/results.json``, ``figures``) made absolute:
    against the repository root (the working directory when the package is not a checkout)."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else Path(os.path.normpath((repo_root() or Path.cwd()) / p))


def resolve_run_dir(run_dir, create: bool = True, quiet: bool = False) -> Path:
    """The absolute run directory a notebook's ``run_dir`` parameter names, printed.

    Absolute paths are kept. A relative one goes under ``$LANGPOSE_RUNS`` when it is set (a
    leading ``runs/`` dropped: ``runs/demo`` -> ``$LANGPOSE_RUNS/demo``), else under the
    repository root (``runs/demo`` is the folder ``make demo`` writes, wherever the kernel
    started), else (an installed package, no checkout) under the working directory.
    """
    if run_dir is None or not str(run_dir).strip():
        raise ValueError("run_dir: expected a folder path, got an empty value")
    p = Path(run_dir).expanduser()
    if p.is_absolute():
        out, how = p, "as given"
    elif os.environ.get(RUNS_ENV, "").strip():
        base = Path(os.environ[RUNS_ENV]).expanduser().resolve()
        rel = Path(*p.parts[1:]) if len(p.parts) > 1 and p.parts[0] == "runs" else p
        out, how = base / rel, f"under ${RUNS_ENV}={base}"
    elif repo_root() is not None:
        out, how = repo_root() / p, f"against the repository root {repo_root()}"
    else:
        out, how = Path.cwd() / p, f"against the working directory (no repository checkout; set ${RUNS_ENV})"
    out = Path(os.path.normpath(out))
    if create:
        out.mkdir(parents=True, exist_ok=True)
    if not quiet:
        print(f"run_dir: {out}  ({run_dir} {how})")
    return out


# ----------------------------------------------------------------------------- models
def shipped_name(shipped: str = "auto", quick: bool = False, align: bool = True) -> str:
    """The shipped model a notebook loads: ``"auto"`` is ``"small"``, or ``"tiny"`` in quick mode;
    ``align=False`` names the matching model trained without text alignment (``NAME-noalign``)."""
    name = ("tiny" if quick else "small") if shipped in (None, "auto") else str(shipped)
    if align:
        return name
    return name if name.endswith("-noalign") else f"{name}-noalign"


def shipped_checkpoint(name: str) -> Path:
    """The file of shipped model ``name`` in the installed package (``langpose/weights/NAME.pt``)."""
    return Path(langpose.__file__).resolve().parent / "weights" / f"{name}.pt"


def shipped_model(name: str):
    """``(model, index entry)`` of shipped model ``name`` (``langpose.pretrained``), or ``(None, why)``
    when this installation does not have it."""
    try:
        model = langpose.pretrained(name)
    except (KeyError, FileNotFoundError) as exc:
        return None, exc.args[0] if exc.args else str(exc)
    return model, langpose.pretrained().get(name, {})


_shipped = shipped_model


def recognizer(model, info: dict):
    """The model that names actions for ``notebook_model``'s ``(model, info)``: a shipped model's stage-1
    weights (``NAME-stage1``: fine-tuning without labels erodes the motion-text alignment), else ``model``."""
    if info.get("source") == "shipped" and info.get("name"):
        stage1, _ = shipped_model(info["name"] + "-stage1")
        if stage1 is not None:
            return stage1
    return model


def _describe_shipped(name: str, entry: dict, run_dir: Path) -> str:
    p1 = entry.get("p1_mm")
    return (f"model: shipped {name!r} ({shipped_checkpoint(name)})"
            + (f": {entry['description']}" if entry.get("description") else "")
            + (f"; P1 {p1:.1f} mm on the synthetic test split" if isinstance(p1, (int, float)) else "")
            + f"\n  retrain it: python -m langpose.zoo {name}; or set use_shipped = False to use or train "
              f"a model in {run_dir}")


def _describe_checkpoint(model, path: Path, trained_s: float | None) -> str:
    tc = getattr(model, "train_config", None)
    recipe = ""
    if tc is not None:
        recipe = f"{tc.model.arch if hasattr(tc.model, 'arch') else 'model'}, {tc.optim.epochs} epoch(s)" + \
            (", quick data" if tc.data.quick else "")
    if trained_s is None:
        return (f"model: {path} (reused: trained earlier{'; ' + recipe if recipe else ''})\n"
                f"  retrain: delete it or choose another run_dir; use_shipped = True loads a shipped model")
    return (f"model: {path} (trained here in {trained_s:.0f} s{'; ' + recipe if recipe else ''})\n"
            f"  it is reused next time: delete it to retrain; use_shipped = True loads a shipped model")


def notebook_model(run_dir, *, use_shipped: bool = True, shipped: str = "auto", quick: bool = False, seed: int = 0,
                   device: str = "auto", data_dir=None, align: bool = True, checkpoint=None,
                   candidates: Seq[str] = ("checkpoint.pt",), train_if_missing: bool = True, quiet: bool = False):
    """The model a notebook shows, and where it came from; prints one line saying which and how to retrain.

    In order: ``checkpoint`` when given (relative paths against the repository root); the
    shipped model (``use_shipped``; :func:`shipped_name` of ``shipped``, ``quick``, ``align``)
    when this installation has it; the first of ``candidates`` (paths relative to
    ``run_dir``) that exists; else a tiny model trained into ``run_dir/checkpoint.pt``
    (``langpose.interactive.load_or_train``; ``align=False`` trains without the alignment
    term) when ``train_if_missing``, else FileNotFoundError.

    Returns ``(model in eval mode, info)`` with ``info = {"source": "shipped" | "checkpoint" |
    "trained", "name": shipped name or None, "checkpoint": path, "message": the printed text}``.
    """
    run_dir = Path(run_dir)
    say = (lambda s: None) if quiet else print
    notes = []
    if checkpoint is not None:
        path = resolve_path(checkpoint)
        model = load_model(path)
        info = {"source": "checkpoint", "name": None, "checkpoint": str(path),
                "message": _describe_checkpoint(model, path, None).replace("reused: trained earlier", "given")}
        say(info["message"])
        return model, info
    if use_shipped:
        name = shipped_name(shipped, quick, align)
        model, entry = _shipped(name)
        if model is not None:
            info = {"source": "shipped", "name": name, "checkpoint": str(shipped_checkpoint(name)),
                    "message": _describe_shipped(name, entry, run_dir)}
            say(info["message"])
            return model, info
        notes.append(f"no shipped model {name!r} in this installation ({entry}); using {run_dir} instead")
    for rel in candidates:
        path = run_dir / rel
        if path.is_file():
            model = load_model(path)
            info = {"source": "checkpoint", "name": None, "checkpoint": str(path),
                    "message": "\n".join(notes + [_describe_checkpoint(model, path, None)])}
            say(info["message"])
            return model, info
    if not train_if_missing:
        raise FileNotFoundError(f"no checkpoint among {[str(run_dir / c) for c in candidates]}"
                                + (f" and {notes[0]}" if notes else "")
                                + "; run notebooks 02/03 (or `langpose pretrain`) first, pass checkpoint=..., "
                                  "or use quick = True to train a tiny model here")
    t0 = time.perf_counter()
    model, path = ia.load_or_train(run_dir, quick=quick, seed=seed, align=align, device=device, data_dir=data_dir)
    info = {"source": "trained", "name": None, "checkpoint": str(path),
            "message": "\n".join(notes + [_describe_checkpoint(model, Path(path), time.perf_counter() - t0)])}
    say(info["message"])
    return model, info


def model_pair(run_dir, *, use_shipped: bool = True, shipped: str = "auto", quick: bool = False, seed: int = 0,
               ablation_runs=None, ablation_stage: str = "finetune", device: str = "auto", data_dir=None,
               quiet: bool = False, shipped_stage: str = "finetune") -> dict:
    """The aligned model and the one trained without text alignment, as a matched pair.

    With ``use_shipped`` the shipped pair (``NAME`` and ``NAME-noalign``, :func:`shipped_name`;
    with ``shipped_stage="pretrain"`` their stage-1 weights, ``NAME-stage1``) when both are
    installed; otherwise ``langpose.interactive.load_pair`` (the ablation's pair
    in ``ablation_runs`` after ``ablation_stage`` when both exist, else ``run_dir`` and ``run_dir/no_align``, trained
    tiny where missing). Returns ``{"aligned", "no_align", "checkpoints", "source"}`` and
    prints the source.
    """
    run_dir = Path(run_dir)
    say = (lambda s: None) if quiet else print
    note = ""
    if use_shipped:
        base = shipped_name(shipped, quick).removesuffix("-noalign")
        if shipped_stage not in ("pretrain", "finetune"):
            raise ValueError(f"shipped_stage: expected 'pretrain' or 'finetune', got {shipped_stage!r}")
        names = {"aligned": base, "no_align": shipped_name(base, quick, False)}
        if shipped_stage == "pretrain":  # stage-1 weights when they ship, else the fine-tuned pair
            stage1 = {k: n + "-stage1" for k, n in names.items()}
            if all(_shipped(n)[0] is not None for n in stage1.values()):
                names = stage1
            else:
                say(f"no shipped stage-1 weights {', '.join(map(repr, stage1.values()))}: using the fine-tuned pair")
        loaded = {k: _shipped(n) for k, n in names.items()}
        if all(m is not None for m, _ in loaded.values()):
            source = f"shipped {names['aligned']!r} and {names['no_align']!r}"
            say(f"models: {source}; retrain them with python -m langpose.zoo NAME, or set use_shipped = False "
                f"to use or train a pair in {run_dir}")
            return {"aligned": loaded["aligned"][0], "no_align": loaded["no_align"][0],
                    "checkpoints": {k: str(shipped_checkpoint(n)) for k, n in names.items()}, "source": source}
        missing = [n for k, n in names.items() if loaded[k][0] is None]
        note = f"no shipped model {', '.join(map(repr, missing))} in this installation; "
    abl = resolve_run_dir(ablation_runs, create=False, quiet=True) if ablation_runs else None
    pair = ia.load_pair(run_dir, quick=quick, seed=seed, ablation_runs=abl, device=device, data_dir=data_dir,
                        ablation_stage=ablation_stage)
    say(f"{note}models: {pair['source']}: {pair['checkpoints']['aligned']} and {pair['checkpoints']['no_align']}"
        f"\n  retrain: delete them or choose another run_dir; use_shipped = True loads the shipped pair")
    return pair


def notebook_train_config(preset: str = "tiny", quick: bool = False, seed: int = 0, device: str = "auto",
                          data_dir=None, epochs: int | None = None, overrides: dict | None = None):
    """The ``TrainConfig`` of notebooks 02/03: ``preset`` with the seed and device, the quick-mode
    sizes (:data:`QUICK_OVERRIDES`) when ``quick``, ``data_dir`` as the data root and ``epochs``
    when given, then ``overrides`` (``{"key": value}``)."""
    over: dict = {"seed": int(seed), "device": str(device)}
    if quick:
        over.update(QUICK_OVERRIDES)
    if data_dir is not None:
        over["data.data_root"] = str(data_dir)
    if epochs is not None:
        over["optim.epochs"] = int(epochs)
    over.update(overrides or {})
    return train_config(preset, over)


def compare_models(models: dict, views: Seq, keys: Seq[str] = ("p1", "p2", "n_mpjpe", "mpjve"),
                   recognition: bool = False) -> dict:
    """``{name: {key: value}}`` of ``langpose.evaluate.evaluate`` for each model on the same views,
    each with windows of its own length (``model.cfg.max_frames``); the rows of
    ``langpose.viz.training_plots.compare_table``. ``top1``/``top5`` need ``recognition``."""
    out = {}
    for name, model in models.items():
        window = int(getattr(getattr(model, "cfg", None), "max_frames", 27))
        res = evaluate(model, views, window=window, recognition=recognition)
        out[name] = {k: res.get(k) for k in keys}
    return out


# ----------------------------------------------------------------------------- search pool
def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _cut(view, vi: int, start: int, window: int, x=None, y=None, **extra) -> dict:
    x = view_to_input(view) if x is None else x
    y = (view_target(view) if view.joints3d is not None else None) if y is None else y
    return {"name": f"{view.name}@{start}", "x2d": x[start:start + window],
            "y3d": None if y is None else y[start:start + window],
            "label": majority_label(np.asarray(view.labels)[start:start + window]), "vocab": tuple(view.vocab),
            "view": vi, "start": start, **extra}


def action_clips(views: Seq, window: int = 27, per_action: int = 1, stride: int | None = None,
                 fill_missing: bool = True, seed: int = 0) -> list[dict]:
    """A search pool: ``per_action`` clips of every action of the views' vocabulary.

    ``views``: e.g. the test split (``langpose.interactive.demo_views``), so every clip shows
    the held-out subject. For each action, the windows (stride ``window // 2`` by default)
    whose majority label it is, the purest first, one per sequence before a second. An action
    that no view performs for a whole window's majority is, with ``fill_missing`` and the
    synthetic vocabulary, performed by the same subject (``langpose.data.synthetic.synthesize``,
    seeded by ``seed`` and the action) and seen by one camera of the usual ring; such clips
    carry ``"synthesized": True``. Clips are dicts as ``langpose.interactive.clips_from_views``
    makes them, ordered by action.
    """
    views = [v for v in views]
    if not views:
        raise ValueError("action_clips: no views")
    if window < 1 or per_action < 1:
        raise ValueError(f"action_clips: window and per_action must be >= 1, got {window} and {per_action}")
    vocab = tuple(views[0].vocab)
    step = stride or max(1, window // 2)
    cands: dict[int, list] = {a: [] for a in range(len(vocab))}
    for vi, v in enumerate(views):
        if len(v) < window:
            continue
        lab = np.asarray(v.labels)
        for s in window_starts(len(v), window, step):
            a = majority_label(lab[s:s + window])
            if a >= 0:
                cands[a].append((-float((lab[s:s + window] == a).mean()), vi, s, v.meta.get("sequence", v.name)))
    inputs: dict[int, tuple] = {}
    clips = []
    missing = []
    for a in range(len(vocab)):
        picked, seqs = [], set()
        ranked = sorted(cands[a])
        for fresh_only in (True, False):  # one per sequence first
            for c in ranked:
                if len(picked) == per_action:
                    break
                if c in picked or (fresh_only and c[3] in seqs):
                    continue
                picked.append(c)
                seqs.add(c[3])
        for _, vi, s, _ in picked:
            if vi not in inputs:
                v = views[vi]
                inputs[vi] = (view_to_input(v), view_target(v) if v.joints3d is not None else None)
            clips.append(_cut(views[vi], vi, s, window, *inputs[vi], synthesized=False))
        if len(picked) < per_action:
            missing.append((a, per_action - len(picked)))
    if fill_missing and missing and vocab == tuple(synthetic.ACTIONS):
        subjects = {s.name: s for s in synthetic.SUBJECTS}
        subject = subjects.get(views[0].subject, synthetic.SUBJECTS[0])
        for a, n in missing:
            for i in range(n):
                rng = np.random.default_rng([seed, 7919, a, i])
                seq = synthetic.synthesize(subject, [a], rng, name=f"{subject.name}_{_slug(vocab[a])}{i}")
                reps = 1
                while len(seq) < window:  # short actions: perform it again
                    reps += 1
                    seq = synthetic.synthesize(subject, [a] * reps, np.random.default_rng([seed, 7919, a, i]),
                                               name=seq.name)
                cams = make_views([seq], seed=seed + a)
                v = cams[(a + i) % len(cams)]
                clips.append(_cut(v, -1, (len(v) - window) // 2, window, synthesized=True))
    return clips
