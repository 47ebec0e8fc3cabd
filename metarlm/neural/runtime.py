"""Inference of a trained checkpoint with numpy alone: what the search runs, without torch.

Training uses torch and transformers (``metarlm.neural.model``); the search only reads the
network, a few small forward passes per expansion. Importing torch and transformers and
building the model took about 6 s of a guided ``synth`` whose search took under 2 s; this
module reads the same ``model.safetensors`` with ``safetensors.numpy`` and runs the BART
forward pass (learned positions with BART's offset of 2, post-layer-norm blocks, exact GELU
from ``metarlm.kernels.activations``, tied output embeddings plus ``final_logits_bias``) in
float32. ``tests/test_runtime.py`` holds it equal to the transformers model on random
weights and inputs.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from metarlm.errors import MetarlmError

POSITION_OFFSET = 2  # BART's learned positions start at row 2 (a fairseq heritage)
LN_EPS = 1e-5
MEMORIES = 16  # encoded episodes kept per network


@functools.cache
def _controller() -> Any:
    """threadpoolctl's view of the BLAS libraries loaded (found once: it scans them)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """BLAS on one thread for the block (restored after). The matrices here are small: on 2
    cores shared with another process, OpenBLAS's default of a thread a core spun and made a
    guided MiniSCAN search 4x slower (20 s against 5 s)."""
    return _controller().limit(limits=1, user_api="blas")


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU as transformers' ``gelu``: x Φ(x), exact (not the tanh approximation)."""
    from metarlm.kernels.activations import gelu

    # one compiled signature (1-d, C order) whatever the caller's shape
    return gelu(np.ascontiguousarray(x, dtype=np.float32).reshape(-1)).reshape(x.shape)


# The forward passes work in place where they can: a fresh array of a megabyte or more is
# a fresh mapping of memory, and its page faults made a softmax take 2.6 times as long.

