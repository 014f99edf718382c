"""Answer benchmark (issue #23): are the assistant's replies right, whole and short enough?

benchmarks/answer_conversations.yml holds conversations the developers wrote over the department's
procedures (cases, applicant types, follow-ups, other agencies' questions, a few out of the catalogue).
Each turn lists the facts its reply must contain, the ones it must not, and the length budget of any one
message. This script starts motcua's servers as `motcua run` does (loopback only, the REST channel on, rate
limits off, a tracker store of its own in build/), plays every conversation under a fresh sender id over
`POST /webhooks/rest/webhook` (a `tap` turn sends the payload of the previous reply's button whose title
contains the text), and prints the share of turns right, the conversations fully right, the median and p95
reply length (characters of all bot messages of a turn, joined) and the failing turns. Target: >= 95 % of
turns right. It is a benchmark: the exit code is 0 whatever the score.

Run: `make bench-answers` (needs `make train` and `make index` first); `--only <id part>` plays some
conversations, `--verbose` prints every reply, `--url` uses a server already running.
"""
from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import aiohttp
import yaml

from benchmarks.bench_load import limits, percentile, start
from benchmarks.clients import PROXY_ENV, forwarded
from core.text import fold

ROOT = Path(__file__).resolve().parent.parent
CONVERSATIONS = Path(__file__).resolve().parent / "answer_conversations.yml"
TARGET = 0.95
DEFAULT_BUDGET = 1500
RASA_PORT, ACTIONS_PORT = 5125, 5175  # not bench_load's 5105/5155: both may run on one machine
TURN_KEYS = {"say", "tap", "must", "must_not", "budget"}

# A fact: one string, or a list of strings of which one must occur (the same fact in several wordings).
Fact = Union[str, List[str]]


@dataclass(frozen=True)
class Turn:
    """One citizen turn and what its reply is checked for."""

    say: Optional[str]
    tap: Optional[str]
    must: List[Fact]
    must_not: List[str]
    budget: int

    @property
    def text(self) -> str:
        """What the citizen did, as shown in the report."""
        return self.say if self.say is not None else f"[tap] {self.tap}"


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: List[Turn]


@dataclass
class TurnResult:
    conversation: str
    index: int
    said: str
    failures: List[str] = field(default_factory=list)
    reply: str = ""

    @property
    def right(self) -> bool:
        return not self.failures


def _strings(value: Any, where: str, name: str, nested: bool) -> List[Any]:
    """A list of non-empty strings (with ``nested``, an item may itself be a non-empty list of them)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}: {name} must be a list")
    for item in value:
        if nested and isinstance(item, list):
            if not item or not all(isinstance(s, str) and s.strip() for s in item):
                raise ValueError(f"{where}: {name} alternatives must be a non-empty list of non-empty strings")
        elif not isinstance(item, str) or not item.strip():
            raise ValueError(f"{where}: {name} items must be non-empty strings")
    return list(value)


def load_conversations(path: Path = CONVERSATIONS) -> List[Conversation]:
    """The benchmark's conversations, validated: unique ids; every turn has say xor tap, must / must_not
    lists (a must item may be a list of alternatives), an integer budget; a tap never opens a conversation."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list) or not data:
        raise ValueError(f"{path}: expected a non-empty list of conversations")
    conversations: List[Conversation] = []
    seen = set()
    for n, entry in enumerate(data, 1):
        if not isinstance(entry, dict) or set(entry) != {"id", "turns"}:
            raise ValueError(f"{path}: conversation {n} must have exactly the keys id and turns")
        cid = entry["id"]
        if not isinstance(cid, str) or not cid.strip() or cid in seen:
            raise ValueError(f"{path}: conversation {n}: id missing or not unique: {cid!r}")
        seen.add(cid)
        raw_turns = entry["turns"]
        if not isinstance(raw_turns, list) or not raw_turns:
            raise ValueError(f"{path}: {cid}: turns must be a non-empty list")
        turns = []
        for i, raw in enumerate(raw_turns, 1):
            where = f"{path}: {cid} turn {i}"
            if not isinstance(raw, dict):
                raise ValueError(f"{where}: a turn must be a mapping")
            unknown = set(raw) - TURN_KEYS
            if unknown:
                raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
            if ("say" in raw) == ("tap" in raw):
                raise ValueError(f"{where}: exactly one of say and tap")
            action = raw.get("say", raw.get("tap"))
            if not isinstance(action, str) or not action.strip():
                raise ValueError(f"{where}: say / tap must be a non-empty string")
            if "tap" in raw and i == 1:
                raise ValueError(f"{where}: a conversation cannot open with a tap")
            budget = raw.get("budget", DEFAULT_BUDGET)
            if isinstance(budget, bool) or not isinstance(budget, int) or budget <= 0:
                raise ValueError(f"{where}: budget must be a positive integer")
            turns.append(Turn(say=raw.get("say"), tap=raw.get("tap"),
                              must=_strings(raw.get("must"), where, "must", nested=True),
                              must_not=_strings(raw.get("must_not"), where, "must_not", nested=False),
                              budget=budget))
        conversations.append(Conversation(cid, turns))
    return conversations


