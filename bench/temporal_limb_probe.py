"""Probe: does a limb regressor that reads a few frames around each frame place a hidden arm better?

The shipped ``langpose.completion.LimbRegressor`` reads one frame: the joints the lifter placed and the
visible 2D. Here the same MLP (2 x 1024, one-cycle AdamW, 4,000 steps of 512 frames, seed 0) reads that
frame's features at several frame offsets (clamped at the ends of each view; the arm is hidden in every
frame, as in the evaluation). Data: the shipped ``small`` lifts every 4th training view and every 2nd
view of the synthetic *validation* subject with the left or the right arm hidden (inference defaults, no
completion); the score is the hidden-arm error of the regressor alone on the validation views, mm.

    OMP_NUM_THREADS=1 python bench/temporal_limb_probe.py > results/hidden_parts/temporal_probe.txt   # ~25 min
"""
import json
import time

import numpy as np
import torch
from torch import nn

from langpose.completion import normalise_2d
from langpose.data.registry import load_views
from langpose.limb_fit import lifted_pairs
from langpose.zoo import pretrained

PARTS = ("left_arm", "right_arm")
OFFSETS = ((0,), (-8, -4, 0, 4, 8), (-24, -12, 0, 12, 24), (-40, -20, 0, 20, 40))


def lifted(model, split: str, every: int):
    """(pred, target, inputs, view lengths) of every ``every``-th view of ``split``, each arm hidden in turn."""
    views = load_views("synthetic", split)[::every]
    pred, target, inputs = lifted_pairs(model, views, parts=PARTS)
    return pred, target, inputs, np.array([len(v) for v in views] * len(PARTS))


def feats(pred, inputs):
    """Per frame: placed non-root joints (hidden zeroed) and normalised 2D, flat (N, 48 + 34); hidden mask (N, 16)."""
    hid = inputs[:, 1:, 2] <= 0
    rel = (pred - pred[:, :1])[:, 1:] * (~hid)[..., None]
    z = normalise_2d(inputs).numpy()
    return np.concatenate([rel.reshape(len(rel), -1), z.reshape(len(z), -1)], 1).astype(np.float32), hid.astype(np.float32)


def neighbours(lens, offsets):
    """(N, len(offsets)) row indices of each frame's offset frames, clamped within its view."""
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    idx = []
    for s, n in zip(starts, lens):
        t = np.arange(n)
        idx.append(np.stack([s + np.clip(t + o, 0, n - 1) for o in offsets], 1))
    return np.concatenate(idx)


def run(tr, va, offsets, steps=4000, batch=512, lr=2e-3, width=1024, seed=0):
    """Fit on ``tr`` with features at ``offsets``; mean hidden-arm error (mm) on ``va``: (left, right)."""
    f_tr, h_tr = feats(tr[0], tr[2])
    f_va, h_va = feats(va[0], va[2])
    n_tr, n_va = torch.from_numpy(neighbours(tr[3], offsets)), torch.from_numpy(neighbours(va[3], offsets))
    y_tr = torch.from_numpy((tr[1] - tr[1][:, :1])[:, 1:])  # (N, 16, 3)
    y_va = torch.from_numpy((va[1] - va[1][:, :1])[:, 1:])
    F_tr, F_va = torch.from_numpy(f_tr), torch.from_numpy(f_va)
    H_tr, H_va = torch.from_numpy(h_tr), torch.from_numpy(h_va)
    d = F_tr.shape[1] * len(offsets) + 16
    net = nn.Sequential(nn.Linear(d, width), nn.GELU(), nn.Linear(width, width), nn.GELU(), nn.Linear(width, 48))
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(net.parameters(), lr=lr / 2)
    sch = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps)
    for _ in range(steps):
        i = torch.randint(0, len(F_tr), (batch,), generator=g)
        x = torch.cat([F_tr[n_tr[i]].flatten(1), H_tr[i]], 1)       # (B, d)
        err = (net(x).view(-1, 16, 3) - y_tr[i]).norm(dim=-1)       # (B, 16)
        loss = (err * H_tr[i]).sum() / H_tr[i].sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sch.step()
    net.eval()
    errs = []
    with torch.no_grad():
        for s in range(0, len(F_va), 4096):
            i = torch.arange(s, min(s + 4096, len(F_va)))
            x = torch.cat([F_va[n_va[i]].flatten(1), H_va[i]], 1)
            e = (net(x).view(-1, 16, 3) - y_va[i]).norm(dim=-1)
            errs.append(((e * H_va[i]).sum(1) / H_va[i].sum(1)).numpy())
    e = np.concatenate(errs) * 1000
    half = len(e) // 2  # the left arm's half, then the right arm's
    return e[:half].mean(), e[half:].mean()


def main() -> None:
    torch.set_num_threads(1)
    t0 = time.time()
    model = pretrained("small")
    tr = lifted(model, "train", 4)
    print("train", len(tr[0]), time.time() - t0, flush=True)
    va = lifted(model, "val", 2)
    print("val", len(va[0]), time.time() - t0, flush=True)
    for offs in OFFSETS:
        t = time.time()
        left, right = run(tr, va, offs)
        print(json.dumps({"offsets": offs, "left_arm": round(float(left), 1), "right_arm": round(float(right), 1),
                          "s": round(time.time() - t)}), flush=True)


if __name__ == "__main__":
    main()
