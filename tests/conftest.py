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


def isolate_text_encoders(tmp_path, monkeypatch):
    """No real CLIP weights (~/.cache/clip, $LANGPOSE_CLIP_PATH), the embedding cache under tmp."""
    from langpose import text

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv(text.CLIP_ENV, raising=False)
    monkeypatch.setenv("LANGPOSE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def save_tiny_clip(path, embed_dim: int):
    """A randomly initialised tiny CLIP (``embed_dim``-d text embedding) saved as a state dict at ``path``."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pkg_resources", category=UserWarning)
        from clip.model import CLIP

    torch.manual_seed(0)
    model = CLIP(embed_dim=embed_dim, image_resolution=32, vision_layers=1, vision_width=64, vision_patch_size=16,
                 context_length=77, vocab_size=49408, transformer_width=64, transformer_heads=1, transformer_layers=1)
    torch.save(model.state_dict(), path)
    return path


def simulate_full_disk(monkeypatch, after_bytes: int = 0) -> None:
    """Make ``langpose.atomic``'s writes fail with ENOSPC once ``after_bytes`` bytes are written."""
    import builtins
    import errno

    from langpose import atomic

    class Full:
        def __init__(self, fh):
            self.fh, self.n = fh, 0

        def write(self, b):
            self.n += len(b)
            if self.n > after_bytes:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.fh.write(b)

        def __getattr__(self, name):
            return getattr(self.fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return self.fh.__exit__(*a)

    monkeypatch.setattr(atomic, "open", lambda *a, **k: Full(builtins.open(*a, **k)), raising=False)


def tiny_vocab_model():
    """A seeded untrained tiny LangPoseModel (16-d text space) with a 4-label random vocabulary, eval mode."""
    from langpose.models import LangPoseModel, model_config

    torch.manual_seed(0)
    m = LangPoseModel(model_config("tiny", embed_dim=16)).eval()
    g = torch.Generator().manual_seed(1)
    vocab = ["wave the left hand", "wave the right hand", "walk forward", "jump in place"]
    m.set_vocab(vocab, torch.nn.functional.normalize(torch.randn(4, 16, generator=g), dim=-1))
    return m
