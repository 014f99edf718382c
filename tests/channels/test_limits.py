"""Token buckets per client and per conversation (channels.limits), on a clock the test moves."""
import pytest

from channels.limits import Gate, RateLimiter, Verdict


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_a_bucket_allows_its_burst_then_refills_at_its_rate(clock):
    bucket = RateLimiter(per_minute=60, burst=3, clock=clock)
    for _ in range(3):
        assert bucket.tokens("a") >= 1
        bucket.take("a")
    assert bucket.tokens("a") == pytest.approx(0.0) and bucket.wait("a") == pytest.approx(1.0)
    clock.now += 0.5
    assert bucket.tokens("a") == pytest.approx(0.5) and bucket.wait("a") == pytest.approx(0.5)
    clock.now += 60
    assert bucket.tokens("a") == 3  # never more than the burst
    assert bucket.tokens("someone else") == 3


def test_the_gate_needs_both_buckets_and_a_refusal_takes_nothing(clock):
    gate = Gate.of(address_per_minute=60, address_burst=3, conversation_per_minute=6, conversation_burst=2, clock=clock)
    assert [gate.admit("ip:1", "web-a").ok for _ in range(3)] == [True, True, False]
    refused = gate.admit("ip:1", "web-a")
    assert refused == Verdict(False, "conversation", pytest.approx(10.0), False)  # 6 a minute: one per 10 s
    assert gate.admit("ip:1", "web-b") == Verdict(True)  # the address had one token left
    assert gate.admit("ip:1", "web-c") == Verdict(False, "address", pytest.approx(1.0), True)
    assert gate.per_conversation.tokens("web-c") == 2  # refused by the address: the conversation spent nothing
    clock.now += 10
    assert gate.admit("ip:1", "web-a").ok


def test_only_the_first_refusal_of_a_run_is_to_be_told(clock):
    gate = Gate.of(600, 100, 60, 1, clock=clock)
    assert gate.admit("telegram:1", "tg-1").ok
    assert [gate.admit("telegram:1", "tg-1").notify for _ in range(3)] == [True, False, False]
    clock.now += 1
    assert gate.admit("telegram:1", "tg-1").ok
    assert gate.admit("telegram:1", "tg-1").notify  # a new run of refusals after one got through


@pytest.mark.parametrize("per_minute, burst", [(0, 10), (10, 0), (-1, 5)])
def test_a_zero_allowance_turns_a_limit_off(clock, per_minute, burst):
    gate = Gate.of(per_minute, burst, per_minute, burst, clock=clock)
    assert all(gate.admit("ip:1", "web-a").ok for _ in range(1000))
    assert len(gate.per_address) == 0 and len(gate.per_conversation) == 0


def test_memory_stays_bounded_and_refilled_buckets_are_dropped_first(clock):
    bucket = RateLimiter(per_minute=60, burst=2, clock=clock, max_keys=100)
    for i in range(10_000):  # a flood of fresh keys
        bucket.take(f"ip:{i}")
    assert len(bucket) == 100
    clock.now += 3600  # every bucket has filled up again: the same as none
    for i in range(60):  # each use sweeps two refilled buckets out
        bucket.take(f"late:{i}")
    assert len(bucket) == 60 and bucket.tokens("ip:9999") == 2


def test_a_full_table_forgets_the_least_recently_used(clock):
    bucket = RateLimiter(per_minute=1, burst=1, clock=clock, max_keys=2)
    bucket.take("a")
    bucket.take("b")
    bucket.take("a")  # "a" used again: "b" is now the oldest
    bucket.take("c")
    assert bucket.tokens("a") < 1 and bucket.tokens("c") < 1 and bucket.tokens("b") == 1
