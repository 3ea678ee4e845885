"""The exponential moving average of the weights: hand-computed updates, and the loop's use of it."""
from __future__ import annotations

import pytest
import torch

from langpose import checkpoint as ckpt
from langpose.config import ConfigError
from langpose.ema import EMA
from langpose.train import fit, train_config

SMALL = ["data.quick=True", "data.max_train_windows=48", "data.batch_size=16", "data.max_val_frames=120",
         "model.depth=1", "optim.epochs=1", "optim.max_steps=2", "progress=False"]


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _unit(w: float) -> torch.nn.Module:
    m = torch.nn.BatchNorm1d(1)  # one weight, one bias, running-statistics buffers
    with torch.no_grad():
        m.weight.fill_(w)
        m.bias.fill_(0.0)
    return m


def test_update_matches_hand_computed_values():
    live = _unit(0.0)
    ema = EMA(live, decay=0.5)
    with torch.no_grad():
        live.weight.fill_(1.0)
        live.running_mean.fill_(3.0)
    # update 1: d = min(0.5, 1/10) = 0.1 -> 0.1 * 0 + 0.9 * 1 = 0.9
    ema.update(live)
    assert ema.module.weight.item() == pytest.approx(0.9)
    # update 2: d = min(0.5, 2/11) -> 2/11 * 0.9 + 9/11 * 1
    ema.update(live)
    assert ema.module.weight.item() == pytest.approx(2 / 11 * 0.9 + 9 / 11)
    # buffers are copied, not averaged
    assert ema.module.running_mean.item() == 3.0
    # the ramp reaches the configured decay and stays there
    ema.updates = 100
    assert ema.current_decay() == 0.5
    with torch.no_grad():
        live.weight.fill_(0.0)
    before = ema.module.weight.item()
    ema.update(live)
    assert ema.module.weight.item() == pytest.approx(0.5 * before)
    # the live model is left alone, and the average is a separate copy
    assert live.weight.item() == 0.0 and not ema.module.weight.requires_grad


def test_state_dict_round_trip_and_bad_decay():
    live = _unit(2.0)
    ema = EMA(live, decay=0.9)
    ema.update(live)
    other = EMA(_unit(-5.0), decay=0.1)
    other.load_state_dict(ema.state_dict())
    assert (other.decay, other.updates) == (0.9, 1)
    assert other.module.weight.item() == ema.module.weight.item() == 2.0
    for bad in (0.0, 1.0, -0.2, 1.5):
        with pytest.raises(ValueError, match="EMA decay must be in"):
            EMA(live, decay=bad)


def test_config_rejects_a_bad_decay():
    assert train_config("tiny").optim.ema == 0.0  # off by default
    for bad in ("1.0", "-0.1"):
        with pytest.raises(ConfigError, match=r"optim\.ema: expected a decay in \[0, 1\)"):
            train_config("tiny", [f"optim.ema={bad}"])


def test_fit_saves_the_average_and_resumes_it_exactly(tmp_path):
    two = train_config("tiny", SMALL + ["optim.epochs=2", "optim.ema=0.9"])
    fit(two, tmp_path / "straight")
    last = ckpt.load(tmp_path / "straight" / "last.pt")
    best = ckpt.load(tmp_path / "straight" / "checkpoint.pt")
    assert last["ema"]["updates"] == 4 and last["ema"]["decay"] == 0.9
    key = "pose_head.out.weight"
    # checkpoint.pt holds the average, which differs from the live weights
    assert not torch.equal(last["model"][key], last["ema"]["model"][key])
    assert best["epoch"] in (1, 2)
    if best["epoch"] == 2:
        assert torch.equal(best["model"][key], last["ema"]["model"][key])
    # the validated score is the average's: reloading checkpoint.pt reproduces the logged best
    assert best["best"] == min(r["val_p1_mm"] for r in last["history"])
    # interrupted after one epoch and resumed: the same average, bit for bit
    fit(train_config("tiny", SMALL + ["optim.epochs=1", "optim.ema=0.9"]), tmp_path / "resumed")
    fit(two, tmp_path / "resumed", resume=True)
    again = ckpt.load(tmp_path / "resumed" / "last.pt")
    assert again["ema"]["updates"] == 4
    for k, v in last["ema"]["model"].items():
        if isinstance(v, torch.Tensor):
            assert torch.equal(v, again["ema"]["model"][k]), k


def test_on_epoch_end_sees_the_average(tmp_path):
    seen = []
    fit(train_config("tiny", SMALL + ["optim.ema=0.5"]), tmp_path / "run",
        on_epoch_end=lambda model, rec: seen.append({k: v.clone() for k, v in model.state_dict().items()
                                                       if isinstance(v, torch.Tensor)}))
    last = ckpt.load(tmp_path / "run" / "last.pt")
    key = "pose_head.out.weight"
    assert torch.equal(seen[0][key], last["ema"]["model"][key])
    assert not torch.equal(seen[0][key], last["model"][key])
