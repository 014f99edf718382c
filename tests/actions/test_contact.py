"""Unit tests of the office-hours action."""
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.contact import ActionOfficeHours
from tests.actions.conftest import make_tracker


@pytest.mark.parametrize("text, agency", [
    ("giờ làm việc của cơ quan thuế", "Thuế"),
    ("tong dai cong an la so may", "Công an"),
    ("phòng công chứng mở cửa thứ bảy không", "công chứng"),
])
def test_another_agencys_hours_or_phone_name_that_agency(log, text, agency):
    dispatcher = CollectingDispatcher()
    assert ActionOfficeHours().run(dispatcher, make_tracker(text, "ask_office_hours"), {}) == []
    assert agency in dispatcher.messages[0]["text"] and dispatcher.messages[0].get("response") is None
    assert [r["reason"] for r in log.unanswered_rows()] == ["other_agency"]


@pytest.mark.parametrize("text", ["mấy giờ sở mở cửa", "so dien thoai cua so", "sáng thứ bảy có nhận hồ sơ không"])
def test_the_desks_hours_carry_the_configured_hotline(log, text):
    dispatcher = CollectingDispatcher()
    assert ActionOfficeHours().run(dispatcher, make_tracker(text, "ask_office_hours"), {}) == []
    assert dispatcher.messages[0]["response"] == "utter_office_hours"
    assert dispatcher.messages[0]["hotline"] == "0123 456 789"  # the settings', not a value in the domain
    assert log.unanswered_rows() == []
