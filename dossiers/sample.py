"""Realistic sample dossiers, so the assistant has data to query before a real import."""
from __future__ import annotations

import datetime as dt
import random
from typing import List, Optional, Sequence

from core.vocabulary import NEEDS_DOCUMENTS, NEEDS_PAYMENT
from dossiers.calendar import WorkingCalendar
from dossiers.procedures import CatalogueLimits
from dossiers.service import DossierRecord

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô")
MIDDLE = ("Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Đức", "Thu", "Quang", "Hoài")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Hà", "Hải", "Hoa", "Hùng", "Lan", "Linh", "Long", "Mai", "Nam", "Phúc",
         "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy", "Yến")
AGENCIES = ("000.00.06.H56", "000.00.07.H56", "000.00.12.H56", "000.20.31.H56")
UNITS = ("Bộ phận Một cửa - Trung tâm Phục vụ hành chính công tỉnh", "Văn phòng đăng ký đất đai",
         "Chi nhánh Văn phòng đăng ký đất đai khu vực 2", "Phòng Quản lý đất đai - Sở Nông nghiệp và Môi trường",
         "Phòng Môi trường - Sở Nông nghiệp và Môi trường", "UBND xã Phước Đồng")
STEPS = {1: "Tiếp nhận hồ sơ", 2: "Tiếp nhận hồ sơ", 3: "Tiếp nhận hồ sơ", 4: "Thẩm định hồ sơ",
         5: "Chờ công dân bổ sung", 6: "Chờ thực hiện nghĩa vụ tài chính", 7: "Rút hồ sơ", 8: "Dừng xử lý",
         9: "Trả kết quả", 10: "Đã trả kết quả"}
PICKUP = {"direct": "trực tiếp tại Bộ phận Một cửa nơi nộp hồ sơ", "online": "bản điện tử qua Cổng Dịch vụ công "
          "và bản giấy tại Bộ phận Một cửa", "postal": "qua dịch vụ bưu chính công ích tại địa chỉ đã đăng ký"}
# Share of dossiers per status (a working one-stop system: most in progress or done).
STATUS_WEIGHTS = {1: 2, 2: 8, 3: 1, 4: 40, 5: 7, 6: 5, 7: 1, 8: 1, 9: 15, 10: 20}
SUPPLEMENTS = ("Bản sao Giấy chứng nhận quyền sử dụng đất đã cấp (bản chụp bị mờ, cần bản rõ nét).",
               "Văn bản ủy quyền có chứng thực của người cùng sử dụng đất.",
               "Mảnh trích đo bản đồ địa chính thửa đất có xác nhận của đơn vị đo đạc.")


def _working_moment(rng: random.Random, calendar: WorkingCalendar, day: dt.date) -> dt.datetime:
    while not calendar.is_working_day(day):
        day -= dt.timedelta(days=1)
    start, end = rng.choice(calendar.office_hours)
    minutes = int((dt.datetime.combine(day, end) - dt.datetime.combine(day, start)).total_seconds() // 60)
    return dt.datetime.combine(day, start) + dt.timedelta(minutes=rng.randrange(max(minutes - 1, 1)))


def sample_records(count: int, limits: CatalogueLimits, calendar: WorkingCalendar, now: dt.datetime, seed: int = 7,
                   days_back: int = 90, procedures: Optional[Sequence[str]] = None) -> List[DossierRecord]:
    """``count`` dossiers received over the last ``days_back`` days, with consistent statuses, for
    ``procedures`` (codes; default: every procedure with a time limit). The same seed gives the same dossiers."""
    rng = random.Random(seed)
    codes = [c for c in limits.codes() if procedures is None or c in set(procedures)]
    if not codes:
        raise ValueError("the catalogue has no procedure with a time limit")
    statuses, weights = zip(*STATUS_WEIGHTS.items())
    sequence: dict = {}
    records = []
    for _ in range(count):
        procedure = rng.choice(codes)
        channel = rng.choice(limits.channels(procedure))
        status = rng.choices(statuses, weights)[0]
        limit = limits(procedure, channel)
        if status in (1, 2, 4) and rng.random() < 0.85:  # most dossiers in progress are within their limit
            probe = _working_moment(rng, calendar, (now - dt.timedelta(days=days_back)).date())
            duration = calendar.due(probe, *limit) - probe
            received = _working_moment(rng, calendar, (now - duration * rng.uniform(0.05, 0.9)).date())
        else:
            received = _working_moment(rng, calendar, (now - dt.timedelta(days=rng.randrange(days_back))).date())
        if received > now:
            received = now - dt.timedelta(hours=1)
        agency = rng.choice(AGENCIES)
        key = (agency, received.date())
        sequence[key] = sequence.get(key, 0) + 1
        code = f"{agency}-{received:%y%m%d}-{sequence[key]:04d}"
        due = calendar.due(received, *limit)
        status_at = received
        if status not in (1, 2):  # a moment in working time between receipt and a little after the due date
            end = min(now, due + dt.timedelta(days=5))
            hours = max(calendar.working_days_between(received.date(), end.date()), 1) * 8
            status_at = calendar.add_working_time(calendar.counting_start(received),
                                                  dt.timedelta(hours=rng.uniform(0.5, hours)))
        status_at = min(status_at, now).replace(second=0, microsecond=0)
        phone = "0" + rng.choice("3579") + "".join(rng.choice("0123456789") for _ in range(8))
        citizen_id = "0" + f"{rng.randrange(1, 97):02d}" + "".join(rng.choice("0123456789") for _ in range(9))
        record = DossierRecord(
            code=code,
            procedure_code=procedure,
            procedure_name=limits.name(procedure),
            channel=channel,
            received_at=received,
            status_code=status,
            status_at=status_at,
            applicant_name=f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            phone=phone,
            citizen_id=citizen_id,
            due_at=due,
            current_step=STEPS[status],
            handling_unit=rng.choice(limits.agencies(procedure) or UNITS),
            result_pickup=PICKUP[channel],
        )
        if status == NEEDS_DOCUMENTS:
            record.supplement_items = rng.choice(SUPPLEMENTS)
            record.supplement_requested_at = status_at
            record.supplement_deadline = calendar.due(status_at, 10, "working_day")
        if status == NEEDS_PAYMENT:
            record.financial_amount_vnd = rng.choice((100_000, 250_000, 1_250_000, 18_600_000))
            record.financial_description = (
                "Lệ phí trước bạ và lệ phí cấp Giấy chứng nhận theo thông báo của cơ quan thuế"
            )
            record.financial_issued_at = status_at
        records.append(record)
    return records
