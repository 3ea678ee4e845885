"""Fault matrix (issue 10): a representative set of bad inputs per entry point, and how each one ends.

    python bench/fault_matrix.py [--tree PATH] [--label TEXT] [--out FILE.md] [--only lift,train,api,views]

Every case runs in a fresh subprocess (``python -m langpose.cli ...`` or a small Python
snippet) against the langpose package in ``--tree`` (default: this checkout), with
``OMP_NUM_THREADS=1``, a 6 GiB address-space limit and a timeout; training is tiny
(``--preset tiny --set data.quick=true --set optim.epochs=1 --set optim.max_steps=2``).
A case *expects* an error, a correct result, or a warning; its outcome is one of:

- ``clean``: a one-line error (CLI: exit != 0, one ``langpose ...`` line, no traceback;
  API: a ValueError/OSError/KeyError/EOFError/UnpicklingError with a one-line message
  naming what the case says it must name);
- ``ok``: the expected result (exit 0, or a warning and exit 3 for all-hidden input);
- ``traceback``: a Python traceback (CLI), or a raw error from deep inside torch/numpy (API);
- ``nan``: exit 0 / a return value with NaN or inf in it;
- ``lost``: a file that existed before (input, finished run, earlier output) changed or
  vanished, or a stale/empty leftover (OUT.html of an earlier run, an empty run dir);
- ``other``: accepted silently, hung past the timeout, or an unclear message.

Prints a summary table per entry point and one row per case (markdown), and writes it to
``--out`` if given. Faults that need root to provoke (EPERM, a read-only or full disk) are
simulated: a read-only folder by a path under ``/proc``, a full disk by making the atomic
writer's file object raise ENOSPC.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TINY = ["--preset", "tiny", "--set", "data.quick=true", "--set", "optim.epochs=1", "--set", "optim.max_steps=2",
        "--no-progress"]
LIFT_ARGS = ["--layout", "h36m", "--width", "1000", "--height", "1000"]
API_CLEAN = ("ValueError", "OSError", "KeyError", "EOFError", "UnpicklingError", "FileNotFoundError",
             "FileExistsError", "IsADirectoryError", "NotADirectoryError", "PermissionError", "CheckpointError",
             "ConfigError", "KeypointFormatError", "DataFormatError", "RunDirError", "JSONDecodeError")
COLUMNS = ("clean", "ok", "traceback", "nan", "lost", "other")

# Simulated full disk: the atomic writer's files whose name holds `match` and ends with `suffix` raise
# ENOSPC on write, after `after` such files were written.
DISK_FULL = textwrap.dedent("""
    import builtins, errno, sys
    import langpose.atomic as atomic
    state = {{"pt": 0}}
    class Full:
        def __init__(self, fh, fail):
            self.fh, self.fail = fh, fail
        def write(self, b):
            if self.fail:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.fh.write(b)
        def __getattr__(self, name):
            return getattr(self.fh, name)
        def __enter__(self):
            return self
        def __exit__(self, *a):
            return self.fh.__exit__(*a)
    def fake_open(path, *a, **k):
        name = str(path)
        fail = {match!r} in name and name.endswith({suffix!r})
        if fail:
            state["pt"] += 1
            fail = state["pt"] > {after}
        return Full(builtins.open(path, *a, **k), fail)
    atomic.open = fake_open
    from langpose.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def code_ran(ws: Path, result) -> str | None:
    """The pickle-with-code fixture writes ws/pwned when a loader runs its code."""
    if (ws / "pwned").exists():
        (ws / "pwned").unlink()
        return "code ran: a data file executed os.system"
    return None


def sha(path: Path) -> str | None:
    if not path.exists():
        return None
    if path.is_dir():
        return "dir:" + ",".join(sorted(f"{p.name}={sha(p)}" for p in path.iterdir()))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a background parent ignores SIGINT; its children would too


class Runner:
    def __init__(self, tree: Path, ws: Path):
        self.tree, self.ws = tree, ws
        self.env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(tree), HF_HUB_OFFLINE="1",
                        TRANSFORMERS_OFFLINE="1", MPLBACKEND="Agg", TQDM_DISABLE="1",
                        LANGPOSE_DATA=str(ws / "data_cache"))
        self.env.pop("CI", None)

    def run(self, argv, timeout=120, python_code=None):
        cmd = [sys.executable, "-c", python_code, *argv] if python_code else [sys.executable, "-m", "langpose.cli",
                                                                                *argv]
        t = time.time()
        try:
            p = subprocess.run(cmd, cwd=self.ws, env=self.env, capture_output=True, text=True, timeout=timeout,
                               preexec_fn=limit_memory)
            return {"rc": p.returncode, "out": p.stdout, "err": p.stderr, "timeout": False,
                    "seconds": round(time.time() - t, 1)}
        except subprocess.TimeoutExpired as exc:
            err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
            return {"rc": None, "out": "", "err": err, "timeout": True, "seconds": timeout}

    def interrupt_training(self, argv, run_dir: Path, timeout=180):
        """Start a training run, SIGINT it once last.pt exists; returns like ``run``."""
        p = subprocess.Popen([sys.executable, "-m", "langpose.cli", *argv], cwd=self.ws, env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit_memory)
        t = time.time()
        while time.time() - t < timeout and p.poll() is None and not (run_dir / "last.pt").exists():
            time.sleep(0.2)
        time.sleep(0.5)
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            return {"rc": None, "out": out, "err": err, "timeout": True, "seconds": timeout}
        return {"rc": p.returncode, "out": out, "err": err, "timeout": False, "seconds": round(time.time() - t, 1)}


