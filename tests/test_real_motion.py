"""Real motion loaders: the BVH reader (assimp clips), the holosoma clips, the shared resampler.

Tiny files are written here in each published layout (BVH text with the CMU/cgspeed and the
boxing skeletons; holosoma's climb ``.npy`` and OMOMO ``.pt`` with the real shapes); the real
files are checked when installed (skipped otherwise). ``01_01.bvh`` is never opened.
"""
from pathlib import Path

import numpy as np
import pytest
import torch

from langpose.data import bvh as B
from langpose.data import holosoma as H
from langpose.data.registry import load_sequences, load_views
from langpose.data.resample import frame_times, resample_linear, sample_grid, slerp
from langpose.data.sequence import Sequence
from langpose.skeleton import H36M

PARENTS = [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15]


# ---------------------------------------------------------------------------- BVH writing helpers
def bvh_text(joints, motion, frame_time) -> str:
    """joints: [(name, parent or None, offset, channels)], End Sites named 'End' with their parent."""
    children: dict = {}
    for j in joints:
        children.setdefault(j[1], []).append(j)
    lines = ["HIERARCHY"]

    def emit(j, depth, root=False):
        name, _, off, chans = j
        pad = "\t" * depth
        if name.endswith("End"):
            lines.extend([f"{pad}End Site", f"{pad}{{", f"{pad}\tOFFSET {off[0]} {off[1]} {off[2]}", f"{pad}}}"])
            return
        lines.extend([f"{pad}{'ROOT' if root else 'JOINT'} {name}", f"{pad}{{",
                      f"{pad}\tOFFSET {off[0]} {off[1]} {off[2]}", f"{pad}\tCHANNELS {len(chans)} {' '.join(chans)}"])
        for c in children.get(name, []):
            emit(c, depth + 1)
        lines.append(f"{pad}}}")

    emit(children[None][0], 0, root=True)
    lines += ["MOTION", f"Frames: {len(motion)}", f"Frame Time: {frame_time}"]
    lines += [" ".join(f"{v:.6f}" for v in row) for row in motion]
    return "\n".join(lines) + "\n"


ZYX = ("Zrotation", "Yrotation", "Xrotation")
ROOT6 = ("Xposition", "Yposition", "Zposition") + ZYX


def cmu_joints():
    """The cgspeed CMU skeleton (its published offsets), without the finger and thumb joints."""
    j = [("Hips", None, (0, 0, 0), ROOT6)]
    for s, x in (("L", 1), ("R", -1)):
        side = "Left" if s == "L" else "Right"
        j += [(f"{s}HipJoint", "Hips", (0, 0, 0), ZYX),
              (f"{side}UpLeg", f"{s}HipJoint", (1.36 * x, -1.79, 0.84), ZYX),
              (f"{side}Leg", f"{side}UpLeg", (2.45 * x, -6.73, 0), ZYX),
              (f"{side}Foot", f"{side}Leg", (2.56 * x, -7.04, 0), ZYX),
              (f"{side}ToeBase", f"{side}Foot", (0.16 * x, -0.43, 2.32), ZYX),
              (f"{side}ToeBaseEnd", f"{side}ToeBase", (0, 0, 1.19), ())]
    j += [("LowerBack", "Hips", (0, 0, 0), ZYX), ("Spine", "LowerBack", (0.03, 2.04, -0.19), ZYX),
          ("Spine1", "Spine", (0.06, 2.05, -0.04), ZYX), ("Neck", "Spine1", (0, 0, 0), ZYX),
          ("Neck1", "Neck", (-0.05, 1.75, 0.17), ZYX), ("Head", "Neck1", (0.10, 1.76, -0.12), ZYX),
          ("HeadEnd", "Head", (0.04, 1.77, -0.06), ())]
    for side, x in (("Left", 1), ("Right", -1)):
        j += [(f"{side}Shoulder", "Spine1", (0, 0, 0), ZYX), (f"{side}Arm", f"{side}Shoulder", (3.36 * x, 1.20, -0.31), ZYX),
              (f"{side}ForeArm", f"{side}Arm", (4.98 * x, 0, 0), ZYX), (f"{side}Hand", f"{side}ForeArm", (3.48 * x, 0, 0), ZYX),
              (f"{side}HandEnd", f"{side}Hand", (0.7 * x, 0, 0), ())]
    return j


