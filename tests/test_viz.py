"""Plotly 3D figures, matplotlib panels and embedding maps (langpose.viz)."""
import matplotlib

matplotlib.use("Agg")
import re

import numpy as np
import pytest

from langpose.skeleton import H36M
from langpose.viz import OCCLUDED_COLOR, embedding, panels, plotly3d


def _pose(T=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (17, 3) if T is None else (T, 17, 3)
    return rng.normal(scale=0.3, size=shape)


def test_to_display_camera_frame_puts_up_on_the_vertical_axis():
    # camera frame: y down, z forward -> display (x, z, -y)
    np.testing.assert_array_equal(plotly3d.to_display(np.array([1.0, 2.0, 3.0])), [1.0, 3.0, -2.0])
    np.testing.assert_array_equal(plotly3d.to_display(np.array([1.0, 2.0, 3.0]), "world"), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="frame: expected one of"):
        plotly3d.to_display(np.zeros(3), "image")


def test_skeleton_traces_split_occluded_joints_and_bones():
    vis = np.ones(17, bool)
    vis[[11, 12, 13]] = False
    bones, joints, occ_bones, occ_joints = plotly3d.skeleton_traces(_pose(), visible=vis)
    assert len(joints.x) == 14 and len(occ_joints.x) == 3
    assert occ_joints.marker.color == OCCLUDED_COLOR and occ_bones.line.dash == "dash"
    # 16 bones; thorax->L shoulder, L shoulder->elbow, elbow->wrist are hidden: 3 segments of 3 entries
    assert len(occ_bones.x) == 3 * 3 and len(bones.x) == 13 * 3
    assert sorted(occ_joints.text) == ["left_elbow", "left_shoulder", "left_wrist"]
    # nothing hidden: the occluded traces stay (constant trace count) but are empty
    _, _, ob, oj = plotly3d.skeleton_traces(_pose())
    assert list(oj.x) == [None] and list(ob.x) == [None]
    with pytest.raises(ValueError, match=r"visible: expected shape \(17,\)"):
        plotly3d.skeleton_traces(_pose(), visible=np.ones(5, bool))


def test_animation_has_a_frame_per_step_and_constant_traces():
    gt, pred = _pose(10), _pose(10, 1)
    vis = np.ones((10, 17), bool)
    vis[4:, 16] = False
    fig = plotly3d.animate_poses(gt, pred, vis, step=3)
    assert [f.name for f in fig.frames] == ["0", "3", "6", "9"]
    assert all(len(f.data) == 8 for f in fig.frames) and len(fig.data) == 8
    assert list(fig.frames[0].data[7].x) == [None]          # frame 0: wrist visible
    assert len(fig.frames[2].data[7].x) == 1                # frame 6: wrist hidden
    assert fig.layout.scene.aspectmode == "cube"
    with pytest.raises(ValueError, match=r"gt: expected shape \(10, 17, 3\)"):
        plotly3d.animate_poses(gt[:5], pred)
    with pytest.raises(ValueError, match="give gt, pred or both"):
        plotly3d.animate_poses()


def test_pose_figure_and_html_export(tmp_path):
    fig = plotly3d.pose_figure(_pose(), _pose(seed=1), title="t")
    assert len(fig.data) == 8
    p = plotly3d.save_html(fig, tmp_path / "a" / "fig.html")
    text = p.read_text()
    assert not re.search(r"<script[^>]*src=\"https?:", text) and "Plotly.newPlot" in text and len(text) > 1_000_000  # inlined
    q = plotly3d.save_html(fig, tmp_path / "b" / "fig.html", plotly_js="directory")
    assert (tmp_path / "b" / "plotly.min.js").exists()
    assert '<script charset="utf-8" src="plotly.min.js">' in q.read_text() and q.stat().st_size < 200_000
    assert sorted(x.name for x in (tmp_path / "b").iterdir()) == ["fig.html", "plotly.min.js"]  # no temp left
    with pytest.raises(ValueError, match="plotly_js"):
        plotly3d.save_html(fig, tmp_path / "c.html", plotly_js="cdn")


def test_qualitative_grid_marks_dropped_joints():
    x2d = np.concatenate([np.random.default_rng(0).uniform(-0.5, 0.5, (17, 2)), np.ones((17, 1))], -1)
    ref = x2d.copy()
    x2d[[1, 2, 3]] = 0.0
    fig = panels.qualitative_grid([
        dict(x2d=x2d, reference2d=ref, gt=_pose(), pred=_pose(seed=1), visible=x2d[:, 2] > 0, error_mm=42.0),
        dict(x2d=x2d, pred=_pose(seed=2), title="no reference"),
    ])
    ax2d = fig.axes[0]
    # the three dropped joints are drawn as red crosses at their reference positions
    crosses = [c for c in ax2d.collections if c.get_label() == "dropped"]
    assert len(crosses) == 1 and len(crosses[0].get_offsets()) == 3
    np.testing.assert_allclose(np.asarray(crosses[0].get_offsets()), ref[[1, 2, 3], :2])
    assert "MPJPE 42 mm" in fig.axes[1].get_title()
    assert any("dropped: right_hip" in t.get_text() for t in fig.axes[2].texts)
    with pytest.raises(ValueError, match=r"case 0 lacks \['pred'\]"):
        panels.qualitative_grid([dict(x2d=x2d)])
    import matplotlib.pyplot as plt

    plt.close("all")


def test_projections_are_deterministic_and_separate_clusters():
    rng = np.random.default_rng(0)
    emb = np.concatenate([rng.normal(0, 0.05, (10, 8)) + 1, rng.normal(0, 0.05, (10, 8)) - 1])
    labels = np.r_[np.zeros(10), np.ones(10)].astype(int)
    for method in ("pca", "tsne"):
        a = embedding.project_embeddings(emb, method, seed=0)
        b = embedding.project_embeddings(emb, method, seed=0)
        np.testing.assert_array_equal(a, b)
        assert a.shape == (20, 2)
        ca, cb = a[labels == 0].mean(0), a[labels == 1].mean(0)
        spread = max(a[labels == 0].std(0).max(), a[labels == 1].std(0).max())
        assert np.linalg.norm(ca - cb) > 3 * spread
    with pytest.raises(ValueError, match="method: expected one of"):
        embedding.project_embeddings(emb, "umap")
    with pytest.raises(ValueError, match="at least 3 points"):
        embedding.project_embeddings(emb[:2])


def test_cosine_and_class_similarity_by_hand():
    a = np.array([[1.0, 0.0], [1.0, 1.0]])
    b = np.array([[2.0, 0.0], [0.0, 3.0]])
    np.testing.assert_allclose(embedding.cosine_similarity(a, b), [[1, 0], [2 ** -0.5, 2 ** -0.5]])
    sim, ids = embedding.class_similarity(np.array([[1.0, 0], [1.0, 0], [0, 1.0]]), [1, 1, -1], b)
    assert ids == [1] and sim.shape == (1, 2)
    np.testing.assert_allclose(sim, [[1.0, 0.0]])
    with pytest.raises(ValueError, match="embedding dims differ"):
        embedding.cosine_similarity(a, np.ones((2, 3)))


def test_embedding_maps_figure():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    emb = rng.normal(size=(12, 6))
    fig, coords = embedding.embedding_maps({"aligned": emb, "no text": emb[::-1]}, np.arange(12) % 3,
                                           ["a", "b", "c"], methods=("pca",))
    assert len(fig.axes) == 2 and set(coords) == {("aligned", "pca"), ("no text", "pca")}
    ax = embedding.plot_similarity(rng.uniform(size=(3, 4)), ["r"] * 3, ["c"] * 4)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["c"] * 4
    pf = embedding.embedding_map_plotly(coords[("aligned", "pca")], np.arange(12) % 3, ["a", "b", "c"])
    assert [t.name for t in pf.data] == ["a", "b", "c"]
    plt.close("all")


def test_multiview_figure_overlays_one_colour_per_camera_and_a_reference():
    views = [_pose(6, seed=s) for s in range(4)]
    ref = _pose(6, seed=9)
    ref[2, 5] = np.nan  # a joint no two cameras saw
    fig = plotly3d.multiview_figure(views, ["cam_01", "cam_02", "cam_03", "cam_04"], t=2, reference=ref,
                                    reference_name="triangulated")
    assert len(fig.data) == 5 * 4  # four traces per skeleton, cameras first
    bones = [fig.data[4 * i] for i in range(5)]
    assert [b.name for b in bones] == ["cam_01", "cam_02", "cam_03", "cam_04", "triangulated"]
    assert len({b.line.color for b in bones}) == 5 and bones[-1].line.color == plotly3d.REFERENCE_COLOR
    # world frame: drawn as is, frame t
    np.testing.assert_allclose([v for v in fig.data[1].x if v is not None], views[0][2, :, 0])
    assert fig.layout.scene.aspectmode == "cube" and np.isfinite(fig.layout.scene.zaxis.range).all()
    single = plotly3d.multiview_figure([views[0][0], views[1][0]])  # (J, 3) per camera, default names
    assert [single.data[0].name, single.data[4].name] == ["view 0", "view 1"]
    with pytest.raises(ValueError, match=r"t: frame 6 outside 0..5"):
        plotly3d.multiview_figure(views, t=6)
    with pytest.raises(ValueError, match="2 names for 4 poses"):
        plotly3d.multiview_figure(views, ["a", "b"])
