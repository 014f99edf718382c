"""Unit tests of feedback, handoff and fallback actions."""
import json

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.feedback import ActionDefaultFallback, ActionHandoff, ActionRecordFeedback
from tests.actions.conftest import make_tracker


@pytest.mark.parametrize("intent, text, rating, comment, reply", [
    ("feedback_positive", "/feedback_positive", "positive", "", "Cảm ơn bạn đã đánh giá"),
    ("feedback_negative", "tra loi sai roi", "negative", "tra loi sai roi", "Xin lỗi vì câu trả lời"),
])
def test_feedback_is_stored_with_the_answer_it_rates(log, intent, text, rating, comment, reply):
    last = json.dumps({"code": "1.012786", "aspect": "fees", "text": "Phí, lệ phí…"})
    dispatcher = CollectingDispatcher()
    ActionRecordFeedback().run(dispatcher, make_tracker(text, intent, {"last_answer": last}), {})
    row = log.feedback_rows()[0]
    assert (row["rating"], row["comment"], row["procedure_code"], row["aspect"]) == (rating, comment, "1.012786", "fees")
    assert row["answer"] == "Phí, lệ phí…" and reply in dispatcher.messages[0]["text"]


def test_feedback_without_a_previous_answer_is_still_stored(log):
    ActionRecordFeedback().run(CollectingDispatcher(), make_tracker("hay", "feedback_positive", {"last_answer": "x{"}), {})
    assert log.feedback_rows()[0]["procedure_code"] is None


def test_handoff_is_logged_with_contacts(log):
    dispatcher = CollectingDispatcher()
    ActionHandoff().run(dispatcher, make_tracker("cho gặp nhân viên", "request_human"), {})
    assert "0123 456 789" in dispatcher.messages[0]["text"]
    assert log.unanswered_rows()[0]["reason"] == "handoff_requested"


def test_fallback_logs_and_reverts(log):
    dispatcher = CollectingDispatcher()
    events = ActionDefaultFallback().run(dispatcher, make_tracker("asdf qwer", "nlu_fallback"), {})
    assert events == [{"event": "rewind", "timestamp": None}]
    assert log.unanswered_rows()[0]["reason"] == "not_understood"
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/request_human", "/ask_office_hours"]


def test_review_log_rejects_bad_rating(log):
    with pytest.raises(ValueError):
        log.record_feedback("c", "rest", "meh")
