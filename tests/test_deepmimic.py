"""The real DeepMimic clips: counts, resampling, rigidity, size, grounding, sides, labels."""
import json
import math
import sys
import time

import numpy as np
import pytest

from langpose.data import deepmimic as dm
from langpose.data.sequence import Sequence
from langpose.skeleton import H36M

pytest.importorskip("pybullet")

SCALE = 1.70 / dm.NATIVE_STATURE


@pytest.fixture(scope="module")
def clips():
    t0 = time.perf_counter()
    seqs = dm.load_clips()
    elapsed = time.perf_counter() - t0
    assert elapsed < 10.0, f"FK of all clips took {elapsed:.1f} s"
    return {s.meta["clip"]: s for s in seqs}


def test_fifteen_labelled_clips(clips):
    assert list(clips) == list(dm.CLIP_NAMES) and len(clips) == 15
    vocab = tuple(dm.DEEPMIMIC_LABELS[n] for n in dm.CLIP_NAMES)
    assert len(set(vocab)) == 15
    for name, s in clips.items():
        assert isinstance(s, Sequence)
        assert s.subject == "deepmimic" and s.name == f"deepmimic_{name}" and s.fps == 50.0
        assert s.vocab == vocab
        assert s.joints3d.shape == (len(s), 17, 3) and np.isfinite(s.joints3d).all()
        assert set(s.label_texts) == {dm.DEEPMIMIC_LABELS[name]}
        assert s.meta["test_only"] is True
    assert clips["kick"].label_texts[0] == "kick with the right leg"
    assert clips["punch"].label_texts[0] == "punch with the right hand"


def test_frame_counts_match_durations(clips):
    assert sum(s.meta["source_frames"] for s in clips.values()) == 1620
    total = 0.0
    for name, s in clips.items():
        frames = dm.read_motion(dm.motion_dir() / f"humanoid3d_{name}.txt")
        duration = frames[:-1, 0].sum()
        assert s.meta["duration_s"] == pytest.approx(duration)
        assert len(s) == math.floor(duration * 50 + 1e-6) + 1
        total += duration
    assert total == pytest.approx(33.565, abs=0.01)
    assert sum(len(s) for s in clips.values()) == 1684
    assert len(clips["walk"]) == 64 and len(clips["backflip"]) == 88  # 1.2666 s, 1.75 s


def test_bones_are_rigid_and_match_the_urdf(clips):
    worst = max(H36M.bone_lengths(s.joints3d).std(axis=0).max() for s in clips.values())
    assert worst < 1e-3  # measured: 1e-4 mm (float32 rounding); the FK is rigid even through slerp
    bones = dict(zip(H36M.bones, H36M.bone_lengths(clips["walk"].joints3d[0])))
    # URDF joint origins x globalScaling 0.25 x stature rescale
    assert bones[(1, 2)] == pytest.approx(1.686184 * 0.25 * SCALE, abs=1e-4)  # thigh
    assert bones[(2, 3)] == pytest.approx(1.639480 * 0.25 * SCALE, abs=1e-4)  # shank
    assert bones[(0, 7)] == pytest.approx(0.944604 * 0.25 * SCALE, abs=1e-4)  # root-chest
    assert bones[(15, 16)] == pytest.approx(1.035788 * 0.25 * SCALE, abs=1e-4)  # forearm
    assert bones[(0, 4)] == pytest.approx(0.339548 * 0.25 * SCALE, abs=1e-4)  # hip offset


def test_stature_scales_about_the_floor(clips):
    native = {s.meta["clip"]: s for s in dm.load_clips(stature=None)}
    a, b = native["walk"].joints3d, clips["walk"].joints3d
    assert np.allclose(b[..., 2], a[..., 2] * SCALE, atol=1e-5)
    assert np.allclose(b[..., :2], a[..., :2] * SCALE, atol=1e-5)


def test_standing_heights_and_feet_on_the_floor(clips):
    walk = clips["walk"].joints3d
    head = walk[:, 10, 2]
    assert 1.55 < head.min() and head.max() < 1.70  # measured 1.62 m for a 1.70 m person
    assert 0.85 < np.median(walk[:, 0, 2]) < 0.95  # pelvis
    lower_ankle = np.minimum(walk[:, 3, 2], walk[:, 6, 2])
    assert 0.03 < lower_ankle.min() and lower_ankle.max() < 0.10  # a foot is always down
    assert np.allclose(walk[0, 0, :2], 0.0)  # first-frame pelvis above the origin
    for name in ("walk", "run", "dance_b", "punch", "spin"):
        assert 1.35 < np.median(clips[name].joints3d[:, 10, 2]) < 1.75, name
    # the floor stays at z = 0: nothing (but a little mocap penetration) goes below it
    for s in clips.values():
        assert s.joints3d[..., 2].min() > -0.06, s.name
    # lying clips start with the pelvis near the floor (face down the head is propped up)
    assert clips["getup_faceup"].joints3d[0, 0, 2] < 0.2 and clips["getup_faceup"].joints3d[0, 10, 2] < 0.2
    assert clips["getup_facedown"].joints3d[0, 0, 2] < 0.2
    assert clips["getup_facedown"].joints3d[-1, 10, 2] > 1.4  # and end standing


