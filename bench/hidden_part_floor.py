"""How guessable is a body part that is never seen? Floors for the hidden-part P1 on the validation subject.

Issue 8 asks for hidden-joint P1 <= 70 mm when an arm, a leg or the lower body is hidden for a whole
clip. This probe measures, on the synthetic *validation* subject (never the test subject), what
simple estimators of the hidden joints reach, so that the shipped lifter's number can be read
against them:

- ``mean``: each hidden joint at its mean root-relative camera-frame position over the training
  frames (knows nothing of the frame);
- ``linear 2D``: the closed-form per-frame linear lifter (``LinearLifter``) fitted on training
  frames whose part is hidden, so it predicts the part from the visible 2D of the same frame;
- ``knn 3D oracle``: the hidden part copied from the training frame whose *true* visible 3D joints
  (root-relative, camera frame) are nearest (k = 1 and the mean of k = 8). It is given the visible
  3D, which no lifter has, so it is a generous estimate of what the rest of the body says
  about the hidden part in this generator;
- the shipped model (``--model``), lifting the validation views with the part hidden (and with 30 %
  of the joints hidden, where a whole limb is rarely hidden), as lifted and with its wholly hidden
  limbs completed from the training poses nearest in its own predicted visible joints
  (``langpose.completion``, k = 1 and 8): the probe that chose ``langpose.completion.K``.

Every number is the mean error over the hidden joints only, in mm (frame mean, as
``p1_hidden``). Usage::

    python bench/hidden_part_floor.py [--model small] [--frames 60000] [--out results/hidden_parts]

With ``--models-only`` the floors are skipped and only the models' rows are measured, for the parts
``--part`` and the neighbour counts ``--k``, into ``OUT/k_probe.{json,md}`` (the probe that chose
``langpose.completion.K_SEVERAL``)::

    python bench/hidden_part_floor.py --models-only --part lower_body --k 8 16 24 --model small ...

``--blend`` compares weights of the learned limb regressor (``langpose.completion.REGRESSOR_WEIGHT``) at the
default neighbour counts (``--k 0``), into ``OUT/STEM.{json,md}``; ``--regression-oracle`` measures that
regressor given the true visible 3D joints (``OUT/regression_oracle.{json,md}``)::

    python bench/hidden_part_floor.py --models-only --k 0 --blend 0 0.3 0.5 0.7 --stem blend_probe --model small
    python bench/hidden_part_floor.py --regression-oracle
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from langpose.atomic import atomic_write
from langpose.completion import PoseDictionary
from langpose.data.registry import load_views
from langpose.inference import view_target, view_to_input
from langpose.models.linear_lifter import LinearLifter
from langpose.skeleton import H36M

PARTS = ("left_arm", "right_arm", "left_leg", "right_leg", "lower_body")


def frames(split: str, limit: int | None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Lifter input (N, 17, 3) and root-relative targets (N, 17, 3) of ``split``, at most ``limit`` frames."""
    views = load_views("synthetic", split)
    x = np.concatenate([view_to_input(v) for v in views])   # (N, 17, 3)
    y = np.concatenate([view_target(v) for v in views])     # (N, 17, 3) metres
    if limit is not None and len(x) > limit:
        keep = np.random.default_rng(seed).choice(len(x), limit, replace=False)
        x, y = x[keep], y[keep]
    return x, y


def hidden_error_mm(pred: np.ndarray, y: np.ndarray, joints) -> float:
    """Mean Euclidean error (mm) over the ``joints`` of every frame: pred, y (N, 17, 3)."""
    j = list(joints)
    return float(1000 * np.linalg.norm(pred[:, j] - y[:, j], axis=-1).mean())


def floors(x_tr, y_tr, x_va, y_va) -> dict:
    book = PoseDictionary(y_tr)
    out = {}
    for part in PARTS:
        hid = list(H36M.part(part))
        vis = [j for j in range(1, 17) if j not in hid]       # the pelvis is 0 in every target
        row = {"mean": hidden_error_mm(np.broadcast_to(y_tr.mean(0), y_va.shape), y_va, hid)}
        xt, xv = x_tr.copy(), x_va.copy()
        xt[:, hid], xv[:, hid] = 0.0, 0.0                      # hidden: (0, 0, 0), as the corruption does
        lin = LinearLifter().fit(torch.from_numpy(xt), torch.from_numpy(y_tr))
        pred = lin.lift(torch.from_numpy(xv)[None])[0].numpy()  # (N, 17, 3)
        row["linear 2D"] = hidden_error_mm(pred, y_va, hid)
        for k in (1, 8):
            part_pred = book.nearest_mean(y_va[:, vis], vis, hid, k)  # (M, P, 3) from the true visible joints
            err = 1000 * np.linalg.norm(part_pred - y_va[:, hid], axis=-1).mean()
            row[f"knn 3D oracle k={k}"] = float(err)
        out[part] = row
        print(part, {k: round(v, 1) for k, v in row.items()}, flush=True)
    return out


