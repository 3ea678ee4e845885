"""The ``langpose`` command line: ``pretrain``, ``finetune``, ``evaluate`` and ``lift``.

Examples::

    langpose pretrain --preset tiny --quick --run-dir runs/demo/pretrain
    langpose finetune --preset tiny --init runs/demo/pretrain/checkpoint.pt --run-dir runs/demo/finetune
    langpose pretrain --preset small --set optim.epochs=5 --set data.batch_size=64 --run-dir runs/s --resume
    torchrun --nproc_per_node 4 -m langpose.cli pretrain --preset paper --run-dir runs/paper
    langpose evaluate --checkpoint runs/demo/finetune/checkpoint.pt --run-dir runs/demo/eval
    langpose lift ...            (see ``langpose lift --help``)

Every fault prints one line ``langpose COMMAND: error: ...`` on stderr, without a traceback:

- exit 2: bad input (unknown config keys, values of the wrong type, missing or corrupt files,
  a run dir that already holds a run, an output that cannot be written, a full disk);
- exit 1: the run itself failed (a non-finite loss, an internal error; ``-v`` prints its traceback);
- exit 3: ``lift`` ran but every joint of the input was hidden (a warning says so);
- exit 130: interrupted (Ctrl-C); the line says how to continue with ``--resume``.

Logging: one INFO line per training epoch (logger ``langpose.train``) is shown by default;
``-v`` (before or after the subcommand) shows every INFO message.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import pickle
import shlex
import sys
import traceback
import zipfile
from pathlib import Path

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
VERBOSE_FLAGS = ("-v", "--verbose")


def _verbose_flag(p, default=False):
    p.add_argument(*VERBOSE_FLAGS, dest="verbose", action="store_true", default=default,
                   help="log every INFO message (default: warnings and one line per training epoch)")


def _train_parser(sub, name: str, help_text: str):
    p = sub.add_parser(name, help=help_text, description=help_text)
    _verbose_flag(p, argparse.SUPPRESS)
    p.add_argument("--preset", default="tiny", help="run preset: tiny | small | paper (default tiny); the model "
                   "preset 'lite' is trained with --preset paper and model overrides (see the error it gives)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="config override, repeatable, e.g. --set optim.epochs=5 --set model.dim=64")
    p.add_argument("--run-dir", required=True, help="output folder (checkpoints, metrics.jsonl, config.json)")
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.pt")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a run already in RUN_DIR (without it, a RUN_DIR holding a run is refused)")
    p.add_argument("--quick", action="store_true", help="small data for demos and smoke tests (data.quick=True)")
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bars")
    if name == "finetune":
        p.add_argument("--init", dest="init", default=None, metavar="CKPT",
                       help="pretrained checkpoint to start from (required unless --resume finds last.pt)")
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="langpose", description="LangPose: language-aligned 3D human pose lifting")
    _verbose_flag(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    _train_parser(sub, "pretrain", "stage 1: 3D reconstruction + text alignment on corrupted, labelled 2D")
    _train_parser(sub, "finetune", "stage 2: refine the pose branch on 3D data without labels")
    ev = sub.add_parser("evaluate", help="evaluate a checkpoint (P1/P2/N-MPJPE/MPJVE, top-1/top-5)",
                        description="evaluate a checkpoint; writes RUN_DIR/results.json and results.md")
    _verbose_flag(ev, argparse.SUPPRESS)
    ev.add_argument("--checkpoint", required=True, help="checkpoint file (checkpoint.pt)")
    ev.add_argument("--run-dir", required=True, help="output folder for results.json / results.md")
    ev.add_argument("--dataset", default=None, help="dataset to evaluate on (default: the checkpoint's)")
    ev.add_argument("--split", default="test", help="split (default test)")
    ev.add_argument("--data-root", default=None, help="folder of the dataset files")
    ev.add_argument("--flip-test", action=argparse.BooleanOptionalAction, default=True,
                    help="average with the mirrored input's mirrored prediction (default on; --no-flip-test)")
    ev.add_argument("--upright-test", action=argparse.BooleanOptionalAction, default=True,
                    help="also lift a far-leaning person in a camera rolled to stand them up, and average "
                         "(default on; --no-upright-test)")
    ev.add_argument("--quick", action="store_true", help="the quick synthetic data")
    sub.add_parser("lift", help="lift in-the-wild 2D keypoints to 3D (see `langpose lift --help`)", add_help=False)
    return parser


def _check_preset(preset: str) -> None:
    """A model-only preset (``lite``) gets an error that says how to train it."""
    from langpose.config import ConfigError
    from langpose.models.config import PRESETS as MODEL_PRESETS
    from langpose.train import PRESETS

    if preset in PRESETS or preset not in MODEL_PRESETS:
        return  # valid, or train_config's own "unknown preset" error
    base = min(PRESETS, key=lambda name: (MODEL_PRESETS.get(name, {}).get("max_frames")
                                          != MODEL_PRESETS[preset].get("max_frames"), name != "paper"))
    diff = {k: v for k, v in MODEL_PRESETS[preset].items() if MODEL_PRESETS.get(base, {}).get(k) != v}
    sets = " ".join(f"--set model.{k}={v}" for k, v in diff.items())
    raise ConfigError(f"{preset!r} is a model preset, not a training preset (valid: {', '.join(PRESETS)}); train "
                      f"it with --preset {base} {sets}".rstrip())


def _check_devices(cfg) -> None:
    """``device=tpu`` and the like: a ConfigError instead of torch's RuntimeError deep in the run."""
    import torch

    from langpose.config import ConfigError

    for key, value in (("device", cfg.device), ("text.device", getattr(getattr(cfg, "text", None), "device", "cpu"))):
        if value == "auto":
            continue
        try:
            torch.device(value)
        except (RuntimeError, TypeError, ValueError):
            raise ConfigError(f"{key}: expected auto, cpu, cuda or cuda:N, got {value!r}") from None