def _norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Layer normalisation over the last axis (a new array)."""
    out = x - x.mean(-1, keepdims=True)
    scale = np.square(out).mean(-1, keepdims=True)
    scale += LN_EPS
    np.sqrt(scale, out=scale)
    out /= scale
    out *= w
    out += b
    return out


def _softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in place (x is the caller's scratch)."""
    x -= x.max(-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(-1, keepdims=True)
    return x


def log_softmax(x: np.ndarray) -> np.ndarray:
    """log softmax over the last axis (``-inf`` entries stay ``-inf``)."""
    top = x.max(-1, keepdims=True)
    return x - top - np.log(np.exp(x - top).sum(-1, keepdims=True))


@dataclass(frozen=True)
class _Attention:
    """One attention block's projections (weights transposed for ``x @ w``)."""

    q: tuple[np.ndarray, np.ndarray]
    k: tuple[np.ndarray, np.ndarray]
    v: tuple[np.ndarray, np.ndarray]
    out: tuple[np.ndarray, np.ndarray]
    norm: tuple[np.ndarray, np.ndarray]
    qkv: tuple[np.ndarray, np.ndarray]  # q, k and v side by side: one product for all three


@dataclass(frozen=True)
class _Layer:
    """An encoder layer (``cross`` None) or a decoder layer."""

    attn: _Attention
    cross: _Attention | None
    fc1: tuple[np.ndarray, np.ndarray]
    fc2: tuple[np.ndarray, np.ndarray]
    norm: tuple[np.ndarray, np.ndarray]


class NumpyBart:
    """A BART-style encoder-decoder's forward pass in numpy, from its weights."""

    def __init__(self, weights: dict[str, np.ndarray], config: dict[str, Any]) -> None:
        _supported(config)
        w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
        self.heads = int(config["encoder_attention_heads"])
        self.d_model = int(config["d_model"])
        self.max_positions = int(config["max_position_embeddings"])
        self._memory: dict[tuple[int, ...], np.ndarray] = {}  # the latest episodes encoded
        self._cross: dict[int, tuple[np.ndarray, list]] = {}  # id(memory) -> (memory, kv)
        self.embed = w["model.shared.weight"]
        self.bias = w.get("final_logits_bias", np.zeros((1, len(self.embed)), np.float32))[0]
        self.parts = {side: (w[f"model.{side}.embed_positions.weight"],
                             _pair(w, f"model.{side}.layernorm_embedding"),
                             [_layer(w, f"model.{side}.layers.{i}", side == "decoder")
                              for i in range(int(config[f"{side}_layers"]))])
                      for side in ("encoder", "decoder")}
        _shapes(w, self.d_model, self.max_positions, self.heads)

    @classmethod
    def load(cls, directory: str | Path) -> NumpyBart:
        """The network of a checkpoint directory (``config.json``, ``model.safetensors``)."""
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        path = Path(directory)
        try:
            config = json.loads((path / "config.json").read_text(encoding="utf-8"))
            weights = load_file(str(path / "model.safetensors"))
        except (OSError, ValueError, SafetensorError) as err:
            raise MetarlmError(f"cannot read the checkpoint at {path}: {err}") from None
        try:
            net = cls(weights, config)
        except KeyError as err:
            raise MetarlmError(f"{path}: the checkpoint lacks the weight or setting "
                               f"{err}") from None
        _gelu(np.zeros(1, np.float32))  # load (after an install: compile) it with the weights
        return net

    @classmethod
    def from_torch(cls, model: Any) -> NumpyBart:
        """The same network as a transformers model in memory (tests, benchmarks)."""
        model = getattr(model, "module", model)
        state = {k: v.detach().cpu().float().numpy() for k, v in model.state_dict().items()}
        return cls(state, model.config.to_dict())

    def encode(self, ids: np.ndarray | list[int]) -> np.ndarray:
        """The encoder's last hidden states for one unpadded sequence, shape (length, d)
        (read-only: the latest few are kept, since the search scores and samples rules for
        one sub-problem in turn)."""
        key = tuple(np.asarray(ids, dtype=np.int64).reshape(-1).tolist())
        memory = self._memory.get(key)
        if memory is None:
            if len(self._memory) >= MEMORIES:
                self._memory.pop(next(iter(self._memory)))
            with one_blas_thread():
                memory = self._encode(np.asarray(key, dtype=np.int64))
            self._memory[key] = memory
            memory.flags.writeable = False
        return memory

    def _encode(self, ids: np.ndarray) -> np.ndarray:
        if len(ids) > self.max_positions:
            raise ValueError(f"{len(ids)} ids are past the model's {self.max_positions} "
                             "positions")
        positions, norm, layers = self.parts["encoder"]
        h = _norm(self.embed[ids] + positions[POSITION_OFFSET:POSITION_OFFSET + len(ids)], *norm)
        for layer in layers:
            h = _norm(h + self._self_attend(layer.attn, h), *layer.attn.norm)
            h = _norm(h + _ffn(layer, h), *layer.norm)
        return h

    def logits(self, memory: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Teacher-forced decoder logits for rows of ids (batch, steps) read under causal
        attention, all rows against one encoder memory: shape (batch, steps, vocab)."""
        with one_blas_thread():
            return self._logits(memory, np.asarray(ids, dtype=np.int64))

    def _logits(self, memory: np.ndarray, ids: np.ndarray) -> np.ndarray:
        positions = self.parts["decoder"][0]
        steps = ids.shape[1]
        causal = np.triu(np.full((steps, steps), -np.inf, np.float32), 1)
        return self._decode(memory, self.embed[ids] + positions[
            POSITION_OFFSET:POSITION_OFFSET + steps], causal)

    def tree_logits(self, memory: np.ndarray, ids: Sequence[int],
                    parents: Sequence[int]) -> np.ndarray:
        """Decoder logits at every node of a prefix tree, shape (nodes, vocab): node i reads
        ids[i] after the path to its parent (parents[i] < i; -1 at a root). Under causal
        attention a prefix sees only itself, so node i's logits are those teacher forcing
        gives the last step of its root path; prefixes that rules share are read once."""
        with one_blas_thread():
            return self._tree_logits(memory, np.asarray(ids, dtype=np.int64), parents)

    def _tree_logits(self, memory: np.ndarray, ids: np.ndarray,
                     parents: Sequence[int]) -> np.ndarray:
        n = len(ids)
        sees = np.zeros((n, n), dtype=np.bool_)  # sees[i, j]: j is i or one of its ancestors
        depth = np.zeros(n, dtype=np.int64)
        for i, parent in enumerate(parents):
            if parent >= 0:
                sees[i] = sees[parent]
                depth[i] = depth[parent] + 1
            sees[i, i] = True
        if n and depth.max() + POSITION_OFFSET >= len(self.parts["decoder"][0]):
            raise ValueError(f"past the model's {self.max_positions} positions")
        mask = np.where(sees, np.float32(0), np.float32(-np.inf))
        h = self.embed[ids] + self.parts["decoder"][0][POSITION_OFFSET + depth]
        return self._decode(memory, h[None], mask)[0]

    def _decode(self, memory: np.ndarray, h: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The decoder stack on embedded inputs h (rows, steps, d) with a self-attention
        mask: logits (rows, steps, vocab)."""
        _, norm, layers = self.parts["decoder"]
        h = _norm(h, *norm)
        for layer, kv in zip(layers, self.cross_kv(memory)):
            h = _norm(h + self._self_attend(layer.attn, h, mask), *layer.attn.norm)
            assert layer.cross is not None
            h = _norm(h + self._cross_attend(layer.cross, h, kv), *layer.cross.norm)
            h = _norm(h + _ffn(layer, h), *layer.norm)
        return _affine(h, self.embed.T, self.bias)

    def cross_kv(self, memory: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each decoder layer's cross-attention keys and values of an encoder memory, each
        (heads, length, d / heads): computed once per memory (the latest few are kept)."""
        found = self._cross.get(id(memory))
        if found is not None and found[0] is memory:
            return found[1]
        _, _, layers = self.parts["decoder"]
        kv = [(self._heads_first(memory @ ly.cross.k[0] + ly.cross.k[1]),  # type: ignore[union-attr]
               self._heads_first(memory @ ly.cross.v[0] + ly.cross.v[1]))  # type: ignore[union-attr]
              for ly in layers]
        if len(self._cross) >= MEMORIES:
            self._cross.pop(next(iter(self._cross)))
        self._cross[id(memory)] = (memory, kv)  # the memory kept: its id stays its own
        return kv

    def decoder(self, memory: np.ndarray, rows: int, use_cache: bool = True) -> Any:
        """A decoder of ``rows`` sequences against one encoder memory, one id at a time
        (``use_cache=False``: each step reads the whole prefix again, a check on the cache)."""
        return Decoder(self, memory, rows) if use_cache else _Uncached(self, memory, rows)

    def inference(self) -> contextlib.AbstractContextManager[None]:
        """What decoding runs under (nothing to switch off: there is no dropout here)."""
        return contextlib.nullcontext()

    def _split(self, x: np.ndarray) -> np.ndarray:
        """(..., steps, d) → (..., heads, steps, d / heads)."""
        *lead, steps, _ = x.shape
        return np.swapaxes(x.reshape(*lead, steps, self.heads, -1), -2, -3)

    def _heads_first(self, x: np.ndarray) -> np.ndarray:
        """(n, d) → (heads, n, d / heads), contiguous."""
        return np.ascontiguousarray(np.swapaxes(x.reshape(len(x), self.heads, -1), 0, 1))

    def _self_attend(self, att: _Attention, x: np.ndarray,
                     mask: np.ndarray | None = None) -> np.ndarray:
        """Multi-head self-attention of ``x`` (..., steps, d), with an additive mask."""
        q, k, v = np.split(_affine(x, *att.qkv), 3, axis=-1)
        return self._mix(att, self._split(q), self._split(k), self._split(v), mask)

    def _cross_attend(self, att: _Attention, x: np.ndarray,
                      kv: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Attention of ``x`` (..., d) over one memory's keys and values (``cross_kv``).
        Every row reads the same memory, so all rows' queries go into one product per head,
        not one small product per row and head."""
        k, v = kv
        lead, d = x.shape[:-1], x.shape[-1]
        q = self._heads_first(_affine(x.reshape(-1, d), *att.q)
                              * np.float32((d // self.heads) ** -0.5))
        mixed = _softmax(q @ np.swapaxes(k, -1, -2)) @ v  # (heads, rows, d / heads)
        joined = np.swapaxes(mixed, 0, 1).reshape(-1, d)
        return _affine(joined, *att.out).reshape(*lead, d)

    def _mix(self, att: _Attention, q: np.ndarray, k: np.ndarray, v: np.ndarray,
             mask: np.ndarray | None = None) -> np.ndarray:
        """softmax(q kᵀ / √d) v, heads joined and projected out."""
        scores = (q * np.float32(q.shape[-1] ** -0.5)) @ np.swapaxes(k, -1, -2)
        if mask is not None:
            scores += mask
        mixed = np.swapaxes(_softmax(scores) @ v, -2, -3)  # (..., steps, heads, dh)
        return _affine(mixed.reshape(*mixed.shape[:-2], -1), *att.out)


class Decoder:
    """Decoder steps with a key/value cache: each step reads one new id per live row."""

    def __init__(self, net: NumpyBart, memory: np.ndarray, rows: int) -> None:
        del rows  # the cache takes its rows from the first step's ids
        self.net, self.length = net, 0
        _, _, layers = net.parts["decoder"]
        # The memory is one episode's for every row: its cross-attention keys and values
        # are computed once per memory (``cross_kv``).
        with one_blas_thread():
            self.cross = net.cross_kv(memory)
        self.cache: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(layers)

    def step(self, ids: np.ndarray) -> np.ndarray:
        """Logits for the next id of each live row, given each row's latest id: (rows, vocab)."""
        with one_blas_thread():
            return self._step(ids)

    def _step(self, ids: np.ndarray) -> np.ndarray:
        net = self.net
        positions, norm, layers = net.parts["decoder"]
        if self.length >= net.max_positions:
            raise ValueError(f"past the model's {net.max_positions} positions")
        h = net.embed[np.asarray(ids, dtype=np.int64)][:, None, :]
        h = _norm(h + positions[POSITION_OFFSET + self.length], *norm)
        for i, layer in enumerate(layers):
            att = layer.attn
            q, k, v = (net._split(x) for x in np.split(_affine(h, *att.qkv), 3, -1))
            past = self.cache[i]
            if past is not None:
                k, v = np.concatenate([past[0], k], 2), np.concatenate([past[1], v], 2)
            self.cache[i] = (k, v)
            h = _norm(h + net._mix(att, q, k, v), *att.norm)
            assert layer.cross is not None
            h = _norm(h + net._cross_attend(layer.cross, h, self.cross[i]), *layer.cross.norm)
            h = _norm(h + _ffn(layer, h), *layer.norm)
        self.length += 1
        return _affine(h[:, 0, :], net.embed.T, net.bias).astype(np.float32)

    def select(self, keep: np.ndarray | list[int]) -> None:
        """Keep only these rows (finished ones leave the batch)."""
        index = np.asarray(keep, dtype=np.int64)
        self.cache = [None if c is None else (c[0][index], c[1][index]) for c in self.cache]


class _Uncached:
    """Decoder steps that run the whole prefix each time (no cache)."""

    def __init__(self, net: NumpyBart, memory: np.ndarray, rows: int) -> None:
        self.net, self.memory = net, memory
        self.prefix = np.zeros((rows, 0), dtype=np.int64)

    def step(self, ids: np.ndarray) -> np.ndarray:
        self.prefix = np.concatenate([self.prefix, np.asarray(ids, np.int64)[:, None]], 1)
        return self.net.logits(self.memory, self.prefix)[:, -1, :]

    def select(self, keep: np.ndarray | list[int]) -> None:
        self.prefix = self.prefix[np.asarray(keep, dtype=np.int64)]


def network(model: Any) -> Any:
    """The decoding interface of a model: a ``NumpyBart`` as it is, a transformers model
    wrapped (``metarlm.neural.torchnet.TorchNet``)."""
    if isinstance(model, NumpyBart):
        return model
    from metarlm.neural.torchnet import TorchNet

    return TorchNet(getattr(model, "module", model))


def _ffn(layer: _Layer, h: np.ndarray) -> np.ndarray:
    return _affine(_gelu(_affine(h, *layer.fc1)), *layer.fc2)


def _affine(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x @ w + b over the last axis, as one 2-d product: numpy multiplies a stacked x as
    one small product per leading index, twice as slow here."""
    flat = x.reshape(-1, x.shape[-1]) @ w
    flat += b
    return flat.reshape(*x.shape[:-1], w.shape[1])


def _pair(w: dict[str, np.ndarray], name: str) -> tuple[np.ndarray, np.ndarray]:
    """A layer norm's (weight, bias)."""
    return w[f"{name}.weight"], w[f"{name}.bias"]


def _linear(w: dict[str, np.ndarray], name: str) -> tuple[np.ndarray, np.ndarray]:
    """A linear map's (weightᵀ, bias), ready for ``x @ w + b``."""
    return np.ascontiguousarray(w[f"{name}.weight"].T), w[f"{name}.bias"]


def _attention(w: dict[str, np.ndarray], name: str, norm: str) -> _Attention:
    q, k, v, out = (_linear(w, f"{name}.{p}_proj") for p in ("q", "k", "v", "out"))
    qkv = (np.ascontiguousarray(np.concatenate([q[0], k[0], v[0]], 1)),
           np.concatenate([q[1], k[1], v[1]]))
    return _Attention(q, k, v, out, _pair(w, norm), qkv)


def _layer(w: dict[str, np.ndarray], name: str, decoder: bool) -> _Layer:
    cross = (_attention(w, f"{name}.encoder_attn", f"{name}.encoder_attn_layer_norm")
             if decoder else None)
    return _Layer(_attention(w, f"{name}.self_attn", f"{name}.self_attn_layer_norm"), cross,
                  _linear(w, f"{name}.fc1"), _linear(w, f"{name}.fc2"),
                  _pair(w, f"{name}.final_layer_norm"))


def _shapes(w: dict[str, np.ndarray], d: int, positions: int, heads: int) -> None:
    """MetarlmError unless every weight has the shape the config implies (a mismatch would
    otherwise surface as a numpy error in the middle of a search)."""
    if d % heads:
        raise MetarlmError(f"d_model={d} is not a multiple of {heads} heads")
    for name, array in w.items():
        want = _expected_shape(name, w, d, positions)
        if want is not None and (array.ndim != len(want) or any(
                a is not None and a != b for a, b in zip(want, array.shape))):
            shown = tuple("any" if a is None else a for a in want)
            raise MetarlmError(f"the weight {name} has shape {array.shape}, not {shown}")


def _expected_shape(name: str, w: dict[str, np.ndarray], d: int,
                    positions: int) -> tuple[int | None, ...] | None:
    """The shape a weight must have (None: any length there; None for the whole: unchecked)."""
    if name.endswith("embed_positions.weight"):
        return (positions + POSITION_OFFSET, d)
    if name == "model.shared.weight" or name.endswith("fc1.weight"):
        return (None, d)
    if name.endswith("_proj.weight"):
        return (d, d)
    if name.endswith("fc2.weight"):
        return (d, w[name.replace("fc2", "fc1")].shape[0])
    if name.endswith("fc1.bias"):
        return (w[name.replace("bias", "weight")].shape[0],)
    if name.endswith(("norm.weight", "norm.bias", "_proj.bias", "fc2.bias")):
        return (d,)
    return None


def _supported(config: dict[str, Any]) -> None:
    """MetarlmError for a config this forward pass does not implement."""
    wanted = {"model_type": "bart", "activation_function": "gelu", "scale_embedding": False,
              "add_final_layer_norm": False, "normalize_before": False}
    for key, value in wanted.items():
        if config.get(key, value) != value:
            raise MetarlmError(f"the numpy runtime reads BART checkpoints with {key}="
                               f"{value!r}, not {config.get(key)!r}")
    if config.get("encoder_attention_heads") != config.get("decoder_attention_heads"):
        raise MetarlmError("the numpy runtime needs as many decoder as encoder heads")