def regression_oracle(x_tr, y_tr, x_va, y_va, dedicated: bool = False) -> dict:
    """Hidden-part error (mm) of a ``LimbRegressor`` fitted on the training poses with each part hidden and
    given the validation subject's TRUE visible 3D joints (and the visible 2D): what a learned estimator,
    rather than the nearest neighbours, can read from the rest of the body when the lifter is perfect. One
    regressor for the five parts (as shipped, which is fitted on a lifter's predictions instead), or with
    ``dedicated`` one fitted for each part alone."""
    from langpose.completion import fit_limb_regressor

    def hidden_2d(x, part):
        x = x.copy()
        x[:, list(H36M.part(part))] = 0.0                      # hidden: (0, 0, 0), as the corruption does
        return x

    reg = None if dedicated else fit_limb_regressor(np.concatenate([y_tr] * len(PARTS)),
                                                    np.concatenate([y_tr] * len(PARTS)),
                                                    np.concatenate([hidden_2d(x_tr, p) for p in PARTS]))
    out = {}
    for part in PARTS:
        hid = [j for j in H36M.part(part) if j > 0]             # the pelvis is 0 in every target
        if dedicated:
            reg = fit_limb_regressor(y_tr, y_tr, hidden_2d(x_tr, part))
        out[part] = hidden_error_mm(_place(reg.guess(y_va, hid, hidden_2d(x_va, part)), y_va, hid), y_va, hid)
        print(part, f"regression oracle{' (dedicated)' if dedicated else ''}: {out[part]:.1f} mm", flush=True)
    return out


def _place(part_pred: np.ndarray, y: np.ndarray, hid) -> np.ndarray:
    """``y`` (N, 17, 3) with joints ``hid`` replaced by ``part_pred`` (N, len(hid), 3)."""
    full = y.copy()
    full[:, list(hid)] = part_pred
    return full


