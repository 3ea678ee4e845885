"""Hidden-limb completion: a limb the lifter never saw, filled in from training poses.

A lifter places a limb that is hidden in every frame of its window badly: the shipped `small`
puts a hidden wrist near the pelvis, 160-175 mm from the truth, and a hidden leg ~90 mm off,
although the rest of the body says a good deal about it. On the synthetic validation subject the
pose of the training frame whose *true* visible joints are nearest puts a hidden arm within
70-84 mm and a hidden leg within 38-46 mm; a ``LimbRegressor`` given the true visible joints and 2D, within
51-53 mm and 28-35 mm (one fitted for each part alone: 49 and 20-24 mm; ``bench/hidden_part_floor.py
--regression-oracle``, results/hidden_parts).

``PoseDictionary`` holds root-relative camera-frame training poses (N, 17, 3). ``complete`` takes
a lifted sequence and the visibility of its 2D input, and for every frame in which a whole limb
(``LIMBS``: an arm or a leg) is hidden, and stays hidden for ``context`` frames either side (the
inference passes half the model's window: a limb the lifter saw nearby is left to its temporal
context), it replaces that limb's joints by the mean of the ``k`` dictionary poses nearest in the
frame's other joints, as the lifter predicted them: ``K`` = 8 when one limb is hidden, ``K_SEVERAL``
= 24 when two or more are (the lower body: both legs). Frames with no such limb, or with no joint
visible at all, are returned unchanged, so clean input, scattered missing joints, gaps and the
real-motion clips are not touched. Frames are grouped by which limbs they miss; each group is one
batched nearest-neighbour search (squared distances in chunks, ``torch.topk``).

``langpose.inference.predict_arrays(..., completion=)`` applies it. The default dictionary
(``langpose.data.pose_dictionary.training_dictionary``) is 60,000 frames of the embedded
synthetic training split (all 4 cameras, seed 0), built on first use in about 2 s and cached;
evaluation, ``langpose lift`` and the notebooks use it unless ``complete=False``
(``COMPLETE_LIMBS``). Both were chosen on the synthetic validation subject (results/hidden_parts): a hidden
arm is best at k = 8 and worse with more (``small``: 96.6 mm at 8, 103.7 at 16, 111.1 at 24), a leg is level
from 8 to 48 (53.0-54.6), and the lower body improves up to about 24 (67.3 at 8, 65.4 at 16, 64.6 at 24,
64.1 at 48; every shipped model 3.3-3.7 mm lower at 24 than at 8).

A ``LimbRegressor`` attached to the dictionary (the default one ships with the package:
``langpose.data.pose_dictionary``) makes its own guess of the hidden joints from the placed ones and the visible
2D, and the filled-in limb is the blend ``REGRESSOR_WEIGHT`` of its guess and the neighbours' mean. The shipped
regressor is fitted on the shipped ``small``'s own predictions of the training views with each part hidden
(``python -m langpose.limb_fit``), so it has learned how that lifter errs in the joints it does place. On the
validation subject (``small``, results/hidden_parts/lifter_aware_small.md) hidden arms 96.6 / 89.6 mm
(neighbours alone) -> 74.9 / 73.8, legs 51.3 / 53.2 -> 41.0 / 46.7, the lower body 64.6 -> 46.3; ``tiny``, whose
predictions it never saw, 116.5 / 114.5 -> 98.1 / 97.3. The previous regressor, fitted on jittered true poses
from the 3D alone, reached 88.2 / 85.9, 48.2 / 51.9 and 64.5 at a weight of 0.5. The weight (0.7 of 0.5, 0.7,
0.85, 1) was chosen on the validation subject: 0.85 is level on ``small`` (mean over the five parts 56.2 mm
against 56.5) and worse on ``tiny`` (76.0 against 75.3), whose errors the regressor has not seen.
This module imports only the skeleton (and torch), so the prediction engine can use it.
"""
from __future__ import annotations


import numpy as np
import torch
from torch import nn

from langpose.skeleton import H36M, Skeleton

__all__ = ["LIMBS", "K", "K_SEVERAL", "COMPLETE_LIMBS", "REGRESSOR_WEIGHT", "REGRESSOR_WIDTH", "PoseDictionary",
           "LimbRegressor", "fit_limb_regressor", "hidden_limbs",
           "normalise_2d"]

