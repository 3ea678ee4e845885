"""The shipped checkpoints: listed, loadable with weights_only, small, and still as accurate as recorded."""
from __future__ import annotations

import json

import pytest
import torch

import langpose
from langpose import zoo

SHIPPED = ("tiny", "tiny-noalign", "small", "small-noalign")


def test_every_recipe_ships_with_an_index_entry_and_weights():
    listing = langpose.pretrained()
    assert set(SHIPPED) <= set(listing), f"shipped: {sorted(listing)}"
    total = 0
    for name in SHIPPED:
        entry = listing[name]
        assert entry["p1_mm"] > 0 and entry["regression_p1_mm"] > 0
        path = zoo.WEIGHTS / f"{name}.pt"
        torch.load(path, weights_only=True)  # plain tensors and data only
        total += path.stat().st_size
    assert total <= 20 * 2**20, f"shipped weights are {total / 2**20:.1f} MB (limit 20 MB)"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_still_scores_its_recorded_p1(name):
    model = langpose.pretrained(name)
    assert not model.training
    recorded = langpose.pretrained()[name]["regression_p1_mm"]
    assert zoo.regression_p1(model) == pytest.approx(recorded, abs=0.5)


def test_aligned_models_carry_their_vocabulary_and_noalign_ones_lift_without():
    assert len(langpose.pretrained("tiny").vocab) == 35
    model = langpose.pretrained("tiny-noalign")
    x = torch.zeros(1, model.cfg.max_frames, 17, 3)
    x[..., 2] = 1.0
    assert model.lift(x).shape == (1, model.cfg.max_frames, 17, 3)


def test_unknown_name_is_a_clear_error():
    with pytest.raises(KeyError, match="no shipped model 'huge'; shipped: .*tiny"):
        langpose.pretrained("huge")


def test_recipes_build_valid_stage_configs():
    for name, recipe in zoo.RECIPES.items():
        pre, ft = zoo.stage_configs(recipe)
        assert pre.model.max_frames == ft.model.max_frames
        assert pre.optim.epochs * pre.optim.max_steps == recipe.pretrain_steps
        assert (pre.loss.w_align > 0) == (not name.endswith("noalign"))
