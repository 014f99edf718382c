"""Retrieval smoke tests: lexical alone, hybrid over a built index, stale-index detection."""
import json

import numpy as np
import pytest

from knowledge_base.retrieval.hybrid import NEAREST, HybridRetriever
from knowledge_base.retrieval.lexical import LexicalIndex, query_tokens, strip_phrases, terms
from knowledge_base.retrieval.store import expected_manifest, open_or_build, scope_of, stale_reason
from knowledge_base.text import TextNormalizer


def test_terms_are_syllables_and_pairs_not_crossing_separators():
    assert terms(["so", "do", "|", "gcn"]) == ["so", "do", "gcn", "so_do"]


def test_aspect_phrases_are_removed_from_queries():
    toks = query_tokens(TextNormalizer.default(), "tach so do can giay to gi")
    assert "giay" not in toks and "tach" in toks
    assert strip_phrases(["bao", "lau", "x"], [("bao", "lau")]) == ["x"]


def test_bm25_prefers_the_document_with_the_rare_pair():
    index = LexicalIndex([["cap", "lai", "giay", "chung", "nhan"], ["cap", "doi", "giay", "chung", "nhan"]])
    scores = index.scores(["cap", "lai"])
    assert scores[0] > scores[1] > 0
    assert not index.scores(["pho", "bo"]).any()


@pytest.mark.parametrize("question, code", [
    ("lam lai so do bi mat", "1.012786"),
    ("Làm lại sổ đỏ bị mất", "1.012786"),
    ("tach thua dat", "1.012784"),
    ("sang ten so do", "1.013831"),
    ("hoa giai tranh chap dat dai", "1.012812"),
])
def test_lexical_only_finds_common_land_procedures(land_scope, question, code):
    retriever = HybridRetriever(land_scope, embedder=None)
    result = retriever.search(question, mode="lexical")
    assert result.best.code == code


@pytest.mark.parametrize("question, code", [
    ("Làm lại sổ đỏ bị mất cần giấy tờ gì", "1.012786"),
    ("lam lai so do bi mat can giay to gi", "1.012786"),
    ("đổi sổ đỏ cũ bị rách", "1.012783"),
    ("tach so do cho con", "1.012784"),
])
def test_hybrid_finds_the_procedure_with_and_without_diacritics(retriever, question, code):
    result = retriever.search(question, top_k=3)
    assert result.best.code == code
    assert 0 <= result.best.confidence <= 1
    assert result.hits[0].score >= result.hits[1].score


def test_dense_only_mode_uses_the_faiss_index(retriever):
    scores = retriever.dense_scores("cấp lại giấy chứng nhận bị mất")
    assert scores.max() > 0.7
    assert retriever.search("cấp lại giấy chứng nhận bị mất", mode="dense").best.code == "1.012786"


def test_nonsense_is_not_answered(retriever):
    assert retriever.search("cách nấu phở bò ngon").decision in ("unknown", "choose")
    assert retriever.search("   ").decision == "unknown"
    assert retriever.search("").hits == []


def test_manifest_records_model_catalogue_and_scope(built_index, land_scope, embedder):
    index_dir, manifest = built_index
    assert manifest["procedures"] == len(land_scope) and manifest["passages"] >= 2 * len(land_scope)
    assert stale_reason(index_dir, expected_manifest(land_scope, embedder.identity,
                                                     scope_of(["Đất đai"], ["province", "commune"]))) is None
    assert json.loads((index_dir / "manifest.json").read_text())["calibration"]["weights"]


def test_stale_index_is_detected_and_rebuilt(tmp_path, catalogue, land_scope, embedder, built_index):
    index_dir, _ = built_index
    changed = [p.copy(update={"name": p.name + " (sửa)"}) if i == 0 else p for i, p in enumerate(land_scope)]
    assert (
        stale_reason(
            index_dir, expected_manifest(changed, embedder.identity, scope_of(["Đất đai"], ["province", "commune"]))
        )
        == "catalogue_hash changed"
    )
    assert stale_reason(index_dir, expected_manifest(land_scope, "another-model",
                                                     scope_of(["Đất đai"], ["province", "commune"]))) == "model changed"
    assert stale_reason(tmp_path, {}) == "no index built yet"
    # open_or_build on an empty folder builds, then reuses
    scope = (["Biển và hải đảo"], ["commune"])
    retriever, reason = open_or_build(catalogue, embedder, tmp_path / "idx", *scope)
    assert reason == "no index built yet" and len(retriever.procedures) == len(catalogue.in_scope(*scope))
    _, reason = open_or_build(catalogue, embedder, tmp_path / "idx", *scope)
    assert reason is None


