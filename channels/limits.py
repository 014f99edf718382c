"""Token buckets that limit how often one client and one conversation may write to the assistant.

Plain Python: no web framework, an injectable clock, and bounded memory, so every channel (and the
Rasa server's own REST and socket.io channels) asks the same :class:`Gate`. Buckets live in the
process that serves the channel: with several Rasa workers each keeps its own (a client spread
over them gets up to that many times the allowance).
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

Clock = Callable[[], float]


class RateLimiter:
    """Token buckets by key: ``per_minute`` tokens flow in, up to ``burst``; each admitted message takes one.

    A ``per_minute`` or ``burst`` of 0 or less turns the limit off. At most ``max_keys`` buckets are
    kept: a bucket that has filled up again is the same as none and is dropped first; past the bound
    the least recently used ones go (their clients start afresh, which errs on the citizen's side).
    """

    def __init__(self, per_minute: float, burst: int, clock: Clock = time.monotonic, max_keys: int = 50_000):
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.rate = max(per_minute, 0) / 60.0  # tokens per second
        self.burst = max(burst, 0)
        self.clock = clock
        self.max_keys = max_keys
        # key -> (tokens, when last updated, refused since last admitted)
        self._buckets: OrderedDict[str, Tuple[float, float, bool]] = OrderedDict()

    @property
    def off(self) -> bool:
        """True when this limit admits everything."""
        return self.rate <= 0 or self.burst <= 0

    def __len__(self) -> int:
        return len(self._buckets)

    def _level(self, key: str, now: float) -> Tuple[float, bool]:
        tokens, then, refused = self._buckets.get(key, (float(self.burst), now, False))
        return min(float(self.burst), tokens + (now - then) * self.rate), refused

    def tokens(self, key: str) -> float:
        """Tokens ``key`` has now (``burst`` for a client not seen lately)."""
        return self._level(key, self.clock())[0]

    def wait(self, key: str) -> float:
        """Seconds until ``key`` has a whole token again (0 when it has one now)."""
        if self.off:
            return 0.0
        return max(0.0, (1.0 - self.tokens(key)) / self.rate)

    def take(self, key: str) -> None:
        """Spend one token of ``key`` (the caller checked that it had one)."""
        if self.off:
            return
        now = self.clock()
        tokens, _ = self._level(key, now)
        self._store(key, (tokens - 1.0, now, False))

    def refuse(self, key: str) -> bool:
        """Note a refused message of ``key``; True when it is the first since ``key`` was last admitted."""
        if self.off:
            return False
        now = self.clock()
        tokens, refused = self._level(key, now)
        self._store(key, (tokens, now, True))
        return not refused

    def _store(self, key: str, bucket: Tuple[float, float, bool]) -> None:
        self._buckets[key] = bucket
        self._buckets.move_to_end(key)
        now = bucket[1]
        # Amortised clean-up: the oldest buckets have most likely filled up again (the same as none).
        for _ in range(2):
            oldest = next(iter(self._buckets))
            if oldest == key or self._level(oldest, now)[0] < self.burst:
                break
            del self._buckets[oldest]
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)


@dataclass(frozen=True)
class Verdict:
    """Whether a message may reach the assistant; when not, which limit ('address' or 'conversation')
    refused it, how many seconds until it would pass, and whether to tell the citizen (the first refusal
    of a run: later ones stay quiet, so a flood does not become a flood of replies)."""

    ok: bool
    limit: Optional[str] = None
    retry_after: float = 0.0
    notify: bool = False


class Gate:
    """One message admitted when both its client's and its conversation's bucket hold a token; it takes
    one from each. A refused message takes none, so a client that keeps sending still gets through at
    the sustained rate."""

    def __init__(self, per_address: RateLimiter, per_conversation: RateLimiter):
        self.per_address = per_address
        self.per_conversation = per_conversation

    @classmethod
    def of(cls, address_per_minute: float, address_burst: int, conversation_per_minute: float,
           conversation_burst: int, clock: Clock = time.monotonic, max_keys: int = 50_000) -> Gate:
        """A gate with these allowances (0 turns a limit off)."""
        return cls(RateLimiter(address_per_minute, address_burst, clock, max_keys),
                   RateLimiter(conversation_per_minute, conversation_burst, clock, max_keys))

    def admit(self, address: str, conversation: str) -> Verdict:
        """Admit or refuse one message from ``address`` in ``conversation`` (keys of any kind: 'ip:…', 'tg-…')."""
        for limit, limiter, key in (("address", self.per_address, address),
                                    ("conversation", self.per_conversation, conversation)):
            if not limiter.off and limiter.tokens(key) < 1.0:
                first = limiter.refuse(key)
                return Verdict(False, limit, limiter.wait(key), first)
        self.per_address.take(address)
        self.per_conversation.take(conversation)
        return Verdict(True)
