"""MPI-INF-3DHP loader on tiny files in P-STMO's data_{train,test}_3dhp.npz layout."""
import numpy as np
import pytest

from fixtures_real import write_mpi3dhp
from langpose.data.mpi3dhp import EVAL_JOINTS_H36M, MPI_TO_H36M, load_mpi3dhp_views, sequence_resolution
from langpose.skeleton import H36M


def test_joint_mapping_names():
    mpi_names = ["head_top", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist",
                 "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "pelvis", "spine", "head"]
    mapped = [mpi_names[m] for m in MPI_TO_H36M]
    assert mapped == ["pelvis", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "spine", "neck",
                      "head", "head_top", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist"]
    assert sorted(MPI_TO_H36M) == list(range(17))
    assert EVAL_JOINTS_H36M == (10, 8, 14, 15, 16, 11, 12, 13, 1, 2, 3, 4, 5, 6)
    assert H36M.parents[0] == -1 and 0 not in EVAL_JOINTS_H36M  # the pelvis is not evaluated


def test_test_split(tmp_path):
    _, truth = write_mpi3dhp(tmp_path)
    views = load_mpi3dhp_views(str(tmp_path), "test")
    assert [v.name for v in views] == ["TS1", "TS2", "TS3", "TS4", "TS5", "TS6"]
    ts5 = views[4]
    assert (ts5.width, ts5.height) == (1920, 1080) == sequence_resolution("TS5")
    assert (views[0].width, views[0].height) == (2048, 2048)
    j2d, j3d, valid = truth["TS5"]
    assert ts5.keypoints2d.shape == (4, 17, 3) and np.all(ts5.keypoints2d[..., 2] == 1)
    # mm -> metres, MPI order -> H36M order: H36M joint j carries the x marker 100 * MPI index
    np.testing.assert_allclose(ts5.joints3d[0, :, 0], 0.1 * np.array(MPI_TO_H36M), atol=1e-6)
    np.testing.assert_allclose(ts5.joints3d, j3d[:, list(MPI_TO_H36M)] / 1000, atol=1e-5)
    np.testing.assert_allclose(ts5.keypoints2d[..., :2], j2d[:, list(MPI_TO_H36M)], atol=1e-3)
    assert ts5.meta["valid"].tolist() == [True, False, True, True] and ts5.action == "TS5"


def test_train_split(tmp_path):
    truth, _ = write_mpi3dhp(tmp_path)
    views = load_mpi3dhp_views(str(tmp_path), "train")
    assert [v.name for v in views] == ["S1/Seq1/0", "S1/Seq1/4", "S2/Seq2/0", "S2/Seq2/4"]
    assert [v.fps for v in views] == [25.0, 25.0, 50.0, 50.0]
    v = views[1]
    assert v.subject == "S1" and v.camera == "4" and (v.width, v.height) == (2048, 2048)
    np.testing.assert_allclose(v.joints3d, truth[("S1 Seq1", "4")][1][:, list(MPI_TO_H36M)] / 1000, atol=1e-5)


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_test_3dhp.npz.*P-STMO"):
        load_mpi3dhp_views(str(tmp_path), "test")
    write_mpi3dhp(tmp_path)
    d = np.load(tmp_path / "data_test_3dhp.npz", allow_pickle=True)["data"].item()
    del d["TS3"]["valid"]
    np.savez(tmp_path / "data_test_3dhp.npz", data=d)
    with pytest.raises(KeyError, match=r"data_test_3dhp.npz: missing key 'valid' in data\['TS3'\]"):
        load_mpi3dhp_views(str(tmp_path), "test")
    np.savez(tmp_path / "data_train_3dhp.npz", poses=np.zeros(2))
    with pytest.raises(KeyError, match="data_train_3dhp.npz: missing key 'data'"):
        load_mpi3dhp_views(str(tmp_path), "train")
