"""Cameras: Human3.6M intrinsics, projection, world<->camera, screen normalisation.

Conventions (as VideoPose3D):
- camera frame: x right, y down, z forward (OpenCV); metres;
- a camera's extrinsics are ``R`` (3, 3), the rotation camera->world (its columns are
  the camera axes in world coordinates), and ``t`` (3,), the camera centre in the world,
  so ``X_world = X_cam @ R.T + t`` and ``X_cam = (X_world - t) @ R``;
- pixels: origin top-left, x right, y down;
- screen normalisation maps x in [0, w] to [-1, 1] and keeps the aspect ratio:
  ``x / w * 2 - [1, h / w]``.

All functions take numpy arrays of shape (..., 3) or (..., 2) and return numpy
arrays; ``project`` also accepts torch tensors (used on the fly in training).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics with Brown-Conrady distortion (k1, k2, k3; p1, p2), in pixels."""

    id: str
    center: tuple[float, float]
    focal: tuple[float, float]
    radial: tuple[float, float, float]
    tangential: tuple[float, float]
    res_w: int
    res_h: int
    azimuth: float = 0.0  # degrees; only used to place synthetic cameras like H36M's

    def scaled(self, s: float) -> "Intrinsics":
        """The same camera at a resolution scaled by ``s``."""
        return Intrinsics(self.id, (self.center[0] * s, self.center[1] * s), (self.focal[0] * s, self.focal[1] * s),
                          self.radial, self.tangential, int(round(self.res_w * s)), int(round(self.res_h * s)), self.azimuth)


# The four Human3.6M cameras (intrinsics as published with the dataset and used by
# VideoPose3D's h36m_dataset.py).
H36M_INTRINSICS: tuple[Intrinsics, ...] = (
    Intrinsics("54138969", (512.54150390625, 515.4514770507812), (1145.0494384765625, 1143.7811279296875),
               (-0.20709891617298126, 0.24777518212795258, -0.0030751503072679043),
               (-0.0009756988729350269, -0.00142447161488235), 1000, 1002, 70.0),
    Intrinsics("55011271", (508.8486328125, 508.0649108886719), (1149.6756591796875, 1147.5916748046875),
               (-0.1942136287689209, 0.2404085397720337, 0.006819975562393665),
               (-0.0016190266469493508, -0.0027408944442868233), 1000, 1000, -70.0),
    Intrinsics("58860488", (519.8158569335938, 501.40264892578125), (1149.1407470703125, 1148.7989501953125),
               (-0.2083381861448288, 0.25548800826072693, -0.0024604974314570427),
               (0.0014843869721516967, -0.0007599993259645998), 1000, 1000, 110.0),
    Intrinsics("60457274", (514.9682006835938, 501.88201904296875), (1145.5113525390625, 1144.77392578125),
               (-0.198384091258049, 0.21832367777824402, -0.008947807364165783),
               (-0.0005872055771760643, -0.0018133620033040643), 1000, 1002, -110.0),
)


@dataclass(frozen=True, eq=False)
class Camera:
    """Intrinsics plus extrinsics ``R`` (camera->world rotation) and ``t`` (centre, metres)."""

    intrinsics: Intrinsics
    R: np.ndarray
    t: np.ndarray

    def __post_init__(self):
        R = np.asarray(self.R, dtype=np.float64)
        t = np.asarray(self.t, dtype=np.float64)
        if R.shape != (3, 3) or t.shape != (3,):
            raise ValueError(f"Camera: R must be (3, 3) and t (3,), got {R.shape} and {t.shape}")
        if not np.allclose(R @ R.T, np.eye(3), atol=1e-5) or np.linalg.det(R) < 0:
            raise ValueError("Camera: R is not a rotation matrix")
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "t", t)

    def world_to_camera(self, X):
        return world_to_camera(X, self.R, self.t)

    def camera_to_world(self, X):
        return camera_to_world(X, self.R, self.t)

    def project(self, X_world, distort: bool = True):
        """World points (..., 3) metres -> pixels (..., 2)."""
        return project(self.world_to_camera(X_world), self.intrinsics, distort=distort)


