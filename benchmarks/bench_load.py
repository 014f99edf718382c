"""Load benchmark over Rasa's REST channel: motcua vs a default `rasa init` project, same client.

In one run it starts (on loopback only) the motcua action server + Rasa server, and a default
`rasa init` project (the baseline a Rasa user starts from), then measures for each:
closed loop (no think time) at 1 and 20 concurrent conversations (each simulated citizen goes
once through a whole conversation, then a new one starts): per-message median and p95, messages
per second; and an open loop at 10 messages per second (p95); `--endless` adds 20 conversations
that never end. For motcua the closed loops at 1 and 20 and the open loop run again on texts never
sent before (questions built from procedure names, none twice), the cost of a citizen's own wording
that no cache spares: the fixed question list repeats, and repeated texts skip NLU. It also times the
knowledge base's search alone, so Rasa's own overhead is visible. Request loops are bounded
in count and time. Run: `make bench-load` (needs `make train` and `make model` first).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp

from benchmarks.clients import PROXY_ENV, forwarded

ROOT = Path(__file__).resolve().parent.parent
RASA = str(Path(sys.executable).parent / "rasa")
QUESTIONS = [
    "xin chào", "lam lai so do bi mat can giay to gi", "còn lệ phí thì sao?", "mất bao lâu",
    "tach thua nop o dau", "nop online dc ko", "Thủ tục sang tên sổ đỏ", "cảm ơn",
    "xin giay phep moi truong can gi", "giờ làm việc thế nào", "dang ky gieng khoan", "tạm biệt",
]
BASELINE_QUESTIONS = ["hello", "I am sad", "yes", "no", "goodbye", "are you a bot?", "great", "hi"]
# Questions as citizens word them, around a procedure's name cut short; none of them is in QUESTIONS,
# so the unseen-text phases never hit a cache (the NLU cache, the embedding cache).
UNSEEN_TEMPLATES = ["{} cần giấy tờ gì", "lệ phí {} bao nhiêu", "{} mất bao lâu", "{} nộp ở đâu",
                    "cho hỏi thủ tục {}", "{} nộp online được không", "điều kiện để {}", "các bước {}"]


def unseen_questions(names: List[str], n: int, seed: int = 7) -> List[str]:
    """``n`` distinct questions built from procedure names and aspect templates, half of them unaccented."""
    from core.text import fold

    rng = random.Random(seed)
    out: Dict[str, None] = {}
    for _ in range(n * 50):
        if len(out) >= n:
            break
        words = rng.choice(names).lower().split()
        text = rng.choice(UNSEEN_TEMPLATES).format(" ".join(words[:rng.randint(3, 9)]))
        out[fold(text) if rng.random() < 0.5 else text] = None
    return list(out)


def percentile(values: List[float], q: float) -> float:
    """The q-quantile (0..1) of values."""
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1)))] if values else float("nan")


async def send(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> float:
    """One message from its citizen's own address; returns its latency in ms (raises on HTTP errors,
    a refusal by the rate limits (429) included)."""
    start = time.perf_counter()
    async with session.post(url, json={"sender": sender, "message": text}, headers=forwarded(sender)) as resp:
        resp.raise_for_status()
        await resp.json()
    return (time.perf_counter() - start) * 1000


async def closed_loop(url: str, questions: List[str], concurrency: int, seconds: float, max_messages: int,
                      conversation_length: Optional[int] = None, shared: bool = False) -> Dict:
    """``concurrency`` conversations, each sending its next message as soon as the reply comes; with
    ``conversation_length``, each simulated citizen starts a new conversation after that many messages.
    Each conversation goes through ``questions`` in order; ``shared``: all of them draw the next text
    from one pass through the list instead, so no text is sent twice while the list lasts."""
    latencies: List[float] = []
    errors = 0
    drawn = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        async def conversation(i: int) -> None:
            nonlocal errors, drawn
            sender = f"load-{concurrency}-{i}-{random.random():.6f}"
            n = 0
            while time.perf_counter() < deadline and len(latencies) < max_messages:
                if conversation_length and n and n % conversation_length == 0:
                    sender = f"load-{concurrency}-{i}-{random.random():.6f}"
                text = questions[(drawn if shared else n) % len(questions)]
                drawn += 1
                try:
                    latencies.append(await send(session, url, sender, text))
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    errors += 1
                n += 1

        start = time.perf_counter()
        await asyncio.gather(*(conversation(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {
        "n": len(latencies),
        "errors": errors,
        "median": statistics.median(latencies) if latencies else float("nan"),
        "p95": percentile(latencies, 0.95),
        "rate": len(latencies) / elapsed,
    }


async def open_loop(url: str, questions: List[str], rate: float, seconds: float) -> Dict:
    """Poisson arrivals at ``rate`` messages per second, each in its own conversation slot."""
    latencies: List[float] = []
    errors = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        tasks = []
        start = time.perf_counter()
        i = 0
        while time.perf_counter() - start < seconds:
            async def one(k: int) -> None:
                nonlocal errors
                try:
                    latencies.append(await send(session, url, f"open-{k % 600}", questions[k % len(questions)]))
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    errors += 1
            tasks.append(asyncio.create_task(one(i)))
            i += 1
            await asyncio.sleep(random.expovariate(rate))
        await asyncio.gather(*tasks)
    return {
        "n": len(latencies),
        "errors": errors,
        "median": statistics.median(latencies) if latencies else float("nan"),
        "p95": percentile(latencies, 0.95),
    }


def start(cmd: List[str], cwd: Path, log_path: Path, env: Optional[dict] = None) -> subprocess.Popen:
    """Start a server in its own process group, its output to ``log_path``."""
    log = open(log_path, "a")
    return subprocess.Popen(cmd, cwd=cwd, env=env or dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def report(name: str, results: Dict[str, Dict]) -> None:
    """Print one system's figures."""
    for label, r in results.items():
        extra = f", {r['rate']:.1f} msg/s" if "rate" in r else ""
        print(f"  {name:<10} {label:<22} n={r['n']:>4}  median {r['median']:7.1f} ms  p95 {r['p95']:7.1f} ms"
              f"{extra}  errors {r['errors']}")


