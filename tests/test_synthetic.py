"""The procedural motion generator: vocabulary, subjects, plausibility, determinism."""
import numpy as np
import pytest

from langpose.data import synthetic as S
from langpose.skeleton import H36M


@pytest.fixture(scope="module")
def seqs():
    return S.generate(24, seed=3)


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def hinge_sign(P, a, b, c, lat):
    """Signed sine of the bend at joint b (a-b-c) about the lateral axis ``lat`` (T, 3)."""
    return (np.cross(_unit(P[:, b] - P[:, a]), _unit(P[:, c] - P[:, b])) * lat).sum(-1)


def test_vocabulary():
    assert len(S.ACTIONS) >= 30 and len(set(S.ACTIONS)) == len(S.ACTIONS)
    for text in ("wave the right hand", "wave the left hand", "kick with the left leg", "kick with the right leg",
                 "punch with the right hand", "walk forward", "walk backward", "turn around", "jump in place",
                 "jump forward", "squat", "sit down", "stand up", "bend down to pick something up", "jumping jacks",
                 "clap hands", "raise both arms", "throw with the right hand", "side step to the left",
                 "side step to the right", "march in place", "stretch"):
        assert S.ACTIONS[S.action_id(text)] == text


def test_unknown_action_is_a_clear_error():
    with pytest.raises(KeyError, match=r"unknown action 'wave the rigth hand'.*did you mean 'wave the right hand'"):
        S.action_id("wave the rigth hand")
    with pytest.raises(KeyError, match="unknown action"):
        S.synthesize(S.SUBJECTS[0], ["moonwalk"], np.random.default_rng(0))


def test_subjects_heights_and_bones():
    assert len(S.SUBJECTS) >= 8
    heights = [s.height for s in S.SUBJECTS]
    assert min(heights) >= 1.50 and max(heights) <= 1.95
    assert max(heights) - min(heights) > 0.3
    for subj in S.SUBJECTS:  # standing still, the head joint sits ~6 cm below the stated height
        seq = S.synthesize(subj, ["stand still"], np.random.default_rng(0))
        top = seq.joints3d[:, 10, 2].max()
        assert subj.height - 0.12 < top < subj.height
    a, b = (S.synthesize(S.SUBJECTS[i], ["stand still"], np.random.default_rng(0)) for i in (0, 2))
    assert np.abs(H36M.bone_lengths(a.joints3d[0]) - H36M.bone_lengths(b.joints3d[0])).max() > 0.02


def test_sequences_format(seqs):
    for s in seqs:
        assert s.fps == 50.0 and s.vocab == S.ACTIONS and s.joints3d.shape == (len(s), 17, 3)
        assert (s.labels >= 0).all() and len(np.unique(s.labels)) >= 2  # chains of >= 2 actions
        assert s.meta["facing"].shape == (len(s),)
    assert len({s.subject for s in seqs}) == 8


def test_bone_lengths_constant(seqs):
    for s in seqs:
        assert H36M.bone_lengths(s.joints3d).std(0).max() < 1e-3


def test_feet_on_the_floor(seqs):
    for s in seqs:
        ankles = s.joints3d[:, [3, 6], 2]
        assert ankles.min() > -0.03
        assert s.joints3d[..., 2].min() > -0.03
        # grounded: except in flight, the lowest ankle rests at ankle height (< 15 cm)
        assert np.median(ankles.min(1)) < 0.15


def test_knees_and_elbows_never_bend_backwards(seqs):
    """Knee: the shin turns backwards from the thigh, so cross(thigh, shin) points along the
    hips' left axis (hipL - hipR): sign >= 0. Elbow: the forearm turns forwards from the upper
    arm, so cross(upper arm, forearm) points along -(shoulderL - shoulderR): sign <= 0."""
    for s in seqs:
        P = s.joints3d.astype(np.float64)
        hips, shoulders = _unit(P[:, 4] - P[:, 1]), _unit(P[:, 11] - P[:, 14])
        for a, b, c in ((1, 2, 3), (4, 5, 6)):
            assert hinge_sign(P, a, b, c, hips).min() > -1e-3, s.name
        for a, b, c in ((14, 15, 16), (11, 12, 13)):
            assert hinge_sign(P, a, b, c, shoulders).max() < 1e-3, s.name