# ----------------------------------------------------------------------------- fixtures
SETUP = textwrap.dedent("""
    import json, pickle, sys
    from pathlib import Path
    import numpy as np, torch
    from langpose.checkpoint import save
    from langpose.models import build_model
    from langpose.train import train_config
    ws = Path(sys.argv[1])
    vocab = ["walk forward", "wave the right hand", "jump in place"]
    torch.manual_seed(0)
    cfg = train_config("tiny")
    m = build_model(cfg.model)
    m.set_vocab(vocab, torch.nn.functional.normalize(torch.randn(3, cfg.model.embed_dim), dim=-1))
    save(ws / "aligned.pt", m, cfg, vocab)
    cfg0 = train_config("tiny", ["loss.w_align=0"])
    save(ws / "noalign.pt", build_model(cfg0.model), cfg0, vocab)
    cfgm = train_config("tiny", ["model.arch=mlp", "loss.w_align=0"])
    save(ws / "mlp.pt", build_model(cfgm.model), cfgm, vocab)
    state = {k: v.clone() for k, v in m.state_dict().items() if isinstance(v, torch.Tensor)}
    state.update({k: v for k, v in m.state_dict().items() if not isinstance(v, torch.Tensor)})
    state["pose_head.out.weight"][:] = float("nan")
    save(ws / "nanweights.pt", state, cfg, vocab)
    (ws / "garbage.pt").write_bytes(b"not a checkpoint")
    raw = (ws / "aligned.pt").read_bytes()
    (ws / "truncated.pt").write_bytes(raw[: len(raw) // 3])
    rng = np.random.default_rng(0)
    kp = np.concatenate([rng.uniform(300, 700, (100, 17, 2)), np.ones((100, 17, 1))], -1)
    np.save(ws / "clip.npy", kp)
    np.save(ws / "long.npy", np.concatenate([rng.uniform(300, 700, (300, 17, 2)), np.ones((300, 17, 1))], -1))
    (ws / "in").mkdir(exist_ok=True)
    np.savez(ws / "in" / "myclip.npz", keypoints=kp)
    np.save(ws / "huge.npy", np.concatenate([kp[..., :2] * 1e30, kp[..., 2:]], -1))
    np.save(ws / "big308.npy", np.concatenate([kp[..., :2] * 1e305, kp[..., 2:]], -1))
    np.save(ws / "hidden.npy", np.concatenate([kp[..., :2], np.zeros((100, 17, 1))], -1))
    np.save(ws / "int64.npy", np.concatenate([kp[..., :2], np.full((100, 17, 1), 0.9)], -1).astype(np.int64))
    bad = kp.copy(); bad[5, 3, 0] = np.nan
    np.save(ws / "nan.npy", bad)
    np.save(ws / "shape.npy", kp[:, :16])
    (ws / "empty.npy").write_bytes(b"")
    (ws / "trunc.npy").write_bytes((ws / "clip.npy").read_bytes()[:200])
    (ws / "malformed.json").write_text('[{"image_id": 0, "keypoints": [1, 2')
    # datasets with broken files (through evaluate --dataset and load_views)
    h = ws / "h36m_nokey"; h.mkdir(exist_ok=True)
    np.savez(h / "data_3d_h36m.npz", something_else=np.zeros(3))
    np.savez(h / "data_2d_h36m_cpn_ft_h36m_dbb.npz", something_else=np.zeros(3))
    h = ws / "h36m_empty"; h.mkdir(exist_ok=True)
    (h / "data_3d_h36m.npz").write_bytes(b""); (h / "data_2d_h36m_cpn_ft_h36m_dbb.npz").write_bytes(b"")
    mb = ws / "mb_garbage"; mb.mkdir(exist_ok=True)
    (mb / "h36m_sh_conf_cam_source_final.pkl").write_bytes(b"\\x80\\x04garbage that is not a pickle")
    mb = ws / "mb_trunc"; mb.mkdir(exist_ok=True)
    blob = pickle.dumps({"train": {"joint_2d": np.zeros((5, 17, 2))}, "test": {}})
    (mb / "h36m_sh_conf_cam_source_final.pkl").write_bytes(blob[: len(blob) // 2])
    mb = ws / "mb_code"; mb.mkdir(exist_ok=True)
    class Evil:
        def __reduce__(self):
            import os
            return (os.system, ("echo PWNED > " + str(ws / "pwned"),))
    (mb / "h36m_sh_conf_cam_source_final.pkl").write_bytes(pickle.dumps({"train": Evil(), "test": {}}))
    mp = ws / "3dhp_empty"; mp.mkdir(exist_ok=True)
    (mp / "data_train_3dhp.npz").write_bytes(b""); (mp / "data_test_3dhp.npz").write_bytes(b"")
    bb = ws / "babel_garbage"; (bb / "babel").mkdir(parents=True, exist_ok=True); (bb / "joints").mkdir(exist_ok=True)
    (bb / "babel" / "train.json").write_text("{not json"); (bb / "babel" / "val.json").write_text("{not json")
    print("ok")
""")


