"""The registry: one entry point by dataset name, with clear errors."""
import numpy as np
import pytest

from fixtures_real import (babel_entry, moving_pose, write_amass, write_babel, write_fake_smplh, write_joints,
                           write_motionbert, write_mpi3dhp, write_videopose3d)
from langpose.data.amass_babel import smpl_to_h36m
from langpose.data.registry import DATASETS, load_sequences, load_views


def test_unknown_dataset_lists_valid():
    with pytest.raises(ValueError, match="unknown dataset 'h36'; valid datasets: synthetic, h36m, h36m_motionbert, "
                                         "mpi3dhp, amass_babel, deepmimic"):
        load_views("h36", "train", "/nowhere")
    assert set(DATASETS) == {"synthetic", "h36m", "h36m_motionbert", "mpi3dhp", "amass_babel", "deepmimic",
                             "assimp", "holosoma"}


def test_missing_root_and_files(tmp_path):
    with pytest.raises(ValueError, match="dataset 'h36m' needs data_root: a folder holding data_3d_h36m.npz"):
        load_views("h36m", "train")
    with pytest.raises(FileNotFoundError, match="data_train_3dhp.npz"):
        load_views("mpi3dhp", "train", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="h36m_sh_conf_cam_source_final.pkl.*MotionBERT"):
        load_views("h36m_motionbert", "test", str(tmp_path))
    with pytest.raises(ValueError, match="provides camera views, not world sequences"):
        load_sequences("h36m", "train", str(tmp_path))


def test_real_dataset_views(tmp_path):
    write_videopose3d(tmp_path / "h36m", actions=("Walking 1",))
    views = load_views("h36m", "train", str(tmp_path / "h36m"))
    assert len(views) == 5 * 4 and views[0].joints3d.shape == (6, 17, 3)
    assert len(load_views("h36m", "test", str(tmp_path / "h36m"), cameras=[0])) == 2
    write_motionbert(tmp_path / "h36m" / "h36m_sh_conf_cam_source_final.pkl")
    assert len(load_views("h36m_motionbert", "val", str(tmp_path / "h36m"))) == 2
    write_mpi3dhp(tmp_path / "3dhp")
    assert [v.name for v in load_views("mpi3dhp", "test", str(tmp_path / "3dhp"), sequences=["TS6"])] == ["TS6"]


def test_amass_babel_views_from_joints(tmp_path):
    write_babel(tmp_path, {"3": babel_entry(3, "CMU/CMU/1/a_poses.npz", 0.1, ["jump"])})
    write_joints(str(tmp_path / "joints" / "CMU" / "1" / "a_poses.npz"), moving_pose(6), 50.0)
    seqs = load_sequences("amass_babel", "train", str(tmp_path))
    assert len(seqs) == 1 and seqs[0].vocab == ("jump",)
    views = load_views("amass_babel", "train", str(tmp_path), seed=1)
    assert len(views) == 4 and all(v.keypoints2d.shape == (6, 17, 3) for v in views)
    assert views[0].vocab == ("jump",) and (views[0].labels == 0).all()


def test_amass_babel_from_amass_npz_and_body_model(tmp_path):
    pytest.importorskip("smplx")
    write_babel(tmp_path, {"3": babel_entry(3, "CMU/CMU/1/a_poses.npz", 0.05, ["jump"])})
    with pytest.raises(FileNotFoundError, match="expected a folder 'joints'.*or 'amass'"):
        load_sequences("amass_babel", "train", str(tmp_path))
    _, trans = write_amass(str(tmp_path / "amass" / "CMU" / "1" / "a_poses.npz"), T=5, fps=100.0)
    (tmp_path / "body_models" / "smplh" / "male").mkdir(parents=True)
    rest = write_fake_smplh(str(tmp_path / "body_models" / "smplh" / "male" / "model.npz"))
    seqs = load_sequences("amass_babel", "train", str(tmp_path))
    exp = smpl_to_h36m(rest[None] + trans[::2, None])  # 100 fps -> 50 fps
    np.testing.assert_allclose(seqs[0].joints3d, exp, atol=1e-5)


def test_synthetic_and_deepmimic_delegate(tmp_path, monkeypatch):
    import langpose.data.deepmimic as dm
    from langpose.data.sequence import Sequence
    clip = Sequence("kick", "deepmimic", moving_pose(5), np.zeros(5), ("kick",))
    monkeypatch.setattr(dm, "load_clips", lambda **kw: [clip])
    assert load_sequences("deepmimic", "test") == [clip]
    assert len(load_views("deepmimic", "test")) == 4
    views = load_views("synthetic", "test", str(tmp_path), num_subjects=3, sequences_per_subject=1,
                       actions_per_sequence=(2, 2))
    assert len(views) == 4 and views[0].joints3d is not None
    assert any(p.suffix for p in tmp_path.iterdir())  # cached under data_root