def test_hinge_check_detects_a_backward_knee():
    seq = S.synthesize(S.SUBJECTS[0], ["squat"], np.random.default_rng(0))
    P = seq.joints3d.astype(np.float64)
    hips = _unit(P[:, 4] - P[:, 1])
    bent = hinge_sign(P, 1, 2, 3, hips)
    assert bent.max() > 0.5  # a deep squat bends the knee a lot, forwards
    mirrored = P.copy()  # reflect the right ankle through the knee's thigh line: a backward knee
    thigh = _unit(P[:, 2] - P[:, 1])
    shin = P[:, 3] - P[:, 2]
    along = (shin * thigh).sum(-1, keepdims=True) * thigh
    mirrored[:, 3] = P[:, 2] + 2 * along - shin
    assert hinge_sign(mirrored, 1, 2, 3, hips).min() < -0.5


def test_left_is_on_the_left(seqs):
    """With z up and facing f = (cos a, sin a, 0), the subject's left is cross(z, f) = (-sin a, cos a, 0)."""
    for s in seqs:
        f = s.meta["facing"]
        left = np.stack([-np.sin(f), np.cos(f), np.zeros_like(f)], -1)
        for l, r in ((4, 1), (11, 14)):
            assert ((s.joints3d[:, l] - s.joints3d[:, r]) * left).sum(-1).min() > 0.15


def test_motion_is_smooth(seqs):
    for s in seqs:
        step = np.linalg.norm(np.diff(s.joints3d, axis=0), axis=-1)  # m per frame
        assert step.max() < 0.25, s.name  # < 12.5 m/s even for a punch's fist
        assert np.median(step) < 0.05


def test_deterministic_by_seed():
    a, b, c = S.generate(3, seed=1), S.generate(3, seed=1), S.generate(3, seed=2)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.joints3d, y.joints3d)
        np.testing.assert_array_equal(x.labels, y.labels)
    assert not np.array_equal(a[0].labels, c[0].labels) or not np.allclose(a[0].joints3d[:10], c[0].joints3d[:10])


def _displacement(action, rng_seed=0):
    seq = S.synthesize(S.SUBJECTS[3], [action], np.random.default_rng(rng_seed), yaw0=0.7, start=(0, 0))
    d = seq.joints3d[-1, 0, :2] - seq.joints3d[0, 0, :2]
    f = np.array([np.cos(0.7), np.sin(0.7)])
    return seq, d @ f, d @ np.array([-f[1], f[0]])


def test_locomotion_goes_where_the_label_says():
    assert _displacement("walk forward")[1] > 1.5
    assert _displacement("walk backward")[1] < -0.8
    assert _displacement("side step to the left")[2] > 0.5
    assert _displacement("side step to the right")[2] < -0.5
    seq, fwd, _ = _displacement("march in place")
    assert abs(fwd) < 0.05
    turn = S.synthesize(S.SUBJECTS[0], ["turn around"], np.random.default_rng(0), yaw0=0.0)
    assert abs(turn.meta["facing"][-1] - np.pi) < 0.05


