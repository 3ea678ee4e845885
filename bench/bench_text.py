"""Text-encoder benchmark: load time, encode time, cache-hit time and label-pair cosine similarities.

Usage: HF_HUB_OFFLINE=1 python bench/bench_text.py [--encoder minilm|clip|auto] [--template "a person {label}"]
Runs with an empty temporary cache so the first encode is a real miss.
"""
from __future__ import annotations

import argparse
import tempfile
import time

from langpose import text

PAIRS = [
    ("wave the right hand", "wave the left hand"),
    ("kick with the left leg", "kick with the right leg"),
    ("walk forward", "walk backward"),
    ("jump in place", "jump forward"),
    ("squat", "sit down"),
    ("sit down", "stand up"),
    ("walk forward", "clap hands"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoder", default="minilm", choices=text.ENCODER_NAMES)
    ap.add_argument("--template", default=text.DEFAULT_TEMPLATE)
    args = ap.parse_args()
    labels = sorted({x for pair in PAIRS for x in pair})
    with tempfile.TemporaryDirectory() as cache:
        enc = text.get_encoder(name=args.encoder, template=args.template, cache_dir=cache)
        t0 = time.perf_counter()
        enc._backend()  # load only
        t1 = time.perf_counter()
        emb = enc.encode(labels)
        t2 = time.perf_counter()
        again = enc.encode(labels)
        t3 = time.perf_counter()
        assert (again == emb).all()
    print(f"encoder {enc.name} ({enc.model_id}), dim {emb.shape[1]}, template {args.template!r}")
    print(f"load {t1 - t0:.2f} s; encode {len(labels)} labels (miss) {1e3 * (t2 - t1):.1f} ms; "
          f"cache hit {1e3 * (t3 - t2):.1f} ms")
    sim = text.cosine_matrix(emb)
    idx = {lab: i for i, lab in enumerate(labels)}
    for a, b in PAIRS:
        print(f"  cos({a!r}, {b!r}) = {sim[idx[a], idx[b]].item():.3f}")


if __name__ == "__main__":
    main()
