"""Dossier actions with tracker fixtures: the form's extraction and validation, lookup, notices, estimates;
what a conversation may see comes from the service's record of its verification, never from the slot."""
import datetime as dt

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.context import client_of
from actions.dossiers import (
    ActionDossierStatus,
    ActionEstimateDeadline,
    ActionSubscribeNotices,
    ValidateDossierStatusForm,
    channel_in,
)
from dossiers.service import DossierRecord
from tests.actions.conftest import make_tracker

CODE = "000.00.06.H56-261110-0001"
DOMAIN = {"forms": {"dossier_status_form": {"required_slots": ["dossier_code", "verification_digits"]}},
          "slots": {"dossier_code": {"type": "text", "mappings": [{"type": "custom"}]},
                    "verification_digits": {"type": "text", "mappings": [{"type": "custom"}]}}}


@pytest.fixture
def dossier(dossier_store):
    dossier_store.upsert(DossierRecord(
        code=CODE, procedure_code="1.012786", channel="online", received_at=dt.datetime(2026, 11, 10, 9),
        status_code=4, procedure_name="Cấp lại Giấy chứng nhận do bị mất", phone="0912345678",
        citizen_id="079203004567", handling_unit="Văn phòng đăng ký đất đai", current_step="Thẩm định hồ sơ"))
    return CODE


RESET = [{"event": "slot", "timestamp": None, "name": "verification_digits", "value": None},
         {"event": "slot", "timestamp": None, "name": "dossier_code", "value": None},
         {"event": "slot", "timestamp": None, "name": "verified_dossier", "value": None}]
LOOK_UP_FIRST = ("Bạn tra cứu hồ sơ trước (nhắn \"tra cứu hồ sơ\"), sau đó mình sẽ đăng ký nhận thông báo cho "
                 "hồ sơ đó.")


def look_up(sender="c1", channel="rest", digits="5678", metadata=None):
    """Run the status action as the form would after ``digits``; the dispatcher and the events."""
    dispatcher = CollectingDispatcher()
    events = ActionDossierStatus().run(dispatcher, make_tracker(
        digits, "inform", sender=sender, channel=channel, metadata=metadata,
        slots={"dossier_code": CODE, "verification_digits": digits}), {})
    return dispatcher, events


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def texts(dispatcher):
    return [m.get("text") or "" for m in dispatcher.messages]


@pytest.mark.parametrize("text, requested, slots, expected", [
    ("tra cứu hồ sơ 000.00.06.h56 - 261110 - 0001", None, {}, {"dossier_code": CODE}),  # opening message
    ("000.00.06.H56-261110-0001", "dossier_code", {}, {"dossier_code": CODE}),
    ("000.00.06.h56-261110-0001", "dossier_code", {}, {"dossier_code": CODE}),
    ("0912 345 678", "verification_digits", {"dossier_code": CODE}, {"verification_digits": "5678"}),
    ("4 số cuối là 4567", "verification_digits", {"dossier_code": CODE}, {"verification_digits": "4567"}),
])
async def test_form_reads_codes_and_digits(text, requested, slots, expected):
    tracker = make_tracker(text, "inform", slots=dict(slots, requested_slot=requested),
                           active_loop="dossier_status_form")
    dispatcher = CollectingDispatcher()
    events = await ValidateDossierStatusForm().run(dispatcher, tracker, DOMAIN)
    assert slot_events(events).items() >= expected.items()
    assert texts(dispatcher) == []


@pytest.mark.parametrize("text, explanation", [
    ("000.00.06.H56-261110", "3 phần"), ("000.00.06.H56-2611-0001", "6 chữ số"),
    ("00.06.H56-261110-0001", "mã cơ quan"),
])
async def test_form_explains_a_bad_code(text, explanation):
    tracker = make_tracker(text, "inform", slots={"requested_slot": "dossier_code"}, active_loop="dossier_status_form")
    dispatcher = CollectingDispatcher()
    events = await ValidateDossierStatusForm().run(dispatcher, tracker, DOMAIN)
    assert slot_events(events)["dossier_code"] is None
    assert explanation in texts(dispatcher)[0] and "nhập lại" in texts(dispatcher)[0]