ZXY = ("Zrotation", "Xrotation", "Yrotation")


def boxing_joints():
    """The 21-joint boxing skeleton of assimp's Boxing_Toes.bvh (centimetres, its published offsets)."""
    j = [("Hips", None, (0, 0, 0), ("Xposition", "Yposition", "Zposition") + ZXY),
         ("Ab", "Hips", (0, 8.2683, 0), ZXY), ("Chest", "Ab", (0, 22.417377, 0), ZXY),
         ("Neck", "Chest", (0, 22.417377, 0), ZXY), ("Head", "Neck", (0, 11, 0), ZXY), ("HeadEnd", "Head", (0, 17, 0), ())]
    for side, x in (("Left", 1), ("Right", -1)):
        j += [(f"{side}Collar", "Chest", (0, 22.417377, 0), ZXY), (f"{side}Shoulder", f"{side}Collar", (20 * x, 0, 0), ZXY),
              (f"{side}Elbow", f"{side}Shoulder", (25.590265 * x, 0, 0), ZXY),
              (f"{side}Wrist", f"{side}Elbow", (23.45179 * x, 0, 0), ZXY), (f"{side}WristEnd", f"{side}Wrist", (15 * x, 0, 0), ())]
    for side, x in (("Left", 1), ("Right", -1)):
        j += [(f"{side}Hip", "Hips", (12 * x, 0, 0), ZXY), (f"{side}Knee", f"{side}Hip", (0, -42.224018, 0), ZXY),
              (f"{side}Ankle", f"{side}Knee", (0, -43.430279, 0), ZXY), (f"{side}Toes", f"{side}Ankle", (0, -6.5, 15), ZXY),
              (f"{side}ToesEnd", f"{side}Toes", (0, 0, 10), ())]
    return j


def n_channels(joints):
    return sum(len(j[3]) for j in joints)


def write_clip(path, joints, frames, fps, root_height, seed=0, amplitude=20.0):
    """A BVH clip of ``frames`` frames: the root walking forward (+z), small random joint rotations."""
    rng = np.random.default_rng(seed)
    motion = rng.uniform(-amplitude, amplitude, size=(frames, n_channels(joints)))
    motion[:, :3] = 0.0
    motion[:, 1] = root_height
    motion[:, 2] = np.linspace(0, 10, frames)
    motion[:, 3:6] = 0.0  # root upright
    Path(path).write_text(bvh_text(joints, motion, 1.0 / fps))
    return motion


TINY = """HIERARCHY
ROOT Root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Child
  {
    OFFSET 0 0 1
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 2 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.1
1 2 3 90 90 0 0 0 0
1 2 3 0 0 0 0 0 90
"""


# ---------------------------------------------------------------------------- BVH reader
def test_parse_hierarchy_and_motion():
    b = B.parse_bvh(TINY)
    assert b.names == ["Root", "Child", "Child_End"]
    assert b.parents.tolist() == [-1, 0, 1]
    assert b.channels[0] == ("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")
    assert b.channels[2] == ()
    np.testing.assert_allclose(b.offsets, [[0, 0, 0], [0, 0, 1], [0, 2, 0]])
    assert b.motion.shape == (2, 9) and b.frame_time == 0.1 and b.num_frames == 2
    assert abs(b.fps - 10.0) < 1e-9


