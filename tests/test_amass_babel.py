"""AMASS + BABEL loader on tiny files in BABEL's json and AMASS's npz layouts."""
import numpy as np
import pytest

from fixtures_real import (babel_entry, moving_pose, smpl_pose, write_amass, write_babel, write_fake_smplh,
                           write_joints)
from langpose.data.amass_babel import (frame_labels, load_babel_sequences, load_joints_file, resample,
                                       smpl_to_h36m, smplh_joints)


def _entries():
    return {
        "12": babel_entry(12, "CMU/CMU/86/86_05_poses.npz", 0.2, ["walk"],
                          [("walk", 0.0, 0.2), ("wave right hand", 0.04, 0.1), ("stand", 0.15, 0.3)]),
        "7": babel_entry(7, "KIT/KIT/4/RightTurn01_poses.npz", 0.1, ["turn right"]),
    }


def test_smpl_mapping():
    j = smpl_pose(2)
    h = smpl_to_h36m(j)
    # direct joints carry the SMPL index as y marker (cm): pelvis 0, R hip 2, L hip 1, R wrist 21 ...
    assert np.round(h[0, [0, 1, 2, 3, 4, 5, 6, 8, 9, 11, 12, 13, 14, 15, 16], 1] * 100).astype(int).tolist() == \
        [0, 2, 5, 8, 1, 4, 7, 12, 15, 16, 18, 20, 17, 19, 21]
    np.testing.assert_allclose(h[:, 7], (j[:, 0] + j[:, 12]) / 2)  # spine: mid pelvis-thorax
    np.testing.assert_allclose(h[:, 10], 2 * j[:, 15] - j[:, 12])  # head top: extrapolated
    with pytest.raises(ValueError, match="expected \\(T, J>=22, 3\\)"):
        smpl_to_h36m(np.zeros((2, 17, 3)))


def test_resample_linear():
    x = np.arange(5, dtype=float)[:, None] * np.array([1.0, 2.0])  # 100 fps ramp
    y = resample(x, 100.0, 50.0)
    assert y.shape == (3, 2) and y[:, 0].tolist() == [0.0, 2.0, 4.0]
    z = resample(x[:2], 25.0, 50.0)  # 2 frames at 25 fps -> 3 at 50 fps, midpoint interpolated
    assert z[:, 0].tolist() == [0.0, 0.5, 1.0]


def test_frame_labels_rules():
    ann = _entries()["12"]
    labs = frame_labels(ann, 10)  # t = 0, 0.02, ..., 0.18
    # 'wave' (0.04-0.1) is shorter than 'walk' (0-0.2) so it wins where they overlap; end is exclusive
    assert labs[:2] == ["walk", "walk"] and labs[2:5] == ["wave right hand"] * 3 and labs[5] == "walk"
    assert labs[8:] == ["stand", "stand"]  # 'stand' (0.15-0.3) is shorter than 'walk'
    assert frame_labels(_entries()["7"], 3) == ["turn right"] * 3  # seq_ann fallback
    gap = babel_entry(1, "x/y/z.npz", 0.1, ["jump"], [("jump", 0.02, 0.04)])
    assert frame_labels(gap, 3) == ["", "jump", ""]  # frames outside every segment are unlabelled