LIMBS = ("left_arm", "right_arm", "left_leg", "right_leg")
"""The parts completed when every one of their joints is hidden in a frame."""
K = 8
"""Neighbours averaged by default where one limb is hidden (chosen on the validation subject; results/hidden_parts)."""
K_SEVERAL = 24
"""Neighbours averaged by default where two or more limbs are hidden in the same frame (validation subject)."""
COMPLETE_LIMBS = True
"""Evaluation (``langpose.evaluate``), ``langpose lift`` and the notebooks complete hidden limbs by default."""
REGRESSOR_WEIGHT = 0.7
"""With a ``LimbRegressor`` attached, a hidden limb is this blend of its guess and the neighbours' mean (validation)."""
REGRESSOR_WIDTH = 1024
"""Hidden units of the ``LimbRegressor``'s two layers (validation subject; results/hidden_parts/lifter_aware.md)."""


def hidden_limbs(visible: np.ndarray, skeleton: Skeleton = H36M, limbs=LIMBS, context: int = 0) -> np.ndarray:
    """visible (T, J) bool -> (T, len(limbs)) bool: which limbs have every joint hidden in each frame, and
    (``context`` > 0) in every frame within ``context`` frames of it (the sequence's ends clip that span)."""
    visible = np.asarray(visible, dtype=bool)
    if visible.ndim != 2 or visible.shape[1] != skeleton.num_joints:
        raise ValueError(f"hidden_limbs: visible must have shape (T, {skeleton.num_joints}), got {visible.shape}")
    hidden = np.stack([~visible[:, list(skeleton.part(p))].any(axis=1) for p in limbs], axis=1)  # (T, L)
    if context <= 0:
        return hidden
    T = len(hidden)
    seen = np.concatenate([np.zeros((1, hidden.shape[1])), np.cumsum(~hidden, axis=0)])  # (T + 1, L) frames seen
    lo, hi = np.clip(np.arange(T) - context, 0, T), np.clip(np.arange(T) + context + 1, 0, T)  # (T,) span ends
    return (seen[hi] - seen[lo]) == 0                                                       # (T, L)


