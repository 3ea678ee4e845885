"""DistributedDataParallel plumbing for ``torchrun`` launches (and a no-op for single processes).

``torchrun --nproc_per_node N -m langpose.cli pretrain ...`` sets ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK`` (and ``MASTER_ADDR``/``MASTER_PORT``). :func:`setup` reads them, initialises
the process group (``nccl`` on CUDA, ``gloo`` on CPU) and picks this rank's device.
Without those variables it returns a single-process :class:`DistInfo` and touches nothing.
Only rank 0 writes files (``DistInfo.is_main``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class DistInfo:
    """Where this process sits: ``rank`` of ``world_size`` (``local_rank`` on its node) and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    initialized_here: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def resolve_device(device: str = "auto", local_rank: int = 0) -> torch.device:
    """``"auto"`` -> ``cuda:<local_rank>`` when CUDA is available, else ``cpu``; other strings as given."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} requested but CUDA is not available")
        if dev.index is None:
            dev = torch.device("cuda", local_rank)
    return dev


def env_world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def setup(device: str = "auto") -> DistInfo:
    """Initialise the process group when launched by torchrun (WORLD_SIZE > 1); else single process."""
    world = env_world_size()
    if world <= 1:
        return DistInfo(device=resolve_device(device))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    dev = resolve_device(device, local_rank)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    initialized_here = False
    if not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
        initialized_here = True
    return DistInfo(rank=rank, world_size=world, local_rank=local_rank, device=dev,
                    initialized_here=initialized_here)


def barrier(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.barrier()


def all_reduce_mean(value: float, info: DistInfo, device=None) -> float:
    """Mean of a python float over ranks (the value itself in a single process)."""
    if not (info.enabled and dist.is_initialized()):
        return float(value)
    t = torch.tensor([float(value)], dtype=torch.float64, device=device or info.device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return float(t.item()) / info.world_size


def broadcast_object(obj, info: DistInfo):
    """Rank 0's python object on every rank."""
    if not (info.enabled and dist.is_initialized()):
        return obj
    holder = [obj]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def cleanup(info: DistInfo) -> None:
    """Destroy the process group if :func:`setup` created it."""
    if info.initialized_here and dist.is_initialized():
        dist.destroy_process_group()


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The plain module inside a DistributedDataParallel wrapper (or the module itself)."""
    return getattr(model, "module", model)


__all__ = ["DistInfo", "setup", "cleanup", "barrier", "all_reduce_mean", "broadcast_object",
           "resolve_device", "unwrap", "env_world_size"]