def test_query_embeddings_are_cached(embedder):
    first = embedder.embed_queries(["sổ đỏ"])
    assert "sổ đỏ" in embedder._cache
    np.testing.assert_allclose(first, embedder.embed_queries(["sổ đỏ"]))


def test_a_knowledge_base_over_a_given_retriever_never_swaps_it_for_the_index_folder(tmp_path, catalogue, retriever):
    from core.settings import Settings
    from knowledge_base.service import KnowledgeBase

    (tmp_path / "manifest.json").write_text("{}")  # e.g. the index a `make run` built
    kb = KnowledgeBase.over(catalogue, retriever, Settings.of(index_dir=tmp_path))
    kb.search("tach thua")
    assert kb.retriever is retriever and not kb.reload_if_rebuilt()


def test_a_serving_knowledge_base_drops_its_index_when_another_process_rebuilds_it(tmp_path, catalogue, retriever):
    from core.settings import Settings
    from knowledge_base.service import KnowledgeBase

    kb = KnowledgeBase(Settings.of(index_dir=tmp_path))
    kb._catalogue, kb._retriever = catalogue, retriever  # as if loaded before any manifest existed
    assert not kb.reload_if_rebuilt()
    (tmp_path / "manifest.json").write_text("{}")
    assert kb.reload_if_rebuilt() and kb._retriever is None


FOLLOW_UPS = ["mất bao nhiêu tiền", "mat bao nhieu tien", "hết mấy ngày", "mat may ngay", "tốn bao nhiêu",
              "phải mất bao lâu mới xong", "mất bao nhiêu thời gian", "tổng cộng hết bao nhiêu",
              "chi phí khoảng bao nhiêu", "mang theo những gì", "có cần công chứng không",
              "cần bản sao hay bản chính", "nhờ người khác nộp được không", "uy quyen cho nguoi khac nop dc ko",
              "nộp ở xã hay ở tỉnh", "cấp tỉnh hay cấp xã giải quyết", "phải đi lại mấy lần",
              "còn lệ phí thì sao?", "nop online dc ko", "phí thẩm định hết bao nhiêu",
              # where the citizen is and a parcel's number name no procedure either
              "có mất phí không, mình ở xã Bình Minh", "co mat phi khong thua so 1970", "nộp ở đâu ạ, thửa số 12 tờ 3"]
NAMES = ["mất sổ đỏ thì làm sao", "mat so thi lam the nao", "lam lai so do bi mat", "tach thua mat bao lau",
         "tách thửa ở xã Bình Minh mất bao lâu", "mình ở xã Yên Hòa muốn làm sổ đỏ",
         "giấy phép môi trường hết bao nhiêu tiền", "đổi sổ mất bao lâu", "xin giấy phép xả thải",
         "tặng cho đất cho con", "gcn qsdd", "phí thẩm định báo cáo ĐTM"]


@pytest.mark.parametrize("question", FOLLOW_UPS)
def test_a_follow_up_on_cost_time_or_papers_names_no_procedure(catalogue, retriever, question):
    """'mất bao nhiêu tiền' asks the cost of the procedure under discussion; 'mất' is not 'mất sổ'."""
    from knowledge_base.service import KnowledgeBase

    kb = KnowledgeBase.over(catalogue, retriever)
    assert not kb.mentions_procedure(question) and kb.names_nothing(question)


@pytest.mark.parametrize("question", NAMES)
def test_a_question_that_names_a_procedure_is_not_a_follow_up(catalogue, retriever, question):
    from knowledge_base.service import KnowledgeBase

    assert KnowledgeBase.over(catalogue, retriever).mentions_procedure(question)


