"""The custom NLU components alone: the sentence featurizer and the linear intent classifier."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.sparse import csr_matrix


@pytest.fixture()
def storage(tmp_path):
    """A model storage and an execution context, as Rasa's graph gives them."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    return LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), node_name="node")


def test_featurizer_takes_its_model_and_threads_from_the_environment(monkeypatch, storage):
    # The server's serving threads (MOTCUA_TORCH_THREADS from `motcua run`) and an operator's
    # base model must reach the featurizer, not the settings' built-in defaults.
    from components.sentence_featurizer import SentenceEmbeddingFeaturizer
    from core.settings import reset_settings

    monkeypatch.setenv("MOTCUA_TORCH_THREADS", "1")
    monkeypatch.setenv("MOTCUA_EMBEDDING_BASE_MODEL", "/srv/models/e5-other")
    reset_settings()
    try:
        model_storage, context = storage
        featurizer = SentenceEmbeddingFeaturizer.create(SentenceEmbeddingFeaturizer.get_default_config(),
                                                        model_storage, None, context)
        assert featurizer.embedder.threads == 1 and featurizer.embedder.model_name == "/srv/models/e5-other"
    finally:
        monkeypatch.undo()
        reset_settings()


def message(text, intent=None):
    from rasa.shared.nlu.training_data.message import Message

    return Message(data={"text": text, **({"intent": intent} if intent else {})})


def test_featurizer_embeds_as_the_search_does_hands_the_vector_over_and_checks_its_model(storage, base_model_dir,
                                                                                      monkeypatch):
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from components.sentence_featurizer import EmbeddingModelMismatch, SentenceEmbeddingFeaturizer
    from core.settings import get_settings, reset_settings
    from knowledge_base.catalogue import Catalogue
    from knowledge_base.retrieval import handover
    from knowledge_base.retrieval.hybrid import HybridRetriever

    model_storage, context = storage
    # the default (the base model) while the search has another model: nothing to hand over
    other = SentenceEmbeddingFeaturizer.create(SentenceEmbeddingFeaturizer.get_default_config(), model_storage,
                                               Resource("other"), context)
    assert other.embedder.model_name == get_settings().knowledge.embedding_base_model and not other.hands_over
    # the search's own model (here the base model serves as the search's, as in the tests' servers)
    monkeypatch.setenv("MOTCUA_EMBEDDING_MODEL", str(base_model_dir))
    reset_settings()
    monkeypatch.setattr("core.settings._cached", None)
    config = {**SentenceEmbeddingFeaturizer.get_default_config(), "model": "search"}
    resource = Resource("sentence")
    trainer = SentenceEmbeddingFeaturizer.create(config, model_storage, resource, context)
    examples = [message("hồ sơ của tôi tới đâu rồi", "check"), message("ho so toi o dau", "check")]
    trainer.process_training_data(TrainingData(examples))
    trainer.train(TrainingData(examples))
    assert all(m.get(handover.KEY) is None for m in examples)  # training examples hand nothing over

    featurizer = SentenceEmbeddingFeaturizer.load(config, model_storage, resource, context)
    accented, plain, other, empty = (message(t) for t in ("hồ sơ của tôi tới đâu rồi", "ho so cua toi toi dau roi",
                                                          "lệ phí cấp sổ đỏ bao nhiêu", ""))
    featurizer.process([accented, plain, other, empty])
    vec = {m.get("text"): m.get_dense_features("text")[1].features[0] for m in (accented, plain, other)}
    assert all(v.shape == (384,) for v in vec.values())
    assert empty.get_dense_features("text") == (None, None) and empty.get(handover.KEY) is None
    # the unaccented twin is read as the accented phrase (the restorer knows everyday chat turns too)
    assert vec["hồ sơ của tôi tới đâu rồi"] @ vec["ho so cua toi toi dau roi"] > 0.99
    assert vec["hồ sơ của tôi tới đâu rồi"] @ vec["lệ phí cấp sổ đỏ bao nhiêu"] < 0.95
    # each message's vector goes with its parse result, for the text exactly as the search prepares it
    knowledge = get_settings().knowledge
    search = HybridRetriever(Catalogue.load(knowledge.catalogue_dir).in_scope(knowledge.scope_fields,
                                                                              knowledge.scope_levels), None)
    for m in (accented, plain, other):
        assert handover.KEY in m.as_dict(only_output_properties=True)
        text, vector = handover.unpack(m.get(handover.KEY), featurizer.embedder.signature, 384,
                                       featurizer.handover_key)
        assert text == search.dense_query(m.get("text")) and np.allclose(vector, vec[m.get("text")])

    # a model other than the one trained with: a clear error at load, not wrong vectors
    with model_storage.write_to(resource) as folder:
        stored = json.loads((folder / "sentence_featurizer.json").read_text(encoding="utf-8"))
        stored["fingerprint"] = [-x for x in stored["fingerprint"]]
        (folder / "sentence_featurizer.json").write_text(json.dumps(stored), encoding="utf-8")
    with pytest.raises(EmbeddingModelMismatch, match="make train"):
        SentenceEmbeddingFeaturizer.load(config, model_storage, resource, context)



