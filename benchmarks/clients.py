"""Simulated citizens' addresses for the benchmarks.

The assistant limits messages per client address; a benchmark that sends everything from 127.0.0.1
would measure the limiter, not the assistant. As a department deploys it (behind a reverse proxy
named in MOTCUA_TRUSTED_PROXIES), each simulated citizen presents its own address in X-Forwarded-For.
The addresses are from 198.18.0.0/15, the range set aside for benchmarks (RFC 2544): header text only,
nothing is ever sent to them.
"""
from __future__ import annotations

import hashlib

PROXY_ENV = {"MOTCUA_TRUSTED_PROXIES": "127.0.0.1"}


def address_of(conversation: str) -> str:
    """A stable benchmark-range address for one simulated citizen."""
    digest = hashlib.sha256(conversation.encode("utf-8")).digest()
    return f"198.{18 + digest[0] % 2}.{digest[1]}.{digest[2] % 254 + 1}"


def forwarded(conversation: str) -> dict:
    """The header a reverse proxy adds for this citizen."""
    return {"X-Forwarded-For": address_of(conversation)}
