"""Tensors as ``safetensors.torch.save_file`` takes them, with as few copies as possible."""

from __future__ import annotations

from collections.abc import Mapping

import torch


def storable(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``tensors`` ready for ``save_file``, copying as little as it can: the file is written
    straight from memory (callers do not change the tensors meanwhile), so only a tensor that is
    not contiguous, or a second name for memory already listed (tied weights, which
    ``save_file`` refuses), is copied. A model's weights are not duplicated to be saved."""
    out: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for name, tensor in tensors.items():
        t = tensor.detach().contiguous()
        storage = t.untyped_storage().data_ptr()
        out[name] = t.clone() if storage in seen else t
        seen.add(storage)
    return out
