import numpy as np
import pytest
import torch

from langpose.skeleton import H36M, Skeleton


def test_h36m_topology():
    assert H36M.num_joints == 17
    assert H36M.parents == (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
    assert H36M.root == 0
    assert len(H36M.bones) == 16
    assert H36M.children[0] == (1, 4, 7)
    assert H36M.children[8] == (9, 11, 14)
    assert H36M.children[16] == ()
    assert H36M.names[H36M.index("left_wrist")] == "left_wrist"
    for l, r in zip(H36M.left, H36M.right):
        assert H36M.names[l].replace("left", "right") == H36M.names[r]


def test_flip_is_its_own_inverse_numpy_and_torch():
    rng = np.random.default_rng(0)
    pose = rng.normal(size=(2, 5, 17, 3))
    np.testing.assert_array_equal(H36M.flip(H36M.flip(pose)), pose)
    t = torch.tensor(pose)
    assert torch.equal(H36M.flip(H36M.flip(t)), t)
    assert not np.allclose(H36M.flip(pose), pose)


def test_flip_swaps_sides_and_negates_x_only():
    pose = np.zeros((17, 3))
    pose[:, 0] = np.arange(17)
    pose[:, 2] = 5.0  # confidence-like channel must be kept
    f = H36M.flip(pose)
    # Left wrist (13) takes the right wrist's (16) value, mirrored in x.
    assert f[13, 0] == -16 and f[16, 0] == -13
    assert f[0, 0] == 0 and f[7, 0] == -7
    assert (f[:, 2] == 5.0).all()
    # Input not modified.
    assert pose[13, 0] == 13


def test_bone_lengths_hand_case():
    pose = np.zeros((17, 3))
    pose[1] = [0.1, 0.0, 0.0]  # R hip 10 cm from pelvis
    lengths = H36M.bone_lengths(pose)
    assert lengths.shape == (16,)
    assert lengths[0] == pytest.approx(0.1)
    assert lengths[1] == pytest.approx(0.1)  # knee (0) to hip (0.1)


def test_skeleton_is_immutable_and_validated():
    with pytest.raises(Exception):
        H36M.parents = (0,)
    with pytest.raises(TypeError, match="immutable"):
        H36M.parts["x"] = (1,)
    with pytest.raises(ValueError, match="exactly one root"):
        Skeleton(names=("a", "b"), parents=(-1, -1), left=(), right=())
    with pytest.raises(ValueError, match="parents for"):
        Skeleton(names=("a", "b"), parents=(-1,), left=(), right=())


def test_unknown_names_are_errors():
    with pytest.raises(KeyError, match="unknown joint 'tail'"):
        H36M.index("tail")
    with pytest.raises(KeyError, match="unknown body part 'wings'"):
        H36M.part("wings")
    with pytest.raises(ValueError, match="expected 17 joints"):
        H36M.flip(np.zeros((16, 3)))