def test_fk_channel_order_by_hand():
    pos = B.forward_kinematics(B.parse_bvh(TINY))  # (2, 3, 3)
    # frame 0: R_root = Rz(90) @ Rx(90); child offset (0, 0, 1): Rx(90) -> (0, -1, 0); Rz(90) -> (1, 0, 0)
    np.testing.assert_allclose(pos[0, 0], [1, 2, 3], atol=1e-12)
    np.testing.assert_allclose(pos[0, 1], [2, 2, 3], atol=1e-12)
    # the end site: R_child = R_root (child channels 0): (0, 2, 0) -> Rx(90) (0, 0, 2) -> Rz(90) (0, 0, 2)
    np.testing.assert_allclose(pos[0, 2], [2, 2, 5], atol=1e-12)
    # frame 1: root unrotated, child Yrotation 90: end site (0, 2, 0) unchanged by a rotation about y
    np.testing.assert_allclose(pos[1, 1], [1, 2, 4], atol=1e-12)
    np.testing.assert_allclose(pos[1, 2], [1, 4, 4], atol=1e-12)
    # the reverse order (Rx @ Rz) would put the child at (1, 2, 3) + (0, -1, 0), so the order matters
    R = B.euler_matrices([90, 90], "ZX")
    np.testing.assert_allclose(R @ [0, 0, 1], [1, 0, 0], atol=1e-12)


def test_euler_matrices_are_rotations():
    R = B.euler_matrices(np.random.default_rng(0).uniform(-180, 180, (50, 3)), "ZXY")
    np.testing.assert_allclose(R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-12)


def test_resampling_slerps_rotations_and_keeps_bones(tmp_path):
    text = TINY.replace("1 2 3 90 90 0 0 0 0\n1 2 3 0 0 0 0 0 90", "0 0 0 0 0 0 0 0 0\n2 0 0 90 0 0 0 0 0")
    b = B.parse_bvh(text)  # 2 frames at 10 fps: root x 0 -> 2, Zrotation 0 -> 90
    pos = B.forward_kinematics(b, fps=20.0)  # frames at 0, 0.05, 0.1 s
    assert pos.shape == (3, 3, 3)
    np.testing.assert_allclose(pos[1, 0], [1, 0, 0], atol=1e-12)  # position: linear
    # rotation: slerp to 45 deg about z; the end site (0, 2, 1) from the root -> rotated about z by 45
    c = np.cos(np.pi / 4)
    np.testing.assert_allclose(pos[1, 2] - pos[1, 0], [-2 * c, 2 * c, 1], atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(pos[:, 2] - pos[:, 1], axis=-1), 2.0, atol=1e-12)


@pytest.mark.parametrize("bad, match", [
    ("HIERARCHY\nROOT A\n{\n OFFSET 0 0 0\n CHANNELS 1 Wrotation\n}\nMOTION\nFrames: 1\nFrame Time: 0.1\n0\n",
     "unknown channel"),
    ("HIERARCHY\nROOT A\n{\n OFFSET 0 0\n}\nMOTION\nFrames: 1\nFrame Time: 0.1\n", "line 5: OFFSET of A must be a number"),
    (TINY.replace("MOTION", "MOTON"), "no MOTION section"),
    (TINY.replace("1 2 3 0 0 0 0 0 90", "1 2 3 0 0 0 0 0"), "MOTION has 17 numbers, expected Frames 2 x 9"),
    (TINY.replace("Frames: 2", "Frames: x"), "bad 'Frames: x'"),
    (TINY.replace("1 2 3 90", "1 2 3 nan"), "frame 0 has NaN"),
])
def test_malformed_bvh_is_named(bad, match):
    with pytest.raises(B.BVHFormatError, match=match):
        B.parse_bvh(bad, source="clip.bvh")


def test_reserved_clip_is_refused_by_name_without_opening(tmp_path):
    missing = tmp_path / "01_01.bvh"  # never created: the refusal comes before any file access
    with pytest.raises(PermissionError, match="reserved"):
        B.read_bvh(missing)
    assert "01_01" not in B.ASSIMP_CLIPS and "01_01.bvh" in B.RESERVED


