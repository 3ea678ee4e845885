"""Real detector input with no 3D ground truth: how well a lifter agrees with itself across 4 cameras.

The Pose2Sim demo (``langpose.data.pose2sim.load_demo_trial``: OpenPose BODY_25B keypoints of
one person balancing, 4 calibrated synchronised cameras, 83 frames at 50 fps) is lifted one
camera at a time, and ``langpose.evaluate.multiview_consistency`` scores the 4 predictions
once rotated into the calibration's world frame (z up) and root-aligned: the mean MPJPE over
the 6 camera pairs, in mm; 0 for a lifter that is right in every view. Each view is lifted as
``langpose lift`` lifts it: windows of the model's own frame count (``lift.model_window``).

Two diagnostics come with the score, from a DLT triangulation of the same keypoints with the
same calibration (``triangulate``; median reprojection error 15 px on the demo, see
``langpose.data.pose2sim``), which is the only 3D reference the demo has:

- ``height_m``: the predictions' mean vertical extent (highest minus lowest joint along world
  z) against the triangulated person's (``reference_height_m``). A lifter sees no camera
  intrinsics, so a person who fills more of the frame than in training is lifted too large,
  and a scale error inflates the disagreement in proportion.
- ``mpjpe_rescaled``: the disagreement after scaling every predicted frame to the
  triangulated person's size (RMS joint distance from the pelvis): the part of the
  disagreement that is not scale.

    python -m langpose.multiview                    # the shipped models -> results/real_motion/pose2sim_consistency.{md,json}
    python -m langpose.multiview --models tiny --out /tmp/consistency
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence as Seq

import numpy as np

from langpose.completion import COMPLETE_LIMBS
from langpose.inference import FLIP_TEST

__all__ = ["world_poses", "triangulate", "vertical_extent", "zoom_views", "demo_consistency", "shipped_consistency",
           "consistency_markdown", "write_consistency", "main", "DEFAULT_OUT", "COMMAND"]

DEFAULT_OUT = Path("results/real_motion")
COMMAND = "OMP_NUM_THREADS=1 python -m langpose.multiview"


def world_poses(poses: Seq, rotations: Seq) -> list[np.ndarray]:
    """Root-relative camera-frame poses (T, 17, 3) -> the same poses in world axes, pelvis at 0.

    ``rotations`` are camera->world (``View.meta["R"]``); this is the frame in which
    ``evaluate.view_disagreement`` compares them.
    """
    if len(poses) != len(rotations):
        raise ValueError(f"world_poses: {len(poses)} poses but {len(rotations)} rotations")
    out = []
    for p, R in zip(poses, rotations):
        w = np.asarray(p, dtype=np.float64) @ np.asarray(R, dtype=np.float64).T
        out.append(w - w[:, :1])
    return out


def _projection(camera) -> np.ndarray:
    """A ``langpose.camera.Camera`` -> its 3 x 4 pinhole projection matrix (no distortion)."""
    i = camera.intrinsics
    K = np.array([[i.focal[0], 0.0, i.center[0]], [0.0, i.focal[1], i.center[1]], [0.0, 0.0, 1.0]])
    R_wc = np.asarray(camera.R, dtype=np.float64).T
    return K @ np.hstack([R_wc, (-R_wc @ np.asarray(camera.t, dtype=np.float64))[:, None]])


def triangulate(views: Seq, min_views: int = 2) -> np.ndarray:
    """DLT triangulation of synchronised views' 2D keypoints -> world points (T, 17, 3), metres.

    Each view needs its ``langpose.camera.Camera`` in ``meta["camera"]`` (as
    ``pose2sim.load_session`` gives). A joint seen (confidence > 0) by fewer than
    ``min_views`` cameras in a frame is NaN. Lens distortion is ignored.
    """
    views = list(views)
    if len(views) < 2 or min_views < 2:
        raise ValueError(f"triangulate: need >= 2 views and min_views >= 2, got {len(views)} and {min_views}")
    missing = [v.name for v in views if v.meta.get("camera") is None]
    if missing:
        raise ValueError(f"triangulate: views {missing} have no meta['camera']")
    Ps = [_projection(v.meta["camera"]) for v in views]
    kp = np.stack([np.asarray(v.keypoints2d, dtype=np.float64) for v in views])  # (C, T, J, 3)
    C, T, J, _ = kp.shape
    out = np.full((T, J, 3), np.nan)
    for t in range(T):
        for j in range(J):
            seen = [c for c in range(C) if kp[c, t, j, 2] > 0]
            if len(seen) < min_views:
                continue
            A = np.concatenate([[kp[c, t, j, 0] * Ps[c][2] - Ps[c][0], kp[c, t, j, 1] * Ps[c][2] - Ps[c][1]]
                                for c in seen])
            h = np.linalg.svd(A)[2][-1]
            out[t, j] = h[:3] / h[3]
    return out


def vertical_extent(poses) -> float:
    """Mean over frames of (highest - lowest joint) along world z, metres (NaN joints ignored)."""
    z = np.asarray(poses, dtype=np.float64)[..., 2]
    return float(np.nanmean(np.nanmax(z, axis=-1) - np.nanmin(z, axis=-1)))


def _rms_size(poses) -> np.ndarray:
    """(T, J, 3) root-relative -> (T,) RMS joint distance from the pelvis (NaN joints ignored)."""
    return np.sqrt(np.nanmean(np.sum(np.asarray(poses) ** 2, axis=-1), axis=-1))


def zoom_views(views: Seq) -> tuple[list, list[float]]:
    """Each view zoomed about its image centre to the training cameras' person size
    (``langpose.camera.zoom_to_training``, as ``langpose lift --zoom``): (views, factors)."""
    from dataclasses import replace

    from langpose.camera import zoom_pixels, zoom_to_training
    from langpose.inference import view_to_input

    out, factors = [], []
    for v in views:
        _, f = zoom_to_training(view_to_input(v))
        out.append(replace(v, keypoints2d=zoom_pixels(v.keypoints2d, f, v.width, v.height)))
        factors.append(round(f, 4))
    return out, factors


def demo_consistency(model, views: Seq | None = None, trial: str = "balancing", window: int | None = None,
                     stride: int | None = None, reference: bool = True, zoom: bool = False,
                     flip_test: bool = FLIP_TEST, complete: bool = COMPLETE_LIMBS) -> dict:
    """Lift the Pose2Sim demo's cameras with ``model`` and score their agreement (mm).

    Args:
        views: synchronised views with ``meta["R"]`` (and ``meta["camera"]`` for the
            reference); default the demo's ``trial`` (``pose2sim.load_demo_trial``; raises
            ``FileNotFoundError`` when the ``pose2sim`` wheel is not installed).
        window: frames per window (default ``lift.model_window(model)``, as ``langpose lift``).
        reference: also triangulate the keypoints for the height / rescaled diagnostics.
        zoom: lift each camera zoomed to the training cameras' person size (``zoom_views``, as
            ``langpose lift --zoom``); the triangulation uses the keypoints as recorded.
        flip_test: the inference default (``langpose.inference.FLIP_TEST``), as ``langpose lift``.
        complete: hidden limbs filled in from training poses (``langpose.completion``), as ``langpose lift``.
    Returns:
        ``multiview_consistency``'s dict (``mpjpe``, ``pairs``, ``per_camera``,
        ``per_joint``, ``frames``, ``cameras``, ``window``, ``stride``) plus ``trial``,
        ``names`` (the cameras), ``world`` (one (T, 17, 3) world-frame, root-aligned
        prediction per camera), ``height_m``; with ``reference``: ``reference_world``
        (the triangulation, root-aligned, NaN where < 2 cameras see a joint),
        ``reference_height_m`` and ``mpjpe_rescaled``.
    """
    from langpose.data.pose_dictionary import training_dictionary
    from langpose.evaluate import multiview_consistency, view_disagreement
    from langpose.inference import predict_views
    from langpose.lift import model_window

    if views is None:
        from langpose.data.pose2sim import load_demo_trial

        views = load_demo_trial(trial)
    views = list(views)
    window = int(window or model_window(model))
    lifted, factors = zoom_views(views) if zoom else (views, [1.0] * len(views))
    res = multiview_consistency(model, lifted, window=window, stride=stride, flip_test=flip_test, complete=complete)
    # the same lift again, deterministic in eval mode, for the poses themselves (the score keeps none)
    preds = predict_views(model, lifted, window=window, stride=stride, flip_test=flip_test,
                          completion=training_dictionary if complete else None)
    rotations = [v.meta["R"] for v in views]
    world = world_poses(preds, rotations)
    res.update(trial=trial, names=[v.camera for v in views], world=world, zoom=factors,
               height_m=float(np.mean([vertical_extent(w) for w in world])))
    if reference:
        ref = triangulate(views)
        ref = ref - ref[:, :1]
        size = _rms_size(ref)  # (T,)
        scaled = [p * np.nan_to_num(size / np.maximum(_rms_size(p), 1e-9), nan=1.0)[:, None, None] for p in preds]
        res.update(reference_world=ref, reference_height_m=vertical_extent(ref),
                   mpjpe_rescaled=view_disagreement(scaled, rotations, names=res["names"])["mpjpe"])
    return res


def shipped_consistency(names: Seq[str] | None = None, trial: str = "balancing", progress: bool = True,
                        zoom: Seq[bool] = (False, True)) -> dict:
    """``demo_consistency`` of every shipped model (``langpose.pretrained``) -> ``{name: summary}``,
    once per ``zoom`` setting (the zoomed rows are named ``"NAME --zoom"``).

    A summary is the result without the pose arrays, plus ``seconds`` (load + lift + score).
    """
    from langpose.data.pose2sim import load_demo_trial
    from langpose.zoo import pretrained

    names = list(pretrained()) if names is None else list(names)
    views = load_demo_trial(trial)
    out = {}
    for name in names:
        for z in zoom:
            t0 = time.perf_counter()
            res = demo_consistency(pretrained(name), views, trial=trial, zoom=z)
            res = {k: v for k, v in res.items() if k not in ("world", "reference_world")}
            res["seconds"] = round(time.perf_counter() - t0, 2)
            row = f"{name} --zoom" if z else name
            out[row] = res
            if progress:
                print(f"{row}: {res['mpjpe']:.1f} mm ({res['seconds']:.1f} s)", flush=True)
    return out


def consistency_markdown(results: dict, command: str = COMMAND) -> str:
    """One table of ``shipped_consistency``'s results (a row per model), with how it was made."""
    from langpose.report import markdown_table

    first = next(iter(results.values()))
    cams = list(first["per_camera"])
    metres = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
    rows = [(name, r["window"], r["mpjpe"], *[r["per_camera"][c] for c in cams], r.get("mpjpe_rescaled"),
             metres(r["height_m"]), metres(r.get("reference_height_m"))) for name, r in results.items()]
    table = markdown_table(["model", "window", "disagreement (mm)", *[f"{c} (mm)" for c in cams],
                            "at triangulated scale (mm)", "predicted height (m)", "triangulated height (m)"],
                           rows, digits=1)
    return (f"# Multi-view consistency on the Pose2Sim demo ({first['trial']} trial)\n\n"
            f"Real OpenPose BODY_25B keypoints from {first['cameras']} calibrated cameras, {first['frames']} frames "
            "at 50 fps, no 3D ground truth (`langpose.data.pose2sim`). Each camera is lifted on its own (windows of "
            "the model's frame count, as `langpose lift`); the 4 predictions are rotated into the world frame, "
            "root-aligned, and compared pairwise: **disagreement** = mean MPJPE over the 6 camera pairs "
            "(`langpose.evaluate.multiview_consistency`); a camera's column is the mean over the pairs it is in. "
            "Lower is better; 0 = the same 3D pose from every view.\n\n"
            + table +
            "\nDiagnostics against a DLT triangulation of the same keypoints (`langpose.multiview.triangulate`): "
            "*predicted height* is the mean vertical extent (highest minus lowest joint, world z) of the "
            "predictions, *triangulated height* the person's; *at triangulated scale* is the disagreement after "
            "scaling every predicted frame to the triangulated person's RMS joint distance from the pelvis. "
            "*--zoom* rows lift each camera zoomed about its image centre until the person's 2D size is the "
            "training cameras' (`langpose.camera.zoom_to_training`, `langpose lift --zoom`): a focal-length "
            "change that the lifter, which sees no intrinsics, cannot make itself.\n\n"
            f"Made with `{command}` (`langpose/multiview.py`).\n")