class PoseDictionary:
    """Root-relative 3D poses (N, J, 3) metres, camera frame, to fill in hidden limbs by nearest neighbours."""

    def __init__(self, poses, skeleton: Skeleton = H36M, chunk: int = 1024, regressor: "LimbRegressor | None" = None):
        poses = np.asarray(poses, dtype=np.float32)
        if poses.ndim != 3 or poses.shape[1:] != (skeleton.num_joints, 3) or len(poses) == 0:
            raise ValueError(f"PoseDictionary: poses must have shape (N, {skeleton.num_joints}, 3) with N >= 1, "
                             f"got {poses.shape}")
        if not np.isfinite(poses).all():
            raise ValueError("PoseDictionary: poses contain NaN or inf")
        self.poses = torch.from_numpy(poses - poses[:, :1])  # (N, J, 3) root-relative
        self.skeleton, self.chunk = skeleton, int(chunk)
        if regressor is not None and regressor.num_joints != skeleton.num_joints:
            raise ValueError(f"PoseDictionary: regressor is for {regressor.num_joints} joints, the skeleton has "
                             f"{skeleton.num_joints}")
        self.regressor = regressor

    def __len__(self) -> int:
        return len(self.poses)

    def nearest_mean(self, query: np.ndarray, known: list[int], wanted: list[int], k: int | None = None) -> np.ndarray:
        """For each query (M, len(known), 3), the mean of ``wanted`` joints (M, len(wanted), 3) over the
        ``k`` dictionary poses nearest in the ``known`` joints (Euclidean over their coordinates)."""
        k = K if k is None else int(k)
        if k < 1:
            raise ValueError(f"nearest_mean: k must be >= 1, got {k}")
        ref = self.poses[:, known].reshape(len(self), -1)            # (N, K*3)
        ref_sq = (ref * ref).sum(1)                                   # (N,)
        q_all = torch.as_tensor(np.asarray(query, np.float32)).reshape(len(query), -1)  # (M, K*3)
        out = []
        for s in range(0, len(q_all), self.chunk):
            q = q_all[s:s + self.chunk]                               # (m, K*3)
            d = (q * q).sum(1, keepdim=True) - 2 * q @ ref.T + ref_sq  # (m, N) squared distances
            idx = d.topk(min(k, len(self)), dim=1, largest=False).indices  # (m, k)
            out.append(self.poses[idx][:, :, wanted].mean(1))         # (m, len(wanted), 3)
        return torch.cat(out).numpy() if out else np.zeros((0, len(wanted), 3), np.float32)

    def complete(self, pred, visible, k: int | None = None, context: int = 0, limbs=LIMBS,
                 inputs=None) -> np.ndarray:
        """pred (T, J, 3) lifted poses and visible (T, J) bool -> (T, J, 3) with wholly hidden limbs filled in.

        A limb is filled in where it is hidden in the frame and within ``context`` frames of it
        (``hidden_limbs``: a limb the lifter saw nearby is left to its temporal context), in frames
        that show at least one other joint. Its joints come from the ``k`` (default ``K`` for one
        hidden limb, ``K_SEVERAL`` for two or more) dictionary poses nearest in the frame's remaining joints (the root excluded: it is 0 in
        both); every other joint and frame is unchanged. With a regressor attached, the lifter's 2D ``inputs``
        (T, J, 3) of the same frames are required: the regressor reads them, and its guess is blended in.
        """
        pred = np.asarray(pred, dtype=np.float32)
        J = self.skeleton.num_joints
        if pred.ndim != 2 + 1 or pred.shape[1:] != (J, 3):
            raise ValueError(f"complete: pred must have shape (T, {J}, 3), got {pred.shape}")
        if np.shape(visible) != pred.shape[:2]:
            raise ValueError(f"complete: visible must have shape {pred.shape[:2]}, got {np.shape(visible)}")
        visible = np.asarray(visible, dtype=bool)
        if self.regressor is not None:
            if inputs is None:
                raise ValueError("complete: this dictionary has a limb regressor, which needs the 2D inputs (inputs=)")
            if np.shape(inputs) != pred.shape:
                raise ValueError(f"complete: inputs must have shape {pred.shape}, got {np.shape(inputs)}")
        missing = hidden_limbs(visible, self.skeleton, limbs, context)  # (T, L)
        out = pred.copy()
        for pattern in np.unique(missing[missing.any(1)], axis=0):   # each set of hidden limbs seen
            wanted = sorted({j for p, m in zip(limbs, pattern) if m for j in self.skeleton.part(p)})
            known = [j for j in range(1, J) if j not in wanted]
            rows = np.flatnonzero((missing == pattern).all(1) & visible[:, [0] + known].any(1))  # frames to fill
            if not len(rows):
                continue
            root = pred[rows, :1]                                     # (R, 1, 3)
            rel = pred[rows] - root                                   # (R, J, 3) root-relative
            kk = (K if pattern.sum() == 1 else K_SEVERAL) if k is None else k
            guess = self.nearest_mean(rel[:, known], known, wanted, kk)            # (R, W, 3)
            if self.regressor is not None:
                w = REGRESSOR_WEIGHT
                guess = (1 - w) * guess + w * self.regressor.guess(rel, wanted, np.asarray(inputs)[rows])  # (R, W, 3)
            out[rows[:, None], wanted] = guess + root
        return out


def normalise_2d(inputs) -> torch.Tensor:
    """Lifter input (M, J, 3) (x, y, confidence; 0 where hidden) -> (M, J, 2): the visible joints' x, y centred
    on their mean and divided by their RMS distance from it, hidden joints 0 (a frame with none visible: all 0)."""
    x = torch.as_tensor(np.asarray(inputs, np.float32))                     # (M, J, 3)
    vis = (x[..., 2:] > 0).float()                                          # (M, J, 1)
    count = vis.sum(1, keepdim=True).clamp(min=1)                           # (M, 1, 1)
    centre = (x[..., :2] * vis).sum(1, keepdim=True) / count                # (M, 1, 2)
    d = (x[..., :2] - centre) * vis                                         # (M, J, 2)
    scale = ((d * d).sum((1, 2), keepdim=True) / count).sqrt() + 1e-6       # (M, 1, 1)
    return d / scale


