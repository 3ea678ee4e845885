"""Test-session environment: offline, headless, caches in a temp dir, one thread per op."""
import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")
# Keep generated data and text-embedding caches out of the user's ~/.cache; shared by
# the whole session (and by the notebook kernels, which inherit the environment).
if "LANGPOSE_DATA" not in os.environ:
    os.environ["LANGPOSE_DATA"] = tempfile.mkdtemp(prefix="langpose-test-data-")

import torch  # noqa: E402

torch.set_num_threads(min(2, os.cpu_count() or 1))
