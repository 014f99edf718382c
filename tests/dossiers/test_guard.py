"""Server-side verifications, the escalating lock ladder, the owner's protection from strangers, the
per-dossier bound on guesses, enumeration alerts and clearing locks (dossiers.guard), on both back ends."""
import collections
import datetime as dt

from tests.dossiers.conftest import CODE, make_record

MIN = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
OWNER = "a" * 32  # client digests as the channels give them
STRANGER = "b" * 32
OTHER = "000.00.06.H56-261110-0002"


def fail(service, times, conversation="guesser", channel="web", code=CODE, client=None):
    """``times`` wrong verifications; the last result."""
    for _ in range(times):
        result = service.lookup(conversation, channel, code, "0000", client=client)
    return result


def test_verification_is_kept_on_the_server_for_its_conversation_and_channel(service, clock):
    service.upsert(make_record())
    service.upsert(make_record(code=OTHER, phone="0987000111"))
    fail(service, 1, "tg-1", "telegram")
    assert service.verified_code("tg-1", "telegram") is None  # a failure records nothing
    assert service.lookup("tg-1", "telegram", CODE, "5678").outcome == "ok"
    assert service.verified_code("tg-1", "telegram") == CODE
    assert service.verified_code("tg-1", "zalo") is None and service.verified_code("tg-2", "telegram") is None
    clock.advance(minutes=5)
    service.lookup("tg-1", "telegram", OTHER, "0111")
    assert service.verified_code("tg-1", "telegram") == OTHER  # the latest one
    clock.advance(minutes=5)
    service.lookup("tg-1", "telegram", CODE, "5678")
    assert service.verified_code("tg-1", "telegram") == CODE
    clock.advance(minutes=30)  # verification_minutes after the last success
    assert service.verified_code("tg-1", "telegram") is None


def test_a_leaked_conversation_id_opens_nothing_from_another_client(service):
    service.upsert(make_record())
    owner, stranger = "a" * 32, "b" * 32
    assert service.lookup("web-session-0001", "web", CODE, "5678", client=owner).outcome == "ok"
    assert service.verified_code("web-session-0001", "web", owner) == CODE
    assert service.verified_code("web-session-0001", "web", stranger) is None
    assert service.verified_code("web-session-0001", "web") is None  # no client: not the one that proved it


def test_ladder_15_minutes_then_an_hour_then_a_day(service, clock):
    service.upsert(make_record())
    steps = []
    for _ in range(4):
        outcomes = [service.lookup("guesser", "web", CODE, "0000").outcome for _ in range(5)]
        assert outcomes == ["denied"] * 4 + ["locked"]
        until = service.is_locked("guesser", "web")
        steps.append(until - clock.now)
        assert service.lookup("guesser", "web", CODE, "5678").outcome == "locked"  # the right digits wait too
        clock.now = until
    assert steps == [15 * MIN, 60 * MIN, DAY, DAY]  # the last step repeats


def test_the_level_steps_down_after_each_quiet_day(service, clock):
    service.upsert(make_record())

    def lock():
        result = fail(service, 5)
        assert result.outcome == "locked"
        step, clock.now = result.locked_until - clock.now, result.locked_until
        return step

    assert [lock(), lock()] == [15 * MIN, 60 * MIN]  # the next lock would last a day
    clock.advance(days=1)  # a day with neither failure nor lock: one step down
    assert lock() == 60 * MIN
    assert [lock(), lock()] == [DAY, DAY]  # the last step repeats without climbing a hidden level:
    clock.advance(days=1)
    assert lock() == 60 * MIN  # one quiet day after it is one step down
    clock.advance(days=3)
    clock.advance(days=2)  # two quiet days: back to the first step
    assert lock() == 15 * MIN
    clock.advance(hours=23, minutes=59)  # not yet a quiet day: the level holds
    assert lock() == 60 * MIN