@pytest.mark.parametrize("layout, fps, height", [("cmu", 120, 17.8), ("boxing", 100, 92.0)])
def test_rig_mapping_on_published_layouts(tmp_path, layout, fps, height):
    joints = cmu_joints() if layout == "cmu" else boxing_joints()
    path = tmp_path / f"clip_{layout}.bvh"
    write_clip(path, joints, frames=25, fps=fps, root_height=height)
    b = B.read_bvh(path)
    rig = B.detect_rig(b)
    assert rig.name == layout
    seq = B.load_bvh_sequence(path, "box", fps=50.0)
    assert isinstance(seq, Sequence) and seq.fps == 50.0
    assert len(seq) == int(np.floor(24 / fps * 50 + 1e-6)) + 1
    assert seq.vocab == ("box",) and (seq.labels == 0).all()
    # stature: the rest pose (soles to Head_End) is 1.70 m after scaling
    assert abs(seq.meta["scale_m_per_unit"] * B.rest_stature(b, rig) - 1.70) < 1e-9
    j = seq.joints3d.astype(np.float64)
    np.testing.assert_allclose(j[0, 0, :2], 0.0, atol=1e-6)  # first-frame pelvis above the origin
    assert (j[:, 10, 2] > j[:, 8, 2]).all() and (j[:, 8, 2] > j[:, 0, 2]).all()  # z up: head > thorax > pelvis
    # the rig's left is langpose's left: facing -y (the files' +z) with z up, left is +x
    fwd = np.array([0.0, -1.0, 0.0])
    left = np.cross([0.0, 0.0, 1.0], fwd)
    assert ((j[:, 4] - j[:, 1]) @ left > 0).all() and ((j[:, 11] - j[:, 14]) @ left > 0).all()
    # rigid: the joints that are rig joints keep their distances (rotations resampled, then FK)
    for a, p in ((2, 1), (3, 2), (12, 11), (13, 12)):
        d = np.linalg.norm(j[:, a] - j[:, p], axis=-1)
        assert d.std() < 1e-5, (a, d.std())
    # neck/nose and head are fixed points in the head's frame: constant distance to each other
    d = np.linalg.norm(j[:, 10] - j[:, 9], axis=-1)
    assert d.std() < 1e-5


def test_rig_points_of_the_rest_pose_by_hand(tmp_path):
    path = tmp_path / "rest.bvh"
    joints = boxing_joints()
    motion = np.zeros((2, n_channels(joints)))
    motion[:, 1] = 92.0
    path.write_text(bvh_text(joints, motion, 0.01))
    b = B.read_bvh(path)
    pos, rot = B.forward_kinematics(b, return_rotations=True)
    pts = B.rig_points(b, B.RIGS["boxing"], pos, rot)[0]  # file units (cm), y up, z forward
    np.testing.assert_allclose(pts[0], [0, 92, 0], atol=1e-9)  # pelvis = Hips
    np.testing.assert_allclose(pts[7], [0, 92 + 8.2683 + 0.65 * 22.417377, 0], atol=1e-9)  # spine
    head = [0, 92 + 8.2683 + 2 * 22.417377 + 11, 0]
    np.testing.assert_allclose(pts[9], np.add(head, [0, 2, 4]), atol=1e-9)  # nose: 2 cm up, 4 cm forward
    np.testing.assert_allclose(pts[10], np.add(head, [0, 10, 2]), atol=1e-9)  # head point
    np.testing.assert_allclose(pts[16], [-(20 + 25.590265 + 23.45179), 92 + 8.2683 + 2 * 22.417377, 0], atol=1e-9)


def test_unknown_rig_names_missing_joints():
    with pytest.raises(ValueError, match="no known rig"):
        B.detect_rig(B.parse_bvh(TINY))


