"""A real headless Chromium opens the exported 3D view: no JavaScript errors, and the skeleton is drawn.

Chromium is Debian's ``chromium`` (``apt-get install -y chromium``). In CI (``$CI`` set)
a missing browser is a failure; locally the test is skipped.
"""
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from langpose.viz import GT_COLOR, PRED_COLOR, plotly3d

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--hide-scrollbars", "--window-size=800,600", "--virtual-time-budget=6000"]

# Injected before plotly's own script: records uncaught errors and console.error calls
# into an attribute of <html>, which --dump-dom then shows.
RECORDER = """<script>
(function () {
  var errs = [];
  function put() { document.documentElement.setAttribute("data-js-errors", JSON.stringify(errs)); }
  window.addEventListener("error", function (e) { errs.push("error: " + e.message); put(); });
  window.addEventListener("unhandledrejection", function (e) { errs.push("rejection: " + e.reason); put(); });
  var ce = console.error;
  console.error = function () { errs.push("console.error: " + Array.prototype.join.call(arguments, " ")); put(); ce.apply(console, arguments); };
  put();
})();
</script>"""

# Appended at the end: says whether plotly built a gl3d scene for the graph and how many traces it drew.
PROBE = """<script>
setTimeout(function () {
  var gd = document.querySelector(".js-plotly-plot");
  var info = {plot: !!gd, scene: !!(gd && gd._fullLayout && gd._fullLayout.scene && gd._fullLayout.scene._scene),
              traces: gd && gd._fullData ? gd._fullData.length : 0,
              canvases: document.querySelectorAll(".gl-container canvas").length};
  document.documentElement.setAttribute("data-plot-info", JSON.stringify(info));
}, 1500);
</script>"""


def _chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (CI must install Debian's chromium: apt-get install -y chromium)")
        pytest.skip("chromium not installed (install with: apt-get install -y chromium)")
    return exe


def _run(exe, tmp_path, page, *args):
    cmd = [exe, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args, page.as_uri()]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"chromium exited {res.returncode}: {res.stderr[-2000:]}"
    return res.stdout


def _attr(dom: str, name: str):
    m = re.search(name + r'="([^"]*)"', dom)
    assert m, f"{name} attribute missing from the dumped DOM (did the injected script run?)"
    return json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def _page(tmp_path, fig, name="view.html", extra="", plotly_js=True):
    path = plotly3d.save_html(fig, tmp_path / name, plotly_js=plotly_js)  # inlined or beside: no network
    html = path.read_text()
    html = html.replace("<head>", "<head>" + RECORDER, 1).replace("</body>", extra + PROBE + "</body>", 1)
    path.write_text(html)
    return path


@pytest.fixture(scope="module")
def figure():
    rng = np.random.default_rng(0)
    # a plausible standing pose (camera frame: y down) with small motion over 6 frames
    from langpose.skeleton import H36M

    base = np.zeros((17, 3))
    for j, p in enumerate(H36M.parents):
        if p >= 0:
            up = j in (7, 8, 9, 10)
            base[j] = base[p] + (np.array([0, -0.25, 0]) if up else
                                 np.array([0.15 if j in H36M.left else -0.15, 0.2, 0]))
    gt = base + rng.normal(scale=0.01, size=(6, 17, 3))
    pred = gt + 0.04
    vis = np.ones((6, 17), bool)
    vis[:, 11:14] = False
    fig = plotly3d.animate_poses(gt, pred, vis)
    fig.update_layout(showlegend=False, sliders=[], updatemenus=[])  # only the skeleton carries colour
    return fig


@pytest.mark.parametrize("plotly_js", [True, "directory"])
def test_exported_view_loads_without_js_errors_and_builds_the_scene(tmp_path, figure, plotly_js):
    exe = _chromium()
    dom = _run(exe, tmp_path, _page(tmp_path, figure, plotly_js=plotly_js), "--dump-dom")
    assert _attr(dom, "data-js-errors") == []
    info = _attr(dom, "data-plot-info")
    assert info["plot"] and info["scene"], info
    assert info["traces"] == 8 and info["canvases"] >= 1, info


def test_error_recorder_catches_a_broken_page(tmp_path, figure):
    """The recorder is not blind: a page with a script error reports it."""
    exe = _chromium()
    page = _page(tmp_path, figure, "broken.html", extra="<script>undefinedFunctionCall();</script>")
    errs = _attr(_run(exe, tmp_path, page, "--dump-dom"), "data-js-errors")
    assert any("undefinedFunctionCall" in e for e in errs), errs


def test_screenshot_shows_the_skeleton_in_its_colours(tmp_path, figure):
    from PIL import Image

    exe = _chromium()
    shot = tmp_path / "shot.png"
    _run(exe, tmp_path, _page(tmp_path, figure), f"--screenshot={shot}")
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert img.shape[:2] == (600, 800)

    def count(hex_colour, tol=40):
        c = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(img - c).sum(-1) < tol).sum())

    # legend and buttons are off, so these colours come from the drawn bones
    assert count(PRED_COLOR) > 150, count(PRED_COLOR)
    assert count(GT_COLOR) > 150, count(GT_COLOR)