def test_left_is_left_of_the_walking_direction(clips):
    j = clips["walk"].joints3d
    direction = j[-1, 0] - j[0, 0]
    direction[2] = 0
    assert np.linalg.norm(direction) > 1.0  # walks 1.29 m
    left_of_walk = np.cross([0.0, 0.0, 1.0], direction / np.linalg.norm(direction))
    hips = j[:, 4] - j[:, 1]  # right hip -> left hip, (T, 3)
    assert (hips @ left_of_walk > 0.15).all()
    shoulders = j[:, 11] - j[:, 14]
    assert (shoulders @ left_of_walk > 0.25).all()
    # the head is above the pelvis and in front of nothing odd: nose in front of the thorax
    assert ((j[:, 9] - j[:, 8]) @ (direction / np.linalg.norm(direction)) > 0).all()


def test_label_sides_match_the_motion(clips):
    kick = clips["kick"].joints3d
    assert kick[:, 3, 2].max() > 1.2 and kick[:, 6, 2].max() < 0.2
    punch = clips["punch"].joints3d
    reach_r = np.linalg.norm(punch[:, 16] - punch[:, 14], axis=-1)
    reach_l = np.linalg.norm(punch[:, 13] - punch[:, 11], axis=-1)
    assert reach_r.max() > 0.55 and reach_l.max() < 0.51


def test_resample_slerps_pose_parameters():
    q = np.array([1.0, 0.0, 0.0, 0.0])
    q90 = np.array([math.cos(math.pi / 4), 0.0, 0.0, math.sin(math.pi / 4)])  # 90 deg about z
    joints = [q if dof == 4 else [0.0] for _, dof in dm._MOTION_JOINTS]
    row0 = np.concatenate([[0.1, 0.0, 1.0, 0.0], q] + [np.asarray(v) for v in joints])  # (44,)
    row1 = row0.copy()
    row1[1] = 1.0  # root x 0 -> 1 m
    row1[4:8] = q90  # root quaternion
    row1[20] = 1.0  # right knee (after chest 8:12, neck 12:16, right hip 16:20): 0 -> 1 rad
    out = dm.resample_frames(np.stack([row0, row1]), fps=50.0)
    assert out.shape == (6, 44)  # floor(0.1 * 50) + 1
    assert np.allclose(out[:, 0], 0.02)
    assert np.allclose(out[:, 1], np.linspace(0, 1, 6))
    half = out[3]  # t = 0.06 s: u = 0.6
    assert 2 * math.atan2(half[7], half[4]) == pytest.approx(0.6 * math.pi / 2)  # slerp angle
    assert half[20] == pytest.approx(0.6)  # hinge: linear
    assert np.linalg.norm(out[:, 4:8], axis=-1) == pytest.approx(np.ones(6))


def test_read_motion_rejects_bad_files(tmp_path):
    bad = tmp_path / "humanoid3d_bad.txt"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="cannot read JSON"):
        dm.read_motion(bad)
    bad.write_text(json.dumps({"Frames": [[0.1] * 43, [0.1] * 43]}))
    with pytest.raises(ValueError, match=r"'Frames' must be \(N >= 2, 44\)"):
        dm.read_motion(bad)


def test_cached_but_returns_fresh_arrays(clips):
    t0 = time.perf_counter()
    again = dm.load_clips()
    assert time.perf_counter() - t0 < 0.5
    again[0].joints3d[:] = 0
    assert np.abs(dm.load_clips()[0].joints3d).max() > 0.5


def test_missing_pybullet_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "pybullet", None)
    with pytest.raises(ImportError, match="pip install pybullet"):
        dm.load_clips()
    with pytest.raises(ImportError, match="pip install pybullet"):
        dm.motion_dir()


def test_other_frame_rates_sample_the_same_motion(clips):
    slow = {s.meta["clip"]: s for s in dm.load_clips(fps=25.0)}
    walk25, walk50 = slow["walk"], clips["walk"]
    assert walk25.fps == 25.0 and len(walk25) == math.floor(walk50.meta["duration_s"] * 25 + 1e-6) + 1 == 32
    assert np.allclose(walk25.joints3d, walk50.joints3d[::2][:32], atol=1e-5)  # t = k/25 = 2k/50
    with pytest.raises(ValueError, match="fps must be positive"):
        dm.load_clips(fps=0)