def test_assimp_clips_from_a_folder_and_the_registry(tmp_path):
    write_clip(tmp_path / "01_03.bvh", cmu_joints(), frames=13, fps=120, root_height=17.8)
    write_clip(tmp_path / "Boxing_Toes.bvh", boxing_joints(), frames=11, fps=100, root_height=92.0, seed=1)
    seqs = B.load_assimp_clips(folder=tmp_path)
    assert [s.name for s in seqs] == ["assimp_01_03", "assimp_Boxing_Toes"]
    assert [len(s) for s in seqs] == [6, 6]
    assert seqs[0].vocab == tuple(B.ASSIMP_CLIPS.values())
    assert [s.labels[0] for s in seqs] == [0, 1]
    seqs[0].joints3d[:] = 0  # copies: the cache is not touched
    assert B.load_assimp_clips(folder=tmp_path)[0].joints3d.any()
    assert [s.name for s in load_sequences("assimp", data_root=tmp_path)] == ["assimp_01_03", "assimp_Boxing_Toes"]
    views = load_views("assimp", data_root=tmp_path)
    assert len(views) == 8 and views[0].joints3d.shape == (6, 17, 3)


def test_missing_assimp_folder_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("LANGPOSE_ASSIMP_BVH", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="apt-get install assimp-testmodels"):
        B.load_assimp_clips()


@pytest.mark.skipif(not B.ASSIMP_BVH_DIR.is_dir(), reason="assimp-testmodels not installed")
def test_real_assimp_clips():
    seqs = B.load_assimp_clips()
    assert [(s.name, len(s)) for s in seqs] == [("assimp_01_03", 1880), ("assimp_Boxing_Toes", 1535)]
    assert [s.meta["source_frames"] for s in seqs] == [4511, 3069]
    for s in seqs:
        j = s.joints3d.astype(np.float64)
        for a, p in ((2, 1), (3, 2), (5, 4), (6, 5), (12, 11), (13, 12), (15, 14), (16, 15)):
            d = np.linalg.norm(j[:, a] - j[:, p], axis=-1)
            assert d.std() < 1e-4 and 0.15 < d.mean() < 0.6
        low = np.minimum(j[:, 3, 2], j[:, 6, 2])
        assert np.percentile(low, 5) < 0.15 and low.min() > -0.1  # feet on the floor, z up
        assert 1.3 < np.percentile(j[:, 10, 2], 90) < 2.5


# ---------------------------------------------------------------------------- holosoma
def _standing_mocap(T):
    """Climb-clip joints (T, 53, 3): a person at known places, facing +x, walking along x."""
    J = np.zeros((T, 53, 3))
    p = {"Hips": (0, 0, 0.95), "Spine": (0, 0, 1.03), "Spine1": (0, 0, 1.27), "Neck": (0, 0, 1.52), "Head": (0, 0, 1.66),
         "LeftArm": (0, 0.18, 1.47), "LeftForeArm": (0, 0.2, 1.17), "LeftHand": (0, 0.22, 0.92),
         "RightArm": (0, -0.18, 1.47), "RightForeArm": (0, -0.2, 1.17), "RightHand": (0, -0.22, 0.92),
         "LeftUpLeg": (0, 0.1, 0.95), "LeftLeg": (0, 0.1, 0.55), "LeftFoot": (0, 0.1, 0.1), "LeftToeBase": (0.15, 0.1, 0.03),
         "RightUpLeg": (0, -0.1, 0.95), "RightLeg": (0, -0.1, 0.55), "RightFoot": (0, -0.1, 0.1),
         "RightToeBase": (0.15, -0.1, 0.03)}
    for name, xyz in p.items():
        J[:, H.MOCAP_JOINTS.index(name)] = xyz
    J[..., 0] += np.linspace(0, 0.5, T)[:, None]
    return J


