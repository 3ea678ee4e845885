"""The single entry point to every data source: ``load_views`` / ``load_sequences`` by name.

Datasets (``DATASETS``):

- ``"synthetic"``: langpose's generated action-labelled motion (``data_root`` = cache folder,
  optional; keyword arguments are ``SyntheticConfig`` fields, ``quick=True`` starts from
  ``SyntheticConfig.quick()``, or ``config=`` gives the whole config); splits train/val/test.
  This is the one way the package loads synthetic views.
- ``"deepmimic"``: the 15 DeepMimic clips shipped with pybullet (no splits: every split
  returns all clips). Real motion, the VALIDATION source of ``langpose.evaluate.evaluate_real``.
- ``"assimp"``: the CMU and boxing BVH clips of Debian's ``assimp-testmodels``
  (``langpose.data.bvh``; no splits). Real motion, a TEST source.
- ``"holosoma"``: the climbing and OMOMO clips of the ``holosoma-retargeting`` wheel
  (``langpose.data.holosoma``; no splits). Real motion, a TEST source.
- ``"amass_babel"``: AMASS motion with BABEL labels (splits train/val). ``data_root``
  holds ``babel/{train,val}.json`` and either ``joints/`` (prepared joints files) or
  ``amass/`` (AMASS npz) + ``body_models/smplh/`` (SMPL-H); see
  ``langpose.data.amass_babel``.
- ``"h36m"``: Human3.6M, VideoPose3D files ``data_3d_h36m.npz`` +
  ``data_2d_h36m_<detections>.npz`` (splits train = S1 S5 S6 S7 S8, test = S9 S11).
- ``"h36m_motionbert"``: Human3.6M, MotionBERT's ``h36m_sh_conf_cam_source_final.pkl``
  (splits train/test).
- ``"mpi3dhp"``: MPI-INF-3DHP, ``data_train_3dhp.npz`` / ``data_test_3dhp.npz``.

Sequence datasets (synthetic, deepmimic, amass_babel, assimp, holosoma) become views through
``langpose.data.views.make_views`` (4 H36M-intrinsics cameras around the subject).
"""
from __future__ import annotations

import os

from langpose.data.sequence import Sequence, View

DATASETS: tuple[str, ...] = ("synthetic", "h36m", "h36m_motionbert", "mpi3dhp", "amass_babel", "deepmimic",
                             "assimp", "holosoma")
SEQUENCE_DATASETS: tuple[str, ...] = ("synthetic", "amass_babel", "deepmimic", "assimp", "holosoma")

_FILES = {
    "h36m": "data_3d_h36m.npz and data_2d_h36m_<detections>.npz (e.g. data_2d_h36m_cpn_ft_h36m_dbb.npz), "
            "made with VideoPose3D's data/prepare_data_h36m.py "
            "(https://github.com/facebookresearch/VideoPose3D/blob/main/DATASETS.md)",
    "h36m_motionbert": "h36m_sh_conf_cam_source_final.pkl from MotionBERT's docs/pose3d.md "
                       "(https://github.com/Walter0807/MotionBERT)",
    "mpi3dhp": "data_train_3dhp.npz and data_test_3dhp.npz made with P-STMO's data_to_npz_3dhp*.py "
               "(https://github.com/paTRICK-swk/P-STMO)",
    "amass_babel": "babel/train.json, babel/val.json (https://babel.is.tue.mpg.de) and joints/ (prepared "
                   "joints npz files) or amass/ (AMASS npz, https://amass.is.tue.mpg.de) + body_models/smplh/",
}


def _check_name(dataset: str) -> None:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; valid datasets: {', '.join(DATASETS)}")


def _need_root(dataset: str, data_root) -> str:
    if data_root is None:
        raise ValueError(f"dataset {dataset!r} needs data_root: a folder holding {_FILES[dataset]}")
    if not os.path.isdir(data_root):
        raise FileNotFoundError(f"data_root {data_root} for dataset {dataset!r} is not a folder; it should hold "
                                f"{_FILES[dataset]}")
    return str(data_root)


