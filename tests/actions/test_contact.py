"""Unit tests of the office-hours action."""
import datetime as dt

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
    assert agency in dispatcher.messages[0]["text"] and "Bộ phận Một cửa làm việc" not in dispatcher.messages[0]["text"]
    assert [r["reason"] for r in log.unanswered_rows()] == ["other_agency"]


@pytest.mark.parametrize("text, now, state", [
    ("mấy giờ sở mở cửa", dt.datetime(2026, 11, 27, 10, 0), "Bây giờ đang trong giờ làm việc (đến 12h00)."),
    ("so dien thoai cua so", dt.datetime(2026, 11, 28, 9, 0), "mở lại lúc 8h00 thứ Hai, 30/11."),
    # Monday evening; Tuesday 24/11 is Vietnamese Culture Day, a public holiday from 2026
    ("sáng mai có nhận hồ sơ không", dt.datetime(2026, 11, 23, 17, 30), "mở lại lúc 8h00 thứ Tư, 25/11."),
])
def test_the_desks_hours_come_from_the_calendar_with_the_configured_hotline(log, ctx, text, now, state):
    ctx.clock = lambda: now
    dispatcher = CollectingDispatcher()
    assert ActionOfficeHours().run(dispatcher, make_tracker(text, "ask_office_hours"), {}) == []
    reply = dispatcher.messages[0]["text"]
    assert "(8h00–12h00, 13h00–17h00)" in reply and state in reply
    assert "Tổng đài hỗ trợ: 0123 456 789." in reply  # the settings' hotline, not a value in the domain
    assert reply.endswith("Bạn cần hỏi thủ tục nào?")
    assert log.unanswered_rows() == []