def _norm(text: str) -> str:
    return fold(text).lower()


def texts_of(replies: Sequence[Dict[str, Any]]) -> List[str]:
    """The bot messages' texts."""
    return [r["text"] for r in replies if isinstance(r.get("text"), str) and r["text"]]


def button_titles(replies: Sequence[Dict[str, Any]]) -> List[str]:
    return [str(b.get("title", "")) for r in replies for b in (r.get("buttons") or [])]


def find_button(replies: Sequence[Dict[str, Any]], text: str) -> Optional[Dict[str, Any]]:
    """The first button of ``replies`` whose title contains ``text`` (folded, case-insensitive)."""
    wanted = _norm(text)
    for r in replies:
        for b in r.get("buttons") or []:
            if wanted in _norm(str(b.get("title", ""))):
                return b
    return None


def check_turn(turn: Turn, replies: Sequence[Dict[str, Any]]) -> List[str]:
    """Why this reply is wrong (empty when right): facts missing from the texts and button titles, facts
    that must not be in the texts, messages over budget."""
    texts = texts_of(replies)
    if not texts:
        return ["no reply"]
    said = _norm("\n".join(texts))
    offered = _norm("\n".join(texts + button_titles(replies)))
    failures = []
    for fact in turn.must:
        options = fact if isinstance(fact, list) else [fact]
        if not any(_norm(o) in offered for o in options):
            failures.append("missing " + " | ".join(repr(o) for o in options))
    for fact in turn.must_not:
        if _norm(fact) in said:
            failures.append(f"has {fact!r}")
    for n, text in enumerate(texts, 1):
        if len(text) > turn.budget:
            failures.append(f"message {n} is {len(text)} characters (budget {turn.budget})")
    return failures


async def post(session: aiohttp.ClientSession, url: str, sender: str, message: str) -> List[Dict[str, Any]]:
    async with session.post(url, json={"sender": sender, "message": message}, headers=forwarded(sender)) as resp:
        resp.raise_for_status()
        body = await resp.json()
    return body if isinstance(body, list) else []


async def play(session: aiohttp.ClientSession, url: str, conversation: Conversation, sender: str) -> List[TurnResult]:
    """One conversation, turn by turn, under its own sender id."""
    results = []
    previous: List[Dict[str, Any]] = []
    for index, turn in enumerate(conversation.turns, 1):
        result = TurnResult(conversation.id, index, turn.text)
        message = turn.say
        if turn.tap is not None:
            button = find_button(previous, turn.tap)
            if button is None:
                titles = ", ".join(repr(t) for t in button_titles(previous)) or "none"
                result.failures.append(f"no button with {turn.tap!r} (buttons: {titles})")
                results.append(result)
                previous = []
                continue
            message = str(button.get("payload") or button.get("title"))
        try:
            replies = await post(session, url, sender, message or "")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            result.failures.append(f"request failed: {exc!r}")
            replies = []
        else:
            result.failures.extend(check_turn(turn, replies))
        result.reply = "\n".join(texts_of(replies))
        results.append(result)
        previous = replies
    return results


async def play_all(url: str, conversations: List[Conversation], concurrency: int,
                   timeout: float) -> List[TurnResult]:
    """Every conversation under a fresh sender id (a run tag keeps them new across runs), a few at a time."""
    tag = secrets.token_hex(4)
    gate = asyncio.Semaphore(max(concurrency, 1))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        async def one(c: Conversation) -> List[TurnResult]:
            async with gate:
                return await play(session, url, c, f"bench-answers-{tag}-{c.id}")

        done = await asyncio.gather(*(one(c) for c in conversations))
    return [r for results in done for r in results]