def test_a_strangers_failures_do_not_lock_the_owner_out(service, clock):
    service.upsert(make_record())
    assert service.lookup("tg-owner", "telegram", CODE, "5678", client=OWNER).outcome == "ok"
    clock.advance(hours=2)  # the verification has expired; the owner's chat is still known
    # A stranger from 20 conversations and addresses locks the dossier; another one, on the owner's own
    # network (the same address digest), locks that address with codes that do not exist.
    for i in range(20):
        service.lookup(f"web-{i}", "web", CODE, f"{i:04d}", client=f"{i:032x}")
    for i in range(20):  # an address's key locks after 4 x 5 failures
        service.lookup(f"web-x{i}", "web", f"000.00.06.H56-261110-{100 + i:04d}", "0000", client=OWNER)
    assert service.is_locked("nobody", "web", code=CODE) and service.is_locked("nobody", "web", client=OWNER)
    # The owner's chat still gets in, from the locked address too.
    assert service.lookup("tg-owner", "telegram", CODE, "5678", client=OWNER).outcome == "ok"
    # A chat that never verified this dossier is held by the dossier's lock (the reply says staff can open it).
    new = service.lookup("zl-owner", "zalo", CODE, "5678", client="c" * 32)
    assert (new.outcome, new.lock_scope) == ("locked", "dossier")
    # The owner's own typing mistakes count against the owner's chat only.
    fail(service, 5, "tg-owner", "telegram", client=OWNER)
    own = service.lookup("tg-owner", "telegram", CODE, "5678", client=OWNER)
    assert (own.outcome, own.lock_scope, own.locked_until) == ("locked", "conversation", clock.now + 15 * MIN)


def test_per_address_lock_holds_a_guesser_across_conversations(service, clock):
    service.upsert(make_record())
    service.upsert(make_record(code=OTHER, phone="0987000111"))
    for i in range(20):
        service.lookup(f"web-{i}", "web", f"000.00.06.H56-261110-{100 + i:04d}", "0000", client=STRANGER)
    result = service.lookup("web-new", "web", OTHER, "0111", client=STRANGER)
    assert (result.outcome, result.lock_scope, result.locked_until) == ("locked", "client", clock.now + 15 * MIN)
    assert service.lookup("web-new", "web", OTHER, "0111", client=OWNER).outcome == "ok"


def test_citizens_behind_one_shared_address_do_not_lock_each_other_out(service, clock):
    """Five citizens behind one carrier NAT each mistype once: the sixth still gets in."""
    service.upsert(make_record())
    service.upsert(make_record(code=OTHER, phone="0987000111"))
    for i in range(5):
        assert service.lookup(f"zl-{i}", "zalo", f"000.00.06.H56-261110-{100 + i:04d}", "0000",
                              client=STRANGER).outcome == "denied"
    assert service.lookup("zl-sixth", "zalo", OTHER, "0111", client=STRANGER).outcome == "ok"
    assert service.is_locked("nobody", "zalo", client=STRANGER) is None


def test_an_address_ladder_is_four_times_looser_and_never_a_day(service, clock):
    """20 failures: 15 min, 40: 1 h, then 1 h again and again (a conversation's ladder reaches a day)."""
    from dossiers.guard import client_ladder

    assert client_ladder(5, [15 * MIN, 60 * MIN, DAY]) == (20, [15 * MIN, 60 * MIN])
    assert client_ladder(3, [30 * MIN, 2 * DAY]) == (12, [30 * MIN, 60 * MIN])
    steps, n = [], 0
    for _ in range(4):
        outcomes = []
        for _ in range(20):  # a new conversation and code each time: only the address is shared
            n += 1
            outcomes.append(service.lookup(f"web-{n}", "web", f"000.00.06.H56-261110-{n:04d}", "0000",
                                           client=STRANGER).outcome)
        assert outcomes == ["denied"] * 19 + ["locked"]
        until = service.is_locked("nobody", "web", client=STRANGER)
        steps.append(until - clock.now)
        clock.now = until
    assert steps == [15 * MIN, 60 * MIN, 60 * MIN, 60 * MIN]