def test_featurizer_on_a_lower_layer_hands_over_the_output_of_the_same_pass(storage, base_model_dir, monkeypatch):
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from components.sentence_featurizer import SentenceEmbeddingFeaturizer
    from core.settings import reset_settings
    from knowledge_base.retrieval import handover

    for bad in (0, -1, "6", True, 2.5):
        with pytest.raises(ValueError, match="layer"):
            SentenceEmbeddingFeaturizer.validate_config({"layer": bad})
    monkeypatch.setenv("MOTCUA_EMBEDDING_MODEL", str(base_model_dir))
    reset_settings()
    monkeypatch.setattr("core.settings._cached", None)
    model_storage, context = storage
    config = {**SentenceEmbeddingFeaturizer.get_default_config(), "model": "search", "layer": 6}
    SentenceEmbeddingFeaturizer.validate_config(config)
    resource = Resource("layered")
    trainer = SentenceEmbeddingFeaturizer.create(config, model_storage, resource, context)
    examples = [message("lệ phí cấp sổ đỏ bao nhiêu", "ask_fee")]
    trainer.process_training_data(TrainingData(examples))
    trainer.train(TrainingData(examples))
    featurizer = SentenceEmbeddingFeaturizer.load(config, model_storage, resource, context)
    before = featurizer.embedder.encoded
    asked = message("tach thua dat can giay to gi")
    featurizer.process([asked])
    assert featurizer.embedder.encoded == before + 1  # one pass gives both vectors
    feature = asked.get_dense_features("text")[1].features[0]
    text, vector = handover.unpack(asked.get(handover.KEY), featurizer.embedder.signature, 384,
                                   featurizer.handover_key)
    lower = featurizer.embedder.embed_queries_with_layer([text], 6)
    assert np.allclose(feature, lower[1][0], atol=1e-5) and np.allclose(vector, lower[0][0], atol=1e-5)
    assert feature @ vector < 0.99  # the classifier's features are the lower layer's, the search gets the output


def featurized(text, intent, sparse, dense):
    """A message with given sentence features (what the featurizers would have added)."""
    from rasa.shared.nlu.training_data.features import Features

    m = message(text, intent)
    m.add_features(Features(csr_matrix(np.array([sparse], dtype=float)), "sentence", "text", "cv"))
    m.add_features(Features(np.array([dense], dtype=np.float32), "sentence", "text", "emb"))
    return m


TRAIN = [("a1", "fees", [2, 0, 0], [1, 0]), ("a2", "fees", [1, 1, 0], [1, 0]),
         ("b1", "time", [0, 0, 2], [0, 1]), ("b2", "time", [0, 1, 1], [0, 1])]