def test_sides_of_arm_actions():
    seq = S.synthesize(S.SUBJECTS[1], ["wave the right hand"], np.random.default_rng(0))
    mid = slice(len(seq) // 3, 2 * len(seq) // 3)
    P = seq.joints3d[mid]
    assert (P[:, 16, 2] > P[:, 14, 2]).all()  # right wrist above right shoulder
    assert (P[:, 13, 2] < P[:, 11, 2] - 0.3).all()  # left hand hangs down
    seq = S.synthesize(S.SUBJECTS[1], ["kick with the left leg"], np.random.default_rng(0))
    assert seq.joints3d[:, 6, 2].max() > seq.joints3d[:, 3, 2].max() + 0.3


def test_transitions_are_blended_and_labelled():
    chain = ["march in place", "raise both arms"]
    soft = S.synthesize(S.SUBJECTS[0], chain, np.random.default_rng(5), blend_seconds=0.3)
    hard = S.synthesize(S.SUBJECTS[0], chain, np.random.default_rng(5), blend_seconds=1e-3)
    change = np.flatnonzero(np.diff(soft.labels))
    assert len(change) == 1
    assert soft.labels[0] == S.action_id("march in place") and soft.labels[-1] == S.action_id("raise both arms")
    np.testing.assert_array_equal(soft.labels, hard.labels)
    near = slice(change[0] - 20, change[0] + 20)

    def jump(seq):
        return np.linalg.norm(np.diff(seq.joints3d[near], axis=0), axis=-1).max()

    assert jump(hard) > 2 * jump(soft)  # a hard switch teleports the lifted leg; the blend does not
    assert jump(soft) < 0.06


def test_dataset_covers_every_action_evenly():
    seqs = S.generate_dataset(S.SyntheticConfig.quick())
    present = {int(i) for s in seqs for i in np.unique(s.labels)}
    assert present == set(range(len(S.ACTIONS)))
    segments = [int(s.labels[0]) for s in seqs] + [int(b) for s in seqs for a, b in zip(s.labels[:-1], s.labels[1:]) if a != b]
    counts = np.bincount(segments, minlength=len(S.ACTIONS))
    assert counts.max() <= 3 * counts.min()


# ---------------------------------------------------------------------- body and pose variety (issue 12)
def test_vary_body_scales_each_bone_and_sets_the_height():
    subj = S.SUBJECTS[0]
    rng = np.random.default_rng(5)
    bodies = [S.vary_body(subj, rng, 0.3) for _ in range(200)]
    assert {b.name for b in bodies} == {subj.name}
    hs = np.array([b.height for b in bodies])
    assert hs.min() >= 1.50 and hs.max() <= 1.95 and hs.max() - hs.min() > 0.3
    for b in bodies[:5]:  # the standing height is the drawn one (head joint ~6-12 cm below it)
        top = S.synthesize(b, ["stand still"], np.random.default_rng(0)).joints3d[:, 10, 2].max()
        assert b.height - 0.12 < top < b.height
    # proportions: hip width relative to the thigh spreads over about (0.7/1.3, 1.3/0.7) of the subject's
    ratio = np.array([b.lengths["hip"] / b.lengths["thigh"] for b in bodies]) / (subj.lengths["hip"] / subj.lengths["thigh"])
    assert ratio.min() < 0.7 and ratio.max() > 1.4 and 0.7 / 1.3 - 1e-9 <= ratio.min() and ratio.max() <= 1.3 / 0.7 + 1e-9
    # variety 0 keeps the proportions exactly, only the size changes
    same = S.vary_body(subj, np.random.default_rng(1), 0.0)
    k = same.lengths["thigh"] / subj.lengths["thigh"]
    assert abs(k - 1) > 1e-3 and all(abs(same.lengths[n] - k * v) < 1e-12 for n, v in subj.lengths.items())
    with pytest.raises(ValueError, match=r"variety must be in \[0, 1\), got 1.5"):
        S.vary_body(subj, rng, 1.5)


def test_pose_noise_is_smooth_bounded_and_leaves_root_motion_alone():
    noise = S.pose_noise(500, 50.0, np.random.default_rng(0), 0.6)
    assert set(noise) == set(S.POSE_CHANNELS)
    assert not {"v_fwd", "v_left", "yaw_rate", "flight"} & set(noise)
    assert {"pitch", "roll", "bend", "hip_flex_l", "elbow_r"} <= set(noise)
    for v in noise.values():
        assert v.shape == (500,) and np.abs(v).max() <= 0.6 + 1e-9
        assert np.abs(np.diff(v)).max() < 2 * np.pi * 0.6 * 0.6 / 50 + 1e-9  # |d/dt| <= 2 pi f_max A per frame
    assert np.std([np.abs(v).max() for v in noise.values()]) > 0  # channels differ


def test_pitch_channel_tilts_the_whole_body_forward():
    rng = lambda: np.random.default_rng(0)  # noqa: E731
    upright = S.synthesize(S.SUBJECTS[0], ["stand still"], rng(), yaw0=0.0, start=(0, 0))
    tilted = S.synthesize(S.SUBJECTS[0], ["stand still"], rng(), yaw0=0.0, start=(0, 0),
                          offsets=lambda T: {"pitch": np.full(T, 0.5)})
    for seq, want in ((upright, 0.0), (tilted, 0.5)):
        trunk = seq.joints3d[:, 8] - seq.joints3d[:, 0]  # pelvis -> thorax, facing +x
        lean = np.arctan2(trunk[:, 0], trunk[:, 2])
        assert abs(np.median(lean) - want) < 0.06 + abs(np.median(np.arctan2(*(upright.joints3d[:, 8] - upright.joints3d[:, 0])[:, [0, 2]].T)))
    assert tilted.joints3d[..., 2].min() > -0.03  # still grounded


def test_variety_changes_training_sequences_only():
    base = S.generate_dataset(S.SyntheticConfig.quick())
    varied = S.generate_dataset(S.SyntheticConfig.quick(body_variety=0.3, pose_variety=0.6))
    split = S.split_subjects(S.SyntheticConfig.quick())
    held_out = set(split["val"]) | set(split["test"])
    hips_base, hips_varied = [], []
    for a, b in zip(base, varied):
        assert a.name == b.name and np.array_equal(a.labels, b.labels)  # same motion programs and labels
        if a.subject in held_out:
            assert np.array_equal(a.joints3d, b.joints3d)
        else:
            assert np.abs(a.joints3d - b.joints3d).max() > 0.05
            assert H36M.bone_lengths(b.joints3d).std(0).max() < 1e-3  # one rigid body per sequence
            hips_base.append(H36M.bone_lengths(a.joints3d[0])[0])
            hips_varied.append(H36M.bone_lengths(b.joints3d[0])[0])
    # fixed bodies: one hip width per training subject; varied: one per sequence
    assert len(np.unique(np.round(hips_base, 4))) == len(split["train"])
    assert len(np.unique(np.round(hips_varied, 4))) == len(hips_varied)
    with pytest.raises(ValueError, match="body_variety must be in"):
        S.SyntheticConfig(body_variety=-0.1)
    with pytest.raises(ValueError, match="pose_variety must be in"):
        S.SyntheticConfig(pose_variety=4.0)


def test_data_config_passes_variety_to_the_generator(tmp_path):
    from langpose.train import load_split_views
    from langpose.train_config import train_config

    cfg = train_config("tiny", ["data.quick=true", "data.body_variety=0.3", f"data.data_root={tmp_path}"])
    views = load_split_views(cfg, "train")
    hips = {round(float(H36M.bone_lengths(v.joints3d[0])[0]), 5) for v in views}
    plain = load_split_views(train_config("tiny", ["data.quick=true", f"data.data_root={tmp_path}"]), "train")
    assert len(hips) > len({round(float(H36M.bone_lengths(v.joints3d[0])[0]), 5) for v in plain})


def test_tilt_variety_lays_bodies_down_in_training_sequences_only():
    cfg = S.SyntheticConfig.quick(tilt_variety=1.6)
    split = S.split_subjects(cfg)
    base = {q.name: q for q in S.generate_dataset(S.SyntheticConfig.quick())}
    def lean(q):  # mean angle of the pelvis -> thorax vector from the vertical, degrees
        trunk = q.joints3d[:, 8] - q.joints3d[:, 0]
        return np.degrees(np.arccos(trunk[:, 2] / np.linalg.norm(trunk, axis=-1))).mean()

    more = []
    for q in S.generate_dataset(cfg):
        if q.subject in split["train"]:
            more.append(lean(q) - lean(base[q.name]))
            assert q.joints3d[..., 2].min() > -0.03  # grounded however it lies
        else:
            assert np.array_equal(q.joints3d, base[q.name].joints3d)
    assert np.median(more) > 10 and max(more) > 30
    with pytest.raises(ValueError, match="tilt_variety must be in"):
        S.SyntheticConfig(tilt_variety=-1.0)


# --------------------------------------------------------------------------- floor-level actions
def _floor(text, seed=1):
    return S.synthesize(S.SUBJECTS[0], [text], np.random.default_rng(seed), yaw0=0.0, start=(0, 0))


def _middle(seq, lo=0.4, hi=0.6):
    T = len(seq)
    return seq.joints3d[int(lo * T):int(hi * T)]


def test_floor_actions_start_and_end_standing_and_go_down_in_between():
    standing = _floor("stand still").joints3d[:, 10, 2].mean()  # head height standing
    assert S.FLOOR_ACTIONS and len(set(S.FLOOR_ACTIONS) & set(S.ACTIONS)) == 0
    for text in S.FLOOR_ACTIONS:
        seq = _floor(text)
        P = seq.joints3d
        assert seq.vocab == S.ALL_ACTIONS and set(seq.labels) == {S.action_id(text)}
        assert H36M.bone_lengths(P).std(0).max() < 1e-3, text  # one rigid body
        assert P[..., 2].min() > -0.03, text                   # grounded, never below the floor
        for f in (0, -1):                                      # upright at both ends
            assert abs(P[f, 10, 2] - standing) < 0.1, text
        assert np.abs(np.diff(P, axis=0)).max() < 0.25, text   # no jumps between frames (50 fps)
        # knees and elbows never bend backwards, on the floor too
        hips, shoulders = _unit(P[:, 4] - P[:, 1]), _unit(P[:, 11] - P[:, 14])
        for a, b, c in ((1, 2, 3), (4, 5, 6)):
            assert hinge_sign(P, a, b, c, hips).min() > -1e-3, text
    head = lambda t: _middle(_floor(t))[:, 10, 2]  # noqa: E731
    assert head("crawl on hands and knees").max() < 0.8 * standing
    for lying in ("lie down on the back and get up", "lie face down and get up", "roll over on the floor"):
        mid = _middle(_floor(lying))
        assert (mid[..., 2].max(1) - mid[..., 2].min(1)).max() < 0.45, lying  # the whole body near the floor
    kneel = _middle(_floor("kneel down"))
    assert kneel[:, [2, 5], 2].max() < 0.15 and kneel[:, 10, 2].min() > 0.55 * standing  # knees down, trunk up
    cart = _floor("do a cartwheel").joints3d
    assert (cart[:, 10, 2] < cart[:, 0, 2]).any()  # upside down at some point: head below the pelvis


def test_floor_action_faces_and_rolls():
    """Face down means the chest faces the floor; rolling over turns it down and back up."""
    def chest_normal_z(P):  # forward normal of the trunk plane (left shoulder, right shoulder, pelvis)
        n = np.cross(P[:, 11] - P[:, 0], P[:, 14] - P[:, 0])
        return (n / np.linalg.norm(n, axis=-1, keepdims=True))[:, 2]
    up = chest_normal_z(_middle(_floor("lie down on the back and get up")))
    down = chest_normal_z(_middle(_floor("lie face down and get up")))
    assert np.sign(up).tolist() != np.sign(down).tolist()
    assert abs(up.mean()) > 0.8 and abs(down.mean()) > 0.8 and np.sign(up.mean()) == -np.sign(down.mean())
    roll = chest_normal_z(_middle(_floor("roll over on the floor"), 0.25, 0.75))
    assert roll.max() > 0.8 and roll.min() < -0.8  # faces up and faces down during the roll
    assert "spin" in S.CHANNELS and "spin" not in S.POSE_CHANNELS  # pose variety leaves the roll alone


def test_floor_actions_go_into_training_sequences_only():
    base = {q.name: q for q in S.generate_dataset(S.SyntheticConfig.quick())}
    cfg = S.SyntheticConfig.quick(floor_actions=1.0)
    split = S.split_subjects(cfg)
    sit, stand = S.action_id("sit down"), S.action_id("stand up")
    floor_seqs = 0
    for q in S.generate_dataset(cfg):
        assert q.vocab == S.ALL_ACTIONS
        if q.subject in split["train"]:
            ids = [int(k) for k in q.labels[np.r_[True, np.diff(q.labels) != 0]]]  # the chain, in order
            extra = [k for k in ids if k >= len(S.ACTIONS)]
            assert len(extra) == 1  # exactly one floor action per sequence at fraction 1
            floor_seqs += 1
            assert all(b == stand for a, b in zip(ids, ids[1:]) if a == sit)  # 'sit down' still followed by 'stand up'
            assert len(q) > len(base[q.name])
        else:  # validation and test: the same as without floor actions, labels included
            assert np.array_equal(q.joints3d, base[q.name].joints3d)
            assert np.array_equal(q.labels, base[q.name].labels)
    assert floor_seqs == len(split["train"]) * cfg.sequences_per_subject
    none = S.generate_dataset(S.SyntheticConfig.quick(floor_actions=0.0))
    assert all(q.vocab == S.ACTIONS and q.labels.max() < len(S.ACTIONS) for q in none)
    with pytest.raises(ValueError, match=r"floor_actions must be a fraction in \[0, 1\], got 1.5"):
        S.SyntheticConfig(floor_actions=1.5)


def test_floor_action_ids_and_vocab_errors(tmp_path):
    assert S.action_id("crawl on hands and knees") == len(S.ACTIONS)
    assert S.ALL_ACTIONS[:len(S.ACTIONS)] == S.ACTIONS
    rng = np.random.default_rng(0)
    assert S.synthesize(S.SUBJECTS[0], ["squat"], rng).vocab == S.ACTIONS
    with pytest.raises(ValueError, match="vocab must be ACTIONS or ALL_ACTIONS"):
        S.synthesize(S.SUBJECTS[0], ["kneel down"], rng, vocab=S.ACTIONS)
    with pytest.raises(KeyError, match=r"unknown action id 99; expected 0\.\.40"):
        S.synthesize(S.SUBJECTS[0], [99], rng)
    # through the training config, and cached with their vocabulary
    from langpose.train import load_split_views
    from langpose.train_config import train_config
    cfg = train_config("tiny", ["data.quick=true", "data.floor_actions=1.0", f"data.data_root={tmp_path}"])
    for _ in range(2):  # generated, then read back from the cache
        views = load_split_views(cfg, "train")
        assert tuple(views[0].vocab) == S.ALL_ACTIONS
        assert max(int(v.labels.max()) for v in views) >= len(S.ACTIONS)


# --------------------------------------------------------------------------- raised ground
def test_elevation_profile_holds_smoothly_between_heights_in_range():
    flat = [S.elevation_profile(500, 50.0, np.random.default_rng(s), 1.0) for s in range(40)]
    raised = [e for e in flat if e.any()]
    assert 8 < len(raised) < 32  # about half of the sequences leave the floor
    assert all(e.shape == (500,) for e in flat)
    for e in raised:
        assert 0.0 <= e.min() and e.max() <= 1.0
        # <= 1 m between knots >= 1 s apart; a smoothstep peaks at 1.5x its mean rate: <= 1.5 m/s
        assert np.abs(np.diff(e)).max() <= 1.5 / 50 + 1e-9
    assert max(e.max() - e.min() for e in raised) > 0.5
    # hand-computed: knots at t = 0 and t = hold; halfway between them, smoothstep(0.5) = 0.5
    e = S.elevation_profile(101, 100.0, np.random.default_rng(0), 2.0, raised=1.0, hold=(1.0, 1.0))
    assert e[50] == pytest.approx(0.5 * (e[0] + e[100]))


def test_elevation_variety_raises_training_sequences_only(tmp_path):
    base = {q.name: q for q in S.generate_dataset(S.SyntheticConfig.quick())}
    cfg = S.SyntheticConfig.quick(elevation_variety=1.0)
    split = S.split_subjects(cfg)
    ups = []
    for q in S.generate_dataset(cfg):
        lift = q.joints3d - base[q.name].joints3d  # (T, 17, 3)
        assert np.allclose(lift[..., :2], 0.0)  # only up
        if q.subject in split["train"]:
            assert np.allclose(lift[..., 2], lift[:, :1, 2], atol=1e-6)  # the whole body together
            ups.append(float(lift[..., 2].max()))
        else:
            assert np.array_equal(q.joints3d, base[q.name].joints3d)
    assert min(ups) == 0.0 and 0.3 < max(ups) <= 1.0
    assert S.cache_path(S.SyntheticConfig.quick()) != S.cache_path(cfg)
    with pytest.raises(ValueError, match=r"elevation_variety must be a height in \[0, 3\] m, got -0.5"):
        S.SyntheticConfig(elevation_variety=-0.5)
    with pytest.raises(ValueError, match=r"elevation_fraction must be a fraction in \[0, 1\], got 2"):
        S.SyntheticConfig(elevation_variety=1.0, elevation_fraction=2)
    # the share of raised training sequences follows elevation_fraction
    def raised_share(frac):
        c = S.SyntheticConfig.quick(elevation_variety=1.0, elevation_fraction=frac)
        up = [float((q.joints3d - base[q.name].joints3d)[..., 2].max()) for q in S.generate_dataset(c)
              if q.subject in split["train"]]
        return np.mean(np.array(up) > 0)
    assert raised_share(0.0) == 0.0 and raised_share(1.0) == 1.0
    from langpose.train import load_split_views
    from langpose.train_config import train_config
    tc = train_config("tiny", ["data.quick=true", "data.elevation_variety=1.0", f"data.data_root={tmp_path}"])
    plain = train_config("tiny", ["data.quick=true", f"data.data_root={tmp_path}"])
    up_views, flat_views = load_split_views(tc, "train"), load_split_views(plain, "train")
    assert any((u.keypoints2d[..., 1] < f.keypoints2d[..., 1] - 1).all() for u, f in zip(up_views, flat_views))
    assert all(np.array_equal(u.keypoints2d, f.keypoints2d)
               for u, f in zip(load_split_views(tc, "val"), load_split_views(plain, "val")))
