"""The administrative level a question names, and the twin at the other level it rules out."""
import pytest

from knowledge_base.retrieval.levels import LevelTable, ProcedureLevels, twin_key
from knowledge_base.text import TextNormalizer


@pytest.fixture(scope="module")
def named():
    table, normalizer = LevelTable.load(), TextNormalizer.default()
    return lambda question: table.named_in(normalizer.normalize(question))


@pytest.mark.parametrize("question, level", [
    ("phe duyet phuong an khai thac go thuoc tham quyen ubnd xa can ho so gi", "commune"),
    ("Chủ tịch UBND phường giải quyết tranh chấp đất thì nộp gì", "commune"),
    ("thu hồi khoáng sản cấp xã", "commune"),
    ("ub xa giai quyet dc ko", "commune"),
    ("nộp hồ sơ lên Sở Nông nghiệp và Môi trường", "province"),
    ("Sở NN&MT có nhận hồ sơ không", "province"),
    ("xin giay phep o ubnd tinh", "province"),
    ("Sở TN&MT có giải quyết không", "province"),
    ("ubnd thành phố cấp phép", "province"),
    ("hợp tác xã xin giấy phép ở ubnd tỉnh", "province"),  # a cooperative is no commune
    ("ubnd xã hỏi giấy tờ gì", "commune"),  # "hỏi" (asks) is no "hội"
    ("sở nông nghiệp hỏi gì", "province"),
])
def test_a_level_named_in_a_citizens_words_is_read(named, question, level):
    assert named(question) == level


@pytest.mark.parametrize("question", [
    "nhà tôi ở xa, nộp online được không",  # "xa" (far) is no commune
    "tách thửa đất cần giấy tờ gì",
    "sổ đỏ của tôi bị mất",  # "sổ" is no "Sở"
    "sổ tài nguyên",
    "ngộ độc cấp tính",  # accents typed are the phrase's own or none: "cấp tính" is no "cấp tỉnh"
    "xin cấp xả thải vào kênh",
    "cấp xã hội",  # society
    "ko phải ubnd xã",  # denied, next to it or a few words off
    "không thuộc thẩm quyền ubnd xã",
    "khong thuoc tham quyen ubnd xa",
    "ko phải do ubnd xã giải quyết",
    "ubnd xã không giải quyết thì lên đâu",
    "cơ sở nông nghiệp cần giấy phép gì",  # "cơ sở" is no Sở
    "ngộ độc cấp tính có sao kh\u1ed3\u0300ng",  # a stray mark no letter takes leaves the accents read
    "xin cấp xả thải \u1ea1\u0300",
    # both levels spoken of: the one that decides is not said
    "ubnd xã bảo tôi lên cấp tỉnh nộp",
    "ubnd xã đã xác nhận rồi, giờ lên tỉnh nộp",
    "ubnd xa da xac nhan roi, gio len tinh nop",
    "UBND xã có giải quyết không hay phải lên tỉnh",
    "nộp ở ubnd xã hay lên sở",
    "Muốn lên thổ cư ở xã hay ở Sở TN&MT?",
    "thủy lợi do ubnd tỉnh phân cấp cho xã",
    "nop ubnd xa hay tinh",
    "ubnd xã xác nhận rồi, giờ lên tỉnh nộp \u1ea1\u0300",
    "không phải ubnd xã mà là ubnd tỉnh",  # one denied, the other named: neither decides for sure
    "khong phai ubnd xa ma la ubnd tinh",
])
def test_no_level_a_denied_one_or_both_spoken_of_name_none(named, question):
    assert named(question) is None


@pytest.mark.parametrize("data", [
    {"named": {"district": ["cấp huyện"]}, "mentioned": {}},  # no longer a level
    {"named": {"commune": []}, "mentioned": {}},
    {"named": {"commune": "cấp xã"}, "mentioned": {}},
    {"named": {"province": ["cấp tỉnh", ""]}, "mentioned": {}},
    {"named": {"commune": ["cấp xã"]}},
    ["cấp xã"],
])
def test_a_malformed_table_is_refused(data):
    with pytest.raises(ValueError):
        LevelTable.of(data)


def test_twins_share_their_name_up_to_who_decides(catalogue):
    """One procedure at two levels has one key; procedures that only start alike do not."""
    key = {code: twin_key(catalogue.get(code).name) for code in (
        "1.014258", "1.014256", "1.011471", "1.011470", "1.001662", "2.002835", "1.000047")}
    assert key["1.014258"] == key["1.014256"] == ("xac", "nhan", "dang", "ky", "thu", "hoi", "khoang", "san")
    assert key["1.011471"] == key["1.011470"]  # "… thuộc thẩm quyền giải quyết của UBND cấp xã" / "… của Sở …"
    assert key["1.001662"] != key["2.002835"]  # groundwater at the commune, surface water at the province
    assert key["1.000047"] != key["1.011471"]  # forest animals, wood