def test_linear_classifier_trains_stores_plain_arrays_and_blends_an_earlier_ranking(storage):
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from components.linear_intent_classifier import FILE, LinearIntentClassifier

    model_storage, context = storage
    resource = Resource("linear")
    config = {"diet_weight": 0.5}
    trainer = LinearIntentClassifier.create(config, model_storage, resource, context)
    trainer.train(TrainingData([featurized(*row) for row in TRAIN]))
    with model_storage.read_from(resource) as folder:
        assert np.load(folder / FILE, allow_pickle=False)["classes"].tolist() == ["fees", "time"]

    clf = LinearIntentClassifier.load(config, model_storage, resource, context)
    fees, time_, blended = (featurized("x", None, [3, 0, 0], [1, 0]), featurized("y", None, [0, 0, 3], [0, 1]),
                            featurized("z", None, [3, 0, 0], [1, 0]))
    clf.process([fees, time_])
    assert fees.get("intent")["name"] == "fees" and time_.get("intent")["name"] == "time"
    assert sum(r["confidence"] for r in fees.get("intent_ranking")) == pytest.approx(1.0)

    alone = fees.get("intent")["confidence"]
    blended.set("intent_ranking", [{"name": "time", "confidence": 1.0}])  # DIET's ranking, say
    clf.process([blended])
    by_name = {r["name"]: r["confidence"] for r in blended.get("intent_ranking")}
    assert by_name["fees"] == pytest.approx(0.5 * alone)
    assert by_name["time"] == pytest.approx(0.5 * (1 - alone) + 0.5)


def test_linear_classifier_with_one_intent_stays_untrained_and_leaves_messages_alone(storage):
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from components.linear_intent_classifier import LinearIntentClassifier

    model_storage, context = storage
    resource = Resource("linear")
    LinearIntentClassifier.create({}, model_storage, resource, context).train(
        TrainingData([featurized(*row) for row in TRAIN[:2]]))
    clf = LinearIntentClassifier.load({}, model_storage, resource, context)
    m = featurized("x", None, [1, 0, 0], [1, 0])
    clf.process([m])
    assert m.get("intent") is None


def test_linear_classifier_reads_a_message_without_features_as_nothing_known(storage):
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from components.linear_intent_classifier import LinearIntentClassifier

    model_storage, context = storage
    resource = Resource("linear")
    LinearIntentClassifier.create({}, model_storage, resource, context).train(
        TrainingData([featurized(*row) for row in TRAIN]))
    bare = message("")
    LinearIntentClassifier.load({}, model_storage, resource, context).process([bare])
    assert bare.get("intent")["name"] in ("fees", "time")


def test_training_cache_keys_change_with_the_tables_catalogue_and_model_the_components_read(monkeypatch, tmp_path):
    """Rasa reuses a cached classifier when a component's key is unchanged: editing synonyms.yml, the
    catalogue or the embedding model must change the key, or `make train` would ship stale features."""
    import components.vietnamese_tokenizer as tokenizer_module
    from components.sentence_featurizer import SentenceEmbeddingFeaturizer
    from components.vietnamese_tokenizer import VietnameseTokenizer
    from core.settings import Settings

    table = tmp_path / "tables" / "synonyms.yml"
    table.parent.mkdir()
    table.write_text("sổ đỏ: giấy chứng nhận\n", encoding="utf-8")
    monkeypatch.setattr(tokenizer_module, "TOKEN_SOURCES", [table.parent])
    before = VietnameseTokenizer.fingerprint_addon({})
    assert VietnameseTokenizer.fingerprint_addon({}) == before  # stable while nothing changes
    table.write_text("sổ đỏ: giấy chứng nhận\nsổ hồng: giấy chứng nhận\n", encoding="utf-8")
    assert VietnameseTokenizer.fingerprint_addon({}) != before

    catalogue, model = tmp_path / "catalogue", tmp_path / "model"
    catalogue.mkdir(), model.mkdir()
    (catalogue / "1.000001.yml").write_text("code: 1.000001\n", encoding="utf-8")
    (model / "model.safetensors").write_bytes(b"weights")
    monkeypatch.setattr("core.settings.get_settings",
                        lambda: Settings.of(catalogue_dir=catalogue, embedding_base_model=str(model)))
    keys = [SentenceEmbeddingFeaturizer.fingerprint_addon({})]
    (catalogue / "1.000001.yml").write_text("code: 1.000001\nname: mới\n", encoding="utf-8")
    keys.append(SentenceEmbeddingFeaturizer.fingerprint_addon({}))
    (model / "model.safetensors").write_bytes(b"other weights")
    keys.append(SentenceEmbeddingFeaturizer.fingerprint_addon({}))
    keys.append(SentenceEmbeddingFeaturizer.fingerprint_addon({"restore_diacritics": False}))
    assert len(set(keys)) == 4


