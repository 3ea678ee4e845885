"""In-the-wild keypoint files: COCO JSON / npy / npz parsing, COCO->H36M mapping, masking, errors.

Fixtures are real motion (the DeepMimic walk) projected through an H36M camera, written
as COCO keypoints with the approximate H36M->COCO inverse mapping ``wild.h36m_to_coco``.
"""
import json

import numpy as np
import pytest

from langpose.camera import normalize_screen
from langpose.data import wild
from langpose.data.wild import COCO_NAMES, HEAD_EXTENSION, KeypointFormatError, h36m_to_coco, load_keypoints
from langpose.inference import view_to_input
from langpose.skeleton import H36M

W, H = 1000, 1002
C = {n: i for i, n in enumerate(COCO_NAMES)}
DIRECT = ["right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "left_shoulder",
          "left_elbow", "left_wrist", "right_shoulder", "right_elbow", "right_wrist"]


@pytest.fixture(scope="module")
def walk_px():
    """The DeepMimic walk seen by an H36M camera: H36M-17 pixels (T, 17, 2) and 3D (camera frame)."""
    pytest.importorskip("pybullet")
    from langpose.camera import H36M_INTRINSICS
    from langpose.data.deepmimic import load_clips
    from langpose.data.views import cameras_for, project_sequence

    walk = [s for s in load_clips() if s.meta["clip"] == "walk"][0]
    cams = cameras_for(walk, np.random.default_rng(0), intrinsics=H36M_INTRINSICS[1:2])  # 1000 x 1000 camera
    view = project_sequence(walk, cams)[0]
    return view.keypoints2d[..., :2].astype(np.float64), view.joints3d


def coco_json(px_coco, scores=None, ids=None, extra=None):
    T = len(px_coco)
    scores = np.full((T, 17), 0.9) if scores is None else scores
    ids = list(range(100, 100 + T)) if ids is None else ids
    entries = []
    for t in range(T):
        kp = np.concatenate([px_coco[t], scores[t][:, None]], -1).reshape(-1)
        entries.append({"image_id": int(ids[t]), "category_id": 1, "keypoints": kp.tolist(), "score": 0.95})
    return entries + (extra or [])


def write_json(path, obj):
    path.write_text(json.dumps(obj))
    return path


def test_coco_json_roundtrip_matches_projection(tmp_path, walk_px):
    px, _ = walk_px
    path = write_json(tmp_path / "walk.json", coco_json(h36m_to_coco(px)))
    view = load_keypoints(path, width=1000, height=1000)
    kp = view.keypoints2d
    assert kp.shape == (len(px), 17, 3) and view.width == 1000 and view.subject == "wild"
    assert np.array_equal(view.meta["frame_ids"], np.arange(100, 100 + len(px)))
    for n in DIRECT + ["neck"]:
        j = H36M.index(n)
        assert np.allclose(kp[:, j, :2], px[:, j], atol=1e-3), n
    assert np.allclose(kp[..., 2], 0.9)
    lh, rh, ls, rs = (px[:, H36M.index(n)] for n in ("left_hip", "right_hip", "left_shoulder", "right_shoulder"))
    assert np.allclose(kp[:, 0, :2], (lh + rh) / 2, atol=1e-3)  # pelvis = mid-hips
    assert np.allclose(kp[:, 8, :2], (ls + rs) / 2, atol=1e-3)  # thorax = mid-shoulders
    assert np.allclose(kp[:, 7, :2], (lh + rh + ls + rs) / 4, atol=1e-3)  # spine = mid pelvis-thorax
    assert np.allclose(kp[:, 10, :2], px[:, 10], atol=1e-3)  # head recovered from the face points
    # and the derived joints are close to the true projections (DeepMimic's thorax is not exactly mid-shoulders)
    err = np.linalg.norm(kp[..., :2] - px, axis=-1).max(0)  # (17,) px
    assert err.max() < 10.0, err.round(2)  # measured: thorax 6.2 px, spine 3.6 px, elsewhere < 0.2 px
    # normalisation: VideoPose3D screen coordinates
    x = view_to_input(view)
    assert np.allclose(x[..., :2], normalize_screen(kp[..., :2], 1000, 1000), atol=1e-6)


