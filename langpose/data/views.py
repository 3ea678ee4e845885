"""Project 3D ``Sequence``s through cameras into 2D ``View``s (the lifter's input).

Each sequence is seen by a ring of cameras with the four real Human3.6M intrinsics
(``langpose.camera.H36M_INTRINSICS``) placed around the centre of the subject's
trajectory, 4.5-6 m beyond its farthest excursion, at 1.2-2.0 m height, the ring
turned by a random yaw. Keypoints are clean pixels with confidence 1; detector-like
corruption is applied on the fly (``langpose.data.corruption``), not baked in.
"""
from __future__ import annotations

import numpy as np

from langpose.camera import H36M_INTRINSICS, Camera, project, ring_cameras
from langpose.data.sequence import Sequence, View


def cameras_for(seq: Sequence, rng: np.random.Generator, intrinsics=H36M_INTRINSICS) -> list[Camera]:
    """A ring of cameras (one per intrinsics) around ``seq``'s trajectory centre (world frame, m)."""
    root = seq.joints3d[:, 0, :2].astype(np.float64)  # (T, 2) pelvis ground track
    centre = 0.5 * (root.min(0) + root.max(0))
    reach = float(np.linalg.norm(seq.joints3d[..., :2] - centre, axis=-1).max())
    radius = reach + rng.uniform(4.5, 6.0)
    return ring_cameras(target=(centre[0], centre[1], 1.0), radius=radius, height=float(rng.uniform(1.2, 2.0)),
                        intrinsics=tuple(intrinsics), yaw_offset=float(rng.uniform(0, 360)))


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


def make_views(seqs: list[Sequence], seed: int = 0, intrinsics=H36M_INTRINSICS) -> list[View]:
    """All views of ``seqs`` (len(seqs) x len(intrinsics)); camera placement seeded by (seed, i)."""
    views: list[View] = []
    for i, seq in enumerate(seqs):
        views.extend(project_sequence(seq, cameras_for(seq, np.random.default_rng([seed, i]), intrinsics)))
    return views