def setup(runner: Runner) -> None:
    r = runner.run([str(runner.ws)], python_code=SETUP, timeout=300)
    if r["rc"] != 0:
        raise SystemExit(f"fixture setup failed:\n{r['err'][-3000:]}")
    # a finished tiny run (also the --init of the finetune cases)
    r = runner.run(["pretrain", *TINY, "--run-dir", "finished"], timeout=300)
    if r["rc"] != 0:
        raise SystemExit(f"the fixture pretrain run failed:\n{r['err'][-3000:]}")


# ----------------------------------------------------------------------------- cases
def lift_cases():
    def L(inp, ckpt="aligned.pt", out="o", *extra):
        return ["lift", inp, "--checkpoint", ckpt, "--out", out, *LIFT_ARGS, *extra]

    def pre_output(ws):  # an earlier run's outputs
        (ws / "prev.npz").write_bytes(b"earlier result")
        (ws / "prev.html").write_text("earlier html")

    def pre_html(ws):
        (ws / "stale.html").write_text("earlier html")

    def stale_html(ws, r):
        return "stale OUT.html left beside the new OUT.npz" if r["rc"] == 0 and (ws / "stale.html").exists() else None

    def pre_dir(ws):
        (ws / "isdir.npz").mkdir(exist_ok=True)

    def pre_file(ws):
        (ws / "afile").write_text("x")

    return [
        dict(name="model trained with loss.w_align=0", argv=L("clip.npy", "noalign.pt", "o_noalign"), expect="ok",
             nan="o_noalign.npz"),
        dict(name="MLP baseline checkpoint", argv=L("clip.npy", "mlp.pt", "o_mlp"), expect="ok", nan="o_mlp.npz"),
        dict(name="--out equal to the input (in/myclip.npz -> in/myclip)", argv=L("in/myclip.npz", "aligned.pt",
             "in/myclip", "--no-html"), expect="error", protect=["in/myclip.npz"]),
        dict(name="existing OUT.npz / OUT.html", setup=pre_output, argv=L("clip.npy", "aligned.pt", "prev"),
             expect="error", protect=["prev.npz", "prev.html"]),
        dict(name="--no-html beside an earlier OUT.html (+ --overwrite)", setup=pre_html,
             argv=L("clip.npy", "aligned.pt", "stale", "--no-html", "--overwrite"), expect="ok", check=stale_html,
             nan="stale.npz"),
        dict(name="x, y x 1e30 (finite)", argv=L("huge.npy", "aligned.pt", "o_huge"), expect="error", nan="o_huge.npz"),
        dict(name="x, y x 1e305 (finite, > float32)", argv=L("big308.npy", "aligned.pt", "o_big"), expect="error",
             nan="o_big.npz"),
        dict(name="every joint at confidence 0", argv=L("hidden.npy", "aligned.pt", "o_hidden"), expect="warn"),
        dict(name="int64 array (scores 0.9 -> 0)", argv=L("int64.npy", "aligned.pt", "o_int"), expect="warn"),
        dict(name="NaN in the keypoints", argv=L("nan.npy"), expect="error"),
        dict(name="wrong shape (T, 16, 3)", argv=L("shape.npy"), expect="error"),
        dict(name="empty .npy (0 bytes)", argv=L("empty.npy"), expect="error"),
        dict(name="truncated .npy", argv=L("trunc.npy"), expect="error"),
        dict(name="malformed JSON", argv=["lift", "malformed.json", "--checkpoint", "aligned.pt", "--out", "o",
                                          "--width", "1000", "--height", "1000"], expect="error", names="malformed"),
        dict(name="checkpoint with NaN weights", argv=L("clip.npy", "nanweights.pt", "o_nanw"), expect="error",
             nan="o_nanw.npz"),
        dict(name="garbage checkpoint", argv=L("clip.npy", "garbage.pt"), expect="error"),
        dict(name="truncated checkpoint", argv=L("clip.npy", "truncated.pt"), expect="error"),
        dict(name="missing checkpoint", argv=L("clip.npy", "missing.pt"), expect="error"),
        dict(name="OUT.npz is a folder", setup=pre_dir, argv=L("clip.npy", "aligned.pt", "isdir"), expect="error"),
        dict(name="--out under a file", setup=pre_file, argv=L("clip.npy", "aligned.pt", "afile/o"), expect="error"),
        dict(name="--out in an unwritable place (/proc/...)", argv=L("clip.npy", "aligned.pt", "/proc/langpose/o"),
             expect="error"),
        dict(name="disk full while writing OUT (simulated ENOSPC)", python_code=DISK_FULL.format(match="o_full",
             suffix=".npz", after=0), argv=L("clip.npy", "aligned.pt", "o_full"), expect="error"),
        dict(name="--out ''", argv=L("clip.npy", "aligned.pt", ""), expect="error"),
        dict(name="--batch-size 0", argv=L("clip.npy", "aligned.pt", "o_b0", "--batch-size", "0"), expect="error"),
        dict(name="--fps 1e-6", argv=L("clip.npy", "aligned.pt", "o_fps1", "--fps", "1e-6"), expect="error",
             timeout=90),
        dict(name="--fps 0.01", argv=L("clip.npy", "aligned.pt", "o_fps2", "--fps", "0.01"), expect="error",
             timeout=90),
        dict(name="-v after the subcommand", argv=["lift", "-v", "clip.npy", "--checkpoint", "aligned.pt", "--out",
             "o_v", *LIFT_ARGS], expect="ok", nan="o_v.npz"),
        dict(name="long clip (300 frames), --fps 30", argv=L("long.npy", "aligned.pt", "o_long", "--fps", "30"),
             expect="ok", nan="o_long.npz"),
    ]


