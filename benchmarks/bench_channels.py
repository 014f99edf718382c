"""Load check per channel against its fake API: 200 conversations x 5 messages, 20 at a time.

Starts `motcua run` with Telegram (polling through the fake Bot API's getUpdates) and Zalo (signed
webhook events, replies through the fake OA API) on, then for each channel runs the conversations
in a closed loop: each conversation sends a message, waits for all of its replies at the fake API,
then sends the next. A first, unloaded conversation per channel learns how many replies each step
gets (the assistant is deterministic), so a missing reply counts as lost and an extra one as a
duplicate. The web widget's channel (plain HTTP, no external API) runs the same load as the
baseline of the same run. Prints median and p95 reply latency (until the last reply of a message)
and the ratio of each channel's p95 to the baseline's. Run: `make bench-channels`.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Dict, List, Tuple

from benchmarks.bench_load import percentile

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = [
    ["xin chào", "lam lai so do bi mat can giay to gi", "còn lệ phí thì sao?", "nop o dau", "cảm ơn"],
    ["chào bạn", "tách thửa mất bao lâu", "can nhung giay to gi", "nộp online được không", "cam on nhieu"],
]
TG_TOKEN, TG_SECRET = "4242:BENCH", "bench-secret"
ZALO = ("5001", "oa-key", "app-secret", "tok", "ref")


def post(url: str, body: bytes, headers: dict) -> Tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return resp.status, resp.read()


class Channel:
    """How to send a message on a channel and count the replies a conversation got so far."""

    def __init__(self, name: str, send: Callable[[str, str], None], count: Callable[[str], int],
                 wait: Callable[[Callable[[], bool], float], bool]):
        self.name, self.send, self.count, self.wait = name, send, count, wait

    def step(self, conversation: str, text: str, expect_total: int, timeout: float = 120) -> float:
        """Send ``text``, wait until ``expect_total`` replies in all; seconds until the last one arrived."""
        started = time.monotonic()
        self.send(conversation, text)
        if not self.wait(lambda: self.count(conversation) >= expect_total, timeout):
            raise TimeoutError(f"{self.name}: {conversation} got {self.count(conversation)} of {expect_total} replies")
        return self.last_at(conversation) - started

    def last_at(self, conversation: str) -> float:
        return time.monotonic()


def calibrate(channel: Channel, conversation: str, script: List[str], quiet_s: float = 3.0) -> List[int]:
    """Replies per step of ``script`` on an idle server (waits for a quiet period after each step)."""
    counts = []
    for text in script:
        before = channel.count(conversation)
        channel.send(conversation, text)
        channel.wait(lambda before=before: channel.count(conversation) > before, 60)
        last = channel.count(conversation)
        while True:
            time.sleep(quiet_s)
            if channel.count(conversation) == last:
                break
            last = channel.count(conversation)
        counts.append(last - before)
    return counts


def load(channel: Channel, make_id: Callable[[int], str], conversations: int, concurrency: int) -> Dict:
    expected = {i: calibrate(channel, make_id(10_000 + i), script) for i, script in enumerate(SCRIPTS)}
    latencies: List[float] = []
    errors: List[str] = []

    def one(n: int) -> None:
        conversation, script = make_id(n), SCRIPTS[n % len(SCRIPTS)]
        total = 0
        for text, count in zip(script, expected[n % len(SCRIPTS)]):
            total += count
            try:
                latencies.append(channel.step(conversation, text, total))
            except TimeoutError as exc:
                errors.append(str(exc))
                return

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(conversations)))
    elapsed = time.monotonic() - started
    time.sleep(3)  # late extras would be duplicates
    want = sum(sum(expected[n % len(SCRIPTS)]) for n in range(conversations))
    got = sum(channel.count(make_id(n)) for n in range(conversations))
    return {"messages": len(latencies), "lost": max(want - got, 0), "duplicated": max(got - want, 0),
            "errors": errors[:3], "median_ms": percentile(latencies, 0.5) * 1000,
            "p95_ms": percentile(latencies, 0.95) * 1000, "msg_per_s": len(latencies) / elapsed,
            "replies_per_step": expected}


def telegram_channel(tg) -> Channel:
    class TelegramChannel(Channel):
        def last_at(self, conversation):
            return tg.sent(int(conversation))[-1]["at"]

    return TelegramChannel("telegram", lambda c, t: tg.push(tg.text_update(int(c), t)),
                           lambda c: len(tg.sent(int(c))), tg.wait_for)


def zalo_channel(za, rasa_url: str) -> Channel:
    from channels.fakes import zalo_event
    from channels.zalo import signature

    def send(user, text):
        event = zalo_event(ZALO[0], user, text)
        body = json.dumps(event).encode()
        post(
            f"{rasa_url}/webhooks/zalo/webhook",
            body,
            {"X-ZEvent-Signature": signature(ZALO[0], body, event["timestamp"], ZALO[1])},
        )

    class ZaloChannel(Channel):
        def last_at(self, conversation):
            with za.lock:
                return za.by_user[conversation][-1]["at"]

    return ZaloChannel("zalo", send, lambda u: len(za.texts(u)), za.wait_for)


def web_channel(rasa_url: str) -> Channel:
    import threading

    from benchmarks.clients import forwarded

    got: Dict[str, int] = {}
    lock = threading.Condition()

    def send(sender, text):
        _, body = post(f"{rasa_url}/webhooks/web/webhook", json.dumps({"sender": sender, "message": text}).encode(),
                       forwarded(sender))
        with lock:
            got[sender] = got.get(sender, 0) + len(json.loads(body))
            lock.notify_all()

    def wait(predicate, timeout):
        with lock:
            return lock.wait_for(predicate, timeout)

    return Channel("web (baseline)", send, lambda s: got.get(s, 0), wait)


def main() -> None:
    from benchmarks.clients import PROXY_ENV
    from channels.fakes import FakeTelegram, FakeZalo

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--channels", default="web,telegram,zalo", help="which channels to load (web is the baseline)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="motcua-bench-channels-"))
    tg = FakeTelegram(TG_TOKEN).start()
    za = FakeZalo(ZALO[0], ZALO[2], ZALO[3], ZALO[4]).start()
    port = 5605
    env = dict(
        os.environ,
        MOTCUA_RASA_PORT=str(port),
        MOTCUA_ACTIONS_PORT="5655",
        MOTCUA_WEB_PORT="8605",
        MOTCUA_TRACKER_STORE_URL=f"sqlite:///{tmp / 'tracker.db'}",
        MOTCUA_DATABASE_URL=f"sqlite:///{tmp / 'motcua.db'}",
        MOTCUA_DOSSIER_KEY_FILE=str(tmp / "key"),
        MOTCUA_DEMO_DOSSIERS="0",
        MOTCUA_CHANNELS_FILE=str(tmp / "none"),
        TELEGRAM_BOT_TOKEN=TG_TOKEN,
        TELEGRAM_WEBHOOK_SECRET=TG_SECRET,
        TELEGRAM_API_BASE=tg.url,
        MOTCUA_TELEGRAM_MODE="polling",
        ZALO_APP_ID=ZALO[0],
        ZALO_OA_SECRET_KEY=ZALO[1],
        ZALO_APP_SECRET=ZALO[2],
        ZALO_ACCESS_TOKEN=ZALO[3],
        ZALO_REFRESH_TOKEN=ZALO[4],
        ZALO_API_BASE=za.url,
        ZALO_OAUTH_BASE=za.url,
        PYTHONUNBUFFERED="1",
        MOTCUA_ACTION_SECRET_FILE=str(tmp / "action.key"),
        **PROXY_ENV,
    )
    log = tmp / "run.log"
    proc = subprocess.Popen([sys.executable, "-m", "motcua", "run"], cwd=ROOT, env=env, stdout=open(log, "w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 600
        while "motcua is ready" not in log.read_text():
            if proc.poll() is not None or time.time() > deadline:
                sys.exit("motcua run did not start:\n" + log.read_text()[-3000:])
            time.sleep(1)
        rasa_url = f"http://127.0.0.1:{port}"
        print(f"{args.conversations} conversations x 5 messages, {args.concurrency} at a time, per channel "
              f"(log: {log})", flush=True)
        results = {}
        wanted = set(args.channels.split(",")) | {"web"}
        for key, channel, make_id in (("web", web_channel(rasa_url), lambda n: f"web-bench-{n:06d}"),
                                      ("telegram", telegram_channel(tg), lambda n: str(700_000 + n)),
                                      ("zalo", zalo_channel(za, rasa_url), lambda n: f"zb{n}")):
            if key not in wanted:
                continue
            results[channel.name] = load(channel, make_id, args.conversations, args.concurrency)
            r = results[channel.name]
            print(f"  {channel.name:15s} messages {r['messages']:5d}  lost {r['lost']}  duplicated {r['duplicated']}  "
                  f"median {r['median_ms']:.0f} ms  p95 {r['p95_ms']:.0f} ms  {r['msg_per_s']:.1f} msg/s"
                  + (f"  errors: {r['errors']}" if r["errors"] else ""), flush=True)
        base = results["web (baseline)"]
        print("ratios to the web baseline of this run (p95, median): " + ", ".join(
            f"{name} {r['p95_ms'] / base['p95_ms']:.2f}x, {r['median_ms'] / base['median_ms']:.2f}x"
            for name, r in results.items() if r is not base))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        tg.stop()
        za.stop()


if __name__ == "__main__":
    main()
