"""Data loaders never run code hidden in a data file (langpose.safe_pickle); bad files get one-line errors."""
import builtins
import pickle

import numpy as np
import pytest

from fixtures_real import write_amass, write_babel, write_fake_smplh, write_motionbert, write_mpi3dhp, write_videopose3d
from langpose.data.amass_babel import load_joints_file, smplh_joints
from langpose.data.h36m import load_h36m_views, load_motionbert_views, load_positions_2d, load_positions_3d
from langpose.data.mpi3dhp import load_mpi3dhp_views
from langpose.data.registry import load_views
from langpose.safe_pickle import DataFormatError, UnsafePickleError, load_npz, load_pickle


class Payload:
    """Unpickling this creates ``marker`` (open(marker, "w"), pickled as io.open): proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (builtins.open, (self.marker, "w"))


def _refused(fn, marker, name):
    with pytest.raises(UnsafePickleError, match=rf"{name}.*refused to unpickle io.open") as exc:
        fn()
    assert "\n" not in str(exc.value) and isinstance(exc.value, ValueError)
    assert not marker.exists(), "the planted payload ran"


def test_h36m_3d_npz_payload_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    write_videopose3d(tmp_path, subjects=("S9",), actions=("Walking 1",))
    np.savez(tmp_path / "data_3d_h36m.npz", positions_3d=np.array({"S9": Payload(marker)}, dtype=object))
    _refused(lambda: load_positions_3d(str(tmp_path / "data_3d_h36m.npz")), marker, "data_3d_h36m.npz")
    _refused(lambda: load_h36m_views(str(tmp_path), split="test", subjects=["S9"]), marker, "data_3d_h36m.npz")


def test_h36m_2d_npz_payload_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    _, pos2d = write_videopose3d(tmp_path, subjects=("S9",), actions=("Walking 1",))
    path = tmp_path / "data_2d_h36m_cpn_ft_h36m_dbb.npz"
    np.savez(path, positions_2d=pos2d, metadata=np.array({"layout_name": Payload(marker)}, dtype=object))
    _refused(lambda: load_positions_2d(str(path)), marker, "data_2d_h36m_cpn_ft_h36m_dbb.npz")
    _refused(lambda: load_h36m_views(str(tmp_path), split="test", subjects=["S9"]), marker, "cpn_ft_h36m_dbb.npz")


def test_raw_pickle_named_npz_is_not_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "data_3d_h36m.npz"
    with open(path, "wb") as f:  # np.load(allow_pickle=True) would unpickle this
        pickle.dump({"positions_3d": Payload(marker)}, f)
    with pytest.raises(DataFormatError, match=r"data_3d_h36m.npz: not a .npz \(zip\) archive") as exc:
        load_positions_3d(str(path))
    assert "\n" not in str(exc.value) and not marker.exists()


def test_motionbert_pickle_payload_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "h36m_sh_conf_cam_source_final.pkl"
    write_motionbert(path)
    d = load_pickle(path)  # the genuine fixture loads through the restricted unpickler
    d["test"]["source"] = Payload(marker)
    with open(path, "wb") as f:
        pickle.dump(d, f)
    _refused(lambda: load_motionbert_views(str(path), "test"), marker, "h36m_sh_conf_cam_source_final.pkl")
    _refused(lambda: load_views("h36m_motionbert", "test", str(tmp_path)), marker, "source_final.pkl")


def test_mpi3dhp_npz_payload_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    write_mpi3dhp(tmp_path)
    np.savez(tmp_path / "data_test_3dhp.npz", data=np.array({"TS1": Payload(marker)}, dtype=object))
    _refused(lambda: load_mpi3dhp_views(str(tmp_path), "test"), marker, "data_test_3dhp.npz")
    np.savez(tmp_path / "data_train_3dhp.npz", data=np.array({"S1 Seq1": [Payload(marker), 25]}, dtype=object))
    _refused(lambda: load_mpi3dhp_views(str(tmp_path), "train"), marker, "data_train_3dhp.npz")


def test_amass_payloads_are_refused(tmp_path):
    marker = tmp_path / "pwned"
    # the AMASS npz (its gender field)
    amass = tmp_path / "seq.npz"
    write_amass(str(amass), T=3)
    d = dict(np.load(amass))
    d["gender"] = np.array(Payload(marker), dtype=object)
    np.savez(amass, **d)
    _refused(lambda: smplh_joints(str(amass), str(tmp_path / "bm")), marker, "seq.npz")
    # the SMPL-H model npz that smplx would have loaded with allow_pickle=True
    write_amass(str(amass), T=3)
    (tmp_path / "bm" / "male").mkdir(parents=True)
    model = tmp_path / "bm" / "male" / "model.npz"
    write_fake_smplh(str(model))
    m = dict(np.load(model))
    m["f"] = np.array([Payload(marker)], dtype=object)
    np.savez(model, **m)
    pytest.importorskip("smplx")
    _refused(lambda: smplh_joints(str(amass), str(tmp_path / "bm")), marker, "model.npz")
    # a prepared joints file
    joints = tmp_path / "j.npz"
    np.savez(joints, joints=np.array([Payload(marker)], dtype=object), fps=50.0)
    _refused(lambda: load_joints_file(str(joints)), marker, "j.npz")


def test_babel_joints_root_payload_is_refused(tmp_path):
    from langpose.data.amass_babel import load_babel_sequences
    from fixtures_real import babel_entry
    marker = tmp_path / "pwned"
    write_babel(tmp_path, {"1": babel_entry(1, "CMU/CMU/1/a_poses.npz", 1.0, ["walk"])})
    (tmp_path / "joints" / "CMU" / "CMU" / "1").mkdir(parents=True)
    np.savez(tmp_path / "joints" / "CMU" / "CMU" / "1" / "a_poses.npz", joints=np.array(Payload(marker), dtype=object),
             fps=50.0)
    _refused(lambda: load_babel_sequences(str(tmp_path / "babel"), "train", joints_root=str(tmp_path / "joints")),
             marker, "a_poses.npz")


def test_allowed_content_round_trips_and_numpy1_spelling(tmp_path):
    value = {"a": np.arange(6.0).reshape(2, 3), "s": ["x", "y"], "t": (1, 2.5, None, True), "set": {1, 2},
             "f": np.float32(1.5), "u": np.array(["54138969", "55011271"]), "c": 1 + 2j, "b": b"\x00\x01"}
    for proto in (2, 4, 5):
        path = tmp_path / f"p{proto}.pkl"
        with open(path, "wb") as f:
            pickle.dump(value, f, protocol=proto)
        got = load_pickle(path)
        np.testing.assert_array_equal(got["a"], value["a"])
        assert got["s"] == ["x", "y"] and got["t"] == value["t"] and got["set"] == {1, 2} and got["b"] == b"\x00\x01"
    # pickles written by numpy 1.x name numpy.core.multiarray (numpy 2 writes numpy._core)
    raw = pickle.dumps(np.arange(3.0), protocol=2).replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray" in raw
    (tmp_path / "np1.pkl").write_bytes(raw)
    np.testing.assert_array_equal(load_pickle(tmp_path / "np1.pkl"), np.arange(3.0))
    np.savez(tmp_path / "x.npz", obj=np.array(value, dtype=object), plain=np.ones((2, 2), np.float32))
    z = load_npz(tmp_path / "x.npz")
    assert z["plain"].dtype == np.float32 and z["obj"].item()["s"] == ["x", "y"]


def test_truncated_and_corrupt_files_are_one_line_value_errors(tmp_path):
    path = tmp_path / "mb.pkl"
    write_motionbert(path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])  # EOF / UnpicklingError inside pickle
    with pytest.raises(ValueError, match=r"mb.pkl: not a readable pickle") as exc:
        load_motionbert_views(str(path), "test")
    assert "\n" not in str(exc.value) and isinstance(exc.value, DataFormatError)
    write_videopose3d(tmp_path, subjects=("S9",), actions=("Walking 1",))
    npz = tmp_path / "data_3d_h36m.npz"
    npz.write_bytes(npz.read_bytes()[:200])  # a truncated zip
    with pytest.raises(ValueError, match=r"data_3d_h36m.npz: ") as exc:
        load_positions_3d(str(npz))
    assert "\n" not in str(exc.value)


def test_missing_keys_are_value_errors_naming_file_and_key(tmp_path):
    path = tmp_path / "mb.pkl"
    write_motionbert(path)
    d = load_pickle(path)
    del d["train"]["joint_2d"]
    with open(path, "wb") as f:
        pickle.dump(d, f)
    with pytest.raises(ValueError, match=r"mb.pkl: missing key train/'joint_2d'") as exc:
        load_motionbert_views(str(path), "train")
    assert isinstance(exc.value, KeyError)  # still a KeyError for older callers
    assert str(exc.value).startswith(str(path))  # not KeyError's quoted repr
    d["train"] = ["not a dict"]
    with open(path, "wb") as f:
        pickle.dump(d, f)
    with pytest.raises(ValueError, match=r"mb.pkl: 'train' must hold a dict"):
        load_motionbert_views(str(path), "train")
    write_mpi3dhp(tmp_path)
    np.savez(tmp_path / "data_test_3dhp.npz", data=np.array({"TS1": {"data_2d": np.zeros((2, 17, 2))}}, dtype=object))
    with pytest.raises(ValueError, match=r"data_test_3dhp.npz: missing key 'data_3d' in data\['TS1'\]"):
        load_mpi3dhp_views(str(tmp_path), "test", sequences=["TS1"])