def _standing_smplh(T):
    J = np.zeros((T, 52, 3))
    p = {"Pelvis": (0, 0, 1.05), "L_Hip": (0, 0.06, 0.95), "R_Hip": (0, -0.06, 0.95), "L_Knee": (0, 0.08, 0.55),
         "R_Knee": (0, -0.08, 0.55), "L_Ankle": (0, 0.08, 0.1), "R_Ankle": (0, -0.08, 0.1), "Torso": (0, 0, 1.18),
         "Chest": (0, 0, 1.4), "Neck": (0, 0, 1.6), "Head": (0, 0, 1.72), "L_Shoulder": (0, 0.18, 1.55),
         "R_Shoulder": (0, -0.18, 1.55), "L_Elbow": (0, 0.2, 1.27), "R_Elbow": (0, -0.2, 1.27), "L_Wrist": (0, 0.22, 1.0),
         "R_Wrist": (0, -0.22, 1.0)}
    for name, xyz in p.items():
        J[:, H.SMPLH_JOINTS.index(name)] = xyz
    return J


def write_holosoma(root, T_climb=25, T_omomo=7):
    """holosoma's demo_data layout: climb/<seq>/<seq>_joint_positions_f<a>-<b>.npy and OMOMO_new/<name>.pt."""
    d = Path(root) / "climb" / "mocap_climb_seq_0"
    d.mkdir(parents=True)
    np.save(d / f"mocap_climb_seq_0_joint_positions_f0-{T_climb - 1}.npy", _standing_mocap(T_climb).astype(np.float32))
    o = Path(root) / "OMOMO_new"
    o.mkdir()
    rows = np.random.default_rng(0).normal(size=(T_omomo, 591)).astype(np.float32)  # object state etc. around it
    rows[:, 162:318] = _standing_smplh(T_omomo).reshape(T_omomo, -1)
    torch.save(torch.from_numpy(rows).requires_grad_(True), o / "sub1_largebox_000.pt")  # as shipped: requires_grad
    return root


def test_mocap_and_smplh_mapping_by_hand():
    h = H.mocap_to_h36m(_standing_mocap(3))
    np.testing.assert_allclose(h[0, 0], [0, 0, 0.95])  # pelvis = Hips
    np.testing.assert_allclose(h[0, 7], [0, 0, 0.4 * 1.03 + 0.6 * 1.27])  # spine
    np.testing.assert_allclose(h[0, 8], [0, 0, 1.52])  # thorax = Neck
    # head frame: up = neck -> head = +z; left = +y; forward = left x up = +x
    np.testing.assert_allclose(h[0, 9], [0.07, 0, 1.64], atol=1e-12)
    np.testing.assert_allclose(h[0, 10], [0.02, 0, 1.74], atol=1e-12)
    np.testing.assert_allclose(h[0, 13], [0, 0.22, 0.92])  # left wrist = LeftHand
    s = H.smplh_to_h36m(_standing_smplh(2))
    np.testing.assert_allclose(s[0, 0], [0, 0, 0.95])  # pelvis = mid-hips, not SMPL's pelvis joint
    np.testing.assert_allclose(s[0, 8], [0, 0, 0.25 * 1.4 + 0.75 * 1.6])
    np.testing.assert_allclose(s[0, 7], [0, 0, 1.18])
    np.testing.assert_allclose(s[0, 4], [0, 0.06, 0.95])  # left hip
    with pytest.raises(ValueError, match=r"expected \(T, 53, 3\)"):
        H.mocap_to_h36m(np.zeros((3, 52, 3)))