def measure(port: int, questions: List[str], seconds: float, endless: bool = False,
            unseen: Optional[List[str]] = None) -> Dict[str, Dict]:
    """Closed loop at 1 and 20, open loop at 10 msg/s.

    In the closed loops each simulated citizen goes once through the question list (a whole
    conversation, greeting to goodbye) and a new citizen takes their place; ``endless`` also
    measures 20 conversations that never end, where Rasa's per-message cost grows with the
    conversation's length (it re-reads every past turn to predict the next action). ``unseen``
    (texts never sent before, none twice) adds the closed loops and the open loop again with them:
    the cost of a citizen's own wording, which no cache spares.
    """
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    length = len(questions)
    out = {"closed, 1 conversation": asyncio.run(closed_loop(url, questions, 1, seconds, 2000, length)),
           "closed, 20 conversations": asyncio.run(closed_loop(url, questions, 20, seconds, 4000, length))}
    if endless:
        out["closed, 20 endless"] = asyncio.run(closed_loop(url, questions, 20, seconds, 4000))
    out["open, 10 msg/s"] = asyncio.run(open_loop(url, questions, 10.0, seconds))
    if unseen:  # three phases that never share a text; 20 in flight may overrun a count by 20
        third = len(unseen) // 3
        out["closed, 1, unseen texts"] = asyncio.run(
            closed_loop(url, unseen[:third], 1, seconds, third, length, shared=True))
        out["closed, 20, unseen texts"] = asyncio.run(
            closed_loop(url, unseen[third:2 * third], 20, seconds, third - 20, length, shared=True))
        out["open, 10 msg/s, unseen"] = asyncio.run(open_loop(url, unseen[2 * third:], 10.0, seconds))
    return out


def limits(on: bool) -> Dict[str, str]:
    """The servers' abuse limits: on at their defaults, but a scripted conversation (all of QUESTIONS
    as fast as replies come, which no citizen types) may send its whole length at once; or all off."""
    if not on:
        return {name: "0" for name in ("MOTCUA_RATE_ADDRESS_PER_MINUTE", "MOTCUA_RATE_CONVERSATION_PER_MINUTE")}
    from core.settings import Settings

    return {"MOTCUA_RATE_CONVERSATION_BURST": str(max(Settings().channels.rate_conversation_burst, len(QUESTIONS)))}


def measure_motcua(settings, build: Path, seconds: float, endless: bool, unseen: List[str],
                   limits_env: Dict[str, str]) -> Dict[str, Dict]:
    """Start motcua's servers as `motcua run` does, warm up, measure, stop."""
    from motcua.runner import rasa_commands, server_env, stop_all, wait_ready, write_runtime_files

    endpoints, credentials = write_runtime_files(settings, build / "bench")
    env = {**server_env(settings), **PROXY_ENV, **limits_env}
    procs = [start(cmd, ROOT, build / f"bench-motcua-{i}.log", env)
             for i, cmd in enumerate(rasa_commands(settings, endpoints, credentials))]
    try:
        if not wait_ready(f"http://127.0.0.1:{settings.servers.rasa_port}/", 300):
            sys.exit("motcua server did not start (see build/bench-*.log)")
        url = f"http://127.0.0.1:{settings.servers.rasa_port}/webhooks/rest/webhook"
        asyncio.run(closed_loop(url, QUESTIONS, 4, 15, 200))  # warm up: models loaded, caches filled
        return measure(settings.servers.rasa_port, QUESTIONS, seconds, endless, unseen)
    finally:
        stop_all(procs, timeout=30)