def report(results: List[TurnResult], verbose: bool = False) -> str:
    """The benchmark's figures and its failing turns."""
    lines = []
    if verbose:
        for r in results:
            lines.append(f"--- {r.conversation} #{r.index} {'OK' if r.right else 'WRONG'}: {r.said}")
            lines.append(r.reply or "(no reply)")
            lines.extend(f"    ! {f}" for f in r.failures)
        lines.append("")
    total = len(results)
    right = sum(r.right for r in results)
    share = right / total if total else 0.0
    by_conversation: Dict[str, bool] = {}
    for r in results:
        by_conversation[r.conversation] = by_conversation.get(r.conversation, True) and r.right
    lengths = [len(r.reply) for r in results if r.reply]
    lines.append(f"turns right: {right}/{total} ({share:.1%})")
    lines.append(f"conversations fully right: {sum(by_conversation.values())}/{len(by_conversation)}")
    if lengths:
        lines.append(f"reply length (characters per turn): median {statistics.median(lengths):.0f}, "
                     f"p95 {percentile(lengths, 0.95):.0f}")
    failing = [r for r in results if not r.right]
    if failing:
        lines.append(f"\nfailing turns ({len(failing)}):")
        for r in failing:
            lines.append(f"- {r.conversation} #{r.index}: {r.said}")
            lines.append(f"    {'; '.join(r.failures)}")
            reply = " ".join(r.reply.split())
            lines.append(f"    reply: {reply[:200]!r}")
    verdict = "MET" if share >= TARGET else "MISSED"
    lines.append(f"\nTARGET {verdict}: {share:.1%} of turns right (target >= {TARGET:.0%})")
    return "\n".join(lines)


def select(conversations: List[Conversation], only: Optional[str]) -> List[Conversation]:
    return [c for c in conversations if not only or only in c.id]


def run_servers_and_play(conversations: List[Conversation], concurrency: int, timeout: float) -> List[TurnResult]:
    """Start motcua's servers as `motcua run` does (loopback, REST channel, rate limits off, a tracker store of
    the benchmark's own), play the conversations, stop the servers."""
    from core.settings import get_settings
    from motcua.runner import rasa_commands, server_env, stop_all, wait_ready, write_runtime_files

    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    tracker = build / "bench-answers-tracker.db"
    tracker.unlink(missing_ok=True)
    settings = get_settings().replaced(rasa_port=RASA_PORT, actions_port=ACTIONS_PORT, rest_channel=True,
                                       tracker_store_url="sqlite:///" + str(tracker))
    if not settings.servers.rasa_model.exists():
        sys.exit("no Rasa model: run `make train` first")
    runtime = build / "bench-answers"
    endpoints, credentials = write_runtime_files(settings, runtime)
    env = {**server_env(settings), **PROXY_ENV, **limits(False)}
    logs = [build / f"bench-answers-{i}.log" for i in range(2)]
    for log in logs:
        log.unlink(missing_ok=True)
    procs = [start(cmd, ROOT, log, env) for cmd, log in zip(rasa_commands(settings, endpoints, credentials), logs)]
    try:
        if not wait_ready(f"http://127.0.0.1:{settings.servers.rasa_port}/", 300):
            sys.exit("motcua server did not start (see build/bench-answers-*.log)")
        url = f"http://127.0.0.1:{settings.servers.rasa_port}/webhooks/rest/webhook"
        return asyncio.run(play_all(url, conversations, concurrency, timeout))
    finally:
        stop_all(procs, timeout=30)
        shutil.rmtree(runtime, ignore_errors=True)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="play only the conversations whose id contains this text")
    parser.add_argument("--verbose", action="store_true", help="print every turn's reply")
    parser.add_argument("--conversations", type=Path, default=CONVERSATIONS, help="the conversations file")
    parser.add_argument("--url", help="REST webhook of a server already running (no servers started)")
    parser.add_argument("--concurrency", type=int, default=4, help="conversations played at once")
    parser.add_argument("--timeout", type=float, default=120, help="seconds allowed for one reply")
    args = parser.parse_args(argv)
    conversations = select(load_conversations(args.conversations), args.only)
    if not conversations:
        sys.exit(f"no conversation id contains {args.only!r}")
    print(f"{len(conversations)} conversations, {sum(len(c.turns) for c in conversations)} turns")
    if args.url:
        results = asyncio.run(play_all(args.url, conversations, args.concurrency, args.timeout))
    else:
        results = run_servers_and_play(conversations, args.concurrency, args.timeout)
    print(report(results, args.verbose))


if __name__ == "__main__":
    main()