def test_holosoma_layout_loads_at_50_fps(tmp_path):
    root = write_holosoma(tmp_path / "demo_data")
    seqs = H.load_holosoma_clips(folder=root)
    assert [s.name for s in seqs] == ["holosoma_mocap_climb_seq_0", "holosoma_omomo_sub1_largebox_000"]
    # 25 frames at 120 Hz = 0.2 s -> 11 frames at 50 fps; 7 frames at 30 fps = 0.2 s -> 11
    assert [len(s) for s in seqs] == [11, 11]
    assert [s.meta["source_fps"] for s in seqs] == [120.0, 30.0]
    assert seqs[0].vocab == (H.CLIMB_LABEL, H.OMOMO_LABEL) and [s.labels[0] for s in seqs] == [0, 1]
    climb = seqs[0].joints3d
    np.testing.assert_allclose(climb[0, 0], [0, 0, 0.95], atol=1e-6)  # pelvis moved above the origin, floor kept
    np.testing.assert_allclose(climb[-1, 0, 0], 0.5, atol=1e-5)  # 0.2 s later, the same place
    np.testing.assert_allclose(climb[1, 0, 0], 0.5 * 0.02 / 0.2, atol=1e-5)  # linear in time
    only_climb = H.load_holosoma_clips(folder=root, omomo=False)
    assert len(only_climb) == 1 and only_climb[0].vocab == (H.CLIMB_LABEL,)
    scaled = H.load_holosoma_clips(folder=root, stature=1.90)[0].joints3d
    assert abs(scaled[0, 10, 2] - 1.90) < 1e-5  # rest height = head point (1.74) - ankle (0.10) + 0.10
    assert [s.name for s in load_sequences("holosoma", data_root=root)] == [s.name for s in seqs]


def test_holosoma_bad_files_are_named(tmp_path):
    bad = tmp_path / "x_joint_positions_f0-3.npy"
    np.save(bad, np.zeros((4, 52, 3), np.float32))
    with pytest.raises(ValueError, match=r"x_joint_positions_f0-3.npy: expected joint positions \(T >= 2, 53, 3\)"):
        H.read_climb(bad)
    pt = tmp_path / "short.pt"
    torch.save(torch.zeros(5, 200), pt)
    with pytest.raises(ValueError, match=r"short.pt: expected a tensor \(T >= 2, C >= 318\)"):
        H.read_omomo(pt)
    with pytest.raises(FileNotFoundError, match="no climb"):
        H.load_holosoma_clips(folder=tmp_path)


def _holosoma_installed() -> bool:
    try:
        return bool(H.climb_files())
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not _holosoma_installed(), reason="holosoma-retargeting not installed")
def test_real_holosoma_clips():
    seqs = H.load_holosoma_clips()
    assert [len(s) for s in seqs] == [1167, 1010, 1255, 1001, 960, 369, 326]
    assert [s.meta["source_frames"] for s in seqs] == [2801, 2423, 3011, 2401, 2303, 222, 196]
    for s in seqs:
        j = s.joints3d.astype(np.float64)
        assert j[..., 2].min() > -0.05 and 1.4 < j[:, 10, 2].max() < 2.8
        left = np.cross([0, 0, 1.0], j[:, 9] - j[:, 8])  # forward ~ thorax -> nose
        assert np.mean(((j[:, 4] - j[:, 1]) * left).sum(-1) > 0) > 0.9  # left hip on the left


# ---------------------------------------------------------------------------- resampler
def test_sample_grid_and_linear_resampling():
    t, i, u = sample_grid(frame_times(5, 120.0), 50.0)  # 4/120 s -> floor(1.667) + 1 = 2 frames
    np.testing.assert_allclose(t, [0, 0.02])
    assert i.tolist() == [0, 2] and np.allclose(u, [0, 0.4])
    x = np.arange(5, dtype=float)[:, None]
    np.testing.assert_allclose(resample_linear(x, frame_times(5, 120.0), 50.0)[:, 0], [0, 2.4])
    assert sample_grid([0.0], 50.0)[0].tolist() == [0.0]
    with pytest.raises(ValueError, match="increase"):
        sample_grid([0.0, 0.0], 50.0)


def test_slerp_halfway_and_shortest_path():
    q0 = np.array([[1.0, 0, 0, 0]])
    q1 = np.array([[np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)]])  # 90 deg about z
    np.testing.assert_allclose(slerp(q0, q1, np.array([0.5])), [[np.cos(np.pi / 8), 0, 0, np.sin(np.pi / 8)]])
    np.testing.assert_allclose(slerp(q0, -q1, np.array([0.5])), [[np.cos(np.pi / 8), 0, 0, np.sin(np.pi / 8)]])


def test_h36m_parents_match_the_design():
    assert list(H36M.parents) == PARENTS