def train_cases():
    def stale_tmp(ws):
        d = ws / "with_tmp"
        d.mkdir(exist_ok=True)
        (d / ".checkpoint.k3j2x9q1.tmp.pt").write_bytes(b"half a checkpoint")

    def tmp_left(ws, r):
        return "stale .checkpoint.*.tmp.pt kept" if (ws / "with_tmp" / ".checkpoint.k3j2x9q1.tmp.pt").exists() else None

    def empty_dir(name):
        def check(ws, r):
            d = ws / name
            if r["rc"] != 0 and d.is_dir() and not ({p.name for p in d.iterdir()} - {"config.json"}):
                return "failed run left an empty run dir (or only config.json)"
            return None
        return check

    def warn_level(ws, r):
        return None if "WARNING" in r["err"] and "last.pt" in r["err"] else "no WARNING about the missing last.pt"

    def ckpt_intact(ws, r):
        try:
            check = subprocess.run([sys.executable, "-c", "import sys, torch; torch.load(sys.argv[1], "
                                    "weights_only=True)", str(ws / "full" / "checkpoint.pt")], env=RUNNER.env,
                                   capture_output=True, timeout=120)
        except subprocess.TimeoutExpired:
            return "could not check checkpoint.pt"
        return None if check.returncode == 0 else "checkpoint.pt unreadable after the full disk"

    def sigint_hint(ws, r):
        return None if "--resume" in r["err"] else "no hint how to --resume"

    ft = ["finetune", *TINY, "--init", "finished/checkpoint.pt"]
    ev = ["evaluate", "--checkpoint", "finished/checkpoint.pt", "--run-dir"]
    return [
        dict(name="pretrain into a finished run dir", argv=["pretrain", *TINY, "--run-dir", "finished"],
             expect="error", protect=["finished/checkpoint.pt", "finished/last.pt", "finished/metrics.jsonl"]),
        dict(name="--resume on a run dir without last.pt", argv=["pretrain", *TINY, "--run-dir", "fresh", "--resume"],
             expect="ok", check=warn_level),
        dict(name="stale .checkpoint.*.tmp.pt in the run dir (--resume)", setup=stale_tmp,
             argv=["pretrain", *TINY, "--run-dir", "with_tmp", "--resume"], expect="ok", check=tmp_left),
        dict(name="failing run (missing data root)", argv=["pretrain", *TINY, "--set", "data.dataset=h36m", "--set",
             "data.data_root=nowhere", "--run-dir", "failed_run"], expect="error", check=empty_dir("failed_run")),
        *[dict(name=f"--set {s}", argv=["pretrain", *TINY, "--set", s, "--run-dir", f"set_{i}"], expect="error")
          for i, s in enumerate(["optim.lr=abc", "optim.lr=nan", "loss.w_align=abc", "seed=abc",
                                 "optim.grad_clip=abc", "device=tpu", "data.quick=maybe"])],
        dict(name="--preset lite", argv=["pretrain", "--preset", "lite", "--run-dir", "lite"], expect="error"),
        dict(name="finetune --preset small from a tiny --init", argv=["finetune", "--preset", "small", "--set",
             "data.quick=true", "--set", "optim.max_steps=1", "--set", "optim.epochs=1", "--init",
             "finished/checkpoint.pt", "--run-dir", "ft_small"], expect="error", timeout=180),
        dict(name="finetune --init with NaN weights", argv=[*ft[:-1], "nanweights.pt", "--run-dir", "ft_nan"],
             expect="error", nan_metrics="ft_nan"),
        dict(name="finetune --init garbage", argv=[*ft[:-1], "garbage.pt", "--run-dir", "ft_garbage"], expect="error"),
        dict(name="finetune --init truncated", argv=[*ft[:-1], "truncated.pt", "--run-dir", "ft_trunc"],
             expect="error"),
        dict(name="finetune on h36m with a missing npz key", argv=[*ft, "--set", "data.dataset=h36m", "--set",
             "data.data_root=h36m_nokey", "--run-dir", "ft_nokey"], expect="error"),
        dict(name="evaluate, h36m npz without its key (KeyError)", argv=[*ev, "ev1", "--dataset", "h36m",
             "--data-root", "h36m_nokey"], expect="error"),
        dict(name="evaluate, h36m empty npz (EOFError)", argv=[*ev, "ev2", "--dataset", "h36m", "--data-root",
             "h36m_empty"], expect="error"),
        dict(name="evaluate, MotionBERT pickle garbage (UnpicklingError)", argv=[*ev, "ev3", "--dataset",
             "h36m_motionbert", "--data-root", "mb_garbage"], expect="error"),
        dict(name="evaluate, MotionBERT pickle truncated (EOFError)", argv=[*ev, "ev4", "--dataset",
             "h36m_motionbert", "--data-root", "mb_trunc"], expect="error"),
        dict(name="evaluate, MotionBERT pickle with code", argv=[*ev, "ev5", "--dataset", "h36m_motionbert",
             "--data-root", "mb_code"], expect="error", check=code_ran),
        dict(name="evaluate, 3DHP empty npz", argv=[*ev, "ev6", "--dataset", "mpi3dhp", "--data-root", "3dhp_empty"],
             expect="error"),
        dict(name="pretrain, garbage BABEL JSON", argv=["pretrain", *TINY, "--set", "data.dataset=amass_babel",
             "--set", "data.data_root=babel_garbage", "--run-dir", "babel"], expect="error", names="train.json"),
        dict(name="evaluate a NaN-weights checkpoint", argv=["evaluate", "--checkpoint", "nanweights.pt",
             "--run-dir", "ev_nan", "--quick", "--split", "val"], expect="error", nan_results="ev_nan"),
        dict(name="disk full at the 2nd checkpoint save (simulated)", python_code=DISK_FULL.format(match="full",
             suffix=".pt", after=2), argv=["pretrain", "--preset", "tiny", "--set", "data.quick=true", "--set", "optim.epochs=2",
             "--set", "optim.max_steps=2", "--no-progress", "--run-dir", "full"], expect="error", check=ckpt_intact),
        dict(name="SIGINT during pretrain", sigint="sigint", argv=["pretrain", "--preset", "tiny", "--set",
             "data.quick=true", "--set", "optim.epochs=200", "--set", "optim.max_steps=1", "--no-progress",
             "--run-dir", "sigint"], expect="error", check=sigint_hint),
        dict(name="-v after the subcommand", argv=["pretrain", "-v", *TINY, "--run-dir", "verbose"], expect="ok",
             nan_metrics="verbose"),
        dict(name="--run-dir ''", argv=["pretrain", *TINY, "--run-dir", ""], expect="error"),
    ]


