"""Writers of tiny files in the exact published formats of the real datasets (for tests).

Each writer builds a few frames of data in the layout its source project writes
(VideoPose3D, MotionBERT, P-STMO, BABEL/AMASS) and returns the ground truth it encoded,
so a test can check that the loaders read back exactly that. Import by path:
``from fixtures_real import ...`` (pytest puts tests/ on sys.path with rootdir imports).
"""
from __future__ import annotations

import json
import os
import pickle

import numpy as np

# A standing H36M-17 pose (metres, world z up, facing -y), used as the base motion.
H36M17_REST = np.array([
    [0.00, 0.00, 0.95], [-0.13, 0.00, 0.95], [-0.13, 0.00, 0.50], [-0.13, 0.00, 0.08],
    [0.13, 0.00, 0.95], [0.13, 0.00, 0.50], [0.13, 0.00, 0.08], [0.00, 0.00, 1.20],
    [0.00, 0.00, 1.45], [0.00, -0.05, 1.55], [0.00, 0.00, 1.70], [0.18, 0.00, 1.42],
    [0.20, 0.00, 1.15], [0.22, 0.00, 0.90], [-0.18, 0.00, 1.42], [-0.20, 0.00, 1.15],
    [-0.22, 0.00, 0.90]])

KEEP_32 = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)


def moving_pose(T: int, seed: int = 0, offset=(0.0, 0.0, 0.0)) -> np.ndarray:
    """(T, 17, 3) metres: the rest pose walking along x with small per-joint jitter."""
    rng = np.random.default_rng(seed)
    x = np.repeat(H36M17_REST[None], T, 0) + np.asarray(offset)
    x[:, :, 0] += np.linspace(0, 0.2, T)[:, None]
    return x + rng.normal(scale=0.01, size=x.shape)


