"""The dossier service on both back ends: store, lookup, lockout, audit, masking, outbox, migrations.
Verifications, the lock ladder and enumeration alerts in detail: test_guard.py."""
import datetime as dt
import re

import pytest
from sqlalchemy import create_engine, inspect, select

from dossiers import migrate
from dossiers.schema import dossiers
from tests.dossiers.conftest import CODE, make_record

D = dt.datetime


def test_upsert_is_idempotent_and_computes_due(service):
    assert service.upsert(make_record()).action == "created"
    assert service.upsert(make_record()).action == "unchanged"
    view = service.view(CODE)
    assert view.due_at == D(2026, 11, 25, 9)  # 10 working days, 24/11 a holiday
    assert view.working_days_left == 2 and not view.late  # Friday 20/11: Monday 23 and Wednesday 25 left
    assert view.applicant == "Nguyễn V. A."
    assert service.count() == 1


def test_personal_numbers_are_not_stored_in_plain_text(service, db_url):
    service.upsert(make_record())
    engine = create_engine(db_url)
    with engine.connect() as conn:
        row = dict(conn.execute(select(dossiers)).mappings().first())
    engine.dispose()
    digests = {k for k, v in row.items() if isinstance(v, str) and re.fullmatch(r"[0-9a-f]{32,}", v)}
    assert digests  # the numbers are kept only as keyed digests
    plain = " ".join(str(v) for k, v in row.items() if k not in digests).replace(" ", "")
    for secret in ("0912345678", "345678", "079203004567", "5678", "4567", "Nguyễn Văn An"):
        assert secret not in plain
    # a digest is random hex: it may contain "5678" by chance (about 1 run in 250), never a whole number
    dumped = "".join(str(v) for v in row.values())
    assert "0912345678" not in dumped and "079203004567" not in dumped


@pytest.mark.parametrize("verification", ["5678", "0912 345 678", "+84912345678", "4567", "số cuối 4567"])
def test_lookup_with_phone_or_id_digits(service, verification):
    service.upsert(make_record())
    result = service.lookup("conv-1", "rest", " 000.00.06.h56 - 261110 - 0001 ", verification)
    assert result.outcome == "ok"
    assert result.view.status_name == "Đang xử lý"


def test_unknown_code_and_wrong_digits_look_the_same(service):
    service.upsert(make_record())
    unknown = service.lookup("conv-1", "rest", "000.00.06.H56-261110-0999", "5678")
    wrong = service.lookup("conv-2", "rest", CODE, "1111")
    assert unknown.outcome == wrong.outcome == "denied"
    assert unknown.view is None and wrong.view is None and unknown.problem == wrong.problem == ""


def test_invalid_code_explains_and_is_not_a_failure(service):
    result = service.lookup("conv-1", "rest", "000.00.06-261110", "5678")
    assert result.outcome == "invalid" and "3 phần" in result.problem
    assert service.is_locked("conv-1", "rest") is None


def test_lockout_after_five_failures_is_persisted_and_expires(service, clock, db_url, calendar):
    service.upsert(make_record())
    outcomes = [service.lookup("attacker", "rest", CODE, f"{i:04d}").outcome for i in range(5)]
    assert outcomes == ["denied"] * 4 + ["locked"]
    # The right digits do not help while locked, from this sender or (for this code) from another one
    # that has never verified this dossier.
    assert service.lookup("attacker", "rest", CODE, "5678").outcome == "locked"
    other = service.lookup("someone-else", "rest", CODE, "5678")
    assert (other.outcome, other.lock_scope) == ("locked", "dossier")
    assert other.locked_until == clock.now + dt.timedelta(minutes=15)
    # A new service over the same database (a restart) still knows the lock.
    from core.privacy import Hasher
    from dossiers.service import DossierService

    restarted = DossierService(db_url, Hasher(b"test-key-0123456789abcdef"), calendar, clock=clock)
    assert restarted.lookup("attacker", "rest", CODE, "5678").outcome == "locked"
    clock.advance(minutes=15, seconds=1)
    assert restarted.lookup("attacker", "rest", CODE, "5678").outcome == "ok"
    restarted.close()


def test_sender_lock_covers_other_codes(service):
    service.upsert(make_record())
    service.upsert(make_record(code="000.00.06.H56-261110-0002", phone="0987000111"))
    for i in range(5):
        service.lookup("guesser", "rest", f"000.00.06.H56-261110-{i + 10:04d}", "0000")
    assert service.lookup("guesser", "rest", "000.00.06.H56-261110-0002", "0111").outcome == "locked"
    assert service.lookup("citizen", "rest", "000.00.06.H56-261110-0002", "0111").outcome == "ok"


def test_failures_add_up_over_the_day_and_are_forgotten_after_a_quiet_day(service, clock):
    service.upsert(make_record())
    for _ in range(4):
        service.lookup("c", "rest", CODE, "0000")
    clock.advance(minutes=16)  # 4 guesses every 15 minutes would never lock: the count runs on
    assert service.lookup("c", "rest", CODE, "0000").outcome == "locked"
    clock.advance(minutes=15)
    for _ in range(4):
        service.lookup("c", "rest", CODE, "0000")
    clock.advance(days=1)
    assert service.lookup("c", "rest", CODE, "0000").outcome == "denied"