async def test_form_asks_again_for_too_few_digits():
    tracker = make_tracker("12", "inform", slots={"requested_slot": "verification_digits", "dossier_code": CODE},
                           active_loop="dossier_status_form")
    dispatcher = CollectingDispatcher()
    events = await ValidateDossierStatusForm().run(dispatcher, tracker, DOMAIN)
    assert slot_events(events)["verification_digits"] is None and "4 số cuối" in texts(dispatcher)[0]


@pytest.mark.parametrize("text, requested", [("lệ phí cấp lại sổ đỏ bao nhiêu", "dossier_code"),
                                             ("giờ làm việc thế nào", "verification_digits")])
async def test_a_digression_fills_nothing(text, requested):
    tracker = make_tracker(text, "ask_fees", slots={"requested_slot": requested, "dossier_code": None},
                           active_loop="dossier_status_form")
    events = await ValidateDossierStatusForm().run(CollectingDispatcher(), tracker, DOMAIN)
    assert not any(e["name"] in ("dossier_code", "verification_digits") for e in events if e.get("event") == "slot")


@pytest.mark.parametrize("digits, ok", [("5678", True), ("4567", True), ("1111", False)])
def test_lookup_answers_or_refuses(dossier, digits, ok):
    tracker = make_tracker(digits, "inform", slots={"dossier_code": CODE, "verification_digits": digits},
                           channel="zalo")
    dispatcher = CollectingDispatcher()
    events = ActionDossierStatus().run(dispatcher, tracker, {})
    slots = slot_events(events)
    assert slots["verification_digits"] is None  # never kept after the lookup
    reply = "\n".join(texts(dispatcher))
    if ok:
        assert "Đang xử lý" in reply and "Hẹn trả kết quả" in reply and "Còn 2 ngày làm việc" in reply
        assert slots["verified_dossier"] == CODE
        assert dispatcher.messages[-1]["buttons"][0]["payload"] == "/subscribe_notices"
    else:
        assert "không khớp" in reply and slots["verified_dossier"] is None
    assert "0912345678" not in reply and "079203004567" not in reply


def test_notices_are_offered_only_where_they_can_be_delivered(dossier, dossier_store):
    tracker = make_tracker("5678", "inform", slots={"dossier_code": CODE, "verification_digits": "5678"},
                           channel="rest")
    dispatcher = CollectingDispatcher()
    ActionDossierStatus().run(dispatcher, tracker, {})
    assert "Đang xử lý" in "\n".join(texts(dispatcher)) and not dispatcher.messages[-1].get("buttons")
    dispatcher = CollectingDispatcher()
    ActionSubscribeNotices().run(dispatcher, make_tracker("/subscribe_notices", "subscribe_notices", channel="rest",
                                                          slots={"verified_dossier": CODE}), {})
    assert "chưa gửi được thông báo" in texts(dispatcher)[0]


def test_unknown_code_gets_the_same_reply_as_wrong_digits(dossier):
    replies = []
    for code, digits in ((CODE, "0000"), ("000.00.06.H56-261110-0999", "5678")):
        dispatcher = CollectingDispatcher()
        slots = {"dossier_code": code, "verification_digits": digits}
        ActionDossierStatus().run(dispatcher, make_tracker(digits, "inform", sender=code[-4:], slots=slots), {})
        replies.append(texts(dispatcher))
    assert replies[0] == replies[1]