API = textwrap.dedent('''
    import json, sys, traceback, warnings
    from pathlib import Path
    import numpy as np, torch
    ws = Path(sys.argv[1])
    cases = json.loads(sys.argv[2])
    results = []
    for name, code in cases:
        res = {"name": name}
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                env = {"np": np, "torch": torch, "ws": ws}
                exec(code, env)
                out = env.get("out")
            res["warned"] = [str(w.message)[:160] for w in caught if issubclass(w.category, RuntimeWarning)]
            arr = out.detach().numpy() if isinstance(out, torch.Tensor) else out
            if isinstance(arr, dict):
                arr = arr.get("poses3d")
            res["nan"] = bool(arr is not None and np.asarray(arr).dtype.kind == "f" and not np.isfinite(arr).all())
        except BaseException as exc:  # noqa: BLE001
            res["exc"] = type(exc).__name__
            res["bases"] = [c.__name__ for c in type(exc).__mro__]
            res["msg"] = str(exc)
            res["where"] = traceback.extract_tb(exc.__traceback__)[-1].filename
        results.append(res)
    print("RESULTS" + json.dumps(results))
''')

MODEL = ("from langpose.checkpoint import load_model\n"
         "m = load_model(ws / 'aligned.pt')\n"
         "g = torch.Generator().manual_seed(0)\n"
         "x = torch.rand(1, 27, 17, 3, generator=g)\n")