def _check_last(x, c: int, name: str):
    if x.shape[-1] != c:
        raise ValueError(f"{name}: expected last dimension {c}, got shape {tuple(x.shape)}")


def world_to_camera(X, R, t):
    """World (..., 3) -> camera frame (..., 3): ``(X - t) @ R`` (R camera->world)."""
    X = np.asarray(X, dtype=np.float64)
    _check_last(X, 3, "world_to_camera")
    return (X - np.asarray(t)) @ np.asarray(R)


def camera_to_world(X, R, t):
    """Camera frame (..., 3) -> world (..., 3): ``X @ R.T + t``."""
    X = np.asarray(X, dtype=np.float64)
    _check_last(X, 3, "camera_to_world")
    return X @ np.asarray(R).T + np.asarray(t)


def project(X_cam, intr: Intrinsics, distort: bool = True):
    """Project camera-frame points (..., 3) metres to pixels (..., 2).

    With ``distort`` the Brown-Conrady model of H36M is applied to the normalised
    image coordinates u = X/Z: ``u' = u (1 + k1 r² + k2 r⁴ + k3 r⁶ + p·u) + p r²``
    (the form VideoPose3D uses), then ``f u' + c``. Points must be in front (Z > 0).
    Accepts numpy arrays or torch tensors and returns the same kind.
    """
    _check_last(X_cam, 3, "project")
    is_np = isinstance(X_cam, np.ndarray) or not hasattr(X_cam, "clamp")
    if is_np:
        X_cam = np.asarray(X_cam, dtype=np.float64)
        z = np.maximum(X_cam[..., 2:3], 1e-6)
        lib_sum = lambda a: a.sum(axis=-1, keepdims=True)  # noqa: E731
        as_arr = lambda v: np.asarray(v, dtype=np.float64)  # noqa: E731
    else:
        z = X_cam[..., 2:3].clamp(min=1e-6)
        lib_sum = lambda a: a.sum(dim=-1, keepdim=True)  # noqa: E731
        as_arr = lambda v: X_cam.new_tensor(v)  # noqa: E731
    uv = X_cam[..., :2] / z  # (..., 2) normalised image coordinates
    if distort:
        k = as_arr(intr.radial)
        p = as_arr(intr.tangential)
        r2 = lib_sum(uv**2)  # (..., 1)
        radial = 1 + k[0] * r2 + k[1] * r2**2 + k[2] * r2**3
        tan = lib_sum(p * uv)
        uv = uv * (radial + tan) + p * r2
    return as_arr(intr.focal) * uv + as_arr(intr.center)


def normalize_screen(x, w: float, h: float):
    """Pixels (..., 2) -> VideoPose3D screen coordinates: x/w*2-1, y/w*2-h/w."""
    x = np.asarray(x, dtype=np.float64)
    _check_last(x, 2, "normalize_screen")
    return x / w * 2 - np.array([1.0, h / w])


def denormalize_screen(x, w: float, h: float):
    """Inverse of ``normalize_screen``: screen coordinates (..., 2) -> pixels."""
    x = np.asarray(x, dtype=np.float64)
    _check_last(x, 2, "denormalize_screen")
    return (x + np.array([1.0, h / w])) * w / 2


#: The median 2D size of a person in the synthetic *training* views (``screen_size`` per frame,
#: median over frames; 10-90 %: 0.136-0.212). The lifter sees no intrinsics, so it reads a person's
#: apparent size as their size in metres; ``zoom_to_training`` maps other cameras onto this.
TRAIN_SCREEN_SIZE = 0.175