def test_npy_layouts_agree_with_json(tmp_path, walk_px):
    px, _ = walk_px
    coco = h36m_to_coco(px)
    js = load_keypoints(write_json(tmp_path / "a.json", coco_json(coco)), width=W, height=H)
    np.save(tmp_path / "coco.npy", np.concatenate([coco, np.full(coco.shape[:2] + (1,), 0.9)], -1))
    npy = load_keypoints(tmp_path / "coco.npy", layout="coco", width=W, height=H)
    assert np.allclose(npy.keypoints2d, js.keypoints2d, atol=1e-4)
    # H36M layout is taken as is; an npz carries its own image size
    h36m = np.concatenate([px, np.ones(px.shape[:2] + (1,))], -1)
    np.savez(tmp_path / "h36m.npz", keypoints=h36m, width=640, height=480)
    v = load_keypoints(tmp_path / "h36m.npz", layout="h36m")
    assert (v.width, v.height) == (640, 480) and v.meta["frame_ids"] is None
    assert np.allclose(v.keypoints2d, h36m, atol=1e-4)
    assert load_keypoints(tmp_path / "h36m.npz", layout="h36m", width=800, height=600).width == 800  # flag wins
    np.save(tmp_path / "xy.npy", px)  # (T, 17, 2): confidence 1
    assert np.allclose(load_keypoints(tmp_path / "xy.npy", layout="h36m", width=W, height=H).keypoints2d[..., 2], 1)


def test_annotation_format_gives_image_size(tmp_path, walk_px):
    px, _ = walk_px
    ann = coco_json(h36m_to_coco(px[:5]))
    data = {"images": [{"id": 100 + t, "width": 1920, "height": 1080} for t in range(5)], "annotations": ann}
    v = load_keypoints(write_json(tmp_path / "ann.json", data))
    assert (v.width, v.height) == (1920, 1080)
    x = view_to_input(v)
    assert np.allclose(x[..., 0], v.keypoints2d[..., 0] / 1920 * 2 - 1, atol=1e-6)
    assert np.allclose(x[..., 1], v.keypoints2d[..., 1] / 1920 * 2 - 1080 / 1920, atol=1e-6)
    data["images"][2]["width"] = 1280
    with pytest.raises(KeypointFormatError, match="different sizes"):
        load_keypoints(write_json(tmp_path / "ann2.json", data))


def test_low_scores_are_masked_and_propagate(tmp_path, walk_px):
    px, _ = walk_px
    T = 6
    scores = np.full((T, 17), 0.8)
    scores[1, C["left_hip"]] = 0.2  # -> left hip, pelvis and spine masked in frame 1
    scores[2, C["left_wrist"]] = 0.29
    scores[3, [C["left_eye"], C["right_eye"], C["left_ear"], C["right_ear"]]] = 0.1  # no face: head masked
    scores[4, [C["left_eye"], C["right_eye"], C["right_ear"]]] = 0.1  # profile: head from the left ear alone
    scores[5, C["left_shoulder"]] = 0.5
    v = load_keypoints(write_json(tmp_path / "m.json", coco_json(h36m_to_coco(px[:T]), scores)), width=W, height=H)
    conf = v.keypoints2d[..., 2]
    masked = {t: set(np.flatnonzero(conf[t] == 0)) for t in range(T)}
    assert masked[0] == set()
    assert masked[1] == {H36M.index("left_hip"), H36M.index("pelvis"), H36M.index("spine")}
    assert masked[2] == {H36M.index("left_wrist")}
    assert masked[3] == {H36M.index("head")}
    assert masked[4] == set()
    assert conf[5, H36M.index("thorax")] == pytest.approx(0.5) and conf[5, H36M.index("spine")] == pytest.approx(0.5)
    face4 = h36m_to_coco(px[4:5])[0, C["left_ear"]]
    thorax4 = v.keypoints2d[4, 8, :2]
    assert np.allclose(v.keypoints2d[4, 10, :2], thorax4 + HEAD_EXTENSION * (face4 - thorax4), atol=1e-3)
    x = view_to_input(v)
    assert (x[1, H36M.index("pelvis")] == 0).all() and (x[2, H36M.index("left_wrist")] == 0).all()
    v2 = load_keypoints(tmp_path / "m.json", width=W, height=H, min_score=0.15)
    assert conf[1].min() == 0 and v2.keypoints2d[1, :, 2].min() > 0  # threshold is respected