def test_the_small_talk_gate_classes_sure_small_talk_from_n_grams_and_marks_it_for_the_rest(storage):
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from components.linear_intent_classifier import LinearIntentClassifier, skipped
    from components.small_talk_gate import SmallTalkGate

    model_storage, context = storage
    rows = [("chao", "greet", [3, 0, 0], [1, 0]), ("chao ban", "greet", [2, 0, 0], [1, 0]),
            ("le phi", "fees", [0, 3, 0], [0, 1]), ("phi bao nhieu", "fees", [0, 2, 0], [0, 1]),
            ("bao lau", "time", [0, 0, 3], [0, 1]), ("mat bao lau", "time", [0, 0, 2], [0, 1])]
    config = {"intents": ["greet"], "sure_at": 0.6}
    SmallTalkGate.create(config, model_storage, Resource("gate"), context).train(
        TrainingData([featurized(*row) for row in rows]))
    gate = SmallTalkGate.load(config, model_storage, Resource("gate"), context)
    assert not bool(gate.model["dense"])  # trained on the n-grams alone, even where embeddings exist
    LinearIntentClassifier.create({}, model_storage, Resource("full"), context).train(
        TrainingData([featurized(*row) for row in rows]))
    full = LinearIntentClassifier.load({}, model_storage, Resource("full"), context)

    hello, fee, unsure = message("chao"), message("le phi"), message("chao le phi")
    for m, sparse in ((hello, [3, 0, 0]), (fee, [0, 3, 0]), (unsure, [1, 1, 0])):
        from rasa.shared.nlu.training_data.features import Features

        m.add_features(Features(csr_matrix(np.array([sparse], dtype=float)), "sentence", "text", "cv"))
    gate.process([hello, fee, unsure])
    assert skipped(hello) and hello.get("intent")["name"] == "greet"
    assert hello.get("intent")["confidence"] >= 0.6
    # a question, or small talk it is not sure of, goes on untouched: no intent, no mark
    assert not skipped(fee) and fee.get("intent") is None
    assert not skipped(unsure) and unsure.get("intent") is None

    gated = hello.get("intent_ranking")
    assert gated[0]["name"] == "greet" and sum(r["confidence"] for r in gated) == pytest.approx(1.0)
    full.process([hello, fee])  # the full classifier keeps the gate's ranking as it was and classes the rest
    assert hello.get("intent_ranking") == gated and hello.get("intent") == gated[0]
    assert fee.get("intent")["name"] == "fees"


@pytest.mark.parametrize("text, row, gated", [
    # fairly sure, and nothing but a greeting and a place: no encoder
    ("chào ad, mình ở xã Đông Hải", [0.7, 0.2, 0.1], True),
    ("cam on ban nhe", [0.6, 0.3, 0.1], True),
    # a digit is an answer's whole content ("dạ 2": the second choice; "vâng 0361": a code's end)
    ("dạ 2", [0.7, 0.2, 0.1], False),
    ("vâng 0361", [0.7, 0.2, 0.1], False),
    # words beyond pleasantries, too little probability, or a near tie the fallback would call ambiguous
    ("chào ad, làm sổ đỏ ở đâu", [0.7, 0.2, 0.1], False),
    ("chào ad", [0.5, 0.3, 0.2], False),
    ("chào ad", [0.58, 0.42, 0.0], True),
    ("chào ad", [0.56, 0.5, 0.0], False),
])
def test_the_gate_takes_fairly_sure_small_talk_only_when_nothing_else_is_said(text, row, gated):
    from components.small_talk_gate import SmallTalkGate

    gate = SmallTalkGate(SmallTalkGate.get_default_config(), None, None)
    assert gate._only_pleasantries(text, np.asarray(row), 0) is gated