def test_only_a_twin_at_another_level_is_ruled_out(catalogue):
    codes = ["1.014258", "1.014256", "2.002835", "1.001662", "1.011471"]
    procs = [catalogue.get(code) for code in codes]
    levels = ProcedureLevels.of([p.name for p in procs], [p.levels for p in procs])
    assert levels.ruled_out(range(5), "commune") == {1}  # 2.002835 is no twin of the commune's groundwater
    assert levels.ruled_out(range(5), "province") == {0}
    assert levels.ruled_out([1, 2, 3], "commune") == set()  # the twin at the level named is no candidate
    assert levels.ruled_out(range(5), None) == set()


@pytest.mark.parametrize("question, kept, dropped", [
    ("giải quyết tranh chấp đất đai thuộc thẩm quyền chủ tịch ubnd cấp xã", "1.013967", "1.012805"),
    ("giai quyet tranh chap dat dai thuoc tham quyen chu tich ubnd tinh", "1.012805", "1.013967"),
])
def test_the_search_drops_the_twin_at_the_level_not_named(retriever, question, kept, dropped):
    codes = [h.code for h in retriever.search(question).hits]
    assert codes[0] == kept and dropped not in codes
    # without the level, both are candidates
    both = [h.code for h in retriever.search("giải quyết tranh chấp đất đai thuộc thẩm quyền chủ tịch").hits]
    assert {kept, dropped} <= set(both)


def test_only_a_twin_not_for_the_citizen_is_ruled_out(catalogue):
    from knowledge_base.checklist import admitted

    codes = ["1.014258", "1.014256", "2.002835", "1.001662"]  # thu hồi khoáng sản at the commune and the province
    procs = [catalogue.get(code) for code in codes]
    levels = ProcedureLevels.of([p.name for p in procs], [p.levels for p in procs])
    admits = [admitted(p.applicants) for p in procs]
    assert "household" in admits[0] and "household" not in admits[1]  # the commune's names citizens, the province's not
    assert "organisation" in admits[0] and "organisation" in admits[1]
    assert levels.not_for(range(4), "household", admits) == {1}
    assert levels.not_for(range(4), "organisation", admits) == set()  # both are for organisations
    assert levels.not_for([1, 2, 3], "household", admits) == set()  # its twin for citizens is no candidate
    assert levels.not_for(range(4), None, admits) == set()
    assert levels.not_for(range(4), "household", None) == set()  # no applicants read: nothing ruled out
    assert admitted([]) == frozenset() and admitted(["Không quy định"]) == frozenset()


def test_the_knowledge_base_drops_the_twin_not_for_the_citizen(retriever, catalogue):
    import copy

    from knowledge_base.service import KnowledgeBase

    kb = KnowledgeBase.over(catalogue, copy.copy(retriever))  # its own: the session's retriever is left unruled
    # 1.013825 (province: organisations) and 1.013950 (commune: households and individuals) change how rent is paid
    question = "nhà tôi đang thuê đất trả tiền hằng năm, giờ muốn chuyển sang trả tiền một lần thì làm thế nào"
    codes = [h.code for h in kb.search(question).hits]
    assert "1.013950" in codes and "1.013825" not in codes
    both = [h.code for h in retriever.search(question).hits]  # the search alone does not know who asks
    assert {"1.013950", "1.013825"} <= set(both)
    # a kind of applicant named but not as the citizen's own rules nothing out
    named = [h.code for h in kb.search("tôi là cán bộ công ty, " + question).hits]
    assert {"1.013950", "1.013825"} <= set(named)
    # the level named rules out the commune's first: the province's stays, the two rules never drop both twins
    there = [h.code for h in kb.search(question + ", nộp ở ubnd tỉnh").hits]
    assert "1.013825" in there and "1.013950" not in there


@pytest.mark.parametrize("text, own", [
    ("nhà tôi đang thuê đất", "household"),  # family words alone
    ("công ty tôi đang thuê đất", "organisation"),
    ("cty e muốn thuê đất", "organisation"),
    ("tôi là cán bộ công ty, nhà tôi đang thuê đất", None),  # a company named, not as theirs
    ("bố tôi đi lao động ở nước ngoài, nhà tôi muốn giao rừng", None),
    ("công ty có khu đất thuê của nhà nước", None),
])
def test_the_applicant_a_citizen_calls_their_own(text, own):
    from knowledge_base.situation import SituationTable

    assert SituationTable.default().own_applicant(text) == own
