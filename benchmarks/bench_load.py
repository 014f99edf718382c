"""Load benchmark over Rasa's REST channel: motcua beside a default `rasa init` project, same client, same run.

The headline is what a department meets: citizens' own wording, which the servers have never seen. Each
simulated citizen has a whole conversation (a greeting, a procedure question, a follow-up, thanks), every
text made unique by a commune's name, a parcel number or a polite particle (half of them unaccented), and
a new citizen takes their place when it ends. Both systems get such conversations (the same generator,
texts of their own, so no text repeats within a server's run):

- never-seen texts, 1 conversation at a time: per-message median and p95;
- never-seen texts, 20 conversations at once (closed loop, no think time): messages per second, p95;
- never-seen texts, an open loop at 10 messages per second: median and p95;
- second row: repeated texts (five conversations sent over and over), 20 at once; repeated texts skip
  motcua's NLU through its cache, so this row flatters and is not the headline.

Beside them, Rasa's own floor: a bot with keyword intents, rules and canned replies (no model, no action server,
conversations kept in memory, `rasa init`'s texts), about the most one Rasa 3.6 worker serves on the machine; it
tells how much of a message's cost is Rasa itself and how much is what motcua adds (the NLU, the search, the stored
conversation). It is a floor, not a like-for-like bot: a text that matches no keyword gets the default reply, and
Rasa's fallback drops it from the conversation, which stays shorter.

After the load it reads each serving process's memory: RSS, summed for the target (pages that forked
workers share count once per process), and PSS, which counts shared pages once. motcua runs with one
Rasa worker, then with ``--workers`` sharing a Redis lock store, which reports the gain over one. It also
times the knowledge base's search alone, so Rasa's own overhead is visible.
Request loops are bounded in count and time. Run: `make bench-load` (needs `make train` and `make index`).
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


# A citizen's conversation: greeting, procedure question, follow-up, thanks. Texts are made unique with a
# commune, a parcel number or a particle, as real ones differ.
GREETINGS = ["xin chào", "chào bạn", "chào ad", "alo", "chào em", "dạ chào anh chị", "chào buổi sáng", "cho mình hỏi"]
FOLLOW_UPS = ["còn lệ phí thì sao", "mất bao lâu", "nộp ở đâu", "nộp online được không", "cần mang theo giấy tờ gì",
              "bao lâu thì có kết quả", "có mất phí không", "làm ở xã được không"]
THANKS = ["cảm ơn", "cảm ơn bạn", "ok cảm ơn nhé", "cám ơn nhiều", "vâng cảm ơn", "thank you", "dạ em cảm ơn",
          "cảm ơn đã hỗ trợ"]
PARTICLES = ["ạ", "nhé", "nha", "với", "vậy", "ad ơi", "bạn ơi", "em ơi", "anh chị ơi", "nhỉ"]
COMMUNES = ["Đông Hải", "Tân Phong", "Hòa Bình", "Phú Lộc", "An Khánh", "Bình Minh", "Thạnh Mỹ", "Quảng Phú",
            "Nghĩa Đô", "Yên Hòa", "Tam Đa", "Long Thạnh", "Hưng Lợi", "Xuân Đỉnh", "Cát Lái", "Vĩnh Hưng",
            "Tiên Du", "Mỹ Đình", "Đồng Tâm", "Kim Long"]


def citizen_conversations(names: List[str], n: int, seed: int = 7) -> List[List[str]]:
    """``n`` conversations of four texts, no text twice across them (nor with and without accents: both are
    the same text to the search), about half of them unaccented."""
    from core.text import fold

    rng = random.Random(seed)
    seen: set = set()

    def unique(base: str) -> str:
        for attempt in range(1000):
            mark = rng.choice([rng.choice(PARTICLES), f"mình ở xã {rng.choice(COMMUNES)}",
                               f"thửa số {rng.randint(1, 2000)}",
                               f"phường {rng.choice(COMMUNES)} {rng.choice(PARTICLES)}"])
            text = f"{base} {mark}" if attempt < 500 else f"{base} {mark} {attempt}"
            text = fold(text) if rng.random() < 0.5 else text
            if fold(text) not in seen:
                seen.add(fold(text))
                return text
        raise RuntimeError("no unique text left")  # pragma: no cover - the marks give millions

    out = []
    for _ in range(n):
        words = rng.choice(names).lower().split()
        question = rng.choice(UNSEEN_TEMPLATES).format(" ".join(words[:rng.randint(3, 9)]))
        out.append([unique(rng.choice(GREETINGS)), unique(question), unique(rng.choice(FOLLOW_UPS)),
                    unique(rng.choice(THANKS))])
    return out


def percentile(values: List[float], q: float) -> float:
    """The q-quantile (0..1) of values."""
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1)))] if values else float("nan")


def figures(latencies: List[float], errors: int, elapsed: Optional[float] = None) -> Dict:
    """A phase's count, errors, median and p95 latency (ms), and messages per second over ``elapsed``."""
    out = {"n": len(latencies), "errors": errors,
           "median": statistics.median(latencies) if latencies else float("nan"), "p95": percentile(latencies, 0.95)}
    if elapsed is not None:
        out["rate"] = len(latencies) / elapsed
    return out


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
    """``concurrency`` conversations, each sending its next message as soon as the reply comes (at most
    ``max_messages`` sent in all, refused ones included, so a refusing server is not hammered); with
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
            while time.perf_counter() < deadline and len(latencies) + errors < max_messages:
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
    return figures(latencies, errors, time.perf_counter() - start)


async def conversation_loop(url: str, conversations: List[List[str]], concurrency: int, seconds: float,
                            max_messages: int) -> Dict:
    """``concurrency`` citizens at once, each taking the next whole conversation from ``conversations`` (one
    pass: none is sent twice) and sending its texts in order, each as soon as the previous reply came."""
    latencies: List[float] = []
    errors = 0
    queue = iter(enumerate(conversations))
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        async def citizen() -> None:
            nonlocal errors
            for number, texts in queue:
                sender = f"load-{concurrency}-{number}-{random.random():.6f}"
                for text in texts:
                    if time.perf_counter() >= deadline or len(latencies) + errors >= max_messages:
                        return
                    try:
                        latencies.append(await send(session, url, sender, text))
                    except (aiohttp.ClientError, asyncio.TimeoutError):
                        errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(citizen() for _ in range(concurrency)))
    return figures(latencies, errors, time.perf_counter() - start)


async def open_loop(url: str, questions: List[str], rate: float, seconds: float) -> Dict:
    """Poisson arrivals at ``rate`` messages per second, each in its own conversation slot."""
    run = f"{random.random():.6f}"  # this run's conversations, apart from an earlier run's in the same store
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
                    latencies.append(await send(session, url, f"open-{run}-{k % 600}", questions[k % len(questions)]))
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    errors += 1
            tasks.append(asyncio.create_task(one(i)))
            i += 1
            await asyncio.sleep(random.expovariate(rate))
        await asyncio.gather(*tasks)
    return figures(latencies, errors)


def start(cmd: List[str], cwd: Path, log_path: Path, env: Optional[dict] = None) -> subprocess.Popen:
    """Start a server in its own process group, its output to ``log_path``."""
    log = open(log_path, "a")
    return subprocess.Popen(cmd, cwd=cwd, env=env or dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


LIBRARIES = [("torch", "libtorch_cpu"), ("tensorflow", "libtensorflow_framework"), ("onnxruntime", "onnxruntime")]


def group_memory(leaders: List[int]) -> List[Dict]:
    """Every process of the process groups ``leaders`` lead (a server and the workers it forked): pid, its
    command (shortened), RSS and PSS in MB (PSS shares each page among the processes using it), and which
    of the heavy libraries it has loaded (torch, TensorFlow, ONNX Runtime)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            group = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2])
            if group not in leaders:
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            fields = dict(line.split(":", 1) for line in (entry / "smaps_rollup").read_text().splitlines()[1:])
            maps = (entry / "maps").read_text()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile, or not readable
        rss, pss = (int(fields.get(key, "0 kB").split()[0]) / 1024 for key in ("Rss", "Pss"))
        loaded = [name for name, library in LIBRARIES if library in maps]
        out.append({"pid": int(entry.name), "command": " ".join(command.split()[1:4])[:60], "rss": rss, "pss": pss,
                    "loaded": loaded})
    return sorted(out, key=lambda p: p["pid"])