def load_sequences(dataset: str, split: str = "train", data_root=None, **kw) -> list[Sequence]:
    """3D ``Sequence``s (world, z up, metres, 50 fps) of a sequence dataset's split."""
    _check_name(dataset)
    if dataset not in SEQUENCE_DATASETS:
        raise ValueError(f"dataset {dataset!r} provides camera views, not world sequences; use load_views "
                         f"(sequence datasets: {', '.join(SEQUENCE_DATASETS)})")
    if dataset == "synthetic":
        from langpose.data.synthetic import SyntheticConfig, load_or_generate
        cfg, quick = kw.pop("config", None), bool(kw.pop("quick", False))
        if cfg is not None and (kw or quick):
            raise ValueError(f"synthetic: give config= or SyntheticConfig fields/quick=, not both (got {sorted(kw)})")
        if cfg is None:
            cfg = SyntheticConfig.quick(**kw) if quick else SyntheticConfig(**kw)
        return load_or_generate(cfg, data_dir=data_root, split=split)
    if dataset == "deepmimic":
        from langpose.data.deepmimic import load_clips
        return load_clips(**kw)
    if dataset == "assimp":
        from langpose.data.bvh import load_assimp_clips
        return load_assimp_clips(folder=data_root, **kw)
    if dataset == "holosoma":
        from langpose.data.holosoma import load_holosoma_clips
        return load_holosoma_clips(folder=data_root, **kw)
    root = _need_root(dataset, data_root)
    from langpose.data.amass_babel import load_babel_sequences
    babel_dir = kw.pop("babel_dir", None)
    if babel_dir is None:
        babel_dir = os.path.join(root, "babel") if os.path.isdir(os.path.join(root, "babel")) else root
    joints_root = kw.pop("joints_root", None)
    amass_root = kw.pop("amass_root", None)
    body_model_dir = kw.pop("body_model_dir", None)
    if joints_root is None and amass_root is None:
        if os.path.isdir(os.path.join(root, "joints")):
            joints_root = os.path.join(root, "joints")
        elif os.path.isdir(os.path.join(root, "amass")):
            amass_root = os.path.join(root, "amass")
        else:
            raise FileNotFoundError(f"{root}: expected a folder 'joints' (prepared joints files) or 'amass' "
                                    f"(AMASS npz files); it should hold {_FILES['amass_babel']}")
    if amass_root is not None and body_model_dir is None:
        body_model_dir = os.path.join(root, "body_models", "smplh")
    return load_babel_sequences(babel_dir, split, joints_root=joints_root, amass_root=amass_root,
                                body_model_dir=body_model_dir, **kw)


def load_views(dataset: str, split: str = "train", data_root=None, seed: int = 0, **kw) -> list[View]:
    """Camera ``View``s of a dataset's split (2D pixels + confidence, 3D in the camera frame).

    ``seed`` places the virtual cameras of sequence datasets (``camera_variety=`` widens their
    placement: ``langpose.data.views.varied_cameras``; ``raise_ground=`` (m) lifts every
    sequence as onto a platform, the same cameras seeing it); other keywords go to the
    dataset's loader (e.g. ``detections="gt"`` for h36m, ``filename=...`` for h36m_motionbert).
    """
    _check_name(dataset)
    if dataset in SEQUENCE_DATASETS:
        from langpose.data.views import make_views
        variety, up = float(kw.pop("camera_variety", 0.0)), float(kw.pop("raise_ground", 0.0))
        return make_views(load_sequences(dataset, split, data_root, **kw), seed=seed, camera_variety=variety,
                          raise_ground=up)
    root = _need_root(dataset, data_root)
    if dataset == "h36m":
        from langpose.data.h36m import load_h36m_views
        return load_h36m_views(root, split=split, **kw)
    if dataset == "h36m_motionbert":
        from langpose.data.h36m import load_motionbert_views
        filename = kw.pop("filename", "h36m_sh_conf_cam_source_final.pkl")
        return load_motionbert_views(os.path.join(root, filename), split="test" if split == "val" else split, **kw)
    from langpose.data.mpi3dhp import load_mpi3dhp_views
    return load_mpi3dhp_views(root, split=split, **kw)
