"""Project 3D ``Sequence``s through cameras into 2D ``View``s (the lifter's input).

Each sequence is seen by a ring of cameras with the four real Human3.6M intrinsics
(``langpose.camera.H36M_INTRINSICS``) placed around the centre of the subject's
trajectory, 4.5-6 m beyond its farthest excursion, at 1.2-2.0 m height, the ring
turned by a random yaw. Keypoints are clean pixels with confidence 1; detector-like
corruption is applied on the fly (``langpose.data.corruption``), not baked in.

``camera_variety`` (0..1, training views only: ``DataConfig.camera_variety``) widens that
studio: every camera gets its own distance (2-10 m beyond the farthest excursion at 1),
height (0.5-3 m), focal length (x0.67-1.49), roll about its optical axis (+-8 deg) and an
aim point up to 0.8 m off the subject (off-centre framing). Then the person's size in the
image no longer tells their size in metres, which real footage never does either.
"""
from __future__ import annotations

import numpy as np

from dataclasses import replace

from langpose.camera import H36M_INTRINSICS, Camera, look_at, project, ring_cameras
from langpose.data.sequence import Sequence, View


def cameras_for(seq: Sequence, rng: np.random.Generator, intrinsics=H36M_INTRINSICS) -> list[Camera]:
    """A ring of cameras (one per intrinsics) around ``seq``'s trajectory centre (world frame, m)."""
    root = seq.joints3d[:, 0, :2].astype(np.float64)  # (T, 2) pelvis ground track
    centre = 0.5 * (root.min(0) + root.max(0))
    reach = float(np.linalg.norm(seq.joints3d[..., :2] - centre, axis=-1).max())
    radius = reach + rng.uniform(4.5, 6.0)
    return ring_cameras(target=(centre[0], centre[1], 1.0), radius=radius, height=float(rng.uniform(1.2, 2.0)),
                        intrinsics=tuple(intrinsics), yaw_offset=float(rng.uniform(0, 360)))


def varied_cameras(seq: Sequence, rng: np.random.Generator, variety: float,
                   intrinsics=H36M_INTRINSICS) -> list[Camera]:
    """Cameras at the ring's azimuths (turned by a random yaw), each with its own distance,
    height, focal length, roll and aim point, spread by ``variety`` in (0, 1] (module doc)."""
    if not 0.0 < variety <= 1.0:
        raise ValueError(f"varied_cameras: variety must be in (0, 1], got {variety}")
    v = variety
    root = seq.joints3d[:, 0, :2].astype(np.float64)  # (T, 2) pelvis ground track
    centre = 0.5 * (root.min(0) + root.max(0))
    reach = float(np.linalg.norm(seq.joints3d[..., :2] - centre, axis=-1).max())
    yaw0 = rng.uniform(0, 360)
    cams = []
    for intr in intrinsics:
        a = np.deg2rad(intr.azimuth + yaw0 + rng.uniform(-10, 10) * v)
        radius = reach + rng.uniform(4.5 - 2.5 * v, 6.0 + 4.0 * v)
        eye = np.array([centre[0] + radius * np.cos(a), centre[1] + radius * np.sin(a),
                        rng.uniform(1.2 - 0.7 * v, 2.0 + 1.0 * v)])
        aim = np.array([centre[0], centre[1], 1.0]) + rng.uniform(-0.8, 0.8, 3) * v * np.array([1, 1, 0.5])
        R = look_at(eye, aim)                                     # columns: right, down, forward
        roll = np.deg2rad(rng.uniform(-8, 8) * v)
        c, s_ = np.cos(roll), np.sin(roll)
        R = np.stack([c * R[:, 0] + s_ * R[:, 1], -s_ * R[:, 0] + c * R[:, 1], R[:, 2]], axis=1)
        f = float(np.exp(rng.uniform(-0.4, 0.4) * v))
        cams.append(Camera(replace(intr, focal=(intr.focal[0] * f, intr.focal[1] * f)), R, eye))
    return cams


def project_sequence(seq: Sequence, cameras: list[Camera], distort: bool = True) -> list[View]:
    """One ``View`` per camera: pixels with confidence 1, 3D in the camera frame (absolute, m)."""
    views = []
    counts = np.bincount(seq.labels[seq.labels >= 0], minlength=len(seq.vocab)) if len(seq.vocab) else np.zeros(0)
    action = seq.vocab[int(counts.argmax())] if counts.size and counts.max() > 0 else ""
    for cam in cameras:
        X = cam.world_to_camera(seq.joints3d)  # (T, 17, 3) camera frame, metres
        if X[..., 2].min() <= 0.1:
            raise ValueError(f"project_sequence: sequence {seq.name!r} passes behind camera {cam.intrinsics.id} "
                             f"(min depth {X[..., 2].min():.2f} m)")
        px = project(X, cam.intrinsics, distort=distort)  # (T, 17, 2) pixels
        kp = np.concatenate([px, np.ones(px.shape[:-1] + (1,))], -1)
        views.append(View(name=f"{seq.name}/{cam.intrinsics.id}", subject=seq.subject, camera=cam.intrinsics.id,
                          keypoints2d=kp, width=cam.intrinsics.res_w, height=cam.intrinsics.res_h, joints3d=X,
                          labels=seq.labels, vocab=seq.vocab, action=action, fps=seq.fps,
                          meta={"sequence": seq.name, "R": cam.R, "t": cam.t}))
    return views


def make_views(seqs: list[Sequence], seed: int = 0, intrinsics=H36M_INTRINSICS,
               camera_variety: float = 0.0, raise_ground: float = 0.0) -> list[View]:
    """All views of ``seqs`` (len(seqs) x len(intrinsics)); camera placement seeded by (seed, i).

    ``camera_variety`` > 0 places them with ``varied_cameras`` instead of the studio ring.
    ``raise_ground`` (m) puts every sequence that much higher, as on a platform, seen by the
    same cameras as without it (placed from the ground track only): the person is higher in
    the image, and a lifter that reads distance from where the feet are gets it wrong.
    """
    views: list[View] = []
    for i, seq in enumerate(seqs):
        rng = np.random.default_rng([seed, i])
        cams = varied_cameras(seq, rng, camera_variety, intrinsics) if camera_variety > 0 \
            else cameras_for(seq, rng, intrinsics)
        if raise_ground:
            seq = replace(seq, joints3d=seq.joints3d + np.float32([0.0, 0.0, raise_ground]))
        views.extend(project_sequence(seq, cams))
    return views