def test_lockout_replies_tell_the_own_lock_from_the_dossiers(dossier):
    for i in range(5):
        dispatcher, events = look_up(digits=f"{i:04d}")
    assert texts(dispatcher) == ["Bạn đã nhập sai quá nhiều lần nên việc tra cứu tạm khóa đến 10h15 thứ Sáu, "
                                 "20/11/2026. Bạn thử lại sau thời gian này hoặc gọi 0123 456 789 để được hỗ trợ."]
    assert events == RESET
    dispatcher, events = look_up(sender="c2")  # another chat, the right digits: the dossier is locked
    assert texts(dispatcher) == ["Hồ sơ này đang tạm khóa tra cứu đến 10h15 thứ Sáu, 20/11/2026 vì có nhiều lần "
                                 "nhập sai số xác minh. Nếu bạn là người nộp hồ sơ, hãy gọi 0123 456 789 để cán bộ "
                                 "kiểm tra và mở khóa."]
    assert events == RESET


@pytest.mark.parametrize("metadata, expected", [
    ({"motcua_client": "ab" * 16}, "ab" * 16), ({}, None), ({"motcua_client": ""}, None), ({"motcua_client": 7}, None),
])
def test_client_of_reads_the_channels_digest(metadata, expected):
    assert client_of(make_tracker("x", "inform", metadata=metadata)) == expected


def test_the_lookup_is_audited_with_the_channels_client_digest(dossier, dossier_store):
    look_up(metadata={"motcua_client": "ab" * 16})
    look_up(sender="c2", digits="0000")  # no digest from the channel: the conversation stands for the client
    assert [(r["conversation_id"], r["outcome"], r["client_hash"]) for r in dossier_store.audit_log()] == [
        ("c2", "denied", dossier_store.hasher.client_hash("conversation:rest:c2")), ("c1", "ok", "ab" * 16)]


def test_a_forged_verified_slot_reveals_nothing_and_subscribes_nothing(dossier, dossier_store):
    forged = {"verified_dossier": CODE}  # a tracker claiming a verification the service never made
    dispatcher = CollectingDispatcher()
    events = ActionEstimateDeadline().run(dispatcher, make_tracker("khi nao co ket qua", "ask_result_ready",
                                                                   slots=forged, channel="telegram"), {})
    assert texts(dispatcher) == ["Bạn định nộp thủ tục nào? Ví dụ: \"nộp hồ sơ cấp lại sổ đỏ hôm nay thì bao giờ "
                                 "có kết quả?\""] and events == []
    look_up(sender="owner", channel="telegram")  # the owner's verification does not count for another chat
    dispatcher = CollectingDispatcher()
    events = ActionSubscribeNotices().run(dispatcher, make_tracker("/subscribe_notices", "subscribe_notices",
                                                                   slots=forged, channel="telegram"), {})
    assert texts(dispatcher) == [LOOK_UP_FIRST] and events == []
    dossier_store.upsert(DossierRecord(code=CODE, procedure_code="1.012786", channel="online",
                                       received_at=dt.datetime(2026, 11, 10, 9), status_code=9,
                                       status_at=dt.datetime(2026, 11, 19, 15), phone="0912345678"))
    assert dossier_store.outbox_rows() == []


def test_subscribe_needs_a_verification_on_the_server(dossier, dossier_store):
    dispatcher = CollectingDispatcher()
    events = ActionSubscribeNotices().run(dispatcher, make_tracker("báo cho tôi", "subscribe_notices",
                                                                   channel="telegram"), {})
    assert texts(dispatcher) == [LOOK_UP_FIRST] and events == []
    look_up(channel="telegram")
    dispatcher = CollectingDispatcher()
    events = ActionSubscribeNotices().run(dispatcher, make_tracker("/subscribe_notices", "subscribe_notices",
                                                                   channel="telegram"), {})
    assert texts(dispatcher) == [f"Đã đăng ký: khi hồ sơ {CODE} chuyển trạng thái, mình sẽ nhắn cho bạn tại đây. "
                                 "Bạn cần hỏi thêm gì không?"] and events == []
    dossier_store.upsert(DossierRecord(code=CODE, procedure_code="1.012786", channel="online",
                                       received_at=dt.datetime(2026, 11, 10, 9), status_code=9,
                                       status_at=dt.datetime(2026, 11, 19, 15), phone="0912345678"))
    assert [(r["channel"], r["conversation_id"]) for r in dossier_store.outbox_rows()] == [("telegram", "c1")]