def test_sequences_from_joints_files(tmp_path):
    write_babel(tmp_path, _entries())
    # 86_05 with SMPL-24 joints at 100 fps under the AMASS-style path (first component dropped)
    smpl = smpl_pose(21, seed=3)
    write_joints(str(tmp_path / "joints" / "CMU" / "86" / "86_05_poses.npz"), smpl, 100.0)
    # RightTurn01 already in H36M-17 at 50 fps, under BABEL's feat_p path
    h36 = moving_pose(5)
    write_joints(str(tmp_path / "joints" / "KIT" / "KIT" / "4" / "RightTurn01_poses.npz"), h36, 50.0)
    seqs = load_babel_sequences(str(tmp_path / "babel"), "train", joints_root=str(tmp_path / "joints"))
    assert [s.name for s in seqs] == ["babel_7", "babel_12"]
    s7, s12 = seqs
    assert s12.vocab == ("stand", "turn right", "walk", "wave right hand") == s7.vocab
    assert len(s12) == 11 and s12.fps == 50.0 and s12.subject == "CMU/86"
    np.testing.assert_allclose(s12.joints3d, smpl_to_h36m(smpl[::2]), atol=1e-6)
    assert s12.label_texts[2] == "wave right hand" and s12.label_texts[10] == "stand"  # walk ends (exclusive) at 0.2
    assert s12.labels[2] == 3 and s12.labels[10] == 0
    np.testing.assert_allclose(s7.joints3d, h36, atol=1e-6)
    assert set(s7.label_texts) == {"turn right"} and s7.meta["feat_p"] == "KIT/KIT/4/RightTurn01_poses.npz"


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="val.json.*babel.is.tue.mpg.de"):
        load_babel_sequences(str(tmp_path), "val", joints_root=str(tmp_path))
    with pytest.raises(ValueError, match="test labels are withheld"):
        load_babel_sequences(str(tmp_path), "test", joints_root=str(tmp_path))
    e = _entries()
    del e["7"]["feat_p"]
    write_babel(tmp_path, e)
    with pytest.raises(KeyError, match="train.json: entry '7' is missing key 'feat_p'"):
        load_babel_sequences(str(tmp_path / "babel"), "train", joints_root=str(tmp_path))
    write_babel(tmp_path, _entries())
    with pytest.raises(FileNotFoundError, match="joints file for 'KIT/KIT/4/RightTurn01_poses.npz' not found"):
        load_babel_sequences(str(tmp_path / "babel"), "train", joints_root=str(tmp_path / "joints"))
    assert load_babel_sequences(str(tmp_path / "babel"), "train", joints_root=str(tmp_path / "joints"),
                                skip_missing=True) == []
    np.savez(tmp_path / "bad.npz", positions=np.zeros((3, 17, 3)), fps=50.0)
    with pytest.raises(KeyError, match="bad.npz: missing key 'joints'"):
        load_joints_file(str(tmp_path / "bad.npz"))


def test_missing_body_model_message(tmp_path):
    write_amass(str(tmp_path / "amass" / "CMU" / "86" / "86_05_poses.npz"))
    write_babel(tmp_path, {"12": _entries()["12"]})
    with pytest.raises(FileNotFoundError, match=r"SMPL-H body model for gender 'male' not found.*mano.is.tue.mpg.de.*male,female,neutral\}/model.npz"):
        load_babel_sequences(str(tmp_path / "babel"), "train", amass_root=str(tmp_path / "amass"),
                             body_model_dir=str(tmp_path / "body_models"))


def test_smplh_forward_kinematics_fake_model(tmp_path):
    """Real smplx FK through a structurally valid (random) SMPL-H model file."""
    pytest.importorskip("smplx")
    rest = write_fake_smplh(str(tmp_path / "male_model.npz"))
    (tmp_path / "bm" / "male").mkdir(parents=True)
    (tmp_path / "male_model.npz").rename(tmp_path / "bm" / "male" / "model.npz")
    amass = str(tmp_path / "seq.npz")
    poses, trans = write_amass(amass, T=3, fps=60.0)
    joints, fps = smplh_joints(amass, str(tmp_path / "bm"))
    assert fps == 60.0 and joints.shape == (3, 52, 3)
    # zero pose: rest joints + translation
    np.testing.assert_allclose(joints, rest[None] + trans[:, None], atol=1e-5)
    # a 90 degree turn of the root about z rotates every joint about the pelvis
    p = np.zeros((1, 156))
    p[0, 2] = np.pi / 2
    np.savez(amass, poses=p, trans=np.zeros((1, 3)), betas=np.zeros(16), gender=np.array("male"),
             mocap_framerate=np.array(60.0))
    j, _ = smplh_joints(amass, str(tmp_path / "bm"))
    rel = rest - rest[0]
    exp = rest[0] + np.stack([-rel[:, 1], rel[:, 0], rel[:, 2]], -1)
    np.testing.assert_allclose(j[0], exp, atol=1e-5)


def test_garbage_babel_json_names_the_file(tmp_path):
    from langpose.data.amass_babel import read_babel

    bad = tmp_path / "train.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"train\.json: not a BABEL json file"):
        read_babel(str(bad))
