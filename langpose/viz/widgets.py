"""ipywidgets wiring for the notebooks; the callbacks themselves live in ``langpose.interactive``.

Under papermill nothing renders (no frontend); in Jupyter each function returns a
widget box to display. Each box keeps its last result in ``box.state`` (a dict),
which is what the tests look at.
"""
from __future__ import annotations

import contextlib
import html
import os

import numpy as np

from langpose.skeleton import H36M, Skeleton


def headless() -> bool:
    """True when ``$LANGPOSE_HEADLESS`` is set (papermill runs in the tests and ``make demo``)."""
    return os.environ.get("LANGPOSE_HEADLESS", "") not in ("", "0")


def _into(out):
    """Context that sends output into the ``Output`` widget ``out`` (cleared first).

    Headless, output goes straight into the cell instead: capturing into an Output widget
    re-routes the kernel's messages by parent id through a comm, and with no front end to
    answer, nbclient (papermill) was seen to wait forever for a cell that had finished.
    """
    if headless():
        return contextlib.nullcontext()
    out.clear_output(wait=True)
    return out


def occlusion_explorer(model, clips: list[dict], skeleton: Skeleton = H36M, k: int = 5, frame: str = "camera"):
    """Pick a clip, scrub frames, hide body parts / joints; the lifter and classifier re-run at once.

    clips: dicts from ``langpose.interactive.clips_from_views`` (``name``, ``x2d``, ``y3d``).
    Shows the 3D truth vs prediction (hidden joints red), the 2D input with dropped joints
    marked, how far each hidden joint's prediction moved (mm), and the top-k actions.
    """
    import ipywidgets as W
    import matplotlib.pyplot as plt
    from IPython.display import display

    from langpose import interactive as ia
    from langpose.viz import panels, plotly3d

    if not clips:
        raise ValueError("occlusion_explorer: no clips")
    T = clips[0]["x2d"].shape[0]
    clip_w = W.Dropdown(options=[(c["name"], i) for i, c in enumerate(clips)], value=0, description="clip")
    frame_w = W.IntSlider(value=T // 2, min=0, max=T - 1, description="frame", continuous_update=False)
    parts_w = W.SelectMultiple(options=sorted(skeleton.parts), description="parts", rows=6)
    joints_w = W.SelectMultiple(options=[(n, i) for i, n in enumerate(skeleton.names)], description="joints", rows=6)
    out3d, out2d, info = W.Output(), W.Output(), W.Output()
    box = W.VBox([W.HBox([clip_w, frame_w]), W.HBox([parts_w, joints_w]), W.HBox([out3d, out2d]), info])
    box.state = {}

    def update(*_):
        c = clips[clip_w.value]
        t = min(frame_w.value, c["x2d"].shape[0] - 1)
        base = ia.occlude(model, c["x2d"], with_actions=False)
        res = ia.occlude(model, c["x2d"], parts=list(parts_w.value), joints=list(joints_w.value), k=k)
        shift = ia.joint_shift_mm(base["pose"], res["pose"])
        box.state = dict(clip=c["name"], frame=t, result=res, shift_mm=shift)
        with _into(out3d):
            display(plotly3d.pose_figure(c.get("y3d"), res["pose"], res["visible"], skeleton, frame, t=t, height=420))
        with _into(out2d):
            fig, ax = plt.subplots(figsize=(3.2, 3.6))
            panels.draw_skeleton_2d(ax, res["x2d"][t], skeleton, res["visible"][t], c["x2d"][t], title="2D input")
            plt.show()
        with _into(info):
            hidden = res["joints"]
            if hidden:
                print("prediction moved (mm): " + ", ".join(f"{skeleton.names[j]} {shift[j]:.0f}" for j in hidden))
            for label, p in res["top_actions"]:
                print(f"{p:6.1%}  {label}")

    for w in (clip_w, frame_w, parts_w, joints_w):
        w.observe(update, names="value")
    box.update = update
    update()
    return box


def text_query_box(model, motion_emb, clips: list[dict], k: int = 3, encoder: str = "auto",
                   skeleton: Skeleton = H36M, value: str = "someone waving with their left hand"):
    """A text box: any free-text query -> the k nearest clips (cosine in the aligned space) with 3D previews."""
    import ipywidgets as W
    from IPython.display import display

    from langpose import interactive as ia
    from langpose.viz import plotly3d

    names = [c["name"] for c in clips]
    if len(names) != len(np.asarray(motion_emb)):
        raise ValueError(f"text_query_box: {len(names)} clips for {len(np.asarray(motion_emb))} embeddings")
    text = W.Text(value=value, description="query", layout=W.Layout(width="60%"), continuous_update=False)
    button = W.Button(description="search")
    hits_w = W.HTML()  # the hits as text, replaced by each search
    box = W.VBox([W.HBox([text, button]), hits_w, W.Output()])
    box.state = {"searches": 0}

    def search(*_):
        """One search per query: Enter, leaving the box and clicking "search" all fire for the same
        text, so a query equal to the last one searched is not searched again. The hits and the
        previews replace the previous ones (a fresh Output widget each time, never appended)."""
        query = text.value.strip()
        if not query or query == box.state.get("query"):
            return
        hits = ia.nearest_clips(query, motion_emb, names, k=k, model=model, encoder=encoder)
        lines = []
        for h in hits:
            c = clips[h["index"]]
            vocab = c.get("vocab", ())
            lab = vocab[c["label"]] if 0 <= c.get("label", -1) < len(vocab) else "?"
            lines.append(f"#{h['rank']} {h['name']}  cosine {h['score']:.3f}  (label: {lab})")
        box.state = dict(query=query, hits=hits, lines=lines, searches=box.state["searches"] + 1)
        previews = [plotly3d.pose_figure(clips[h["index"]]["y3d"], None, None, skeleton,
                                         t=clips[h["index"]]["x2d"].shape[0] // 2, height=300)
                    for h in hits if clips[h["index"]].get("y3d") is not None]
        if headless():
            print("\n".join(lines))
            return
        hits_w.value = "<pre class='langpose-hits'>" + html.escape("\n".join(lines)) + "</pre>"
        out = W.Output()
        with out:
            for fig in previews:
                display(fig)
        box.children = (box.children[0], hits_w, out)

    button.on_click(search)
    text.observe(search, names="value")  # Enter / leaving the box (continuous_update=False)
    box.search = search
    search()
    return box