def test_visibility_flags_read_as_confidence(tmp_path, walk_px):
    px, _ = walk_px
    flags = np.full((3, 17), 2.0)
    flags[0, C["nose"]] = 0.0
    flags[1, C["left_knee"]] = 1.0
    v = load_keypoints(write_json(tmp_path / "gt.json", coco_json(h36m_to_coco(px[:3]), flags)), width=W, height=H)
    assert v.keypoints2d[0, H36M.index("neck"), 2] == 0 and v.keypoints2d[1, H36M.index("left_knee"), 2] == 1
    assert set(np.unique(v.keypoints2d[..., 2])) <= {0.0, 1.0}


def test_person_best_picks_the_highest_score(tmp_path, walk_px):
    px, _ = walk_px
    coco = h36m_to_coco(px[:4])
    entries = coco_json(coco)
    other = dict(entries[2], score=0.5, keypoints=(np.array(entries[2]["keypoints"]) + 300).tolist())
    better = dict(entries[1], score=0.99, keypoints=(np.array(entries[1]["keypoints"]) - 50).tolist())
    crowd = entries[:2] + [better] + entries[2:3] + [other] + entries[3:]
    for e in crowd:  # give the shifted copies plausible scores (x, y, s triplets shifted too)
        kp = np.array(e["keypoints"]).reshape(17, 3)
        kp[:, 2] = 0.9
        e["keypoints"] = kp.reshape(-1).tolist()
    path = write_json(tmp_path / "crowd.json", crowd)
    with pytest.raises(KeypointFormatError, match=r"image_id 101 has 2 people.*--person best"):
        load_keypoints(path, width=W, height=H)
    v = load_keypoints(path, width=W, height=H, person="best")
    assert len(v) == 4 and list(v.meta["frame_ids"]) == [100, 101, 102, 103]
    assert np.allclose(v.keypoints2d[1, 1, :2], px[1, 1] - 50, atol=1e-3)  # the 0.99 person
    assert np.allclose(v.keypoints2d[2, 1, :2], px[2, 1], atol=1e-3)  # 0.95 beats 0.5


def test_non_person_categories_are_skipped(tmp_path, walk_px):
    px, _ = walk_px
    entries = coco_json(h36m_to_coco(px[:3]))
    entries.insert(1, dict(entries[0], category_id=3, image_id=100))
    assert len(load_keypoints(write_json(tmp_path / "c.json", entries), width=W, height=H)) == 3


