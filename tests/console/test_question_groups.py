"""Unanswered questions grouped as they arrive: same content together, filler ignored, pages from SQL, staff's
splits and merges kept."""
import datetime as dt
import zlib

import numpy as np

from console.question_groups import QuestionGroups
from console.store import ConsoleStore
from core.stores.review_log import ReviewLog
from knowledge_base.grouping import MIN_CENTRED, content_of, without_place

TOPICS = {"nop": 0, "online": 1, "phi": 2, "gio": 3}


def fake_embed(texts):
    """A unit vector per topic word (plus a little noise from the text): same topic, near; others, far."""
    out = []
    for text in texts:
        vec = np.zeros(16, np.float32)
        topic = next((i for word, i in TOPICS.items() if word in text.split()), 4 + zlib.crc32(text.encode()) % 12)
        vec[topic] = 1.0
        vec[(zlib.crc32(text.encode()) % 16)] += 0.05
        out.append(vec / np.linalg.norm(vec))
    return np.array(out)


def test_content_drops_greetings_places_and_numbers_but_keeps_the_question():
    assert content_of("Alo, cho em hỏi ạ, mình ở xã Đông Hải, thửa số 123 tờ bản đồ 45 thì nộp ở đâu ạ?") \
        == "thi nop o dau"
    assert content_of("nop online dc ko a") == "nop online duoc khong"
    assert content_of("cảm ơn nhé") == "" and content_of("alo") == ""
    assert content_of("giờ làm việc thứ 7") == content_of("gio lam viec thu bay")
    assert content_of("nhà nước hỗ trợ bao nhiêu") == "nha nuoc ho tro bao nhieu"  # "nhà" is not a particle


def test_groups_by_meaning_page_by_page_and_staff_corrections(new_db):
    url = new_db("main")
    log, store = ReviewLog(url), ConsoleStore(url)
    start = dt.datetime.now() - dt.timedelta(hours=1)
    texts = ([f"mình ở xã Đông Hải, thửa số {i}, cho hỏi nop ho so o dau" for i in range(12)]
             + [f"thua {i} nop online duoc khong" for i in range(12)] + ["le phi bao nhieu", "phi la bao nhieu tien"]
             + [f"cau hoi khac so {chr(97 + i)}{chr(98 + i)}" for i in range(MIN_CENTRED)] + ["alo", "cam on nhe"])
    for i, text in enumerate(texts):
        log.record_unanswered(f"web-{i:09d}", "web", text, "no_match", when=start + dt.timedelta(seconds=i))
    log.record_unanswered("web-x", "web", "cho gap can bo", "handoff_requested", when=start)
    groups = QuestionGroups(url, embed=fake_embed)
    assert groups.catch_up(budget=10) == 10 and groups.catch_up() == len(texts) + 1 - 10
    rows, more = groups.page(start - dt.timedelta(days=1), open_only=True, per_page=500)
    assert not more
    counts = sorted((r.count for r in rows), reverse=True)
    assert counts[:2] == [12, 12]  # places and parcel numbers do not split or join the groups
    everything = [p for r in rows for p in r.phrasings]
    assert "cho gap can bo" not in everything  # requests for a person are on the handoff desk
    assert not any("alo" in p and "cam on" in p for p in everything)
    where = {p: r.id for r in rows for p in r.phrasings}
    assert where["alo"] != where["cam on nhe"]
    first, more = groups.page(start - dt.timedelta(days=1), open_only=True, per_page=3)
    second, _ = groups.page(start - dt.timedelta(days=1), open_only=True, page=2, per_page=3)
    assert more and len(first) == 3 and not {r.id for r in first} & {r.id for r in second}
    biggest = groups.group(first[0].id)
    assert biggest["count"] == 12 and len(biggest["rows"]) == 5
    # a decision closes the group; a new phrasing of it opens it again
    store.decide(biggest["keys"], "dismissed", "editor")
    done, _ = groups.page(start - dt.timedelta(days=1), open_only=False)
    assert [r.id for r in done] == [biggest["id"]] and done[0].decision["decision"] == "dismissed"
    # staff split a phrasing off, then merge it back
    keys = biggest["keys"]
    new = groups.split(biggest["id"], keys[:1])
    assert new is not None and groups.group(new)["count"] >= 1
    assert groups.split(biggest["id"], groups.group(biggest["id"])["keys"]) is None  # something must stay
    moved_text = groups.group(new)["phrasings"][0][0]
    log.record_unanswered("web-late", "web", moved_text, "no_match")
    groups.catch_up()
    assert groups.group(new)["count"] == 2  # a split phrasing asked again follows it to its new group
    assert groups.merge(biggest["id"], new) >= 1 and groups.group(new) is None
    assert groups.group(biggest["id"])["count"] == 13
    assert groups.neighbours(biggest["id"]) is not None