FLOOR = "rasa floor"
NEW_1, NEW_20, OPEN, REPEATED, ENDLESS = ("never-seen, 1 conversation", "never-seen, 20 conversations",
                                          "never-seen, open 10 msg/s", "repeated, 20 conversations",
                                          "repeated, 20 endless")


def report(name: str, results: Dict[str, Dict]) -> None:
    """Print one system's figures."""
    for label, r in results.items():
        if label == "memory":
            continue
        extra = f", {r['rate']:6.1f} msg/s" if "rate" in r else ""
        print(f"  {name:<12} {label:<30} n={r['n']:>5}  median {r['median']:7.1f} ms  p95 {r['p95']:7.1f} ms"
              f"{extra}  errors {r['errors']}")


def report_memory(name: str, processes: List[Dict]) -> None:
    """Print each serving process's memory and the total."""
    for p in processes:
        print(f"  {name:<12} pid {p['pid']:<7} {p['command']:<45} RSS {p['rss']:6.0f} MB  PSS {p['pss']:6.0f} MB  "
              f"loaded: {', '.join(p['loaded']) or '-'}")
    print(f"  {name:<12} all serving processes: RSS {sum(p['rss'] for p in processes):.0f} MB, "
          f"PSS {sum(p['pss'] for p in processes):.0f} MB")