def main() -> None:
    """Run both systems and the search alone."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30, help="duration of each load phase")
    parser.add_argument("--workers", type=int, default=2, help="also measure this many Rasa workers (Redis lock store)")
    parser.add_argument("--endless", action="store_true", help="also measure 20 conversations that never end")
    parser.add_argument("--limits-off", action="store_true",
                        help="also measure one worker with the rate limits off (their cost)")
    args = parser.parse_args()
    from core.settings import get_settings
    from motcua.runner import stop_all, wait_ready

    settings = get_settings()
    settings = settings.replaced(rasa_port=5105, actions_port=5155, rest_channel=True,
                                 tracker_store_url="sqlite:///" + str(ROOT / "build/bench-tracker.db"))
    if not settings.servers.rasa_model.exists():
        sys.exit("no Rasa model: run `make train` first")

    # Knowledge-base search alone (in-process, after load), the floor under every reply.
    from knowledge_base.service import KnowledgeBase

    kb = KnowledgeBase(settings)
    names = [p.name for p in kb.catalogue.procedures.values()]
    kb.search("warm up")
    for label, questions in (("repeated questions (the embedding cache hits)", QUESTIONS * 5),
                             ("unseen texts", unseen_questions(names, 200, seed=0))):
        times = []
        for q in questions:
            t = time.perf_counter()
            kb.search(q)
            times.append((time.perf_counter() - t) * 1000)
        print(f"knowledge-base search alone, {label}: median {statistics.median(times):.1f} ms, "
              f"p95 {percentile(times, 0.95):.1f} ms")
    del kb

    results = {}
    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    redis = None
    if args.workers > 1:
        from motcua.localservers import LocalRedis

        redis = LocalRedis().start()  # Rasa needs a shared lock store for several workers
    try:
        runs = [(workers, True) for workers in sorted({1, args.workers})] + ([(1, False)] if args.limits_off else [])
        for workers, limits_on in runs:
            name = ("motcua" if workers == 1 else f"motcua x{workers}") + ("" if limits_on else " no limits")
            run_settings = settings.replaced(rasa_workers=workers, lock_store_url=redis.url if workers > 1 else None)
            # A fresh list per server run: each server's caches start empty, and no text repeats within a run.
            unseen = unseen_questions(names, 3 * int(args.seconds * 160), seed=workers + 10 * (not limits_on))
            results[name] = measure_motcua(run_settings, build, args.seconds, args.endless, unseen, limits(limits_on))
    finally:
        if redis:
            redis.stop()

    with tempfile.TemporaryDirectory() as tmp:
        start_t = time.perf_counter()
        init = subprocess.run([RASA, "init", "--no-prompt", "--init-dir", tmp], capture_output=True, text=True)
        init_s = time.perf_counter() - start_t
        if init.returncode != 0:
            sys.exit("rasa init failed: " + init.stderr[-1000:])
        model = next(Path(tmp, "models").glob("*.tar.gz"))
        base = [start([RASA, "run", "--model", str(model), "--port", "5205", "--interface", "127.0.0.1"], Path(tmp),
                      build / "bench-baseline.log")]
        try:
            if not wait_ready("http://127.0.0.1:5205/", 300):
                sys.exit("baseline server did not start")
            asyncio.run(closed_loop("http://127.0.0.1:5205/webhooks/rest/webhook", BASELINE_QUESTIONS, 4, 15, 200))
            results["rasa init"] = measure(5205, BASELINE_QUESTIONS, args.seconds, args.endless)
        finally:
            stop_all(base, timeout=30)
    print(f"\nbaseline `rasa init` (project creation + training): {init_s:.0f} s")
    for name, res in results.items():
        report(name, res)
    baseline = results["rasa init"]
    for name, ours in results.items():
        if name == "rasa init":
            continue
        ratio = ours["closed, 20 conversations"]["rate"] / baseline["closed, 20 conversations"]["rate"]
        print(f"\n{name}: throughput at 20 concurrent conversations / rasa init = {ratio:.2f}x (target >= 3x); "
              f"open loop 10 msg/s p95 {ours['open, 10 msg/s']['p95']:.0f} ms (target <= 150 ms)")
        unseen_ratio = ours["closed, 20, unseen texts"]["rate"] / baseline["closed, 20 conversations"]["rate"]
        print(f"  {name}, texts never seen before: 20 conversations / rasa init = {unseen_ratio:.2f}x; "
              f"open loop 10 msg/s p95 {ours['open, 10 msg/s, unseen']['p95']:.0f} ms")
        if args.endless:
            ratio = ours["closed, 20 endless"]["rate"] / baseline["closed, 20 endless"]["rate"]
            print(f"  {name}: 20 endless conversations / rasa init = {ratio:.2f}x")
    shutil.rmtree(build / "bench", ignore_errors=True)


if __name__ == "__main__":
    main()