def screen_size(x2d) -> float:
    """A sequence's 2D size: per frame the RMS distance of the visible joints (confidence > 0)
    from their centroid, in screen-normalised units; the median over frames with >= 4 visible joints.

    x2d: (T, J, 3) screen-normalised x, y and confidence. NaN when no frame qualifies.
    """
    x = np.asarray(x2d, dtype=np.float64)
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(f"screen_size: expected (T, J, 3) x, y, confidence, got shape {x.shape}")
    vis = x[..., 2] > 0                                                   # (T, J)
    n = vis.sum(1)                                                        # (T,)
    ok = n >= 4
    if not ok.any():
        return float("nan")
    xy, v = x[ok, :, :2], vis[ok][..., None]                              # (T', J, 2), (T', J, 1)
    centre = (xy * v).sum(1, keepdims=True) / n[ok][:, None, None]        # (T', 1, 2)
    sq = (((xy - centre) ** 2) * v).sum((1, 2)) / n[ok]                   # (T',)
    return float(np.median(np.sqrt(sq)))


def zoom_to_training(x2d, size: float = TRAIN_SCREEN_SIZE) -> tuple[np.ndarray, float]:
    """Zoom screen-normalised 2D about the image centre so the person's ``screen_size`` is ``size``.

    A zoom about the principal point is what a different focal length does, so the input stays a
    valid perspective view: it is the view of a camera that shows the person as large as the
    training cameras did. Returns ``(zoomed (T, J, 3) copy, factor)``; hidden joints stay 0.
    """
    x = np.array(x2d, dtype=np.float64)
    s = screen_size(x)
    if not np.isfinite(s) or s <= 0:
        raise ValueError("zoom_to_training: no frame has 4 or more visible joints to measure the person's size")
    factor = float(size) / s
    x[..., :2] *= factor
    x[..., :2] *= (x[..., 2:3] > 0)
    return x, factor


def zoom_pixels(keypoints, factor: float, width: float, height: float) -> np.ndarray:
    """``zoom_to_training``'s zoom in pixels: (..., 3) x, y, confidence about the image centre."""
    k = np.array(keypoints, dtype=np.float64)
    _check_last(k, 3, "zoom_pixels")
    centre = np.array([width / 2.0, height / 2.0])
    k[..., :2] = centre + (k[..., :2] - centre) * float(factor)
    return k


def quaternion_to_matrix(q) -> np.ndarray:
    """Unit quaternion (w, x, y, z) -> rotation matrix (3, 3); q may be (..., 4)."""
    q = np.asarray(q, dtype=np.float64)
    _check_last(q, 4, "quaternion_to_matrix")
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def look_at(eye, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """Camera->world rotation of a camera at ``eye`` looking at ``target`` (z up world).

    Columns are the camera's x (right), y (down) and z (forward) axes in world coordinates.
    """
    eye, target, up = (np.asarray(v, dtype=np.float64) for v in (eye, target, up))
    fwd = target - eye
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, up)
    if np.linalg.norm(right) < 1e-8:
        raise ValueError("look_at: viewing direction is parallel to 'up'")
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    return np.stack([right, down, fwd], axis=1)


def ring_cameras(target=(0.0, 0.0, 1.0), radius: float = 5.0, height: float = 1.6,
                 intrinsics: tuple[Intrinsics, ...] = H36M_INTRINSICS, yaw_offset: float = 0.0) -> list[Camera]:
    """Cameras placed around ``target`` like the H36M studio: one per intrinsics, at its azimuth.

    Each camera stands ``radius`` metres from the target (horizontally), ``height`` metres
    up, and looks at the target; ``yaw_offset`` (degrees) turns the whole ring.
    """
    target = np.asarray(target, dtype=np.float64)
    cams = []
    for intr in intrinsics:
        a = np.deg2rad(intr.azimuth + yaw_offset)
        eye = target + np.array([radius * np.cos(a), radius * np.sin(a), 0.0])
        eye[2] = height
        cams.append(Camera(intr, look_at(eye, target), eye))
    return cams
