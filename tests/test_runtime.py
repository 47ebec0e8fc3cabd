"""The numpy runtime computes what the transformers model computes (random weights, inputs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metarlm.errors import MetarlmError
from metarlm.lang.domain import load_domain
from metarlm.neural import tokens as tk
from metarlm.neural.decode import ProgramConstraint, greedy_program, sample_programs
from metarlm.neural.model import ModelConfig, build_model, save_checkpoint
from metarlm.neural.runtime import NumpyBart, log_softmax

torch = pytest.importorskip("torch")
SMALL = ModelConfig(d_model=32, encoder_layers=2, decoder_layers=2, heads=4, ffn=64,
                    max_positions=64)
FIXTURES = [HealthCheck.function_scoped_fixture]
ids = st.lists(st.integers(3, SMALL.vocab_size - 1), min_size=1, max_size=20)


@pytest.fixture(scope="module")
def pair() -> tuple[Any, NumpyBart]:
    """A random transformers model (trained-looking biases: not all zero) and its twin."""
    model = build_model(SMALL, seed=5)
    with torch.no_grad():
        model.final_logits_bias.normal_(0, 0.5)  # a zero buffer would hide a missing bias
    model.eval()
    return model, NumpyBart.from_torch(model)


def _torch_logits(model: Any, src: list[int], tgt: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        enc = model.get_encoder()(input_ids=torch.tensor([src])).last_hidden_state
        out = model(encoder_outputs=(enc.expand(len(tgt), -1, -1),),
                    decoder_input_ids=torch.tensor(tgt))
    return out.logits.numpy()


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(src=ids, rows=st.lists(ids, min_size=1, max_size=4))
def test_teacher_forced_logits_equal_the_transformers_model(pair: Any, src: list[int],
                                                            rows: list[list[int]]) -> None:
    model, net = pair
    width = max(len(r) for r in rows)
    tgt = np.array([[tk.BOS] + r + [tk.PAD] * (width - len(r)) for r in rows])
    want = _torch_logits(model, src, tgt)
    got = net.logits(net.encode(src), tgt)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=2e-4, rtol=1e-4)


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURES)
@given(src=ids, rows=st.lists(st.lists(st.integers(3, 6), min_size=1, max_size=8),
                              min_size=1, max_size=6))
def test_a_prefix_tree_reads_what_teacher_forcing_reads(pair: Any, src: list[int],
                                                        rows: list[list[int]]) -> None:
    """Rows over few ids share prefixes; each tree node's logits are its path's last step's."""
    from metarlm.neural.policy import _PrefixTree

    _, net = pair
    memory = net.encode(src)
    tree = _PrefixTree()
    paths = [tree.add([tk.BOS] + r) for r in rows]
    assert len(tree.ids) == len({tuple(r[:k]) for r in rows for k in range(len(r) + 1)})
    got = net.tree_logits(memory, tree.ids, tree.parents)
    for row, path in zip(rows, paths):
        want = net.logits(memory, np.array([[tk.BOS] + row]))[0]
        np.testing.assert_allclose(got[path], want, atol=2e-4, rtol=1e-4)


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURES)
@given(src=ids, row=ids, drop=st.integers(0, 2))
def test_cached_steps_equal_whole_prefixes(pair: Any, src: list[int], row: list[int],
                                           drop: int) -> None:
    """Step by step with the cache, rows leaving the batch, as one teacher-forced pass."""
    _, net = pair
    memory = net.encode(src)
    tgt = np.array([[tk.BOS] + row] * 3)
    tgt[1:, 1:] = (tgt[1:, 1:] + 7) % (SMALL.vocab_size - 3) + 3  # other rows, other ids
    whole = net.logits(memory, tgt)
    for use_cache in (True, False):
        steps, live = net.decoder(memory, 3, use_cache), [0, 1, 2]
        for t in range(tgt.shape[1]):
            got = steps.step(tgt[live, t])
            np.testing.assert_allclose(got, whole[live, t], atol=2e-4, rtol=1e-4)
            if t == 0 and drop < 3:
                live = [r for r in live if r != drop]
                steps.select([p for p, r in enumerate([0, 1, 2]) if r != drop])


def test_a_checkpoint_loads_as_it_was_saved(pair: Any, tmp_path: Path) -> None:
    model, net = pair
    save_checkpoint(model, tmp_path, {"task": "policy"})
    loaded = NumpyBart.load(tmp_path)
    src, tgt = [5, 6, 7, tk.EOS], np.array([[tk.BOS, 9, 10]])
    np.testing.assert_array_equal(loaded.logits(loaded.encode(src), tgt),
                                  net.logits(net.encode(src), tgt))