@pytest.mark.parametrize("code, aspect, question, follows", [
    # its fee is the "Phí thẩm định đối với cơ sở an toàn dịch bệnh": "phí thẩm định" alone is a follow-up phrase
    ("1.011475", "fees", "phí thẩm định an toàn dịch bệnh bao nhiêu", True),
    ("1.011475", "fees", "phi tham dinh an toan dich benh", True),
    ("1.011475", "where", "phí thẩm định an toàn dịch bệnh bao nhiêu", False),  # only the aspect's own part counts
    ("1.013831", "fees", "lệ phí tách thửa", False),  # names another procedure
    ("1.013831", "where", "nộp ở văn phòng đăng ký đất đai được không", True),  # one of its filing places
    ("1.013831", "where", "cấp đổi sổ đỏ nộp ở đâu", False),  # its steps say "chuyển đổi", "sở hữu": not pairs
    ("1.013831", "documents", "tách thửa cần gì", False),  # documents are the whole subject: never a follow-up
    # the steps' prose is not what the record says about time: it names other procedures ("tranh chấp đất đai")
    ("1.013978", "time", "tranh chấp đất đai mất bao lâu", False),
    # a step that says how long it takes is: "… thanh toán … trong thời gian 07 ngày làm việc"
    ("2.001621", "time", "bao lâu được thanh toán", True),
    ("2.001621", "time", "bao lâu được cấp sổ đỏ", False),
    ("2.001621", "time", "bao lâu được giải ngân", False),  # a step's words with no time in that step
])
def test_a_question_whose_words_are_the_current_procedures_own_on_that_aspect_follows_it_up(
        catalogue, retriever, code, aspect, question, follows):
    from knowledge_base.service import KnowledgeBase

    assert KnowledgeBase.over(catalogue, retriever).asks_of(code, aspect, question) is follows


def test_the_confidence_is_fitted_on_citizen_wording_of_its_scope_and_outside_questions(retriever, monkeypatch):
    from knowledge_base.embedding import calibration

    pairs = calibration.training_pairs(retriever)
    in_scope = {p.code for p in retriever.procedures}
    labelled = [codes for _, codes in pairs if codes is not None]
    assert len(labelled) >= calibration.MIN_CITIZEN and all(codes & in_scope for codes in labelled)
    assert sum(codes is None for _, codes in pairs) == len(calibration.outside_questions())
    citizen = {q for q, _ in calibration.citizen_questions()}
    assert all(q in citizen for q, codes in pairs if codes is not None)  # enough of them: nothing generated
    monkeypatch.setattr(calibration, "citizen_questions", lambda: [])  # a scope without any: generated ones fill in
    generated = [codes for _, codes in calibration.training_pairs(retriever) if codes is not None]
    assert len(generated) == 3 * len(retriever.procedures)


def test_the_fitted_confidence_answers_citizen_wording_and_not_outside_questions(retriever):
    """The index's fit (built by the fixture) on two questions it was not fitted on."""
    sure = retriever.search("mình làm mất sổ hồng rồi, xin lại cái khác ở đâu", top_k=3)
    assert sure.best.code == "1.012786" and sure.decision in ("answer", "choose")
    assert retriever.search("bao giờ thì có lịch thi bằng lái xe máy", top_k=3).decision != "answer"


def test_an_everyday_word_is_not_restored_into_a_procedure_word():
    """"nuoi chim yen" is bird's-nest farming: restored as "chìm" it read as the sea-dumping permit ("nhận chìm")."""
    from knowledge_base.diacritics import DiacriticRestorer, corpus_texts

    restored = DiacriticRestorer(corpus_texts([])).restore("nuoi chim yen co can xin giay phep khong")
    assert "chim yến" in restored and "chìm" not in restored


def test_mo_before_a_shop_is_opening_it_and_before_stone_a_mine():
    """"mo dai ly ban thuoc bao ve thuc vat" is opening a pesticide shop: restored as "mỏ" it read as a mine's."""
    from knowledge_base.diacritics import DiacriticRestorer, corpus_texts

    restorer = DiacriticRestorer(corpus_texts([]))
    assert restorer.restore("mo dai ly ban thuoc bao ve thuc vat").startswith("mở đại lý")
    assert "mở cửa hàng" in restorer.restore("toi muon mo cua hang ban phan bon")
    assert "mở spa" in restorer.restore("xin giay phep mo spa tham my")  # a beauty spot's licence, no mine's
    assert "mở phòng khám" in restorer.restore("mo phong kham thu y can dieu kien gi")
    assert "mỏ đá" in restorer.restore("xin giay phep khai thac mo da")