def test_every_lookup_is_audited_with_a_keyed_client_digest(service):
    service.upsert(make_record())
    service.lookup("a", "telegram", CODE, "5678", client="0123456789abcdef0123456789abcdef")
    service.lookup("b", "zalo", CODE, "0000", client="ip:203.0.113.5")
    service.lookup("c", "rest", "bad", "0000")
    rows = service.audit_log()
    outcomes = [(r["conversation_id"], r["channel"], r["outcome"]) for r in rows]
    assert outcomes == [("c", "rest", "invalid"), ("b", "zalo", "denied"), ("a", "telegram", "ok")]
    # A channel's digest is kept as it is; anything else (a raw address) is hashed with the key; without
    # a client the conversation stands for it.
    assert [r["client_hash"] for r in rows] == [service.hasher.client_hash("conversation:rest:c"),
                                                service.hasher.client_hash("ip:203.0.113.5"),
                                                "0123456789abcdef0123456789abcdef"]
    assert "203.0.113" not in repr(rows)


def test_status_change_queues_one_notice_per_subscriber(service, clock):
    service.upsert(make_record())
    assert service.subscribe(CODE, "conv-1", "telegram") is True
    assert service.subscribe(CODE, "conv-1", "telegram") is False
    service.subscribe(CODE, "conv-2", "zalo")
    changed = make_record(status_code=9, status_at=D(2026, 11, 19, 15), current_step="Trả kết quả")
    result = service.upsert(changed)
    assert result.status_changed and result.notices == 2
    assert service.upsert(changed).notices == 0  # re-import: nothing new
    rows = service.outbox_rows()
    assert [(r["channel"], r["state"]) for r in rows] == [("telegram", "pending"), ("zalo", "pending")]
    assert "Đã xử lý xong" in rows[0]["text"] and "0912" not in rows[0]["text"]
    view = service.view(CODE)
    assert view.finished_at == D(2026, 11, 19, 15) and not view.late


def test_older_snapshot_does_not_roll_status_back(service):
    service.upsert(make_record(status_code=9, status_at=D(2026, 11, 19, 15)))
    service.upsert(make_record(status_code=4, status_at=D(2026, 11, 12, 9)))
    view = service.view(CODE)
    assert view.status_code == 9
    assert [h["status_code"] for h in view.history] == [4, 9]


def test_outbox_delivery_states_and_backoff(service, clock):
    service.upsert(make_record())
    service.subscribe(CODE, "conv-1", "telegram")
    service.upsert(make_record(status_code=9, status_at=D(2026, 11, 19, 15)))
    notice = service.due_notices()[0]
    assert service.mark_failed(notice["id"], "timeout", base_delay_s=60) == "pending"
    assert service.due_notices() == []  # backing off
    clock.advance(seconds=61)
    assert [n["id"] for n in service.due_notices(channels=["telegram"])] == [notice["id"]]
    assert service.due_notices(channels=["zalo"]) == []
    assert service.mark_sent(notice["id"]) is True
    assert service.mark_sent(notice["id"]) is False  # never twice
    assert service.outbox_rows()[0]["attempts"] == 2


def test_supplement_and_financial_notice(service):
    service.upsert(make_record(status_code=5, status_at=D(2026, 11, 12, 9), supplement_items="Bản sao sổ hộ khẩu",
                               supplement_deadline=D(2026, 11, 26, 17)))
    view = service.view(CODE)
    assert view.open_supplements[0]["items"] == "Bản sao sổ hộ khẩu"
    assert view.working_days_left is None  # the clock stops while waiting on the citizen
    service.upsert(make_record(status_code=6, status_at=D(2026, 11, 16, 9), financial_amount_vnd=1_250_000,
                               financial_description="Lệ phí trước bạ"))
    view = service.view(CODE)
    assert view.open_supplements == [] and view.unpaid_notices[0]["amount_vnd"] == 1_250_000


def test_bad_record_is_refused(service):
    with pytest.raises(ValueError, match="bad dossier code"):
        service.upsert(make_record(code="123"))
    with pytest.raises(ValueError, match="verify"):
        service.upsert(make_record(phone="", citizen_id=""))


def test_migrations_create_and_remove_the_schema(db_url):
    engine = create_engine(db_url)
    migrate.upgrade(engine)
    assert migrate.current(engine) == "0003"
    assert {"dossiers", "notice_outbox", "dossier_lookup_locks", "dossier_verifications",
            "dossier_lookup_alerts", "notice_outbox_alerts"} <= set(inspect(engine).get_table_names())
    assert {"claimed_at", "alerted_at"} <= {c["name"] for c in inspect(engine).get_columns("notice_outbox")}
    assert "client_hash" in {c["name"] for c in inspect(engine).get_columns("dossier_lookup_audit")}
    from alembic import command

    cfg = migrate.alembic_config(db_url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert "dossiers" not in inspect(engine).get_table_names()
    engine.dispose()


def test_failures_counted_before_the_ladder_keep_counting(db_url, calendar, clock):
    """A database at 0001 with 4 failures on a code: after the upgrade the 5th locks it."""
    from sqlalchemy import text

    from core.privacy import Hasher
    from dossiers.service import DossierService

    engine = create_engine(db_url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO dossier_lookup_locks (key, failures, first_failure_at) "
                          "VALUES ('code:' || :code, 4, :at)"), {"code": CODE, "at": clock.now})
    engine.dispose()
    service = DossierService(db_url, Hasher(b"test-key-0123456789abcdef"), calendar, clock=clock)
    service.upsert(make_record())
    clock.advance(minutes=30)
    assert service.lookup("new", "rest", CODE, "0000").outcome == "locked"
    assert [(lock["key"], lock["level"]) for lock in service.active_locks()] == [(f"code:{CODE}", 1)]
    service.close()