@pytest.mark.parametrize("case, match", [
    ("malformed", "malformed JSON"),
    ("count", r"entry 2 \(image_id 102\): 'keypoints' has 50 values, expected 51"),
    ("nan", r"entry 1 \(image_id 101\): 'keypoints' has NaN or inf \(keypoint 5, left_shoulder\)"),
    ("empty", "zero frames"),
    ("decreasing", r"frames out of order: 'image_id' 101 after 102"),
    ("duplicated", r"frames out of order: 'image_id' 100 after 102"),
    ("missing", r"entry 0: missing field 'keypoints'"),
    ("string_id", r"'image_id' must be an integer frame number"),
    ("no_size", r"image size unknown.*--width and --height"),
    ("dict", r"dict with 'annotations'"),
])
def test_json_errors_name_the_field(tmp_path, walk_px, case, match):
    px, _ = walk_px
    entries = coco_json(h36m_to_coco(px[:4]))
    size = dict(width=W, height=H)
    if case == "malformed":
        (tmp_path / "x.json").write_text(json.dumps(entries)[:-20])
    else:
        if case == "count":
            entries[2]["keypoints"] = entries[2]["keypoints"][:-1]
        elif case == "nan":
            entries[1]["keypoints"][15] = float("nan")
        elif case == "empty":
            entries = []
        elif case == "decreasing":
            entries[1]["image_id"], entries[2]["image_id"] = 102, 101
        elif case == "duplicated":
            entries[3]["image_id"] = 100
        elif case == "missing":
            del entries[0]["keypoints"]
        elif case == "string_id":
            entries[0]["image_id"] = "frame0.jpg"
        elif case == "no_size":
            size = {}
        elif case == "dict":
            entries = {"people": entries}
        (tmp_path / "x.json").write_text(json.dumps(entries))
    with pytest.raises(KeypointFormatError, match=match):
        load_keypoints(tmp_path / "x.json", **size)


def test_numpy_errors_name_the_field(tmp_path):
    np.save(tmp_path / "j18.npy", np.zeros((5, 18, 3)))
    with pytest.raises(KeypointFormatError, match=r"shape \(T, 17, 3\).*got \(5, 18, 3\)"):
        load_keypoints(tmp_path / "j18.npy", width=W, height=H)
    bad = np.ones((5, 17, 3))
    bad[3, 4, 0] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(KeypointFormatError, match="NaN or inf .first bad frame 3"):
        load_keypoints(tmp_path / "nan.npy", width=W, height=H)
    np.save(tmp_path / "empty.npy", np.zeros((0, 17, 3)))
    with pytest.raises(KeypointFormatError, match="zero frames"):
        load_keypoints(tmp_path / "empty.npy", width=W, height=H)
    np.savez(tmp_path / "nokey.npz", kps=np.ones((5, 17, 3)))
    with pytest.raises(KeypointFormatError, match="no 'keypoints' array .keys: kps"):
        load_keypoints(tmp_path / "nokey.npz", width=W, height=H)
    np.savez(tmp_path / "badsize.npz", keypoints=np.ones((5, 17, 3)), width=-3, height=10)
    with pytest.raises(KeypointFormatError, match="'width' must be a positive number"):
        load_keypoints(tmp_path / "badsize.npz")
    (tmp_path / "k.csv").write_text("1,2,3")
    with pytest.raises(KeypointFormatError, match="unknown keypoint file type '.csv'"):
        load_keypoints(tmp_path / "k.csv", width=W, height=H)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_keypoints(tmp_path / "nope.json", width=W, height=H)


def test_coco_to_h36m_by_hand():
    kp = np.zeros((1, 17, 3))
    kp[0, :, 2] = 1.0
    kp[0, C["left_hip"], :2], kp[0, C["right_hip"], :2] = (120, 300), (80, 300)
    kp[0, C["left_shoulder"], :2], kp[0, C["right_shoulder"], :2] = (130, 100), (70, 100)
    kp[0, C["nose"], :2] = (100, 70)
    for n in ("left_eye", "right_eye", "left_ear", "right_ear"):
        kp[0, C[n], :2] = (100, 60)
    kp[0, C["right_ear"], 2] = 0.2  # below min_score: not used (it sits at the same point anyway)
    out = wild.coco_to_h36m(kp)
    assert out[0, 0].tolist() == [100, 300, 1]  # pelvis
    assert out[0, 8].tolist() == [100, 100, 1]  # thorax
    assert out[0, 7].tolist() == [100, 200, 1]  # spine
    assert out[0, 9].tolist() == [100, 70, 1]  # neck/nose
    assert out[0, 10, :2] == pytest.approx([100, 100 - 1.55 * 40])  # head 62 px above the thorax
    assert out[0, 10, 2] == 1.0
    assert out[0, H36M.index("right_hip")].tolist() == [80, 300, 1]


