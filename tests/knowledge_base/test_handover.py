"""The query vector the NLU hands to the search: one encoder pass per new message, nothing trusted blindly."""
import base64

import numpy as np
import pytest

from knowledge_base.retrieval import handover
from knowledge_base.service import KnowledgeBase

MODEL = "/models/e5"
KEY = handover.key_for("the servers' shared secret")


def unit(seed: int, size: int = 8) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=size).astype(np.float32)
    return vector / np.linalg.norm(vector)


def test_a_packed_vector_comes_back_for_its_model_only():
    vector = unit(1)
    packed = handover.pack(MODEL, "làm lại sổ đỏ", vector, KEY)
    text, back = handover.unpack(packed, MODEL, 8, KEY)
    assert text == "làm lại sổ đỏ" and np.array_equal(back, vector)
    assert handover.unpack(packed, "/models/other", 8, KEY) is None  # another model's vector means nothing here
    assert handover.unpack(packed, MODEL, 16, KEY) is None


def test_only_a_vector_signed_with_the_servers_key_is_taken():
    # whoever can write parse data through Rasa's HTTP API still cannot make the search take their vector
    packed = handover.pack(MODEL, "làm lại sổ đỏ", unit(1), KEY)
    assert handover.unpack(packed, MODEL, 8, handover.key_for("another secret")) is None
    assert handover.key_for("the servers' shared secret") == KEY and KEY != b"the servers' shared secret"
    forged = handover.pack(MODEL, "làm lại sổ đỏ", unit(4), handover.key_for("guessed"))
    assert handover.unpack(forged, MODEL, 8, KEY) is None
    for change in ({"text": "tách thửa"}, {"vector": handover.pack(MODEL, "x", unit(5), KEY)["vector"]},
                   {"mac": None}, {"mac": 7}):
        assert handover.unpack({**packed, **change}, MODEL, 8, KEY) is None
    assert handover.unpack({k: v for k, v in packed.items() if k != "mac"}, MODEL, 8, KEY) is None


@pytest.mark.parametrize("change", [
    {"vector": "not base64!"}, {"vector": "!" * 44},  # the wrong length; the right length, not base64
    {"vector": base64.b64encode(b"\0" * 32).decode()},  # a zero vector
    {"vector": base64.b64encode(np.full(8, np.nan, "<f4").tobytes()).decode()},
    {"vector": base64.b64encode((2 * unit(2)).astype("<f4").tobytes()).decode()},  # not unit length
    {"vector": 12}, {"text": ""}, {"text": None}, {"text": "x" * (handover.MAX_TEXT + 1)},
])
def test_a_malformed_handover_is_ignored(change):
    base = handover.pack(MODEL, "tách thửa", unit(3), KEY)
    packed = {**base, **change}
    # signed as sent: the checks after the signature refuse it on their own
    if isinstance(packed["text"], str) and isinstance(packed["vector"], str):
        packed["mac"] = handover._mac(KEY, MODEL, packed["text"], packed["vector"])
    assert handover.unpack(packed, MODEL, 8, KEY) is None


@pytest.mark.parametrize("value", [None, "", [], "abc", {"model": MODEL}])
def test_what_is_not_a_handover_is_ignored(value):
    assert handover.unpack(value, MODEL, 8, KEY) is None


def test_a_handed_vector_spares_the_search_its_own_pass(retriever, land_scope, catalogue):
    kb = KnowledgeBase.over(catalogue, retriever)
    question = "lam lai so do bi mat o xa Dong Hai can giay to gi"
    query = retriever.dense_query(question)
    vector = retriever.embedder.embed_queries([query])[0]
    expected = [h.code for h in kb.search(question).hits]
    retriever.embedder._cache.clear()
    before = retriever.embedder.encoded
    signature, key = retriever.embedder.signature, kb._handover_key()
    assert kb.accept_query_vector(handover.pack(signature, query, vector, key), question)
    assert [h.code for h in kb.search(question).hits] == expected
    assert retriever.embedder.encoded == before  # no second encoder pass
    # not for other weights or prefix, nor for a text this search would not embed for the message
    assert not kb.accept_query_vector(handover.pack(retriever.embedder.identity, query, vector, key), question)
    assert not kb.accept_query_vector(handover.pack(signature, "tách thửa đất", vector, key), question)
    assert not kb.accept_query_vector(handover.pack(signature, query, vector, handover.key_for("forged")), question)
    assert not kb.accept_query_vector(None, question)
    kb.search("một câu khác hẳn về giếng khoan")  # a text nobody handed over is still encoded
    assert retriever.embedder.encoded == before + 1


def test_the_signature_names_the_weights_and_the_prefix(base_model_dir):
    from core.settings import Settings
    from knowledge_base.retrieval.dense import Embedder, model_fingerprint

    embedder = Embedder.configured(Settings(), str(base_model_dir), threads=1)
    other_prefix = Embedder.configured(Settings.of(query_prefix="câu hỏi: "), str(base_model_dir), threads=1)
    assert model_fingerprint(str(base_model_dir)) in embedder.signature
    assert embedder.signature.startswith(embedder.identity) and embedder.signature != other_prefix.signature
    assert embedder._model is None  # naming the model does not load it


def test_taking_a_vector_loads_nothing(retriever, land_scope, catalogue, base_model_dir):
    from core.settings import Settings
    from knowledge_base.retrieval.dense import Embedder
    from knowledge_base.retrieval.hybrid import HybridRetriever

    fresh = Embedder.configured(Settings(), str(base_model_dir), threads=1)  # nothing loaded yet
    lean = HybridRetriever(land_scope, fresh, retriever.faiss, retriever.owner, calibration=retriever.calibration)
    kb = KnowledgeBase.over(catalogue, lean)
    question = "tach thua can giay to gi"
    query = lean.dense_query(question)
    vector = retriever.embedder.embed_queries([query])[0]
    assert kb.accept_query_vector(handover.pack(fresh.signature, query, vector, kb._handover_key()), question)
    kb.search(question)
    assert fresh._model is None  # the action server's search ran without loading the encoder


def test_a_first_handed_vector_opens_the_index_not_the_model(retriever, built_index, catalogue, base_model_dir,
                                                            tmp_path):
    from core.settings import Settings
    from knowledge_base.retrieval.dense import Embedder

    settings = Settings.of(index_dir=built_index[0], embedding_model=str(base_model_dir),
                           scope_fields=["Đất đai"], scope_levels=["province", "commune"])
    question = "tach thua can giay to gi"
    query = retriever.dense_query(question)
    vector = retriever.embedder.embed_queries([query])[0]
    signature = Embedder.configured(settings).signature
    assert not KnowledgeBase(settings).accept_query_vector(None, question)
    cold = KnowledgeBase(settings)  # the action server before its first search
    key = cold._handover_key()  # the key of the secret the two servers share
    assert cold.accept_query_vector(handover.pack(signature, query, vector, key), question)
    assert cold.rebuilt_because is None and [h.code for h in cold.search(question).hits]
    assert cold.embedder._model is None  # its first search did not load the encoder either
    broken = KnowledgeBase(settings.replaced(index_dir=tmp_path / "none", catalogue_dir=tmp_path / "none"))
    assert not broken.accept_query_vector(handover.pack(signature, query, vector, key), question)  # no raise
    assert any("CatalogueError" in why for why in broken._mismatches)  # passed up because it cannot open