def measure(port: int, conversations: List[List[str]], repeated: List[List[str]], seconds: float,
            endless: bool = False) -> Dict[str, Dict]:
    """The phases of one system: never-seen conversations (``conversations``, each sent once) at 1 and at 20
    at once and in the open loop, then ``repeated`` conversations over and over at 20 at once (and, with
    ``endless``, 20 conversations that never end: Rasa's cost per message grows with a conversation's length).
    20 citizens in flight may overrun a phase's count by 20."""
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    third = len(conversations) // 3
    first, second, rest = conversations[:third], conversations[third:2 * third], conversations[2 * third:]
    out = {NEW_1: asyncio.run(conversation_loop(url, first, 1, seconds, 4 * third)),
           NEW_20: asyncio.run(conversation_loop(url, second, 20, seconds, 4 * third - 20)),
           OPEN: asyncio.run(open_loop(url, [t for c in rest for t in c], 10.0, seconds))}
    cycle = repeated * (1 + 8000 // (4 * len(repeated)))
    out[REPEATED] = asyncio.run(conversation_loop(url, cycle, 20, seconds, 4000))
    if endless:
        out[ENDLESS] = asyncio.run(closed_loop(url, [t for c in repeated for t in c], 20, seconds, 4000))
    return out


def limits(on: bool) -> Dict[str, str]:
    """The servers' abuse limits: on at their defaults, but a scripted conversation (all of QUESTIONS
    as fast as replies come, which no citizen types) may send its whole length at once; or all off."""
    if not on:
        return {name: "0" for name in ("MOTCUA_RATE_ADDRESS_PER_MINUTE", "MOTCUA_RATE_CONVERSATION_PER_MINUTE")}
    from core.settings import Settings

    return {"MOTCUA_RATE_CONVERSATION_BURST": str(max(Settings().channels.rate_conversation_burst, len(QUESTIONS)))}


def measure_motcua(settings, build: Path, seconds: float, endless: bool, conversations: List[List[str]],
                   repeated: List[List[str]], limits_env: Dict[str, str]) -> Dict[str, Dict]:
    """Start motcua's servers as `motcua run` does, warm up, measure, read their memory, stop."""
    from motcua.runner import rasa_commands, server_env, stop_all, wait_ready, write_runtime_files

    endpoints, credentials = write_runtime_files(settings, build / "bench")
    env = {**server_env(settings), **PROXY_ENV, **limits_env}
    procs = [start(cmd, ROOT, build / f"bench-motcua-{i}.log", env)
             for i, cmd in enumerate(rasa_commands(settings, endpoints, credentials))]
    try:
        if not wait_ready(f"http://127.0.0.1:{settings.servers.rasa_port}/", 300):
            sys.exit("motcua server did not start (see build/bench-*.log)")
        url = f"http://127.0.0.1:{settings.servers.rasa_port}/webhooks/rest/webhook"
        # warm up: models loaded (these texts never recur); a new citizen for each pass, within the abuse limits
        asyncio.run(closed_loop(url, QUESTIONS, 4, 15, 200, conversation_length=len(QUESTIONS)))
        out = measure(settings.servers.rasa_port, conversations, repeated, seconds, endless)
        out["memory"] = group_memory([p.pid for p in procs])  # type: ignore[assignment]
        return out
    finally:
        stop_all(procs, timeout=30)


def baseline_project(build: Path) -> tuple:
    """A default `rasa init` project, created and trained: (its folder, its model, seconds it took)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-rasa-init-"))
    start_t = time.perf_counter()
    init = subprocess.run([RASA, "init", "--no-prompt", "--init-dir", str(folder)], capture_output=True, text=True)
    if init.returncode != 0:
        sys.exit("rasa init failed: " + init.stderr[-1000:])
    return folder, next(Path(folder, "models").glob("*.tar.gz")), time.perf_counter() - start_t


def measure_baseline(folder: Path, model: Path, build: Path, seconds: float, endless: bool,
                     conversations: List[List[str]], repeated: List[List[str]], port: int = 5205,
                     name: str = "baseline") -> Dict[str, Dict]:
    """A plain Rasa project's server (the default bot, or the floor), the same phases, its memory."""
    from motcua.runner import stop_all, wait_ready

    base = [start([RASA, "run", "--model", str(model), "--port", str(port), "--interface", "127.0.0.1"], folder,
                  build / f"bench-{name}.log")]
    try:
        if not wait_ready(f"http://127.0.0.1:{port}/", 300):
            sys.exit(f"{name} server did not start")
        asyncio.run(closed_loop(f"http://127.0.0.1:{port}/webhooks/rest/webhook", BASELINE_QUESTIONS, 4, 15, 200))
        out = measure(port, conversations, repeated, seconds, endless)
        out["memory"] = group_memory([p.pid for p in base])  # type: ignore[assignment]
        return out
    finally:
        stop_all(base, timeout=30)


# Rasa's floor: keyword intents, three rules, canned replies; what matches no keyword gets the default reply.
FLOOR_FILES = {
    "config.yml": """recipe: default.v1
language: vi
assistant_id: rasa-floor
pipeline:
  - name: KeywordIntentClassifier
policies:
  - name: RulePolicy
""",
    "domain.yml": """version: "3.1"
intents: [greet, thank, ask]
responses:
  utter_greet:
  - text: "Xin chào, bạn cần hỏi thủ tục gì?"
  utter_thank:
  - text: "Cảm ơn bạn."
  utter_ask:
  - text: "Bạn xem hồ sơ cần chuẩn bị trên Cổng dịch vụ công."
  utter_default:
  - text: "Mình chưa hiểu, bạn nói lại giúp mình nhé."
""",
    "data/nlu.yml": """version: "3.1"
nlu:
- intent: greet
  examples: |
    - chào
    - chao
- intent: thank
  examples: |
    - cảm ơn
    - cam on
- intent: ask
  examples: |
    - giấy tờ
    - bao lâu
""",
    "data/rules.yml": """version: "3.1"
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: thank
  steps:
  - intent: thank
  - action: utter_thank
- rule: ask
  steps:
  - intent: ask
  - action: utter_ask
""",
}


def floor_project() -> tuple:
    """Rasa's floor project (FLOOR_FILES), trained: (its folder, its model)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-rasa-floor-"))
    for name, content in FLOOR_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content, encoding="utf-8")
    train = subprocess.run([RASA, "train", "--out", "models", "--fixed-model-name", "floor", "--quiet"], cwd=folder,
                           capture_output=True, text=True)
    if train.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        sys.exit("training Rasa's floor failed: " + train.stderr[-1000:])
    return folder, folder / "models" / "floor.tar.gz"


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
    for label, questions in (("never-seen texts", unseen_questions(names, 200, seed=0)),
                             ("repeated texts (the embedding cache hits)", QUESTIONS * 5)):
        times = []
        for q in questions:
            t = time.perf_counter()
            kb.search(q)
            times.append((time.perf_counter() - t) * 1000)
        print(f"knowledge-base search alone, {label}: median {statistics.median(times):.1f} ms, "
              f"p95 {percentile(times, 0.95):.1f} ms")
    del kb

    # Enough never-seen conversations for three phases at the fastest rate seen (Rasa's floor: 372 msg/s), fresh for
    # every server run.
    count = 3 * int(args.seconds * 400 / 4) + 60
    repeated = citizen_conversations(names, 5, seed=99)
    results: Dict[str, Dict] = {}
    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    folder, model, init_s = baseline_project(build)
    floor_folder: Optional[Path] = None
    try:
        floor_folder, floor_model = floor_project()
        # the default bot and the floor get the same texts (each server has its own caches)
        plain = citizen_conversations(names, count, seed=1)
        results["rasa init"] = measure_baseline(folder, model, build, args.seconds, args.endless, plain, repeated)
        results[FLOOR] = measure_baseline(floor_folder, floor_model, build, args.seconds, args.endless, plain,
                                          repeated, 5206, "floor")
        redis = None
        if args.workers > 1:
            from motcua.localservers import LocalRedis

            redis = LocalRedis().start()  # Rasa needs a shared lock store for several workers
        try:
            runs = [(w, True) for w in sorted({1, args.workers})] + ([(1, False)] if args.limits_off else [])
            for workers, limits_on in runs:
                name = ("motcua" if workers == 1 else f"motcua x{workers}") + ("" if limits_on else " no limits")
                run_settings = settings.replaced(rasa_workers=workers,
                                                 lock_store_url=redis.url if workers > 1 else None)
                fresh = citizen_conversations(names, count, seed=10 + workers + 10 * (not limits_on))
                results[name] = measure_motcua(run_settings, build, args.seconds, args.endless, fresh, repeated,
                                               limits(limits_on))
        finally:
            if redis:
                redis.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if floor_folder is not None:
            shutil.rmtree(floor_folder, ignore_errors=True)
        shutil.rmtree(build / "bench", ignore_errors=True)

    print(f"\nbaseline `rasa init` (project creation + training): {init_s:.0f} s")
    for name, res in results.items():
        report(name, res)
    print()
    for name, res in results.items():
        report_memory(name, res["memory"])  # type: ignore[arg-type]
    base, floor = results["rasa init"], results[FLOOR]
    print(f"\nRasa's floor (keyword intents, rules, canned replies), never-seen texts, 20 conversations: "
          f"{floor[NEW_20]['rate']:.1f} msg/s, {floor[NEW_20]['rate'] / max(base[NEW_20]['rate'], 1e-9):.2f}x rasa "
          f"init's; one conversation: median {floor[NEW_1]['median']:.1f} ms")
    print()
    for name, ours in results.items():
        if name in ("rasa init", FLOOR):
            continue
        ratio = ours[NEW_20]["rate"] / max(base[NEW_20]["rate"], 1e-9)
        rss = sum(p["rss"] for p in ours["memory"])  # type: ignore[union-attr]
        pss = sum(p["pss"] for p in ours["memory"])  # type: ignore[union-attr]
        print(f"{name}, never-seen texts, 20 conversations: {ratio:.2f}x rasa init's msg/s (target >= 3x), "
              f"p95 {ours[NEW_20]['p95']:.0f} ms vs {base[NEW_20]['p95']:.0f} ms (target: below)")
        print(f"  one conversation: median {ours[NEW_1]['median']:.1f} ms vs {base[NEW_1]['median']:.1f} ms "
              f"(target: at or below); serving processes' RSS {rss:.0f} MB summed (target <= 2048 MB), "
              f"PSS {pss:.0f} MB (shared pages once)")
        print(f"  {100 * ours[NEW_20]['rate'] / max(floor[NEW_20]['rate'], 1e-9):.0f} % of Rasa's floor's msg/s")
        print(f"  repeated texts (second row), 20 conversations: "
              f"{ours[REPEATED]['rate'] / max(base[REPEATED]['rate'], 1e-9):.2f}x rasa init")
        if name.startswith("motcua x") and "motcua" in results:
            gain = ours[NEW_20]["rate"] / results["motcua"][NEW_20]["rate"]
            print(f"  gain over one worker, never-seen texts at 20 conversations: {gain:.2f}x")


if __name__ == "__main__":
    main()