def api_cases():
    return [
        dict(name="model.lift(numpy float64)", code=MODEL + "out = m.lift(x.numpy().astype(np.float64))", expect="ok"),
        dict(name="model.lift(T=81 > window 27)", code=MODEL + "out = m.lift(torch.rand(1, 81, 17, 3))",
             expect="error", names="lift_sequence"),
        dict(name="model.lift(int64)", code=MODEL + "out = m.lift(torch.ones(1, 27, 17, 3, dtype=torch.int64))",
             expect="error"),
        dict(name="model.lift with +inf", code=MODEL + "x[0, 3, 2, 0] = float('inf')\nout = m.lift(x)",
             expect="error"),
        dict(name="model.lift with x, y x 1e30", code=MODEL + "x[..., :2] *= 1e30\nout = m.lift(x)", expect="error"),
        dict(name="model.lift with 1e308 (float64 tensor)", code=MODEL + "out = m.lift(torch.full((1, 27, 17, 3), "
             "1e308, dtype=torch.float64))", expect="error"),
        dict(name="model.lift, every joint hidden", code=MODEL + "x[..., 2] = 0\nout = m.lift(x)", expect="warn"),
        dict(name="model.classify, no vocabulary (w_align=0)", code="from langpose.checkpoint import load_model\n"
             "out = load_model(ws / 'noalign.pt').classify(torch.rand(1, 27, 17, 3))", expect="error"),
        dict(name="load_model, NaN weights", code="from langpose.checkpoint import load_model\n"
             "m = load_model(ws / 'nanweights.pt')\nout = m.lift(torch.rand(1, 27, 17, 3))", expect="error"),
        dict(name="lift_sequence, a model that returns NaN", code="from langpose.lift import lift_sequence\n"
             "class M(torch.nn.Module):\n    def lift(self, x):\n        return x * float('nan')\n"
             "out = lift_sequence(M(), np.random.rand(40, 17, 3), window=27)", expect="error"),
        dict(name="lift_file, no-alignment checkpoint", code="from langpose.lift import lift_file\n"
             "out = lift_file(ws / 'clip.npy', ws / 'noalign.pt', layout='h36m', width=1000, height=1000, "
             "verbose=False)", expect="ok"),
        dict(name="checkpoint.save on a full disk (simulated)", code="import builtins, errno\n"
             "import langpose.atomic as atomic\nfrom langpose.checkpoint import save, load\n"
             "from langpose.models import build_model\nfrom langpose.train import train_config\n"
             "cfg = train_config('tiny')\nm = build_model(cfg.model)\nsave(ws / 'api_full.pt', m, cfg, [])\n"
             "class F:\n    def __init__(s, fh): s.fh = fh\n"
             "    def write(s, b): raise OSError(errno.ENOSPC, 'No space left on device')\n"
             "    def __getattr__(s, n): return getattr(s.fh, n)\n    def __enter__(s): return s\n"
             "    def __exit__(s, *a): return s.fh.__exit__(*a)\n"
             "atomic.open = lambda *a, **k: F(builtins.open(*a, **k))\n"
             "try:\n    save(ws / 'api_full.pt', m, cfg, [])\n"
             "finally:\n    atomic.open = builtins.open\n    load(ws / 'api_full.pt')", expect="error",
             names="disk full"),
    ]


def views_cases():
    def lv(name, root, **kw):
        extra = "".join(f", {k}={v!r}" for k, v in kw.items())
        return f"from langpose.data.registry import load_views\nout = load_views({name!r}, 'test', ws / {root!r}{extra})"

    return [
        dict(name="unknown dataset", code="from langpose.data.registry import load_views\nout = load_views('h37m')",
             expect="error", names="h37m"),
        dict(name="h36m, missing data root", code=lv("h36m", "nowhere"), expect="error", names="nowhere"),
        dict(name="h36m, npz without positions_3d", code=lv("h36m", "h36m_nokey"), expect="error",
             names="data_3d_h36m.npz"),
        dict(name="h36m, empty npz files", code=lv("h36m", "h36m_empty"), expect="error", names="data_3d_h36m.npz"),
        dict(name="MotionBERT pickle, garbage", code=lv("h36m_motionbert", "mb_garbage"), expect="error",
             names="h36m_sh_conf_cam_source_final.pkl"),
        dict(name="MotionBERT pickle, truncated", code=lv("h36m_motionbert", "mb_trunc"), expect="error",
             names="h36m_sh_conf_cam_source_final.pkl"),
        dict(name="MotionBERT pickle with code (os.system)", code=lv("h36m_motionbert", "mb_code"), expect="error",
             names="h36m_sh_conf_cam_source_final.pkl", check=code_ran),
        dict(name="3DHP, empty npz files", code=lv("mpi3dhp", "3dhp_empty"), expect="error", names="3dhp.npz"),
        dict(name="AMASS+BABEL, garbage JSON", code="from langpose.data.registry import load_views\n"
             "out = load_views('amass_babel', 'train', ws / 'babel_garbage')", expect="error", names="train.json"),
    ]