def _check_init_window(cfg, init, preset: str) -> None:
    """Fine-tuning from ``init``: its model's window must hold the preset's training windows."""
    from langpose import checkpoint as ckpt
    from langpose.config import ConfigError
    from langpose.train import PRESETS

    model = ckpt.load(init).get("config", {}).get("model", {})
    max_frames = model.get("max_frames") if isinstance(model, dict) else None
    if isinstance(max_frames, int) and cfg.data.window > max_frames:
        same = [name for name, p in PRESETS.items() if p.get("data", {}).get("window") == max_frames]
        hint = f"--preset {same[0]}" if same else f"--set data.window={max_frames}"
        raise ConfigError(f"--init {init}: the checkpoint's window is {max_frames} frames (model.max_frames="
                          f"{max_frames}), but preset {preset!r} trains on data.window={cfg.data.window}; use {hint} "
                          f"(or --set data.window={max_frames})")


def _run_train(args, stage: str) -> int:
    from langpose.rundir import prepare_run_dir
    from langpose.train import fit, train_config

    overrides = list(args.overrides)
    if args.quick:
        overrides.append("data.quick=True")
    if args.no_progress:
        overrides.append("progress=False")
    _check_preset(args.preset)
    cfg = train_config(args.preset, overrides)
    _check_devices(cfg)
    init = getattr(args, "init", None)
    if stage == "finetune" and init is not None and Path(init).is_file():
        _check_init_window(cfg, init, args.preset)
    run_dir = prepare_run_dir(args.run_dir, resume=args.resume, overwrite=args.overwrite, main=_rank() == 0)
    with run_dir:
        summary = fit(cfg, args.run_dir, stage=stage, init_checkpoint=init, resume=args.resume)
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
    res = evaluate(model, views, window=cfg.data.window, flip_test=args.flip_test, upright_test=args.upright_test)
    bad = [k for k in ("p1", "p2") if not (isinstance(res.get(k), (int, float)) and math.isfinite(res[k]))]
    if bad:
        raise FloatingPointError(f"evaluation of {args.checkpoint} gave {', '.join(f'{k} = {res.get(k)}' for k in bad)}"
                                 f": the model's predictions are not finite; nothing written")
    res["checkpoint"] = str(args.checkpoint)
    res["dataset"] = cfg.data.dataset
    res["split"] = args.split
    paths = write_results(res, args.run_dir, name="results", title=f"{Path(args.checkpoint).name} on "
                          f"{cfg.data.dataset}/{args.split}")
    top1 = res.get("top1")
    print(f"P1 {res['p1']:.1f} mm, P2 {res['p2']:.1f} mm"
          + (f", top-1 {top1:.1f}%" if top1 is not None else "") + f" -> {paths['json']}, {paths['markdown']}")
    return 0


def _message(exc: BaseException) -> str:
    """The first line of an exception's message (a KeyError's own text, not its repr)."""
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        text = exc.args[0]
    elif isinstance(exc, OSError) and exc.strerror:  # "disk full ..." rather than "[Errno 28] disk full ..."
        name = exc.filename
        text = exc.strerror if name is None or str(name) in exc.strerror else f"{name}: {exc.strerror}"
    else:
        text = str(exc)
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[0].strip() if lines else type(exc).__name__


#: Faults of the user's input or environment: one line, exit 2.
USER_ERRORS = (ValueError, OSError, KeyError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile)


def _split_global(argv: list[str]) -> tuple[bool, list[str]]:
    """(-v given before the subcommand, argv without those leading flags)."""
    verbose = False
    while argv and argv[0] in VERBOSE_FLAGS:
        verbose = True
        argv = argv[1:]
    return verbose, argv


def _interrupted(command: str, argv: list[str], args) -> str:
    run_dir = getattr(args, "run_dir", None)
    if command in ("pretrain", "finetune") and run_dir is not None:
        last = Path(run_dir) / "last.pt"
        if last.is_file():
            again = [a for a in argv if a not in ("--overwrite", "--resume")] + ["--resume"]
            return (f"interrupted; {last} holds the last finished epoch: continue with "
                    f"langpose {shlex.join(again)}")
        return "interrupted before the first epoch finished; nothing was saved"
    return "interrupted; nothing was written"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``langpose`` console script; returns the exit status (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose, rest = _split_global(argv)
    if rest and rest[0] == "lift":
        command, args = "lift", argparse.Namespace(verbose=verbose or any(a in VERBOSE_FLAGS for a in rest[1:]))
    else:
        args = build_parser().parse_args(argv)
        command = args.command
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        logging.getLogger("langpose.train").setLevel(logging.INFO)  # one line per epoch by default
    try:
        if command == "lift":
            from langpose.lift import main as lift_main

            return int(lift_main(rest[1:]) or 0)
        if command in ("pretrain", "finetune"):
            return _run_train(args, command)
        if command == "evaluate":
            return _run_evaluate(args)
    except KeyboardInterrupt:
        print(f"langpose {command}: {_interrupted(command, rest, args)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except USER_ERRORS as exc:
        print(f"langpose {command}: error: {_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001  a failed run (NaN loss) or a bug: still one line, -v for more
        if args.verbose:
            traceback.print_exc()
        hint = "" if isinstance(exc, ArithmeticError) or args.verbose else " (rerun with -v for the traceback)"
        print(f"langpose {command}: error: {type(exc).__name__}: {_message(exc)}{hint}", file=sys.stderr)
        return EXIT_FAILED
    print(f"langpose: error: unknown command {command!r}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":  # python -m langpose.cli
    sys.exit(main())
