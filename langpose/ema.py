"""An exponential moving average (EMA) of a model's weights.

After every optimisation step the average moves towards the live weights::

    w_ema <- d * w_ema + (1 - d) * w,    d = min(decay, (1 + n) / (10 + n))

(n: updates so far). The ramp ``(1 + n) / (10 + n)`` keeps the first updates from being
dominated by the random or warm-started initial weights; after ~10 / (1 - decay) steps
``d`` is the configured decay. Buffers (e.g. normalisation statistics) are copied, not
averaged. The average is a full copy of the model (``ema.module``), so it can be validated,
saved and loaded like the model itself; ``OptimConfig.ema`` turns it on in ``langpose.train``.
"""
from __future__ import annotations

import copy

import torch


class EMA:
    """The moving average of ``model``'s floating-point parameters.

    Args:
        model: the live model (not DDP-wrapped); it is deep-copied once.
        decay: 0 < decay < 1; the averaging horizon is about 1 / (1 - decay) steps.
    """

    def __init__(self, model: torch.nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay!r}")
        self.decay = float(decay)
        self.updates = 0
        self.module = copy.deepcopy(model).eval()
        self.module.requires_grad_(False)

    def current_decay(self) -> float:
        """The decay the next ``update`` uses (the warm-up ramp, capped at ``decay``)."""
        return min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        """One step of the average towards ``model``'s current weights."""
        d = self.current_decay()
        avg = [p for p in self.module.parameters() if p.dtype.is_floating_point]
        live = [p.detach() for p in model.parameters() if p.dtype.is_floating_point]
        if len(avg) != len(live):
            raise ValueError(f"EMA: the model has {len(live)} floating-point parameters, the average {len(avg)}")
        torch._foreach_lerp_(avg, live, 1.0 - d)  # avg += (1 - d) * (live - avg)
        for b_avg, b in zip(self.module.buffers(), model.buffers()):
            b_avg.copy_(b)
        self.updates += 1

    def state_dict(self) -> dict:
        return {"decay": self.decay, "updates": self.updates, "model": self.module.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.decay, self.updates = float(state["decay"]), int(state["updates"])
        self.module.load_state_dict(state["model"])


__all__ = ["EMA"]
