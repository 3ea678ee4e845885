"""Test-session environment: offline, headless, caches in a temp dir, one thread per op."""
import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")
# Widgets print into the cell instead of capturing into Output widgets (see langpose.viz.widgets).
os.environ.setdefault("LANGPOSE_HEADLESS", "1")
# Keep generated data and text-embedding caches out of the user's ~/.cache; shared by
# the whole session (and by the notebook kernels, which inherit the environment).
if "LANGPOSE_DATA" not in os.environ:
    os.environ["LANGPOSE_DATA"] = tempfile.mkdtemp(prefix="langpose-test-data-")

# Tiny test models are dominated by per-op overhead: one thread is several times faster
# than two on a 2-core machine (and the notebook kernels inherit OMP_NUM_THREADS).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)