@pytest.mark.parametrize("text, slots, entities, expect", [
    ("nộp hôm nay thì bao giờ có kết quả", {"procedure_code": "1.012786"}, [], "Cách nộp|Bạn định nộp theo cách nào"),
    ("nop online hom nay thi bao gio co ket qua", {"procedure_code": "1.012786"}, [],
     "nộp trực tuyến là 10 ngày làm việc"),
    ("/ask_result_ready", {"procedure_code": "1.012786"}, [{"entity": "filing_channel", "value": "direct"}],
     "nộp trực tiếp"),
    ("nộp hôm nay thì bao giờ có kết quả", {}, [], "Bạn định nộp thủ tục nào"),
    ("nop ho so cap lai so do bi mat online hom nay thi bao gio co", {}, [], "Cấp lại Giấy chứng nhận do bị mất"),
])
def test_deadline_estimate(text, slots, entities, expect, ctx):
    import re

    ctx.clock = lambda: dt.datetime(2026, 11, 20, 9, 0)
    dispatcher = CollectingDispatcher()
    ActionEstimateDeadline().run(dispatcher, make_tracker(text, "ask_result_ready", slots=slots, entities=entities), {})
    reply = "\n".join(texts(dispatcher))
    assert re.search(expect, reply), reply
    if "ngày làm việc" in expect:
        assert "thứ Hai, 07/12/2026" in reply  # 10 working days from Fri 20/11 09:00, 24/11 a holiday


def test_channel_words():
    assert channel_in("gửi qua bưu điện") == "postal" and channel_in("nop online") == "online"
    assert channel_in("nộp trực tiếp tại sở") == "direct" and channel_in("bao giờ có") is None


@pytest.mark.parametrize("status, expect", [
    (4, r"^Hồ sơ 000\.00\.06\.H56-261110-0001 hẹn trả kết quả lúc \d{1,2}h\d\d .+ \(còn \d+ ngày làm việc\)\."),
    (5, "đang chờ bạn bổ sung giấy tờ: thời hạn giải quyết tạm dừng"),
    (6, "đang chờ bạn nộp nghĩa vụ tài chính"),
    (9, "đã có kết quả: bạn nhận"),
    (8, r"không còn được xử lý \(dừng xử lý\)"),
])
def test_when_is_my_dossier_ready_right_after_a_lookup(dossier_store, status, expect):
    import re

    dossier_store.upsert(DossierRecord(
        code=CODE, procedure_code="1.012786", channel="online", received_at=dt.datetime(2026, 11, 10, 9),
        status_code=status, status_at=dt.datetime(2026, 11, 19, 15), phone="0912345678"))
    assert dossier_store.lookup("c1", "rest", CODE, "5678").outcome == "ok"
    dispatcher = CollectingDispatcher()
    events = ActionEstimateDeadline().run(dispatcher, make_tracker("khi nao co ket qua", "ask_result_ready",
                                                                   slots={"verified_dossier": CODE}), {})
    reply = "\n".join(texts(dispatcher))
    assert re.search(expect, reply), reply
    assert reply.endswith("Bạn cần hỏi thêm gì không?") and events == []


def test_a_new_filing_is_still_estimated_after_a_lookup(dossier, ctx):
    ctx.clock = lambda: dt.datetime(2026, 11, 20, 9, 0)
    look_up()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("nop online hom nay thi bao gio co ket qua", "ask_result_ready",
                           slots={"verified_dossier": dossier, "procedure_code": "1.012786"})
    ActionEstimateDeadline().run(dispatcher, tracker, {})
    assert "nộp trực tuyến là 10 ngày làm việc" in "\n".join(texts(dispatcher))