class LimbRegressor(nn.Module):
    """An MLP that guesses hidden joints from what a lifter placed and what the 2D input shows.

    Input: the J-1 non-root joints of a lifted root-relative pose (B, J-1, 3) metres, hidden ones zeroed;
    the hidden mask (B, J-1) (1 = hidden); the 2D input normalised per frame (``normalise_2d``, (B, J, 2),
    hidden joints 0). Output: every non-root joint (B, J-1, 3), of which the caller keeps the hidden ones.
    ``fit_limb_regressor`` trains it on a lifter's own predictions with a part hidden, against the truth, so
    it learns to read the lifter's placed joints, errors included (results/hidden_parts/lifter_aware.md).
    """

    def __init__(self, num_joints: int = 17, width: int = REGRESSOR_WIDTH):
        super().__init__()
        self.num_joints, self.width = int(num_joints), int(width)
        n = self.num_joints - 1
        self.net = nn.Sequential(nn.Linear(4 * n + 2 * self.num_joints, width), nn.GELU(), nn.Linear(width, width),
                                 nn.GELU(), nn.Linear(width, 3 * n))

    def forward(self, rel: torch.Tensor, hidden: torch.Tensor, x2d: torch.Tensor) -> torch.Tensor:
        """rel (B, J-1, 3), hidden (B, J-1), x2d (B, J, 2) -> (B, J-1, 3)."""
        x = rel * (1 - hidden)[..., None]                                 # (B, J-1, 3) hidden zeroed
        return self.net(torch.cat([x.flatten(1), hidden, x2d.flatten(1)], 1)).view_as(rel)

    @torch.no_grad()
    def guess(self, rel: np.ndarray, wanted: list[int], inputs: np.ndarray) -> np.ndarray:
        """rel (M, J, 3) root-relative lifted poses, ``wanted`` joint indices (not the root: it stays 0), the
        lifter's 2D input of the same frames (M, J, 3) -> the guess of the wanted joints (M, len(wanted), 3)."""
        rel = torch.as_tensor(np.asarray(rel, np.float32))                # (M, J, 3)
        if np.shape(inputs) != tuple(rel.shape):
            raise ValueError(f"LimbRegressor.guess: inputs must have shape {tuple(rel.shape)}, got {np.shape(inputs)}")
        hidden = torch.zeros(self.num_joints - 1)
        hidden[[j - 1 for j in wanted if j > 0]] = 1.0
        was = self.training
        self.eval()
        try:
            out = self(rel[:, 1:], hidden.expand(len(rel), -1), normalise_2d(inputs))  # (M, J-1, 3)
        finally:
            self.train(was)
        full = torch.cat([torch.zeros_like(out[:, :1]), out], 1)          # (M, J, 3), root 0
        return full[:, wanted].numpy()


def fit_limb_regressor(pred, target, inputs, skeleton: Skeleton = H36M, steps: int = 8000, batch: int = 512,
                       lr: float = 2e-3, seed: int = 0, width: int = REGRESSOR_WIDTH) -> LimbRegressor:
    """Fit a ``LimbRegressor`` on a lifter's predictions ``pred`` (N, J, 3) of frames whose 2D ``inputs``
    (N, J, 3) hide some joints (confidence 0), against the true poses ``target`` (N, J, 3), metres (any root:
    both are made root-relative). Frames that hide no non-root joint are dropped. Loss = mean Euclidean error
    over the hidden joints; AdamW with a one-cycle schedule peaking at ``lr``. Deterministic for a seed on the CPU."""
    J = skeleton.num_joints
    arrays = [np.asarray(a, np.float32) for a in (pred, target, inputs)]
    for name, a in zip(("pred", "target", "inputs"), arrays):
        if a.ndim != 3 or a.shape[1:] != (J, 3) or len(a) != len(arrays[0]):
            raise ValueError(f"fit_limb_regressor: {name} must have shape (N, {J}, 3) like pred "
                             f"{arrays[0].shape}, got {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"fit_limb_regressor: {name} contains NaN or inf")
    pred, target, inputs = arrays
    hidden = inputs[:, 1:, 2] <= 0                                         # (N, J-1)
    keep = hidden.any(1)
    if not keep.any():
        raise ValueError("fit_limb_regressor: no frame hides a non-root joint; nothing to learn")
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x_all = torch.from_numpy((pred - pred[:, :1])[keep, 1:])               # (N', J-1, 3)
    y_all = torch.from_numpy((target - target[:, :1])[keep, 1:])           # (N', J-1, 3)
    h_all = torch.from_numpy(hidden[keep].astype(np.float32))             # (N', J-1)
    z_all = normalise_2d(inputs[keep])                                     # (N', J, 2)
    model = LimbRegressor(J, width)
    opt = torch.optim.AdamW(model.parameters(), lr=lr / 2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps)
    for _ in range(steps):
        idx = torch.randint(0, len(x_all), (batch,), generator=gen)
        h = h_all[idx]                                                    # (B, J-1)
        err = (model(x_all[idx], h, z_all[idx]) - y_all[idx]).norm(dim=-1)  # (B, J-1)
        loss = (err * h).sum() / h.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model.eval()