def test_the_featurizer_does_not_encode_what_the_gate_classed(storage, monkeypatch):
    from components.linear_intent_classifier import SKIP
    from components.sentence_featurizer import SentenceEmbeddingFeaturizer

    encoded = []
    featurizer = SentenceEmbeddingFeaturizer.__new__(SentenceEmbeddingFeaturizer)
    monkeypatch.setattr(featurizer, "_featurize", lambda messages, hand_over: encoded.extend(messages), raising=False)
    hello, question = message("chào ad"), message("làm sổ đỏ mất bao lâu")
    hello.set(SKIP, True)
    assert featurizer.process([hello, question]) == [hello, question]
    assert encoded == [question]


def test_the_classifier_scores_a_message_from_its_own_columns_as_the_design_matrix_does(storage):
    """The per-message scoring (no sparse matrices built) gives the probabilities of the tf-idf design matrix over
    Rasa's own combination of the features: several sparse featurizers side by side, a repeated column, a dense
    vector, and a message with no n-gram at all; the row read once is read again when the features change."""
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.features import Features
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from scipy.sparse import coo_matrix, hstack

    from components.linear_intent_classifier import LinearIntentClassifier, softmax, sparse_row, tfidf_rows

    def two_featurizers(text, intent, words, chars, dense):
        m = message(text, intent)
        m.add_features(Features(csr_matrix(np.array([words], dtype=float)), "sentence", "text", "cv"))
        m.add_features(Features(csr_matrix(np.array([[1.0] * len(words)]) * 0.5), "sequence", "text", "cv"))
        m.add_features(Features(csr_matrix(np.array([chars], dtype=float)), "sentence", "text", "char"))
        m.add_features(Features(np.array([dense], dtype=np.float32), "sentence", "text", "emb"))
        return m

    model_storage, context = storage
    rows = [("a", "fees", [2, 0, 0], [1, 0], [1, 0]), ("b", "fees", [1, 1, 0], [0, 1], [0.8, 0.1]),
            ("c", "time", [0, 0, 2], [0, 3], [0, 1]), ("d", "time", [0, 1, 1], [1, 1], [0.2, 0.9]),
            ("e", "where", [1, 0, 1], [2, 0], [0.5, 0.5])]
    LinearIntentClassifier.create({"dense_weight": 1.5}, model_storage, Resource("cols"), context).train(
        TrainingData([two_featurizers(*row) for row in rows]))
    clf = LinearIntentClassifier.load({"dense_weight": 1.5}, model_storage, Resource("cols"), context)

    repeated = message("f")  # a column given twice (coordinates, as a featurizer may): the two counts add up
    repeated.add_features(Features(coo_matrix(([1.0, 2.0], ([0, 0], [1, 1])), shape=(1, 3)), "sentence", "text",
                                   "cv"))
    repeated.add_features(Features(csr_matrix(np.array([[0.0, 4.0]])), "sentence", "text", "char"))
    queries = [two_featurizers("x", None, [3, 0, 1], [0, 2], [0.3, 0.7]),
               two_featurizers("y", None, [0, 0, 0], [0, 0], [0.9, 0.1]), repeated, message("")]
    def design(m, idf, dense_weight=None):  # over Rasa's own combination of the features, as one matrix
        combined = m.get_sparse_features("text")[1]
        sparse = csr_matrix(combined.features) if combined is not None else csr_matrix((1, idf.shape[0]))
        if sparse.shape[1] != idf.shape[0]:
            sparse = csr_matrix((1, idf.shape[0]))
        if dense_weight is None:
            return tfidf_rows(sparse, idf)
        dense = m.get_dense_features("text")[1]
        dense = dense.features if dense is not None else np.zeros((1, 2), np.float32)
        return hstack([tfidf_rows(sparse, idf), csr_matrix(dense * dense_weight)]).tocsr()

    fast = clf.probabilities(queries)
    for got, m in zip(fast, queries):
        expected = softmax(np.asarray(design(m, clf.model["idf"], 1.5) @ clf.model["coef"].T
                                      + clf.model["intercept"]))[0]
        assert got == pytest.approx(expected, abs=1e-12)
    assert sparse_row(repeated).toarray().tolist() == [[0.0, 3.0, 0.0, 0.0, 4.0]]

    from components.small_talk_gate import SmallTalkGate  # the n-grams alone, the dense vector left out

    SmallTalkGate.create({}, model_storage, Resource("gate"), context).train(
        TrainingData([two_featurizers(*row) for row in rows]))
    gate = SmallTalkGate.load({}, model_storage, Resource("gate"), context)
    for got, m in zip(gate.probabilities(queries[:2]), queries[:2]):
        expected = softmax(np.asarray(design(m, gate.model["idf"]) @ gate.model["coef"].T
                                      + gate.model["intercept"]))[0]
        assert got == pytest.approx(expected, abs=1e-12)

    first = sparse_row(queries[0])
    assert sparse_row(queries[0]) is first  # read once
    queries[0].add_features(Features(csr_matrix(np.array([[1.0]])), "sentence", "text", "regex"))
    assert sparse_row(queries[0]).shape == (1, 6)  # read again with the new featurizer's column