def test_without_an_encoder_the_same_content_still_groups(new_db):
    url = new_db("main")
    log = ReviewLog(url)
    for text in ("giờ làm việc thứ 7", "cho em hỏi giờ làm việc thứ bảy ạ", "nuôi chim yến"):
        log.record_unanswered("web-aaaaaaaa1", "web", text, "not_understood")

    def broken(texts):
        raise RuntimeError("no model")

    groups = QuestionGroups(url, embed=broken)
    groups.catch_up()
    rows, _ = groups.page(dt.datetime.now() - dt.timedelta(days=1), open_only=True)
    assert sorted(r.count for r in rows) == [1, 2]


def test_two_workers_keep_one_group_per_phrasing(new_db):
    url = new_db("main")
    log = ReviewLog(url)
    first, second = QuestionGroups(url, embed=fake_embed), QuestionGroups(url, embed=fake_embed)
    for n, worker in enumerate((first, second, first, second)):
        log.record_unanswered(f"web-{n:09d}", "web", "le phi bao nhieu", "no_match")
        log.record_unanswered(f"web-{n:09d}", "web", f"cau khac {n}", "no_match")
        worker.catch_up()
    rows, _ = first.page(dt.datetime.now() - dt.timedelta(days=1), open_only=True)
    fee = [r for r in rows if "le phi bao nhieu" in r.phrasings]
    assert len(fee) == 1 and fee[0].count == 4
    big = fee[0].id
    other = next(r.id for r in rows if r.id != big)
    assert second.merge(big, other) == 4  # "cau khac N": the same content once numbers are gone
    log.record_unanswered("web-late", "web", "cau khac 0", "no_match")
    first.catch_up()  # knows about the merge done elsewhere
    assert first.group(big)["count"] == 9 and first.group(other) is None


def test_the_grouping_encoder_reads_questions_with_their_accents_restored(console_env):
    from knowledge_base.catalogue import Catalogue
    from knowledge_base.grouping import question_encoder

    settings, _ = console_env
    seen = []

    class Recorder:
        def embed_queries(self, texts):
            seen.extend(texts)
            return np.zeros((len(texts), 4), np.float32)

    encode = question_encoder(Recorder(), Catalogue.load(settings.knowledge.catalogue_dir))
    encode([content_of("cap lai giay chung nhan bi mat")])
    assert seen == ["cấp lại giấy chứng nhận bị mất"]


def test_without_place_blanks_where_the_citizen_is_and_parcel_numbers_and_keeps_the_rest_as_written():
    assert without_place("Có mất phí không, mình ở xã Bình Minh").split() == ["Có", "mất", "phí", "không,"]
    assert without_place("sổ đỏ thửa số 1970 tờ bản đồ 5").split() == ["sổ", "đỏ"]  # "sổ", not "số": accents kept
    assert without_place("tách thửa mất bao lâu") == "tách thửa mất bao lâu"
    assert without_place("") == ""