@pytest.mark.parametrize("temperature", [1.0, 0.7, 0.0])
def test_sampling_draws_the_same_programs_from_either(pair: Any, temperature: float) -> None:
    """One numpy random stream draws for both networks: the same seed, the same programs."""
    model, net = pair
    constraint = ProgramConstraint(load_domain("scan"), ("jump", "twice"), ("I_JUMP",),
                                   max_len=30)
    src = [tk.WORD0, tk.WORD0 + 1, tk.TOKEN0, tk.EOS]
    for seed in range(3):
        a = sample_programs(model, src, constraint, 12, seed=seed, temperature=temperature)
        b = sample_programs(net, src, constraint, 12, seed=seed, temperature=temperature)
        assert [c.ids for c in a] == [c.ids for c in b]
        np.testing.assert_allclose([c.logprob for c in a], [c.logprob for c in b], atol=1e-3)
    assert greedy_program(net, src, constraint).ids == greedy_program(model, src, constraint).ids


def test_the_encoder_keeps_recent_episodes_read_only(pair: Any) -> None:
    _, net = pair
    first = net.encode([4, 5, tk.EOS])
    assert net.encode([4, 5, tk.EOS]) is first and not first.flags.writeable
    with pytest.raises(ValueError, match="positions"):
        net.encode([4] * (SMALL.max_positions + 1))


def test_log_softmax_keeps_masked_ids_impossible() -> None:
    logp = log_softmax(np.array([[0.0, -np.inf, 1.0]]))
    assert logp[0, 1] == -np.inf and np.isclose(np.exp(logp).sum(), 1.0)


@pytest.mark.parametrize(("key", "value"), [("activation_function", "relu"),
                                            ("scale_embedding", True),
                                            ("model_type", "t5")])
def test_an_unsupported_network_is_a_clear_error(tmp_path: Path, pair: Any, key: str,
                                                 value: object) -> None:
    model, _ = pair
    save_checkpoint(model, tmp_path, {"task": "policy"})
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, key: value}))
    with pytest.raises(MetarlmError, match=key):
        NumpyBart.load(tmp_path)


def test_a_missing_weight_or_file_is_a_clear_error(tmp_path: Path, pair: Any) -> None:
    from safetensors.numpy import load_file, save_file

    model, _ = pair
    save_checkpoint(model, tmp_path, {"task": "policy"})
    weights = load_file(str(tmp_path / "model.safetensors"))
    del weights["model.shared.weight"]
    save_file(weights, str(tmp_path / "model.safetensors"))
    with pytest.raises(MetarlmError, match="lacks the weight"):
        NumpyBart.load(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(MetarlmError, match="cannot read"):
        NumpyBart.load(tmp_path)


def test_weights_of_the_wrong_shape_are_a_clear_error(tmp_path: Path, pair: Any) -> None:
    from safetensors.numpy import load_file, save_file

    model, _ = pair
    save_checkpoint(model, tmp_path, {"task": "policy"})
    weights = load_file(str(tmp_path / "model.safetensors"))
    name = "model.decoder.layers.1.fc2.weight"
    weights[name] = weights[name][:, :-1].copy()
    save_file(weights, str(tmp_path / "model.safetensors"))
    with pytest.raises(MetarlmError, match="fc2.weight has shape"):
        NumpyBart.load(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "d_model": 48}))
    with pytest.raises(MetarlmError, match="shape"):
        NumpyBart.load(tmp_path)


def test_every_forward_pass_runs_blas_on_one_thread(pair: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """On shared cores BLAS threads spin: the encoder, the teacher-forced pass, the decoder's
    set-up and its steps each run under the one-thread limit."""
    import contextlib

    from threadpoolctl import threadpool_info

    from metarlm.neural import runtime

    with runtime.one_blas_thread():
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
    limited: list[str] = []

    class Recorder:
        def limit(self, limits: int, user_api: str) -> Any:
            limited.append(f"{limits} {user_api}")
            return contextlib.nullcontext()

    monkeypatch.setattr(runtime, "_controller", Recorder)
    _, net = pair
    memory = net.encode([9, 8, 7, 6, tk.EOS])  # not kept yet: encoded under the limit
    net.logits(memory, np.array([[tk.BOS, 5]]))
    net.decoder(memory, 2).step(np.array([tk.BOS, tk.BOS]))
    assert limited == ["1 blas"] * 4
