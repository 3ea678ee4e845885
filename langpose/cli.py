"""The ``langpose`` command line: ``pretrain``, ``finetune``, ``evaluate`` and ``lift``.

Examples::

    langpose pretrain --preset tiny --quick --run-dir runs/demo/pretrain
    langpose finetune --preset tiny --init runs/demo/pretrain/checkpoint.pt --run-dir runs/demo/finetune
    langpose pretrain --preset small --set optim.epochs=5 --set data.batch_size=64 --run-dir runs/s --resume
    torchrun --nproc_per_node 4 -m langpose.cli pretrain --preset paper --run-dir runs/paper
    langpose evaluate --checkpoint runs/demo/finetune/checkpoint.pt --run-dir runs/demo/eval
    langpose lift ...            (see ``langpose lift --help``)

Mistakes in user input (unknown config keys, missing files, bad values) print one line
``langpose: error: ...`` and exit with status 2, without a traceback.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

EXIT_USAGE = 2


def _train_parser(sub, name: str, help_text: str):
    p = sub.add_parser(name, help=help_text, description=help_text)
    p.add_argument("--preset", default="tiny", help="run preset: tiny | small | paper (default tiny)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="config override, repeatable, e.g. --set optim.epochs=5 --set model.dim=64")
    p.add_argument("--run-dir", required=True, help="output folder (checkpoints, metrics.jsonl, config.json)")
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.pt")
    p.add_argument("--quick", action="store_true", help="small data for demos and smoke tests (data.quick=True)")
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bars")
    if name == "finetune":
        p.add_argument("--init", dest="init", default=None, metavar="CKPT",
                       help="pretrained checkpoint to start from (required unless --resume finds last.pt)")
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="langpose", description="LangPose: language-aligned 3D human pose lifting")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)
    _train_parser(sub, "pretrain", "stage 1: 3D reconstruction + text alignment on corrupted, labelled 2D")
    _train_parser(sub, "finetune", "stage 2: refine the pose branch on 3D data without labels")
    ev = sub.add_parser("evaluate", help="evaluate a checkpoint (P1/P2/N-MPJPE/MPJVE, top-1/top-5)",
                        description="evaluate a checkpoint; writes RUN_DIR/results.json and results.md")
    ev.add_argument("--checkpoint", required=True, help="checkpoint file (checkpoint.pt)")
    ev.add_argument("--run-dir", required=True, help="output folder for results.json / results.md")
    ev.add_argument("--dataset", default=None, help="dataset to evaluate on (default: the checkpoint's)")
    ev.add_argument("--split", default="test", help="split (default test)")
    ev.add_argument("--data-root", default=None, help="folder of the dataset files")
    ev.add_argument("--flip-test", action="store_true", help="average with the mirrored input's prediction")
    ev.add_argument("--quick", action="store_true", help="the quick synthetic data")
    sub.add_parser("lift", help="lift in-the-wild 2D keypoints to 3D (see `langpose lift --help`)", add_help=False)
    return parser


def _run_train(args, stage: str) -> int:
    from langpose.train import fit, train_config

    overrides = list(args.overrides)
    if args.quick:
        overrides.append("data.quick=True")
    if args.no_progress:
        overrides.append("progress=False")
    cfg = train_config(args.preset, overrides)
    summary = fit(cfg, args.run_dir, stage=stage, init_checkpoint=getattr(args, "init", None), resume=args.resume)
    metrics = summary.get("metrics", {})
    shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()
             if k in ("epoch", "train_total", "val_p1_mm", "val_p2_mm", "val_top1_pct")}
    if summary.get("world_size", 1) == 1 or _rank() == 0:
        print(f"{stage} done: {summary['checkpoint']} {json.dumps(shown)}")
    return 0


def _rank() -> int:
    import os

    return int(os.environ.get("RANK", "0"))


def _run_evaluate(args) -> int:
    from langpose.checkpoint import load_model
    from langpose.evaluate import evaluate, write_results
    from langpose.train import load_split_views

    model = load_model(args.checkpoint)
    cfg = model.train_config
    if args.dataset is not None:
        cfg.data.dataset = args.dataset
    if args.data_root is not None:
        cfg.data.data_root = args.data_root
    if args.quick:
        cfg.data.quick = True
    views = [v for v in load_split_views(cfg, args.split) if v.joints3d is not None]
    if not views:
        raise ValueError(f"dataset {cfg.data.dataset!r} split {args.split!r}: no views with 3D ground truth")
    res = evaluate(model, views, window=cfg.data.window, flip_test=args.flip_test)
    res["checkpoint"] = str(args.checkpoint)
    res["dataset"] = cfg.data.dataset
    res["split"] = args.split
    paths = write_results(res, args.run_dir, name="results", title=f"{Path(args.checkpoint).name} on "
                          f"{cfg.data.dataset}/{args.split}")
    top1 = res.get("top1")
    print(f"P1 {res['p1']:.1f} mm, P2 {res['p2']:.1f} mm"
          + (f", top-1 {top1:.1f}%" if top1 is not None else "") + f" -> {paths['json']}, {paths['markdown']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``langpose`` console script; returns the exit status."""
    from langpose.config import ConfigError

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "lift":
        from langpose.lift import main as lift_main

        try:
            return int(lift_main(argv[1:]) or 0)
        except (ConfigError, FileNotFoundError, ValueError) as exc:
            print(f"langpose lift: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command in ("pretrain", "finetune"):
            return _run_train(args, args.command)
        if args.command == "evaluate":
            return _run_evaluate(args)
    except (ConfigError, FileNotFoundError, ValueError, PermissionError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"langpose {args.command}: error: {msg}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # e.g. run_dir not writable
        print(f"langpose {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    parser.error(f"unknown command {args.command!r}")
    return EXIT_USAGE


if __name__ == "__main__":  # python -m langpose.cli
    sys.exit(main())