def write_videopose3d(root, subjects=("S1", "S5", "S6", "S7", "S8", "S9", "S11"), actions=("Walking 1", "Directions", "TakingPhoto 1"),
                      T: int = 6, extra_2d: int = 3, detections: str = "cpn_ft_h36m_dbb"):
    """Write data_3d_h36m.npz and data_2d_h36m_<detections>.npz; return (world17, kp2d).

    world17[subject][action]: (T, 17, 3) metres (the kept joints); the 15 dropped joints of the
    32 hold 9.0 so a wrong reduction shows. kp2d[subject][action]: 4 x (T + extra_2d, 17, 2)
    pixels, the exact projection through the calibrated cameras, with extra garbage frames.
    """
    from langpose.data.h36m_cameras import h36m_camera

    os.makedirs(root, exist_ok=True)
    pos3d, pos2d, world17 = {}, {}, {}
    for si, s in enumerate(subjects):
        pos3d[s], pos2d[s], world17[s] = {}, {}, {}
        for ai, a in enumerate(actions):
            w = moving_pose(T, seed=10 * si + ai).astype(np.float32)
            full = np.full((T, 32, 3), 9.0, dtype=np.float32)
            full[:, list(KEEP_32)] = w
            pos3d[s][a] = full
            world17[s][a] = w.astype(np.float64)
            cams = []
            for c in range(4):
                xy = h36m_camera(s, c).project(w)  # (T, 17, 2) pixels
                pad = np.full((extra_2d, 17, 2), -1234.0)
                cams.append(np.concatenate([xy, pad]).astype(np.float32))
            pos2d[s][a] = cams
    np.savez_compressed(os.path.join(root, "data_3d_h36m.npz"), positions_3d=pos3d)
    meta = {"layout_name": "h36m", "num_joints": 17,
            "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}
    np.savez_compressed(os.path.join(root, f"data_2d_h36m_{detections}.npz"), positions_2d=pos2d, metadata=meta)
    return world17, pos2d


MOTIONBERT_SHORT_NAMES = {2: "Direction", 3: "Discuss", 4: "Eating", 5: "Greet", 6: "Phone", 7: "Pose",
                          8: "Purchase", 9: "Sitting", 10: "SittingDown", 11: "Smoke", 12: "Photo", 13: "Wait",
                          14: "Walk", 15: "WalkDog", 16: "WalkTwo"}
"""The 15 short names of MotionBERT's ``action`` field, paired with the standard Human3.6M action
ids (how the real file pairs them is not checked here; the loader trusts the ``act_XX`` id)."""


def write_motionbert(path, T: int = 5, test_sources=None):
    """Write a MotionBERT-style pickle; return the per-source ground truth.

    Sources: train S1 Walking(act 14) subact 1 cameras 1 and 2; test S9 Greeting(act 05)
    subact 2 camera 1 (excluded by MotionBERT), S9 Eating(act 04) subact 1 camera 4, S11
    TakingPhoto(act 12) subact 1 camera 2. ``test_sources`` replaces the test list with
    (source, action field) pairs; the action field holds MotionBERT's short names
    (``MOTIONBERT_SHORT_NAMES``); ``source`` and ``action`` are lists of str as in the real
    file. ``joint_2d`` is the x, y of ``joint3d_image`` + 500 px. ``truth[source]`` =
    root-relative mm 3D.
    """
    cams = {1: "54138969", 2: "55011271", 3: "58860488", 4: "60457274"}

    def block(srcs, with_test_keys, seed):
        rng = np.random.default_rng(seed)
        out = {k: [] for k in ("joint_2d", "confidence", "joint3d_image", "camera_name", "source", "action",
                               "2.5d_factor", "joints_2.5d_image")}
        truth = {}
        for src, act_text in srcs:
            ca = int(src[-2:])
            mm = moving_pose(T, seed=len(truth)) * 1000.0  # (T, 17, 3) mm
            factor = np.full(T, rng.uniform(4.0, 6.0)) if not with_test_keys else rng.uniform(4.0, 6.0, size=T)
            img = mm / factor[:, None, None]  # joint3d_image in pixel-like units
            out["joint_2d"].append(img[..., :2] + 500.0)
            out["confidence"].append(rng.uniform(0.5, 1.0, size=(T, 17)))
            out["joint3d_image"].append(img)
            out["camera_name"] += [cams[ca]] * T
            out["source"] += [src] * T
            out["action"] += [act_text] * T
            out["2.5d_factor"].append(factor)
            out["joints_2.5d_image"].append(img * factor[:, None, None])
            truth[src] = mm - mm[:, :1]
        d = {"joint_2d": np.concatenate(out["joint_2d"]).astype(np.float32),
             "confidence": np.concatenate(out["confidence"]).astype(np.float32),
             "joint3d_image": np.concatenate(out["joint3d_image"]).astype(np.float32),
             "camera_name": np.array(out["camera_name"]), "source": out["source"]}
        if with_test_keys:
            d.update({"action": out["action"], "2.5d_factor": np.concatenate(out["2.5d_factor"]),
                      "joints_2.5d_image": np.concatenate(out["joints_2.5d_image"])})
        return d, truth

    train, t1 = block([("s_01_act_14_subact_01_ca_01", "Walk"), ("s_01_act_14_subact_01_ca_02", "Walk")], False, 1)
    if test_sources is None:
        test_sources = [("s_09_act_05_subact_02_ca_01", "Greet"), ("s_09_act_04_subact_01_ca_04", "Eating"),
                        ("s_11_act_12_subact_01_ca_02", "Photo")]
    test, t2 = block(list(test_sources), True, 2)
    with open(path, "wb") as f:
        pickle.dump({"train": train, "test": test}, f)
    return {**t1, **t2}


def mpi_pose(T: int, seed: int = 0) -> np.ndarray:
    """(T, 17, 3) mm in the MPI joint order where joint k has x = 100 k mm (order marker)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((T, 17, 3))
    x[..., 0] = 100.0 * np.arange(17)
    x[..., 1] = rng.normal(scale=50, size=(T, 17))
    x[..., 2] = 4000.0 + rng.normal(scale=50, size=(T, 17))
    return x


def write_mpi3dhp(root, T: int = 4):
    """Write data_train_3dhp.npz and data_test_3dhp.npz (P-STMO layout); return (train, test) truth."""
    os.makedirs(root, exist_ok=True)
    train, train_truth = {}, {}
    for key, fps in (("S1 Seq1", 25), ("S2 Seq2", 50)):
        cams = {}
        for cam in ("0", "4"):
            j3d = mpi_pose(T, seed=len(train_truth))
            j2d = j3d[..., :2] / 4.0 + 1024.0
            cams[cam] = {"data_2d": j2d.astype(np.float32), "data_3d": j3d.astype(np.float32)}
            train_truth[(key, cam)] = (j2d, j3d, fps)
        train[key] = [cams, fps]
    np.savez_compressed(os.path.join(root, "data_train_3dhp"), data=train)
    test, test_truth = {}, {}
    for i in range(1, 7):
        seq = f"TS{i}"
        j3d = mpi_pose(T, seed=100 + i)
        j2d = j3d[..., :2] / 4.0 + 900.0
        valid = np.array([1, 0] + [1] * (T - 2), dtype=np.float64)
        test[seq] = {"data_2d": j2d.astype(np.float32), "data_3d": j3d.astype(np.float32), "valid": valid}
        test_truth[seq] = (j2d, j3d, valid.astype(bool))
    np.savez_compressed(os.path.join(root, "data_test_3dhp"), data=test)
    return train_truth, test_truth


def smpl_pose(T: int, seed: int = 0) -> np.ndarray:
    """(T, 24, 3) SMPL joints (metres, z up) where joint k has y = k cm (order marker)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=0.1, size=(T, 24, 3))
    x[..., 1] = 0.01 * np.arange(24)
    x[..., 2] += 1.0
    return x