def model_rows(name: str, ks=(1, 8), parts=None, joint_mask: bool = True, weights=(None,)) -> dict:
    """Hidden-joint error (mm) of shipped model ``name`` on the validation subject, per condition: as lifted
    (``complete=False``) and with its hidden limbs completed from ``training_dictionary`` by ``k`` neighbours."""
    import langpose
    from langpose import completion
    from langpose.data.pose_dictionary import training_dictionary
    from langpose.evaluate import corrupt_inputs, make_condition
    from langpose.inference import predict_views

    model = langpose.pretrained(name)
    views = load_views("synthetic", "val")
    clean = [view_to_input(v) for v in views]
    target = np.concatenate([view_target(v) for v in views])  # (N, 17, 3)
    book = training_dictionary()
    default_weight = completion.REGRESSOR_WEIGHT
    out = {}
    conds = [make_condition("part", p) for p in (PARTS if parts is None else parts)]
    for cond in conds + ([make_condition("joint_mask", 0.3)] if joint_mask else []):
        inputs, visible = corrupt_inputs(clean, cond, seed=0)
        preds = predict_views(model, views, window=model.cfg.max_frames, inputs=inputs)  # no completion
        hidden = ~np.concatenate(visible)                       # (N, 17)
        err = lambda p: float(1000 * np.linalg.norm(p - target, axis=-1)[hidden].mean())  # noqa: E731
        row = {"as lifted": err(np.concatenate(preds))}
        for k in ks:
            for blend in weights:  # None: the default REGRESSOR_WEIGHT
                if blend is not None:
                    completion.REGRESSOR_WEIGHT = blend
                w = model.cfg.max_frames
                col = f"completed k={k or 'default'}" + ("" if blend is None else f" w={blend:g}")
                row[col] = err(np.concatenate([book.complete(p, v, k=k or None, context=w // 2, inputs=x)
                                               for p, v, x in zip(preds, visible, inputs)]))
                completion.REGRESSOR_WEIGHT = default_weight
        out[cond.name.removeprefix("part_")] = row
        print(name, cond.name, {c: round(v, 1) for c, v in row.items()}, flush=True)
    return out


def model_table(rows: dict, title: str) -> list[str]:
    """Markdown lines: a heading line ``title`` and one table row per condition of ``model_rows``' dict."""
    cols = list(next(iter(rows.values())))
    return [title, "", "| hidden | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)] + \
        [f"| {c} | " + " | ".join(f"{r[k]:.1f}" for k in cols) + " |" for c, r in rows.items()]


def write(out: Path, stem: str, res: dict, text: str) -> None:
    """OUT/STEM.json (``res``) and OUT/STEM.md (``text``), each written atomically."""
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / f"{stem}.json", "w") as fh:
        json.dump(res, fh, indent=1)
    with atomic_write(out / f"{stem}.md", "w") as fh:
        fh.write(text)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append", default=[], help="shipped model(s) to compare (repeatable)")
    ap.add_argument("--frames", type=int, default=60000, help="training frames used (sampled; default 60000)")
    ap.add_argument("--out", default="results/hidden_parts")
    ap.add_argument("--models-only", action="store_true", help="skip the floors: the models' rows only")
    ap.add_argument("--part", nargs="+", choices=PARTS, help="with --models-only: these hidden parts (default all)")
    ap.add_argument("--k", nargs="+", type=int, default=[1, 8],
                    help="neighbour counts compared (default 1 8; 0: the defaults K and K_SEVERAL)")
    ap.add_argument("--blend", nargs="+", type=float, default=None,
                    help="with --models-only: regressor weights compared (langpose.completion.REGRESSOR_WEIGHT)")
    ap.add_argument("--stem", default="k_probe", help="with --models-only: OUT/STEM.{json,md}")
    ap.add_argument("--regression-oracle", action="store_true",
                    help="only the learned floor: a LimbRegressor given the true visible 3D, fitted on --frames "
                         "training frames (OUT/regression_oracle.*)")
    args = ap.parse_args(argv)
    t0 = time.time()
    if args.regression_oracle:
        (x_tr, y_tr), (x_va, y_va) = frames("train", args.frames), frames("val", None)
        res = {"train_frames": len(y_tr), "val_frames": len(y_va),
               "shared": regression_oracle(x_tr, y_tr, x_va, y_va),
               "dedicated": regression_oracle(x_tr, y_tr, x_va, y_va, dedicated=True)}
        res["seconds"] = round(time.time() - t0, 1)
        table = ("| hidden part | one regressor for the five parts | one regressor per part |\n|---|---|---|\n" +
                 "".join(f"| {p} | {res['shared'][p]:.1f} | {res['dedicated'][p]:.1f} |\n" for p in PARTS))
        print(table)
        write(Path(args.out), "regression_oracle", res, "Hidden-joint error (mm) on the synthetic validation "
              f"subject given its true visible 3D joints and 2D, {res['val_frames']} frames x views; LimbRegressor "
              f"(langpose.completion) fitted on {res['train_frames']} training frames; {res['seconds']} s.\n\n" + table)
        return
    if args.models_only:  # the models' rows for --part and --k only: OUT/k_probe.{json,md}
        res = {"models": {m: model_rows(m, ks=args.k, parts=args.part, joint_mask=False,
                                        weights=tuple(args.blend) if args.blend else (None,)) for m in args.model}}
        res["seconds"] = round(time.time() - t0, 1)
        table = "\n".join(line for m, rows in res["models"].items() for line in model_table(rows, f"`{m}`:") + [""])
        print(table)
        write(Path(args.out), args.stem, res, "Hidden-joint error (mm) on the synthetic validation subject, inference "
              f"defaults otherwise; {res['seconds']} s.\n\n" + table)
        return
    x_tr, y_tr = frames("train", args.frames)
    x_va, y_va = frames("val", None)
    res = {"train_frames": len(x_tr), "val_frames": len(x_va), "floors": floors(x_tr, y_tr, x_va, y_va),
           "models": {m: model_rows(m, ks=args.k) for m in args.model}}
    res["seconds"] = round(time.time() - t0, 1)
    cols = list(next(iter(res["floors"].values())))
    lines = ["| hidden part | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    lines += [f"| {p} | " + " | ".join(f"{res['floors'][p][c]:.1f}" for c in cols) + " |" for p in PARTS]
    for m, rows in res["models"].items():
        lines += [""] + model_table(rows, f"`{m}` (inference defaults otherwise: flip test, overlapping windows):")
    table = "\n".join(lines) + "\n"
    print(table)
    write(Path(args.out), "floors", res, f"Hidden-joint error (mm) on the synthetic validation subject, "
          f"{res['val_frames']} frames x views; floors fitted on {res['train_frames']} training frames; "
          f"{res['seconds']} s.\n\n" + table)


if __name__ == "__main__":
    main()
