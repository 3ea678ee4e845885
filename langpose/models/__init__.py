"""Models: the DSTformer-style LangPose lifter, its heads, and the per-frame MLP baseline."""
from langpose.models.build import build_model
from langpose.models.config import PRESETS, ModelConfig, as_model_config, model_config
from langpose.models.langpose_model import LangPoseModel, check_x2d
from langpose.models.mlp_lifter import MLPLifter

__all__ = ["ModelConfig", "PRESETS", "model_config", "as_model_config", "LangPoseModel", "MLPLifter",
           "build_model", "check_x2d"]
