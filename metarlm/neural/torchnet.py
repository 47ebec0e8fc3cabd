"""A transformers encoder-decoder behind the decoding interface of ``NumpyBart``.

Training validates, and the whole-program sampler samples, on the torch model itself;
``metarlm.neural.runtime.network`` wraps such a model in ``TorchNet`` so that the one
sampling loop (``metarlm.neural.decode``) drives either network.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from typing import Any

import numpy as np


class TorchNet:
    """A transformers encoder-decoder behind the interface of ``NumpyBart``'s decoding
    (training validates on the torch model itself); logits come back as numpy."""

    def __init__(self, model: Any) -> None:
        self.model = model
        config = getattr(model, "config", None)
        self.max_positions = int(getattr(config, "max_position_embeddings", 1 << 30))

    @contextlib.contextmanager
    def inference(self) -> Any:
        """Dropout off and no gradients while decoding; the model's mode is restored."""
        import torch

        was_training = bool(self.model.training)
        self.model.eval()
        try:
            with torch.inference_mode():
                yield
        finally:
            self.model.train(was_training)

    def encode(self, ids: Any) -> Any:
        """The encoder's last hidden states for one episode, shape (1, length, d_model)."""
        import torch

        device = next(self.model.parameters()).device
        ids = torch.as_tensor(np.asarray(ids), dtype=torch.long).reshape(1, -1).to(device)
        return self.model.get_encoder()(input_ids=ids).last_hidden_state

    def decoder(self, memory: Any, rows: int, use_cache: bool = True) -> _TorchSteps:
        return _TorchSteps(self.model, memory, rows, use_cache)


class _TorchSteps:
    """Decoder steps of a transformers model, with its own key/value cache."""

    def __init__(self, model: Any, memory: Any, rows: int, use_cache: bool) -> None:
        import torch

        self.model, self.use_cache, self.cache = model, use_cache, None
        self.device = memory.device
        self.enc = memory.expand(rows, -1, -1)
        self.prefix = torch.zeros((rows, 0), dtype=torch.long, device=self.device)

    def step(self, ids: np.ndarray) -> np.ndarray:
        import torch
        from transformers.modeling_outputs import BaseModelOutput

        latest = torch.as_tensor(np.asarray(ids), dtype=torch.long, device=self.device)
        self.prefix = torch.cat([self.prefix, latest[:, None]], dim=1)
        arg = _cache_argument(type(self.model))
        out = self.model(encoder_outputs=BaseModelOutput(last_hidden_state=self.enc),
                         decoder_input_ids=self.prefix[:, -1:] if self.use_cache else self.prefix,
                         use_cache=self.use_cache, **{arg: self.cache})
        self.cache = getattr(out, arg) if self.use_cache else None
        return out.logits[:, -1, :].float().cpu().numpy()

    def select(self, keep: np.ndarray | list[int]) -> None:
        import torch

        index = torch.tensor(list(keep), dtype=torch.long, device=self.device)
        self.enc, self.prefix = self.enc[index], self.prefix[index]
        if self.cache is not None:
            self.cache.batch_select_indices(index)


@functools.lru_cache(maxsize=8)
def _cache_argument(model_class: type) -> str:
    """The name under which the model's forward takes and returns its key/value cache:
    ``cache`` in recent transformers, ``past_key_values`` in earlier 5.x releases."""
    parameters = inspect.signature(model_class.forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"