# ----------------------------------------------------------------------------- classification
def classify_cli(case, r, ws: Path) -> tuple[str, str]:
    err = r["err"]
    lines = [ln for ln in err.splitlines() if ln.startswith("langpose")]
    note = (lines[-1] if lines else err.strip().splitlines()[-1] if err.strip() else "")[:200]
    problems = []
    for rel, before in case.get("_hashes", {}).items():
        if sha(ws / rel) != before:
            problems.append(f"{rel} changed or lost")
    if case.get("check"):
        p = case["check"](ws, r)
        if p:
            problems.append(p)
    if any("code ran" in p for p in problems):
        return "lost", "; ".join(problems)
    if r["timeout"]:
        return "other", f"hung past {r['seconds']} s"
    if "Traceback" in err:
        return "traceback", note
    nan = None
    if r["rc"] == 0 and case.get("nan") and (ws / case["nan"]).exists():
        nan = _npz_nan(ws / case["nan"])
    if r["rc"] == 0 and case.get("nan_metrics"):
        nan = _metrics_nan(ws / case["nan_metrics"] / "metrics.jsonl")
    if r["rc"] == 0 and case.get("nan_results"):
        nan = _metrics_nan(ws / case["nan_results"] / "results.json")
    if nan:
        return "nan", nan
    if any("changed or lost" in p or "code ran" in p for p in problems):
        return "lost", "; ".join(problems)
    if problems and r["rc"] in (0, 3) and case["expect"] != "error":
        return "lost" if "stale" in problems[0] or "empty" in problems[0] else "other", "; ".join(problems)
    if case["expect"] == "error":
        if r["rc"] == 0:
            return "other", "accepted silently (exit 0)"
        if len(lines) == 1 and not problems:
            if case.get("names") and case["names"] not in lines[0]:
                return "other", f"unclear: does not name {case['names']}: {note}"
            return "clean", note
        if problems:
            return ("lost" if "empty" in problems[0] else "other"), "; ".join(problems) + f" ({note})"
        return "other", f"unclear ({len(err.splitlines())} lines, exit {r['rc']}): {note}"
    if case["expect"] == "warn":
        warned = any("warning" in ln for ln in lines)
        if warned and r["rc"] not in (0, None):
            return "ok", f"exit {r['rc']}: {note}"
        return "other", f"no warning (exit {r['rc']})"
    if r["rc"] == 0 and not problems:
        return "ok", (r["out"].strip().splitlines() or [""])[-1][:200]
    return "other", f"exit {r['rc']}: {'; '.join(problems) or note}"


def _npz_nan(path: Path) -> str | None:
    import numpy as np

    try:
        with np.load(path) as f:
            for key in ("poses3d", "top_probs", "action_probs"):
                if key in f.files and f[key].dtype.kind == "f" and not np.isfinite(f[key]).all():
                    return f"exit 0 with NaN/inf in {key}"
    except Exception as exc:  # noqa: BLE001
        return f"unreadable output ({exc})"
    return None


def _metrics_nan(path: Path) -> str | None:
    import math

    if not path.exists():
        return None
    text = path.read_text()
    recs = [json.loads(ln) for ln in text.splitlines() if ln.strip()] if path.suffix == ".jsonl" else [json.loads(text)]
    for rec in recs:
        for k, v in rec.items():
            if isinstance(v, float) and not math.isfinite(v):
                return f"exit 0 with {k} = {v}"
    return None


def classify_api(case, res, ws: Path) -> tuple[str, str]:
    problem = case["check"](ws, res) if case.get("check") else None
    if problem:
        return "lost", problem
    if "exc" in res:
        msg = res["msg"].strip()
        note = f"{res['exc']}: {msg.splitlines()[0] if msg else ''}"[:200]
        if case["expect"] != "error":
            return ("other" if set(res.get("bases", [])) & set(API_CLEAN) else "traceback"), note
        if not set(res.get("bases", [res["exc"]])) & set(API_CLEAN):
            return "traceback", note + f" (raised in {Path(res['where']).name})"
        if len(msg.splitlines()) != 1:
            return "other", "unclear (multi-line): " + note
        if case.get("names") and case["names"] not in msg:
            return "other", f"unclear: does not name {case['names']}: {note}"
        return "clean", note
    if res.get("nan"):
        return "nan", "returned NaN/inf"
    if case["expect"] == "error":
        return "other", "accepted silently"
    if case["expect"] == "warn":
        return ("ok", "warned: " + res["warned"][0][:150]) if res.get("warned") else ("other", "no warning")
    return "ok", "returned"


