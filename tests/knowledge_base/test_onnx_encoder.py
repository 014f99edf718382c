"""The embedding model on ONNX Runtime: torch's vectors, a fresh export when the weights change."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from knowledge_base.retrieval import onnx_encoder
from knowledge_base.retrieval.dense import Embedder, TorchEncoder

TEXTS = [
    "làm lại sổ đỏ bị mất cần giấy tờ gì",
    "lam so do mat bao lau",
    "gcn qsdd",
    "a",
    # longer than the tokenizer's limit: both backends must truncate it the same way
    "đăng ký biến động đất đai khi chuyển nhượng quyền sử dụng đất thì lệ phí bao nhiêu tiền vậy ạ " * 4,
]


@pytest.fixture(scope="module")
def both(base_model_dir):
    return Embedder(str(base_model_dir), threads=1, backend="onnx"), Embedder(str(base_model_dir), threads=1,
                                                                              backend="torch")


def test_onnx_gives_torchs_vectors_for_queries_and_padded_batches(both):
    onnx, torch_ = both
    assert isinstance(torch_.model, TorchEncoder) and isinstance(onnx.model, onnx_encoder.OnnxEncoder)
    assert onnx.dimension == torch_.dimension == 384
    for one, ref in ((onnx.embed_queries(TEXTS), torch_.embed_queries(TEXTS)),
                     # batches of 2 pad the short text next to a long one
                     (onnx.embed_passages(TEXTS, batch_size=2), torch_.embed_passages(TEXTS, batch_size=2))):
        assert one.dtype == np.float32 and one.shape == ref.shape
        assert np.allclose(np.linalg.norm(one, axis=1), 1.0, atol=1e-5)
        assert np.min(np.sum(one * ref, axis=1)) > 0.9999
    assert onnx.embed_passages([]).shape == (0, 384)
    # one query alone (the serving path) as well
    single = onnx.embed_queries(["nộp thuế đất ở đâu"])[0] @ torch_.embed_queries(["nộp thuế đất ở đâu"])[0]
    assert single > 0.9999



def test_a_lower_layers_vectors_come_from_the_same_pass_on_both_backends(both):
    onnx, torch_ = both
    final, lower = onnx.embed_queries_with_layer(TEXTS, 6)
    ref_final, ref_lower = torch_.embed_queries_with_layer(TEXTS, 6)
    assert final.shape == lower.shape == (len(TEXTS), 384) and lower.dtype == np.float32
    assert np.min(np.sum(final * ref_final, axis=1)) > 0.9999 and np.min(np.sum(lower * ref_lower, axis=1)) > 0.9999
    assert np.allclose(np.linalg.norm(lower, axis=1), 1.0, atol=1e-5)
    assert np.max(np.sum(final * lower, axis=1)) < 0.99  # another layer, not the output again
    # the output itself is the last layer, mean-pooled: the same as embedding the queries
    assert np.min(np.sum(onnx.embed_queries_with_layer(TEXTS, 12)[1] * final, axis=1)) > 0.9999
    encoded = onnx.encoded
    assert np.allclose(onnx.embed_queries(TEXTS), final) and onnx.encoded == encoded  # cached for the search
    for embedder in both:
        for layer in (0, 13):
            with pytest.raises(ValueError, match="layer"):
                embedder.embed_queries_with_layer(["a"], layer)
    assert onnx.embed_queries_with_layer([], 6)[1].shape == (0, 384)


def _fake_model(folder: Path, pooling: str = "mean") -> Path:
    folder.mkdir()
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.sentence_transformer.modules.normalize.Normalize"}]))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling/config.json").write_text(json.dumps({"embedding_dimension": 8, "pooling_mode": pooling}))
    (folder / "tokenizer.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"weights v1")
    return folder


def test_an_export_is_stale_once_the_weights_change(tmp_path):
    model = _fake_model(tmp_path / "m")
    assert not onnx_encoder.is_current(model)
    out = onnx_encoder.onnx_dir(model)
    out.mkdir()
    (out / "model.onnx").write_bytes(b"graph")
    (out / "source.json").write_text(json.dumps(onnx_encoder._source(model)))
    assert onnx_encoder.is_current(model)
    (model / "model.safetensors").write_bytes(b"weights v2, retrained")  # `make model` again
    assert not onnx_encoder.is_current(model)
    # an export by an older version, without every layer's vectors, is made again
    (out / "source.json").write_text(json.dumps({k: v for k, v in onnx_encoder._source(model).items() if k != "graph"}))
    assert not onnx_encoder.is_current(model)


def test_only_the_layout_it_can_run_is_supported(tmp_path):
    assert onnx_encoder.supports(_fake_model(tmp_path / "mean"))
    assert onnx_encoder.supports(_fake_model(tmp_path / "cls", "cls"))
    assert not onnx_encoder.supports(_fake_model(tmp_path / "max", "max"))
    assert not onnx_encoder.supports(tmp_path / "missing")
    with pytest.raises(ValueError):
        onnx_encoder.export(tmp_path / "max")


def test_an_unsupported_folder_and_int8_run_on_torch(tmp_path, base_model_dir):
    # the base model's files, but a pooling the ONNX graph does not implement
    folder = tmp_path / "maxpool"
    folder.mkdir()
    for item in base_model_dir.iterdir():
        if item.name not in ("1_Pooling", "onnx"):
            os.symlink(item, folder / item.name)
    (folder / "1_Pooling").mkdir()
    config = json.loads((base_model_dir / "1_Pooling/config.json").read_text())
    (folder / "1_Pooling/config.json").write_text(json.dumps({**config, "pooling_mode": "max"}))
    assert isinstance(Embedder(str(folder), backend="onnx").model, TorchEncoder)
    assert not (folder / "onnx").exists()
    assert isinstance(Embedder(str(base_model_dir), backend="onnx", int8=True).model, TorchEncoder)


def test_the_backend_is_a_setting(monkeypatch):
    from core.settings import Settings

    assert Settings().knowledge.embedding_backend == "onnx"
    monkeypatch.setenv("MOTCUA_EMBEDDING_BACKEND", "Torch")
    settings = Settings.from_env()
    assert settings.knowledge.embedding_backend == "torch" and Embedder.configured(settings).backend == "torch"
    monkeypatch.setenv("MOTCUA_EMBEDDING_BACKEND", "tensorrt")
    with pytest.raises(ValueError, match="MOTCUA_EMBEDDING_BACKEND must be onnx or torch"):
        Settings.from_env()


def test_the_operator_command_exports_and_checks_against_torch(base_model_dir, capsys):
    from motcua.cli import main

    assert main(["model", "onnx", "--model", str(base_model_dir), "--n", "20"]) == 0
    out = capsys.readouterr().out
    assert "lowest cosine to torch over 20 sentences: 1.0000" in out or "0.9999" in out
    assert onnx_encoder.is_current(base_model_dir)


def test_making_the_export_leaves_the_search_index_current(tmp_path):
    from knowledge_base.retrieval.dense import model_fingerprint

    model = _fake_model(tmp_path / "m")
    before = model_fingerprint(str(model))
    out = onnx_encoder.onnx_dir(model)
    out.mkdir()
    (out / "model.onnx").write_bytes(b"graph")
    (out / "source.json").write_text(json.dumps(onnx_encoder._source(model)))
    (out / ".lock").write_text("")
    assert model_fingerprint(str(model)) == before
    (model / "model.safetensors").write_bytes(b"weights v2, retrained")
    assert model_fingerprint(str(model)) != before