def test_h36m_to_coco_round_trip(walk_px):
    px, _ = walk_px
    kp = np.concatenate([px, np.full(px.shape[:2] + (1,), 0.7)], -1)
    coco = h36m_to_coco(kp)
    assert coco.shape == kp.shape and np.allclose(coco[:, C["left_eye"], 2], 0.7)
    back = wild.coco_to_h36m(coco)
    kept = [j for j in range(17) if H36M.names[j] not in ("pelvis", "spine", "thorax")]
    assert np.allclose(back[:, kept], kp[:, kept], atol=1e-9)
    assert np.allclose(back[:, 8, :2], (px[:, 11] + px[:, 14]) / 2)
    assert np.allclose(h36m_to_coco(px), coco[..., :2])  # (T, 17, 2) works too
    with pytest.raises(ValueError, match=r"\(T, 17, 2\|3\)"):
        h36m_to_coco(np.zeros((3, 16, 2)))


def test_unreadable_and_out_of_range_numpy_files(tmp_path):
    """Issue 10 items 4-6: an empty .npy (EOFError in numpy), a truncated/corrupt file, and finite
    but huge coordinates (1e30, 1e308: NaN poses or a float32 overflow later) are one clear error."""
    (tmp_path / "empty.npy").write_bytes(b"")
    with pytest.raises(KeypointFormatError, match=r"empty.npy: empty file \(0 bytes\)"):
        load_keypoints(tmp_path / "empty.npy", width=W, height=H)
    np.save(tmp_path / "ok.npy", np.ones((5, 17, 3)))
    (tmp_path / "trunc.npy").write_bytes((tmp_path / "ok.npy").read_bytes()[:150])
    with pytest.raises(KeypointFormatError, match="trunc.npy: cannot read as .npy/.npz"):
        load_keypoints(tmp_path / "trunc.npy", width=W, height=H)
    np.savez(tmp_path / "ok.npz", keypoints=np.ones((5, 17, 3)))
    raw = (tmp_path / "ok.npz").read_bytes()
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(KeypointFormatError, match="trunc.npz: "):
        load_keypoints(tmp_path / "trunc.npz", width=W, height=H)
    for scale in (1e30, 1e308):
        kp = np.ones((5, 17, 3))
        kp[2, 4, :2] = scale
        np.save(tmp_path / "far.npy", kp)
        with pytest.raises(KeypointFormatError, match=r"x, y must be pixel coordinates .*frame 2 joint 4"):
            load_keypoints(tmp_path / "far.npy", width=W, height=H)
    entries = coco_json(np.full((3, 17, 2), 50.0))
    entries[1]["keypoints"][0] = 1e308
    (tmp_path / "far.json").write_text(json.dumps(entries))
    with pytest.raises(KeypointFormatError, match=r"entry 1 .*must be pixel coordinates .*keypoint 0 \(nose\)"):
        load_keypoints(tmp_path / "far.json", width=W, height=H)


def test_integer_arrays_are_flagged(tmp_path):
    """An int64 array truncates scores in [0, 1) to 0: the View remembers it (lift says why all is hidden)."""
    kp = np.concatenate([np.full((4, 17, 2), 50.0), np.full((4, 17, 1), 0.9)], -1)
    np.save(tmp_path / "int.npy", kp.astype(np.int64))
    view = load_keypoints(tmp_path / "int.npy", width=W, height=H)
    assert view.meta["integer"] is True and (view.keypoints2d[..., 2] == 0).all()
    np.save(tmp_path / "float.npy", kp)
    assert load_keypoints(tmp_path / "float.npy", width=W, height=H).meta["integer"] is False
