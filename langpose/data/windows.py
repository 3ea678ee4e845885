"""Fixed-length training windows over ``View``s, with on-the-fly seeded corruption.

Windowing rules (those of the prediction engine, ``langpose.inference``):

- windows of ``window`` frames start every ``stride`` frames (default: ``window``, no
  overlap); a final window is added flush with the end so no frame is left out
  (``window_starts``);
- a view shorter than ``window`` gives one window, padded at the end by repeating its
  last frame (edge replication, ``window_frames``); padded frames have ``frame_labels``
  -1 and ``padded`` True;
- a window longer than *every* view is an error (ValueError).

Items (see the interface contracts): ``x2d`` (T, 17, 3) float32, the lifter input of
``langpose.inference.view_to_input`` (the one encoding used at inference too: screen-
normalised x, y and confidence; missing joints (0, 0, 0)), corrupted per item;
``y3d`` (T, 17, 3) float32 root-relative camera-frame metres (zeros if unknown);
``label`` int64 (majority frame label, -1 if none); ``frame_labels`` (T,) int64;
``visible`` (T, 17) bool; ``index`` (view index); ``start`` (first frame);
and ``padded`` (T,) bool.

The corruption of item ``i`` in epoch ``e`` uses a generator seeded from
``(seed, e, i)``, so runs are reproducible whatever the worker split; ``set_epoch``
changes it. With ``flip=True`` half of the items are mirrored (``Skeleton.flip`` on
x2d and y3d; left/right words swapped in the labels, e.g. "wave the right hand" ->
"wave the left hand", when the mirrored text is in the vocabulary). With ``roll`` > 0 that share
of the items is seen by a camera rolled about its optical axis by an angle drawn uniformly from
(-180, 180] degrees: x2d's screen x, y and y3d's camera x, y rotate together (``langpose.upright.roll``,
exact for a pinhole camera with its principal point at the image centre), so a lifter also meets
people leaning, sideways and upside down in the image (cartwheels, rolls, get-ups).
"""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from langpose.inference import WINDOW, majority_label, view_target, view_to_input, window_frames, window_starts
from langpose.skeleton import H36M, Skeleton
from langpose.upright import roll as roll_pose


def mirror_text(text: str) -> str:
    """Swap the words 'left' and 'right' in a label text."""
    words = text.split(" ")
    swap = {"left": "right", "right": "left"}
    return " ".join(swap.get(w, w) for w in words)


def mirror_label_map(vocab) -> np.ndarray:
    """(V,) int64: the id of each label's mirrored text (itself when not in the vocabulary)."""
    index = {t: i for i, t in enumerate(vocab)}
    return np.array([index.get(mirror_text(t), i) for i, t in enumerate(vocab)], dtype=np.int64)


class WindowDataset(Dataset):
    """Fixed-length windows over ``views`` (a torch Dataset; see the module docstring)."""

    def __init__(self, views, window: int = WINDOW, stride: int | None = None, corruption=None, seed: int = 0,
                 flip: bool = False, skeleton: Skeleton = H36M, roll: float = 0.0):
        views = list(views)
        if not 0.0 <= roll <= 1.0:
            raise ValueError(f"WindowDataset: roll must be a share in [0, 1], got {roll}")
        if not views:
            raise ValueError("WindowDataset: no views given")
        if window < 1:
            raise ValueError(f"WindowDataset: window must be >= 1, got {window}")
        stride = window if stride is None else stride
        if stride < 1:
            raise ValueError(f"WindowDataset: stride must be >= 1, got {stride}")
        longest = max(len(v) for v in views)
        if window > longest:
            raise ValueError(f"WindowDataset: window of {window} frames is longer than every view "
                             f"(the longest has {longest} frames); use a shorter window")
        self.views, self.window, self.stride = views, int(window), int(stride)
        self.corruption, self.seed, self.flip, self.skeleton = corruption, int(seed), bool(flip), skeleton
        self.roll = float(roll)
        self.epoch = 0
        # one vocabulary for all views (ordered union), labels remapped into it
        vocab: list[str] = []
        for v in views:
            vocab += [t for t in v.vocab if t not in vocab]
        self.vocab = tuple(vocab)
        pos = {t: i for i, t in enumerate(self.vocab)}
        self._mirror = torch.from_numpy(mirror_label_map(self.vocab))
        self._x2d, self._y3d, self._labels, items = [], [], [], []
        for vi, v in enumerate(views):
            self._x2d.append(torch.from_numpy(view_to_input(v)))  # (T, 17, 3)
            y = np.zeros(v.keypoints2d.shape, np.float32) if v.joints3d is None else view_target(v)  # (T, 17, 3)
            self._y3d.append(torch.from_numpy(y))
            remap = np.array([pos[t] for t in v.vocab] + [-1], dtype=np.int64)  # index -1 -> -1
            self._labels.append(torch.from_numpy(remap[v.labels]))
            items += [(vi, s) for s in window_starts(len(v), window, stride)]
        self._items = np.array(items, dtype=np.int64)  # (N, 2): view index, start frame

    def __len__(self) -> int:
        return len(self._items)

    def set_epoch(self, epoch: int) -> None:
        """Change the corruption/flip/roll draws (call once per epoch)."""
        self.epoch = int(epoch)

    def texts(self, label_ids) -> list[str]:
        """Label texts of ids (a tensor, array or list); '' for -1."""
        ids = label_ids.tolist() if hasattr(label_ids, "tolist") else list(label_ids)
        ids = ids if isinstance(ids, list) else [ids]
        return [self.vocab[i] if i >= 0 else "" for i in ids]

    def generator(self, idx: int) -> torch.Generator:
        """The generator of item ``idx`` in the current epoch, seeded from (seed, epoch, idx)."""
        state = np.random.SeedSequence([self.seed, self.epoch, int(idx)]).generate_state(1, np.uint64)[0]
        return torch.Generator().manual_seed(int(state) & 0x7FFF_FFFF_FFFF_FFFF)

    def __getitem__(self, idx: int) -> dict:
        if not -len(self) <= idx < len(self):
            raise IndexError(f"WindowDataset: index {idx} out of range for {len(self)} windows")
        idx = idx % len(self)
        vi, start = (int(v) for v in self._items[idx])
        frames, padded = (torch.from_numpy(a) for a in window_frames(len(self.views[vi]), start, self.window))
        x2d = self._x2d[vi][frames].clone()
        y3d = self._y3d[vi][frames].clone()
        frame_labels = self._labels[vi][frames].masked_fill(padded, -1)
        g = self.generator(idx)
        if self.flip and torch.rand((), generator=g).item() < 0.5:
            x2d = self.skeleton.flip(x2d)
            y3d = self.skeleton.flip(y3d)
            frame_labels = torch.where(frame_labels >= 0, self._mirror[frame_labels.clamp(min=0)], frame_labels)
        if self.roll and torch.rand((), generator=g).item() < self.roll:  # no draw when off: same corruption
            angle = (1.0 - 2.0 * torch.rand((), generator=g)) * torch.pi    # () in (-pi, pi]
            x2d, y3d = roll_pose(x2d, angle), roll_pose(y3d, angle)        # (T, 17, 3) each
        if self.corruption is not None:
            x2d, visible = self.corruption(x2d, g)
        else:
            visible = x2d[..., 2] > 0
        label = torch.tensor(majority_label(frame_labels.numpy()), dtype=torch.int64)
        return {"x2d": x2d, "y3d": y3d, "label": label, "frame_labels": frame_labels,
                "visible": visible, "index": torch.tensor(vi, dtype=torch.int64),
                "start": torch.tensor(start, dtype=torch.int64), "padded": padded}
