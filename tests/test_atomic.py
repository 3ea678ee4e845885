import os

import pytest

from langpose.atomic import atomic_path, atomic_write


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with atomic_write(target, "w") as fh:
        fh.write("first")
    assert target.read_text() == "first"
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(target, "w") as fh:
            fh.write("half-writ")
            raise RuntimeError("boom")
    assert target.read_text() == "first"  # the old content survives
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]  # no temp file left


def test_atomic_path_keeps_suffix_and_permissions(tmp_path):
    target = tmp_path / "fig.png"
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path
        tmp.write_bytes(b"png")
    assert target.read_bytes() == b"png"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_atomic_write_rejects_read_modes(tmp_path):
    with pytest.raises(ValueError, match="mode must write"):
        with atomic_write(tmp_path / "x", "rb"):
            pass