def test_guesses_at_one_dossier_are_bounded_from_any_number_of_conversations_and_addresses(service, clock):
    """A fresh conversation and address for every guess, a guess whenever the dossier is not locked, for a
    week: 15 guesses the first day (5, 15 min, 5, 1 h, 5), then 5 a day (a day's lock after each 5)."""
    service.upsert(make_record(phone="0912349999", citizen_id="079203009998"))
    start, guesses = clock.now, collections.Counter()
    n = 0
    while clock.now < start + 7 * DAY:
        until = service.is_locked("probe", "web", code=CODE)
        if until:
            clock.now = until + dt.timedelta(seconds=1)
            continue
        n += 1
        assert service.lookup(f"bot-{n}", "web", CODE, f"{n:04d}", client=f"{n:032x}").outcome in ("denied", "locked")
        guesses[(clock.now - start) // DAY] += 1
    assert [guesses[day] for day in range(7)] == [15, 5, 5, 5, 5, 5, 5]


def test_many_codes_from_one_address_raise_one_alert_an_hour(service, clock):
    service.upsert(make_record())

    def try_codes(numbers, client=STRANGER):
        for i in numbers:  # each from a new conversation: the address is what they share
            service.lookup(f"web-{i}", "web", f"000.00.06.H56-261110-{100 + i:04d}", "0000", client=client)

    try_codes(range(6))
    for _ in range(3):
        service.lookup("web-same", "web", CODE, "0000", client=STRANGER)  # one code again and again: 7 codes
    try_codes(range(10, 20), client=OWNER)  # another address counts for itself
    assert [(a["client_hash"], a["codes"]) for a in service.lookup_alerts()] == [(OWNER, 8)]
    try_codes(range(7, 8))  # the stranger's 8th distinct code within the hour (locked by now: still counted)
    assert [(a["client_hash"], a["codes"], a["state"]) for a in service.lookup_alerts()] == [
        (STRANGER, 8, "pending"), (OWNER, 8, "pending")]
    try_codes(range(30, 40))
    assert len(service.lookup_alerts()) == 2  # one per address and hour
    clock.advance(hours=1, seconds=1)
    try_codes(range(40, 47))
    assert len(service.lookup_alerts()) == 2  # the codes of the hour before no longer count
    try_codes(range(47, 48))
    assert [(a["client_hash"], a["codes"]) for a in service.lookup_alerts()][0] == (STRANGER, 8)
    assert len(service.lookup_alerts()) == 3


def test_successful_lookups_of_many_dossiers_raise_no_alert(service):
    codes = [f"000.00.06.H56-261110-{i:04d}" for i in range(1, 11)]
    for code in codes:  # a service agent filing for ten families
        service.upsert(make_record(code=code))
        assert service.lookup("web-agent", "web", code, "5678", client=OWNER).outcome == "ok"
    assert service.lookup_alerts() == []


def test_alert_queue_claims_retries_and_closes(service, clock):
    service.upsert(make_record())
    for i in range(8):
        service.lookup(f"web-{i}", "web", f"000.00.06.H56-261110-{100 + i:04d}", "0000", client=STRANGER)
    alert = service.due_lookup_alerts()[0]
    assert service.claim_lookup_alert(alert["id"]) is True
    assert service.claim_lookup_alert(alert["id"]) is False and service.due_lookup_alerts() == []
    assert service.retry_lookup_alert(alert["id"], ["telegram"], "webhook: 503", base_delay_s=60) == "pending"
    assert service.due_lookup_alerts() == []
    clock.advance(seconds=61)
    assert [a["delivered_to"] for a in service.due_lookup_alerts()] == ["telegram"]
    service.claim_lookup_alert(alert["id"])
    service.finish_lookup_alert(alert["id"], "sent", ["telegram", "webhook"])
    assert [(a["state"], a["attempts"], a["delivered_to"]) for a in service.lookup_alerts()] == [
        ("sent", 2, "telegram,webhook")]
    clock.advance(minutes=10)
    assert service.due_lookup_alerts() == []


def test_staff_see_and_clear_locks(service, clock):
    service.upsert(make_record())
    for i in range(20):
        service.lookup(f"web-p{i}", "web", f"000.00.06.H56-261110-{100 + i:04d}", "0000", client=STRANGER)
    clock.advance(minutes=1)
    fail(service, 5, "web-1", "web", client=OWNER)
    locks = service.active_locks()
    assert [(lock["scope"], lock["subject"], lock["level"], lock["locked_until"]) for lock in locks] == [
        ("dossier", CODE, 1, clock.now + 15 * MIN), ("conversation", "web:web-1", 1, clock.now + 15 * MIN),
        ("client", STRANGER, 1, clock.now + 14 * MIN)]
    cleared = service.clear_lock(f"code:{CODE}")
    assert (cleared["scope"], cleared["level"]) == ("dossier", 1)
    assert service.clear_lock(f"code:{CODE}") is None
    assert [lock["scope"] for lock in service.active_locks()] == ["conversation", "client"]
    assert service.lookup("tg-owner", "telegram", CODE, "5678").outcome == "ok"
    # Cleared means forgotten: the next failures start from the first step again (not 1 h).
    assert fail(service, 5, "web-2", "web").locked_until == clock.now + 15 * MIN
    clock.advance(days=2)
    assert service.active_locks() == []


def test_parallel_guesses_are_counted_one_after_another(service):
    """20 guesses at once from 20 chats: only the first 5 are checked, however the database interleaves them."""
    from concurrent.futures import ThreadPoolExecutor

    service.upsert(make_record())
    service.count()  # migrated before the threads start
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda i: service.lookup(f"bot-{i}", "web", CODE, f"{i:04d}", client=f"{i:032x}"),
                                range(20)))
    assert sorted(r.outcome for r in results) == ["denied"] * 4 + ["locked"] * 16
    assert [r["outcome"] for r in service.audit_log()].count("denied") == 4