def babel_entry(sid, feat_p, dur, seq_labels, frame_labels=None):
    """One BABEL json entry (keys as in BABEL's train.json)."""
    seq_ann = {"anntr_id": "a", "babel_lid": f"l{sid}", "mul_act": True,
               "labels": [{"raw_label": t, "proc_label": t, "seg_id": f"s{sid}_{i}", "act_cat": [t]}
                          for i, t in enumerate(seq_labels)]}
    frame_ann = None
    if frame_labels is not None:
        frame_ann = {"anntr_id": "b", "babel_lid": f"f{sid}", "mul_act": True,
                     "labels": [{"raw_label": t, "proc_label": t, "seg_id": f"f{sid}_{i}", "act_cat": [t],
                                 "start_t": s, "end_t": e} for i, (t, s, e) in enumerate(frame_labels)]}
    return {"babel_sid": sid, "url": "https://example.invalid/x.mp4", "feat_p": feat_p, "dur": dur,
            "seq_ann": seq_ann, "frame_ann": frame_ann}


def write_babel(root, entries: dict, split: str = "train"):
    """Write ``root/babel/<split>.json``."""
    os.makedirs(os.path.join(root, "babel"), exist_ok=True)
    with open(os.path.join(root, "babel", f"{split}.json"), "w") as f:
        json.dump(entries, f)


def write_joints(path, joints, fps):
    """A prepared joints file (format (a)): npz with ``joints`` (T, J, 3) and ``fps``."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.savez(path, joints=np.asarray(joints, dtype=np.float32), fps=np.float64(fps))


def write_amass(path, T: int = 4, fps: float = 100.0, gender: str = "male", seed: int = 0):
    """An AMASS npz (poses (T,156), trans (T,3), betas (16,), gender, mocap_framerate)."""
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    poses = np.zeros((T, 156))
    trans = np.zeros((T, 3))
    trans[:, 0] = np.linspace(0, 0.3, T)
    np.savez(path, poses=poses, trans=trans, betas=np.zeros(16), gender=np.array(gender),
             mocap_framerate=np.array(fps), dmpls=rng.normal(size=(T, 8)))
    return poses, trans


SMPLH_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19]
for _wrist, _start in ((20, 22), (21, 37)):
    for _finger in range(5):
        _b = _start + 3 * _finger
        SMPLH_PARENTS += [_wrist, _b, _b + 1]


def write_fake_smplh(path, seed: int = 0):
    """A structurally valid SMPL-H model npz for smplx with random joint positions.

    6890 vertices (smplx selects extra joints by vertex id), 52 joints; joint j is regressed
    from vertex j alone, so the rest joints are ``v_template[:52]``; all vertices skinned to
    the pelvis; zero shape and pose blend shapes. Returns the rest joints (52, 3).
    """
    rng = np.random.default_rng(seed)
    V, J = 6890, 52
    v = rng.normal(scale=0.3, size=(V, 3))
    jreg = np.zeros((J, V))
    jreg[np.arange(J), np.arange(J)] = 1.0
    weights = np.zeros((V, J))
    weights[:, 0] = 1.0
    kintree = np.array([[4294967295] + SMPLH_PARENTS[1:], list(range(J))], dtype=np.int64)
    np.savez(path, v_template=v, shapedirs=np.zeros((V, 3, 16)), posedirs=np.zeros((V, 3, (J - 1) * 9)),
             J_regressor=jreg, weights=weights, kintree_table=kintree, f=np.array([[0, 1, 2]], dtype=np.int64),
             hands_componentsl=np.eye(45), hands_componentsr=np.eye(45), hands_meanl=np.zeros(45),
             hands_meanr=np.zeros(45))
    return v[:J]
