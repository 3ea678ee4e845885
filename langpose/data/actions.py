"""Joint-angle programs: one per synthetic action, phase -> joint angles and root motion.

Each action is a pure, vectorised function ``program(t, dur, p) -> {channel: (T,) array}``
of the time ``t`` (seconds since the action started, may be negative or past ``dur``
inside a blend), its duration ``dur`` (s) and per-segment random parameters ``p``
(speed and amplitude factors, a phase offset). Channels not returned keep their rest
value (``REST``). ``langpose.data.synthetic`` blends the channels of consecutive actions
and turns them into 3D joints by forward kinematics.

Channels (radians unless noted; "flex" moves a limb forward, "abd" away from the
body's midline, "twist" rotates about the limb's own axis, outward positive):

- root: ``v_fwd``, ``v_left`` (m/s in the body frame), ``yaw_rate`` (rad/s, to the
  left positive), ``flight`` (m above the ground, for jumps), ``pitch`` (whole-body tilt
  forward), ``roll`` (whole-body tilt to the left, about the forward axis) and ``spin``
  (turn about the body's own long axis: rolling over while lying). The standing programs
  leave the last three at 0; the floor-level programs (``FLOOR_ACTION_LIST``) use them, and
  the generator's pose variety perturbs pitch and roll;
- trunk: ``bend`` (forward flexion at the waist), ``side`` (lean to the left),
  ``twist`` (turn of the shoulders to the left), ``neck_pitch`` (look down),
  ``neck_yaw`` (look left);
- per side ``_l``/``_r``: ``hip_flex``, ``hip_abd``, ``knee`` (flexion >= 0),
  ``sh_flex``, ``sh_abd``, ``sh_twist``, ``elbow`` (flexion >= 0).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

SIDES = ("l", "r")
LIMB = ("hip_flex", "hip_abd", "knee", "sh_flex", "sh_abd", "sh_twist", "elbow")
CHANNELS: tuple[str, ...] = (
    "v_fwd", "v_left", "yaw_rate", "flight", "pitch", "roll", "bend", "side", "twist", "neck_pitch", "neck_yaw",
) + tuple(f"{c}_{s}" for s in SIDES for c in LIMB) + ("spin",)
"""Every joint-angle / root-motion channel a program may set."""

REST: dict[str, float] = {c: 0.0 for c in CHANNELS}
REST.update({"knee_l": 0.06, "knee_r": 0.06, "elbow_l": 0.25, "elbow_r": 0.25, "sh_abd_l": 0.12,
             "sh_abd_r": 0.12, "sh_flex_l": 0.05, "sh_flex_r": 0.05, "hip_abd_l": 0.03, "hip_abd_r": 0.03})
"""Relaxed standing pose: arms hanging slightly away from the body, knees and elbows soft."""


@dataclass(frozen=True)
class Params:
    """Per-segment randomisation: ``speed`` scales frequencies, ``amp`` angle amplitudes."""

    speed: float = 1.0
    amp: float = 1.0
    phase: float = 0.0


@dataclass(frozen=True)
class Action:
    """An action: its label text, its program and how long a segment of it lasts (s)."""

    text: str
    program: Callable[[np.ndarray, float, Params], dict]
    duration: tuple[float, float] = (2.0, 4.0)
    locomotion: bool = False


# ---------------------------------------------------------------------- helpers
def smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _phase(t, p: Params, freq: float):
    return 2 * np.pi * freq * p.speed * t + p.phase


def _pos(x):
    return np.maximum(x, 0.0)


def _hold(t, dur, rise=0.35):
    """0 -> 1 over the first ``rise`` of the segment, 1 -> 0 over its last ``rise``."""
    u = t / max(dur, 1e-6)
    return smoothstep(u / rise) * smoothstep((1 - u) / rise)


def _side(d: dict, side: str) -> dict:
    """Rename the ``_x`` placeholders to side ``side`` and ``_o`` to the other side."""
    other = "r" if side == "l" else "l"
    out = {}
    for k, v in d.items():
        if k.endswith("_x"):
            out[k[:-2] + "_" + side] = v
        elif k.endswith("_o"):
            out[k[:-2] + "_" + other] = v
        else:
            out[k] = v
    return out


def _sign(side: str) -> float:
    """+1 for the left side, -1 for the right (for yaw / lateral motion towards that side)."""
    return 1.0 if side == "l" else -1.0


# ---------------------------------------------------------------------- locomotion
def _gait(t, p, freq, hip, knee, arm, direction=1.0):
    ph = direction * _phase(t, p, freq)
    a = p.amp
    out = {}
    for s, off in (("l", 0.0), ("r", np.pi)):
        q = ph + off
        out[f"hip_flex_{s}"] = 0.05 + a * hip * np.sin(q)
        out[f"knee_{s}"] = 0.08 + a * knee * ((1 + np.cos(q - 0.5)) / 2) ** 2
        out[f"sh_flex_{s}"] = a * arm * np.sin(q + np.pi)
        out[f"elbow_{s}"] = 0.3 + 0.15 * a * (1 + np.sin(q + np.pi)) / 2
    out["twist"] = 0.06 * a * np.sin(ph)
    return out


def walk(direction):
    def program(t, dur, p):
        out = _gait(t, p, 0.9, 0.35, 0.55, 0.3, direction)
        out["v_fwd"] = direction * (1.25 if direction > 0 else 0.7) * p.speed * np.ones_like(t)
        return out
    return program


def jog(t, dur, p):
    out = _gait(t, p, 1.35, 0.5, 1.1, 0.45)
    out.update({"v_fwd": 2.2 * p.speed * np.ones_like(t), "bend": 0.12 + 0 * t,
                "elbow_l": 1.4 + 0 * t, "elbow_r": 1.4 + 0 * t,
                "flight": 0.04 * _pos(np.sin(2 * _phase(t, p, 1.35))) ** 2})
    return out


def march(t, dur, p):
    ph = _phase(t, p, 0.9)
    out = {}
    for s, off in (("l", 0.0), ("r", np.pi)):
        lift = p.amp * _pos(np.sin(ph + off)) ** 1.5
        out[f"hip_flex_{s}"] = 0.05 + 1.1 * lift
        out[f"knee_{s}"] = 0.08 + 1.5 * lift
        out[f"sh_flex_{s}"] = 0.6 * p.amp * np.sin(ph + off + np.pi)
        out[f"elbow_{s}"] = 1.2 + 0 * t
    return out


def side_step(side):
    def program(t, dur, p):
        ph = _phase(t, p, 0.8)
        lead = 0.28 * p.amp * _pos(np.sin(ph))
        trail = 0.28 * p.amp * _pos(-np.sin(ph))
        return _side({"hip_abd_x": 0.03 + lead, "hip_abd_o": 0.03 + trail,
                      "knee_x": 0.1 + 0.3 * lead, "knee_o": 0.1 + 0.3 * trail,
                      "sh_abd_x": 0.2 + 0.3 * lead, "sh_abd_o": 0.2 + 0.3 * trail,
                      "v_left": _sign(side) * 0.45 * p.speed * (0.6 + 0.4 * np.cos(ph) ** 2)}, side)
    return program


def turn(angle):
    def program(t, dur, p):
        u = np.clip(t / dur, 0, 1)
        rate = angle * 6 * u * (1 - u) / dur  # derivative of smoothstep: turns by `angle` in all
        steps = _gait(t, p, 1.0, 0.12, 0.35, 0.08)
        steps["yaw_rate"] = rate
        return steps
    return program


# ---------------------------------------------------------------------- jumps and hops
def _jump_cycle(t, p, freq):
    """crouch (0..1) and flight (m) of a repeated two-legged jump."""
    ph = _phase(t, p, freq) % (2 * np.pi)
    flight = 0.22 * p.amp * np.where(ph < np.pi, np.sin(ph) ** 2, 0.0)
    crouch = np.where(ph >= np.pi, np.sin(ph) ** 2, 0.0)
    return ph, crouch, flight


def jump(forward):
    def program(t, dur, p):
        ph, crouch, flight = _jump_cycle(t, p, 0.9)
        arms = 1.4 * np.where(ph < np.pi, np.sin(ph), -0.4 * np.sin(ph))
        out = {"flight": flight, "bend": 0.5 * crouch}
        for s in SIDES:
            out[f"hip_flex_{s}"] = 1.0 * crouch + 0.15 * flight / 0.22
            out[f"knee_{s}"] = 0.08 + 1.5 * crouch + 0.3 * flight / 0.22
            out[f"sh_flex_{s}"] = p.amp * arms
            out[f"elbow_{s}"] = 0.3 + 0 * t
        if forward:
            out["v_fwd"] = 1.6 * p.speed * np.where(ph < np.pi, np.sin(ph) ** 2, 0.0)
        return out
    return program


def hop(side):
    def program(t, dur, p):
        ph = _phase(t, p, 1.4) % (2 * np.pi)
        flight = 0.1 * p.amp * np.where(ph < np.pi, np.sin(ph) ** 2, 0.0)
        crouch = np.where(ph >= np.pi, np.sin(ph) ** 2, 0.0)
        return _side({"flight": flight, "hip_flex_x": 0.05 + 0.5 * crouch, "knee_x": 0.1 + 0.8 * crouch,
                      "hip_flex_o": 0.5 + 0 * t, "knee_o": 1.3 + 0 * t, "sh_abd_x": 0.45 + 0 * t,
                      "sh_abd_o": 0.45 + 0 * t, "side": -_sign(side) * 0.08 + 0 * t, "bend": 0.2 * crouch}, side)
    return program


def jumping_jacks(t, dur, p):
    ph = _phase(t, p, 1.1)
    open_ = (1 - np.cos(ph)) / 2  # 0 closed, 1 open
    flight = 0.06 * p.amp * np.abs(np.sin(ph)) ** 2
    out = {"flight": flight}
    for s in SIDES:
        out[f"sh_abd_{s}"] = 0.12 + 2.6 * p.amp * open_
        out[f"hip_abd_{s}"] = 0.03 + 0.28 * p.amp * open_
        out[f"knee_{s}"] = 0.1 + 0.25 * (1 - np.abs(np.sin(ph)))
        out[f"elbow_{s}"] = 0.25 + 0 * t
    return out


# ---------------------------------------------------------------------- postures
def squat(t, dur, p):
    s = p.amp * (1 - np.cos(_phase(t, p, 0.45) - p.phase)) / 2
    out = {"bend": 0.35 * s}
    for k in SIDES:
        out.update({f"hip_flex_{k}": 1.45 * s, f"knee_{k}": 0.06 + 2.0 * s, f"sh_flex_{k}": 0.05 + 1.4 * s,
                    f"elbow_{k}": 0.25 + 0.1 * s})
    return out


def _sit(s, t):
    out = {"bend": 0.15 * s}
    for k in SIDES:
        out.update({f"hip_flex_{k}": 1.5 * s, f"knee_{k}": 0.06 + 1.45 * s, f"hip_abd_{k}": 0.03 + 0.12 * s,
                    f"sh_flex_{k}": 0.05 + 0.5 * s, f"elbow_{k}": 0.25 + 0.9 * s})
    return out


def sit_down(t, dur, p):
    return _sit(smoothstep(t / (0.7 * dur)), t)


def stand_up(t, dur, p):
    out = _sit(1 - smoothstep(t / (0.7 * dur)), t)
    out["bend"] = out["bend"] + 0.5 * np.sin(np.pi * np.clip(t / (0.7 * dur), 0, 1))  # lean forward to rise
    return out


def pick_up(t, dur, p):
    h = _hold(t, dur, 0.4)
    out = {"bend": 1.25 * p.amp * h, "neck_pitch": -0.4 * h}
    for k in SIDES:
        out.update({f"hip_flex_{k}": 0.25 * h, f"knee_{k}": 0.06 + 0.6 * h,
                    f"sh_flex_{k}": 0.05 + 1.1 * h, f"elbow_{k}": 0.25 - 0.1 * h})
    return out


def bow(t, dur, p):
    h = smoothstep(np.sin(np.pi * np.clip(t / dur, 0, 1)) * 1.3)
    return {"bend": 0.75 * p.amp * h, "neck_pitch": 0.2 * h}


def stand_still(t, dur, p):
    breathe = np.sin(_phase(t, p, 0.25))
    return {"side": 0.02 * breathe, "neck_yaw": 0.1 * np.sin(_phase(t, p, 0.13))}


def look_around(t, dur, p):
    ph = _phase(t, p, 0.35)
    return {"neck_yaw": 0.9 * p.amp * np.sin(ph), "twist": 0.25 * p.amp * np.sin(ph), "neck_pitch": 0.1 * np.cos(ph)}


def stretch(t, dur, p):
    up = _hold(t, dur, 0.25)
    lean = 0.3 * p.amp * np.sin(_phase(t, p, 0.3)) * up
    out = {"side": lean, "neck_pitch": -0.2 * up}
    for k in SIDES:
        out.update({f"sh_flex_{k}": 0.05 + 2.85 * up, f"elbow_{k}": 0.25 - 0.2 * up, f"sh_abd_{k}": 0.12 + 0.1 * up})
    return out


# ---------------------------------------------------------------------- arms
def wave(sides):
    def program(t, dur, p):
        up = _hold(t, dur, 0.2)
        osc = np.sin(_phase(t, p, 2.0))
        out = {}
        for s in sides:
            out.update({f"sh_flex_{s}": 0.05 + 1.55 * up, f"sh_abd_{s}": 0.12 + 0.6 * up,
                        f"elbow_{s}": 0.25 + 1.25 * up, f"sh_twist_{s}": up * (0.5 + 0.55 * p.amp * osc)})
        return out
    return program


def raise_arm(sides):
    def program(t, dur, p):
        ph = _phase(t, p, 0.35) - p.phase
        up = p.amp * (1 - np.cos(ph)) / 2
        return {k: v for s in sides for k, v in
                ((f"sh_flex_{s}", 0.05 + 2.8 * up), (f"elbow_{s}", 0.25 - 0.15 * up))}
    return program


def punch(side):
    def program(t, dur, p):
        strike = _pos(np.sin(_phase(t, p, 1.2))) ** 3 * p.amp
        return _side({"sh_flex_x": 0.6 + 0.95 * strike, "elbow_x": 2.1 - 2.0 * strike, "sh_abd_x": 0.25 - 0.1 * strike,
                      "sh_flex_o": 0.6 + 0 * t, "elbow_o": 2.1 + 0 * t, "sh_abd_o": 0.25 + 0 * t,
                      "twist": -_sign(side) * 0.35 * strike, "knee_l": 0.2 + 0 * t, "knee_r": 0.2 + 0 * t,
                      "hip_flex_x": 0.1 + 0 * t, "hip_flex_o": -0.1 + 0 * t}, side)
    return program


def throw(side):
    def program(t, dur, p):
        u = (_phase(t, p, 0.7) / (2 * np.pi)) % 1.0
        wind = smoothstep(u / 0.4) * (1 - smoothstep((u - 0.4) / 0.3))
        release = smoothstep((u - 0.4) / 0.3) * (1 - smoothstep((u - 0.7) / 0.3))
        a = p.amp
        return _side({"sh_abd_x": 0.12 + 1.3 * a * wind + 0.2 * release, "elbow_x": 0.25 + 1.5 * wind + 0.1 * release,
                      "sh_flex_x": 0.05 - 0.3 * wind + 1.7 * a * release, "sh_twist_x": 0.9 * wind,
                      "twist": _sign(side) * (0.4 * wind - 0.5 * release) * a,
                      "sh_flex_o": 0.05 + 0.6 * wind, "bend": 0.25 * release,
                      "hip_flex_x": -0.1 * wind + 0.15 * release, "hip_flex_o": 0.2 * wind - 0.1 * release}, side)
    return program


def clap(t, dur, p):
    up = _hold(t, dur, 0.15)
    osc = (1 + np.sin(_phase(t, p, 2.2))) / 2  # 1 apart, 0 together
    out = {}
    for s in SIDES:
        out.update({f"sh_flex_{s}": 0.05 + 0.75 * up, f"elbow_{s}": 0.25 + 1.1 * up,
                    f"sh_twist_{s}": -up * (0.85 - 0.45 * osc * p.amp), f"sh_abd_{s}": 0.12 + 0.1 * up})
    return out


def kick(side):
    def program(t, dur, p):
        u = (_phase(t, p, 0.8) / (2 * np.pi)) % 1.0
        chamber = np.sin(np.pi * np.clip(u / 0.6, 0, 1)) ** 2  # lift the knee
        extend = np.sin(np.pi * np.clip((u - 0.2) / 0.4, 0, 1)) ** 2  # snap the shin out
        return _side({"hip_flex_x": 0.05 + 1.3 * p.amp * chamber, "knee_x": 0.06 + 1.4 * chamber * (1 - extend),
                      "knee_o": 0.15 + 0 * t, "bend": -0.15 * chamber, "sh_abd_x": 0.12 + 0.35 * chamber,
                      "sh_abd_o": 0.12 + 0.35 * chamber, "elbow_x": 0.25 + 0.8 * chamber, "elbow_o": 0.25 + 0.8 * chamber},
                     side)
    return program


# ---------------------------------------------------------------------- floor level
# Each program starts and ends standing (the generator blends actions at standing poses):
# it goes down over the first quarter or so of the segment, moves on the floor, and gets
# back up over the last quarter. ``down`` is 0 standing, 1 on the floor; ``bump`` peaks
# half-way down, where the knees and hips fold to lower the body.
def _down(t, dur, rise=0.28):
    down = _hold(t, dur, rise)
    return down, np.sin(np.pi * down)


def crawl(t, dur, p):
    """On hands and knees: trunk near horizontal, thighs and arms vertical, diagonal gait."""
    down, bump = _down(t, dur)
    tilt = 1.35 * down                              # trunk pitched forward (rad)
    ph = _phase(t, p, 0.7)
    a = 0.22 * p.amp * down
    out = {"pitch": tilt, "neck_pitch": -0.9 * down, "v_fwd": 0.35 * p.speed * down ** 2,
           "bend": 0.3 * bump}
    for s, off in (("l", 0.0), ("r", np.pi)):
        out[f"hip_flex_{s}"] = tilt + 0.5 * bump + a * np.sin(ph + off)         # thighs vertical
        out[f"knee_{s}"] = 0.06 + 1.5 * down + 0.4 * bump + 0.3 * a * (1 + np.cos(ph + off))
        out[f"sh_flex_{s}"] = 0.05 + tilt + a * np.sin(ph + off + np.pi)        # arms vertical
        out[f"elbow_{s}"] = 0.25 - 0.1 * down + 0.6 * bump
    return out


def kneel(t, dur, p):
    """Down on both knees, upright trunk, hands resting on the thighs; then back up."""
    down, bump = _down(t, dur)
    sway = 0.05 * np.sin(_phase(t, p, 0.3)) * down
    out = {"bend": 0.25 * bump + sway, "neck_pitch": 0.1 * down}
    for s in SIDES:
        out.update({f"hip_flex_{s}": 1.3 * bump + 0.1 * down, f"knee_{s}": 0.06 + 1.5 * down + 0.6 * bump,
                    f"sh_flex_{s}": 0.05 + 0.35 * down + 0.6 * bump, f"elbow_{s}": 0.25 + 0.7 * down})
    return out


def lie_down(face_up: bool):
    """Lower to the floor (sitting back, or kneeling forward), lie on the back or front
    with small limb movements, and get back up."""
    def program(t, dur, p):
        down, bump = _down(t, dur)
        fidget = 0.15 * p.amp * down * np.sin(_phase(t, p, 0.35))
        if face_up:
            out = {"pitch": -1.5 * down, "neck_pitch": 0.3 * down, "bend": 0.4 * bump}
            hips, knees, arms = 1.5 * bump, 1.9 * bump, 0.9 * bump
        else:
            out = {"pitch": 1.5 * down, "neck_pitch": -0.5 * down, "bend": 0.2 * bump}
            hips, knees, arms = 1.2 * bump, 2.0 * bump, 1.3 * bump + 2.2 * down ** 3
        for s, sgn in (("l", 1.0), ("r", -1.0)):
            out.update({f"hip_flex_{s}": hips + sgn * fidget, f"knee_{s}": 0.06 + knees + 0.3 * _pos(sgn * fidget),
                        f"hip_abd_{s}": 0.03 + 0.1 * down, f"sh_flex_{s}": 0.05 + arms,
                        f"sh_abd_{s}": 0.12 + 0.25 * down, f"elbow_{s}": 0.25 + 0.4 * down})
        return out
    return program


def roll_over(t, dur, p):
    """Lie on the back, roll over sideways about the long axis (a full turn), get up."""
    down, bump = _down(t, dur, 0.22)
    u = np.clip(t / max(dur, 1e-6), 0.0, 1.0)
    turn = smoothstep((u - 0.25) / 0.5)             # 0 -> 1 while lying
    rate = np.sin(np.pi * np.clip((u - 0.25) / 0.5, 0, 1)) ** 2
    out = {"pitch": -1.5 * down, "spin": 2 * np.pi * turn, "v_left": 0.9 * p.speed * rate,
           "bend": 0.4 * bump, "neck_pitch": 0.2 * down}
    for s in SIDES:
        out.update({f"hip_flex_{s}": 1.5 * bump, f"knee_{s}": 0.06 + 1.9 * bump, f"sh_flex_{s}": 0.05 + 0.9 * bump
                    + 2.4 * down ** 2 * (1 - bump), f"elbow_{s}": 0.25 + 0.2 * down})
    return out


def cartwheel(t, dur, p):
    """Arms up in a V, a full sideways turn about the forward axis over the hands, legs spread."""
    u = np.clip(t / max(dur, 1e-6), 0.0, 1.0)
    up = _hold(t, dur, 0.25)                         # arms and legs spread
    turn = smoothstep((u - 0.3) / 0.4)               # one revolution in the middle of the segment
    rate = np.sin(np.pi * np.clip((u - 0.3) / 0.4, 0, 1)) ** 2
    out = {"roll": 2 * np.pi * turn, "v_left": 1.4 * p.speed * rate, "neck_pitch": 0.1 * up}
    for s in SIDES:
        out.update({f"sh_abd_{s}": 0.12 + 2.6 * up, f"elbow_{s}": 0.25 - 0.2 * up, f"hip_abd_{s}": 0.03 + 0.55 * up,
                    f"knee_{s}": 0.06 + 0.1 * up})
    return out


ACTION_LIST: tuple[Action, ...] = (
    Action("wave the right hand", wave(("r",))),
    Action("wave the left hand", wave(("l",))),
    Action("wave both hands", wave(("l", "r"))),
    Action("kick with the right leg", kick("r")),
    Action("kick with the left leg", kick("l")),
    Action("punch with the right hand", punch("r")),
    Action("punch with the left hand", punch("l")),
    Action("throw with the right hand", throw("r")),
    Action("throw with the left hand", throw("l")),
    Action("raise the right arm", raise_arm(("r",))),
    Action("raise the left arm", raise_arm(("l",))),
    Action("raise both arms", raise_arm(("l", "r"))),
    Action("clap hands", clap),
    Action("walk forward", walk(1.0), (2.0, 3.0), True),
    Action("walk backward", walk(-1.0), (2.0, 3.0), True),
    Action("jog forward", jog, (1.5, 2.5), True),
    Action("side step to the left", side_step("l"), (2.0, 3.0), True),
    Action("side step to the right", side_step("r"), (2.0, 3.0), True),
    Action("march in place", march),
    Action("turn around", turn(np.pi), (1.5, 2.5)),
    Action("turn left", turn(np.pi / 2), (1.2, 2.0)),
    Action("turn right", turn(-np.pi / 2), (1.2, 2.0)),
    Action("jump in place", jump(False)),
    Action("jump forward", jump(True), (2.0, 3.0), True),
    Action("hop on the left leg", hop("l")),
    Action("hop on the right leg", hop("r")),
    Action("jumping jacks", jumping_jacks),
    Action("squat", squat, (2.5, 4.5)),
    Action("sit down", sit_down, (1.5, 2.5)),
    Action("stand up", stand_up, (1.5, 2.5)),
    Action("bend down to pick something up", pick_up, (2.5, 3.5)),
    Action("bow", bow, (1.5, 2.5)),
    Action("stretch", stretch, (3.0, 4.5)),
    Action("look around", look_around),
    Action("stand still", stand_still, (1.5, 3.0)),
)
"""All synthetic actions, in vocabulary order."""

FLOOR_ACTION_LIST: tuple[Action, ...] = (
    Action("crawl on hands and knees", crawl, (4.0, 6.0)),
    Action("kneel down", kneel, (3.0, 5.0)),
    Action("lie down on the back and get up", lie_down(True), (4.0, 6.0)),
    Action("lie face down and get up", lie_down(False), (4.0, 6.0)),
    Action("roll over on the floor", roll_over, (4.0, 6.0)),
    Action("do a cartwheel", cartwheel, (2.5, 3.5), True),
)
"""Floor-level and acrobatic actions: in the data only with ``SyntheticConfig.floor_actions``
(training subjects), so the default vocabulary and data are those of ``ACTION_LIST``."""