def test_citizen_worded_questions_are_embedded_as_examples_and_weigh_in_the_confidence(built_index, retriever):
    """training_questions.yml is embedded at build, saved beside the index and read back: a question worded as
    one of a procedure's known questions scores that procedure's example feature near 1, and the fit weighs it."""
    from knowledge_base.embedding.training_data import written_questions

    index_dir, manifest = built_index
    codes = {p.code for p in retriever.procedures}
    known = [(code, q) for code, qs in written_questions().items() if code in codes for q in qs]
    assert manifest["examples"] == len(known) > 0 and retriever.examples.shape == (len(known), 384)
    assert json.loads((index_dir / "examples.json").read_text())[0]["code"] in codes
    code, question = known[0]
    scores = retriever.scores(question)
    index = [p.code for p in retriever.procedures].index(code)
    assert scores.ex[index] > 0.99 and scores.ex.max() == scores.ex[index]
    result = retriever.rank(scores, 8)
    features = retriever.features(result.hits, 0, scores)
    assert len(features) == len(retriever.calibration.weights) == 11
    assert features[7] == pytest.approx(features[5] ** 2)
    assert any(w != 0 for w in retriever.calibration.weights[5:8])  # fitted, not the neutral default
    # the nearest known question is the question itself: it votes for its procedure, as do the others among the
    # nearest that are that procedure's, as much as the procedure's own words explain the question (the coverage)
    assert len(scores.nearest) == NEAREST and scores.nearest[0] == index
    own = retriever.features(result.hits, next(i for i, hit in enumerate(result.hits) if hit.code == code), scores)
    assert own[10] == pytest.approx(float(np.mean(scores.nearest == index)) * own[4]) and own[10] > 0
    cosines = retriever.examples @ retriever.query_vector(question)[0]  # the nearest, nearest first
    assert retriever.example_owner[np.argsort(-cosines)[:NEAREST]].tolist() == scores.nearest.tolist()


def test_an_index_without_its_examples_is_stale(tmp_path, built_index, land_scope, embedder):
    import shutil

    index_dir, _ = built_index
    copy = tmp_path / "idx"
    shutil.copytree(index_dir, copy)
    expected = expected_manifest(land_scope, embedder.identity, scope_of(["Đất đai"], ["province", "commune"]))
    assert stale_reason(copy, expected) is None
    (copy / "examples.npy").unlink()
    assert stale_reason(copy, expected) == "examples.npy missing"


def test_an_edit_of_the_tables_that_prepare_questions_makes_the_index_stale(tmp_path, monkeypatch, land_scope):
    """The confidence is fitted on questions prepared with the shorthand table and the diacritic restorer's phrases:
    an edit of either refits it."""
    import shutil

    from knowledge_base.retrieval import store
    from knowledge_base.text import DATA_DIR

    scope = scope_of(["Đất đai"], ["province", "commune"])
    before = expected_manifest(land_scope, "m", scope)
    for name in ("common_phrases.txt", "abbreviations.yml"):
        copy = tmp_path / name.split(".")[0]
        shutil.copytree(DATA_DIR, copy)
        (copy / name).write_text((copy / name).read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
        monkeypatch.setattr(store, "DATA_DIR", copy)
        assert expected_manifest(land_scope, "m", scope)["calibration_questions"] != before["calibration_questions"]
    monkeypatch.setattr(store, "DATA_DIR", DATA_DIR)
    assert expected_manifest(land_scope, "m", scope) == before


def test_a_phrasing_staff_mapped_to_a_procedure_is_answered_for_it(retriever, monkeypatch):
    """An alias (staff map review-queue phrasings to a procedure as aliases) is that procedure's, whatever the fit's
    threshold, when the search ranks it first; any other question still needs the threshold."""
    monkeypatch.setattr(retriever.calibration, "answer_at", 1.01)  # nothing is sure by the fit alone
    monkeypatch.setattr(retriever.calibration, "alone_at", 1.01)  # not even a lone candidate
    proc = next(p for p in retriever.procedures if p.aliases)
    alias = proc.aliases[0]
    result = retriever.search(alias.upper() + " ?")
    assert result.best.code == proc.code and result.decision == "answer"
    assert retriever.search("tách thửa đất nông nghiệp cần giấy tờ gì").decision != "answer"