@pytest.mark.parametrize("classes", [2, 4])
def test_the_softmax_fit_reaches_scikit_learns_default_model_with_the_dense_block_kept_dense(classes):
    """Cross-entropy plus the squared weights over C (intercepts free), minimised as scikit-learn's lbfgs does:
    the model scikit-learn's default fits (what the classifier used before), within the tolerance, on n-gram columns
    beside a dense block and on the n-grams alone; with two classes, scikit-learn's one binary row is matched by
    two softmax rows."""
    from scipy.sparse import hstack
    from scipy.sparse import random as sparse_random
    from sklearn.linear_model import LogisticRegression

    from components.linear_intent_classifier import softmax
    from components.softmax_fit import fit_softmax

    rng = np.random.default_rng(5)
    n = 300
    labels = rng.integers(0, classes, n)
    counts = sparse_random(n, 60, density=0.08, random_state=3, format="csr")
    counts = csr_matrix(counts + csr_matrix((np.ones(n), (np.arange(n), labels * 7)), shape=(n, 60)))  # telling
    dense = rng.normal(size=(n, 5)) + labels[:, None] * 0.3
    names = np.asarray(["intent_" + "abcd"[i] for i in labels])
    for design, block in ((hstack([counts, csr_matrix(dense)]).tocsr(), dense), (counts, None)):
        coef, intercept, found = fit_softmax(counts, block, names, C=3.0, max_iter=2000, tol=1e-8)
        reference = LogisticRegression(C=3.0, max_iter=2000, tol=1e-8).fit(design, names)
        assert found.tolist() == reference.classes_.tolist()
        ours = softmax(np.asarray(design @ coef.T) + intercept)
        theirs = reference.predict_proba(design)
        assert ours == pytest.approx(theirs, abs=1e-4)
        assert coef.shape == (classes, design.shape[1])
        assert ours.argmax(axis=1).tolist() == theirs.argmax(axis=1).tolist()
    with pytest.raises(ValueError):
        fit_softmax(counts, None, ["one"] * n, C=3.0, max_iter=10)


def test_a_two_intent_model_fitted_by_scikit_learn_scores_its_one_row_as_the_second_class(storage):
    """Models of two intents fitted before 8/12/2026 hold scikit-learn's one binary row: its score is the second
    class's against zero for the first."""
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.features import Features

    from components.linear_intent_classifier import LinearIntentClassifier

    model_storage, context = storage
    model = {"idf": np.ones(2), "coef": np.array([[3.0, -1.0]]), "intercept": np.array([0.5]),
             "classes": np.array(["affirm", "deny"]), "dense": np.asarray(False)}
    clf = LinearIntentClassifier({}, model_storage, Resource("binary"), model)
    m = message("có")
    m.add_features(Features(csr_matrix(np.array([[1.0, 0.0]])), "sentence", "text", "cv"))
    second = 1.0 / (1.0 + np.exp(-(3.0 + 0.5)))  # the one n-gram's tf-idf is 1 after normalising
    assert clf.probabilities([m])[0] == pytest.approx([1.0 - second, second], abs=1e-12)