def write_consistency(results: dict, out_dir=DEFAULT_OUT, name: str = "pose2sim_consistency",
                      command: str = COMMAND) -> dict:
    """``out_dir/<name>.json`` (with the command) and ``.md``, written atomically; returns their paths."""
    from langpose.report import write_json, write_text

    out_dir = Path(out_dir)
    return {"json": write_json({"command": command, "models": results}, out_dir / f"{name}.json"),
            "markdown": write_text(out_dir / f"{name}.md", consistency_markdown(results, command))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m langpose.multiview", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="*", help="shipped model names (default: every shipped model)")
    ap.add_argument("--trial", default="balancing", help="Pose2Sim demo trial (default: balancing)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    args = ap.parse_args(argv)
    try:
        results = shipped_consistency(args.models, trial=args.trial)
    except FileNotFoundError as exc:
        print(f"langpose.multiview: {exc}", file=sys.stderr)
        return 2
    if not results:
        print("langpose.multiview: no shipped models in this installation", file=sys.stderr)
        return 2
    command = " ".join([COMMAND] + (["--models", *args.models] if args.models else [])
                       + (["--trial", args.trial] if args.trial != "balancing" else [])
                       + (["--out", str(args.out)] if args.out != DEFAULT_OUT else []))
    paths = write_consistency(results, args.out, command=command)
    print(consistency_markdown(results, command))
    print(f"wrote {paths['markdown']} and {paths['json']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
