"""Benchmark of the synthetic data pipeline.

Prints: generation throughput (frames/s) of the default synthetic dataset, its size in
memory (MB: 3D sequences, and the four camera views), and the windowing throughput of
``WindowDataset`` with the default pretraining corruption through a torch DataLoader
(samples/s). Run: ``python bench/bench_data.py [--quick] [--workers N] [--window T]``.
"""
from __future__ import annotations

import argparse
import time

import torch

from langpose.data.corruption import CorruptionConfig, build_corruption
from langpose.data.synthetic import SyntheticConfig, generate_dataset
from langpose.data.views import make_views
from langpose.data.windows import WindowDataset


def _mb(arrays) -> float:
    return sum(a.nbytes for a in arrays if a is not None) / 2**20


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the quick dataset instead of the default")
    ap.add_argument("--window", type=int, default=81)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--batches", type=int, default=200)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)

    cfg = SyntheticConfig.quick() if args.quick else SyntheticConfig()
    t = time.perf_counter()
    seqs = generate_dataset(cfg)
    gen_s = time.perf_counter() - t
    frames = sum(len(s) for s in seqs)
    print(f"dataset: {'quick' if args.quick else 'default'} ({len(seqs)} sequences, {frames} frames, "
          f"{frames / 50 / 60:.1f} min at 50 fps)")
    print(f"generation: {gen_s:.2f} s, {frames / gen_s:,.0f} frames/s")
    print(f"memory: 3D sequences {_mb([s.joints3d for s in seqs] + [s.labels for s in seqs]):.1f} MB")

    t = time.perf_counter()
    views = make_views(seqs, seed=cfg.seed)
    view_s = time.perf_counter() - t
    print(f"projection to {len(views)} views: {view_s:.2f} s, {frames * 4 / view_s:,.0f} view-frames/s; "
          f"views {_mb([a for v in views for a in (v.keypoints2d, v.joints3d, v.labels)]):.1f} MB")

    t = time.perf_counter()
    ds = WindowDataset(views, window=args.window, stride=args.window // 3,
                       corruption=build_corruption(CorruptionConfig()), flip=True)
    print(f"WindowDataset(T={args.window}, stride={args.window // 3}): {len(ds)} windows, "
          f"built in {time.perf_counter() - t:.2f} s")
    loader = torch.utils.data.DataLoader(ds, batch_size=args.batch_size, shuffle=True, num_workers=args.workers)
    n = 0
    t = time.perf_counter()
    for i, batch in enumerate(loader):
        n += len(batch["x2d"])
        if i + 1 >= args.batches:
            break
    dt = time.perf_counter() - t
    print(f"DataLoader (batch {args.batch_size}, {args.workers} workers, pretraining corruption + flip): "
          f"{n / dt:,.0f} samples/s ({n} samples in {dt:.2f} s)")


if __name__ == "__main__":
    main()