# ----------------------------------------------------------------------------- driver
def run_all(runner: Runner, only: set[str], log) -> list[dict]:
    ws = runner.ws
    rows = []
    groups = [("lift", "`langpose lift`", lift_cases), ("train", "`langpose pretrain/finetune/evaluate`",
                                                          train_cases)]
    for key, entry, make in groups:
        if key not in only:
            continue
        for case in make():
            if case.get("setup"):
                case["setup"](ws)
            case["_hashes"] = {rel: sha(ws / rel) for rel in case.get("protect", [])}
            if case.get("sigint"):
                r = runner.interrupt_training(case["argv"], ws / case["argv"][-1])
            else:
                r = runner.run(case["argv"], timeout=case.get("timeout", 120), python_code=case.get("python_code"))
            outcome, note = classify_cli(case, r, ws)
            rows.append({"entry": entry, "case": case["name"], "expect": case["expect"], "outcome": outcome,
                         "rc": r["rc"], "seconds": r["seconds"], "note": note})
            log(rows[-1])
    for key, entry, make in (("api", "Python API", api_cases), ("views", "`load_views`", views_cases)):
        if key not in only:
            continue
        cases = make()
        r = runner.run([str(ws), json.dumps([[c["name"], c["code"]] for c in cases])], python_code=API, timeout=600)
        marker = [ln for ln in r["out"].splitlines() if ln.startswith("RESULTS")]
        if not marker:
            raise SystemExit(f"API worker failed:\n{r['err'][-3000:]}")
        for case, res in zip(cases, json.loads(marker[0][len("RESULTS"):])):
            outcome, note = classify_api(case, res, ws)
            rows.append({"entry": entry, "case": case["name"], "expect": case["expect"], "outcome": outcome,
                         "rc": None, "seconds": None, "note": note})
            log(rows[-1])
    return rows


def tables(rows: list[dict], label: str) -> str:
    entries = list(dict.fromkeys(r["entry"] for r in rows))
    head = ("| entry point | inputs tried | clean one-line errors | correct results | tracebacks | "
            "NaN with exit 0 | data lost / stale | other (silent, hung, unclear) |")
    out = [f"### {label}", "", head, "|" + "---|" * 8]
    total = {c: 0 for c in COLUMNS}
    for e in entries:
        sub = [r for r in rows if r["entry"] == e]
        n = {c: sum(r["outcome"] == c for r in sub) for c in COLUMNS}
        for c in COLUMNS:
            total[c] += n[c]
        out.append(f"| {e} | {len(sub)} | {n['clean']} | {n['ok']} | {n['traceback']} | {n['nan']} | {n['lost']} | "
                   f"{n['other']} |")
    out.append(f"| **all** | **{len(rows)}** | **{total['clean']}** | **{total['ok']}** | **{total['traceback']}** | "
               f"**{total['nan']}** | **{total['lost']}** | **{total['other']}** |")
    out += ["", "<details><summary>every case</summary>", "", "| entry point | input | expected | outcome | exit | "
            "what it said |", "|---|---|---|---|---|---|"]
    for r in rows:
        note = r["note"].replace("|", "\\|").replace("\n", " ")
        out.append(f"| {r['entry']} | {r['case']} | {r['expect']} | **{r['outcome']}** | "
                   f"{'' if r['rc'] is None else r['rc']} | {note} |")
    out += ["", "</details>", ""]
    return "\n".join(out)


RUNNER: Runner


def main(argv=None) -> int:
    global RUNNER
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", default=str(REPO), help="folder holding the langpose package to test")
    ap.add_argument("--label", default=None, help="heading of the table (default: the tree's git commit)")
    ap.add_argument("--out", default=None, help="also write the markdown here")
    ap.add_argument("--only", default="lift,train,api,views")
    ap.add_argument("--keep", action="store_true", help="keep the workspace")
    args = ap.parse_args(argv)
    tree = Path(args.tree).resolve()
    label = args.label
    if label is None:
        rev = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        label = f"langpose at {rev.stdout.strip() or tree}"
    ws = Path(tempfile.mkdtemp(prefix="langpose-faults-"))
    RUNNER = Runner(tree, ws)
    t0 = time.time()
    try:
        setup(RUNNER)
        rows = run_all(RUNNER, set(args.only.split(",")), lambda r: print(
            f"  [{r['outcome']:9s}] {r['entry']}: {r['case']} -> {r['note'][:110]}", file=sys.stderr, flush=True))
    finally:
        if not args.keep:
            shutil.rmtree(ws, ignore_errors=True)
    text = tables(rows, label) + f"\n({len(rows)} cases in {time.time() - t0:.0f} s)\n"
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
