"""`motcua run`: start the action server, the Rasa server and the web chat page; Ctrl-C stops all."""
from __future__ import annotations

import functools
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import List

import yaml

from core.settings import ROOT, Settings
from motcua.action_server import SECRET_ENV, SECRET_HEADER, action_secret

WEB_DIR = ROOT / "bot/webchat"


def sql_store_args(url: str) -> dict:
    """Rasa's SQL tracker store arguments for ``url``: dialect and database, and a server's address and login."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    args = {"dialect": parsed.drivername.split("+")[0], "db": parsed.database}
    if parsed.host:
        args.update({"host": parsed.host, "port": parsed.port, "username": parsed.username,
                     "password": parsed.password})
    return args


def endpoints_config(settings: Settings) -> dict:
    """Rasa endpoints: the action server and the SQL tracker store from settings."""
    from sqlalchemy.engine import make_url

    # endpoints files name the store's host "url" (Rasa passes it on as ``host``)
    store = {"type": "components.tracker_store.MaskingSQLTrackerStore", "cache_size": settings.servers.tracker_cache,
             **{"url" if k == "host" else k: v for k, v in sql_store_args(settings.servers.tracker_store_url).items()}}
    # The secret travels as an environment variable named here (Rasa expands ${...} in endpoints files).
    action = {"url": f"http://{action_host(settings)}:{settings.servers.actions_port}/webhook",
              "headers": {SECRET_HEADER: "${" + SECRET_ENV + "}"}}
    config = {"action_endpoint": action,
              "tracker_store": {k: v for k, v in store.items() if v is not None}}
    if settings.servers.lock_store_url:
        lock = make_url(settings.servers.lock_store_url)
        if lock.drivername != "redis":
            raise ValueError(f"MOTCUA_LOCK_STORE_URL must be a redis:// URL, not {lock.drivername}://")
        config["lock_store"] = {k: v for k, v in {
            "type": "redis", "url": lock.host or "localhost", "port": lock.port or 6379,
            "db": int(lock.database) if lock.database else 1, "password": lock.password}.items() if v is not None}
    return config


def action_host(settings: Settings) -> str:
    """Where the Rasa server reaches the action server (its own address when that is a wildcard)."""
    return "127.0.0.1" if settings.servers.actions_host in ("0.0.0.0", "::", "") else settings.servers.actions_host


def write_runtime_files(settings: Settings, out_dir: Path) -> tuple:
    """Write endpoints.yml and credentials.yml for this run (secrets stay out of the repo)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if settings.servers.tracker_store_url.startswith("sqlite:///"):
        Path(settings.servers.tracker_store_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    endpoints = out_dir / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump(endpoints_config(settings)))
    credentials = out_dir / "credentials.yml"
    credentials.write_text(yaml.safe_dump(credentials_config(settings), sort_keys=False))
    os.chmod(credentials, 0o600)
    return endpoints, credentials


SOCKETIO = "channels.rasa_socketio.SocketInput"


def credentials_config(settings: Settings) -> dict:
    """Rasa's channels: the web widget, Telegram and Zalo when on, socket.io and REST when asked for.

    The channels read their secrets from settings, so this file never holds one.
    """
    from channels.clients import telegram_on, zalo_on

    config = yaml.safe_load((ROOT / "bot/credentials.yml.template").read_text()) or {}
    if not settings.servers.socketio_channel:
        config.pop(SOCKETIO, None)
    if settings.servers.rest_channel:  # any caller may speak as any sender: development and tests only
        config = {"rest": None, **config}
    config["channels.rasa_web.WebInput"] = None
    if telegram_on(settings):
        config["channels.rasa_telegram.TelegramInput"] = None
    if zalo_on(settings):
        config["channels.rasa_zalo.ZaloInput"] = None
    return config


def web_origins(settings: Settings) -> List[str]:
    """Origins allowed to call the Rasa server from a browser: the demo page and the embedding sites."""
    if "*" in settings.channels.web_origins:
        return ["*"]
    return [f"http://{settings.servers.host}:{settings.servers.web_port}", *settings.channels.web_origins]


def rasa_commands(settings: Settings, endpoints: Path, credentials: Path) -> List[List[str]]:
    """The two server command lines."""
    # Rasa's CLI through motcua.rasa_main: the same `rasa run`, with the action-response schema compiled once.
    server = [
        sys.executable,
        "-m",
        "motcua.rasa_main",
        "run",
        "--model",
        str(settings.servers.rasa_model),
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials),
        "--port",
        str(settings.servers.rasa_port),
        "--interface",
        settings.servers.host,
        "--cors",
        *web_origins(settings),
    ]
    if settings.servers.rasa_api_token:  # Rasa's HTTP API reads and writes any conversation: never without a token
        server += ["--enable-api", "--auth-token", settings.servers.rasa_api_token]
    actions = [sys.executable, "-m", "motcua.action_server", "--port", str(settings.servers.actions_port)]
    return [actions, server]


def channel_commands(settings: Settings) -> List[List[str]]:
    """Helpers started once the Rasa server answers: the outbox deliverer, and Telegram polling."""
    from channels.clients import telegram_on

    motcua = [sys.executable, "-m", "motcua"]
    commands = [motcua + ["channels", "deliver"], motcua + ["console", "serve"]]
    if telegram_on(settings) and settings.channels.telegram_mode == "polling":
        commands.append(motcua + ["telegram", "poll"])
    return commands


def set_telegram_webhook(settings: Settings, env: dict) -> None:
    """Webhook mode: point Telegram at MOTCUA_PUBLIC_URL (or say how to)."""
    from channels.clients import telegram_on

    if not telegram_on(settings) or settings.channels.telegram_mode != "webhook":
        return
    if not settings.channels.public_url:
        print("motcua: Telegram webhook mode without MOTCUA_PUBLIC_URL: run "
              "`motcua telegram webhook --url https://PUBLIC-HOST` once", file=sys.stderr)
        return
    subprocess.run([sys.executable, "-m", "motcua", "telegram", "webhook"], cwd=ROOT, env=env, timeout=60)


class _WebHandler(http.server.SimpleHTTPRequestHandler):
    """bot/webchat: the widget and a demo page that embeds it, pointed at this run's Rasa server."""

    rasa_url = ""
    page_url = ""

    def log_message(self, *args):  # keep the console for the servers' own logs
        pass

    def do_GET(self):
        if self.path.split("?")[0] in ("/", "/index.html"):
            page = (WEB_DIR / "index.html").read_text(encoding="utf-8")
            body = page.replace("{{RASA_URL}}", self.rasa_url).replace("{{WIDGET_URL}}", self.page_url + "/widget.js")
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        super().do_GET()


def serve_web(settings: Settings) -> http.server.ThreadingHTTPServer:
    """Serve bot/webchat (widget.js and the demo page) on localhost in a thread."""
    handler = type("WebHandler", (_WebHandler,), {"rasa_url": f"http://{settings.servers.host}:{settings.servers.rasa_port}",
                                                   "page_url": f"http://{settings.servers.host}:{settings.servers.web_port}"})
    handler = functools.partial(handler, directory=str(WEB_DIR))
    server = http.server.ThreadingHTTPServer((settings.servers.host, settings.servers.web_port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_ready(url: str, timeout: float) -> bool:
    """Poll ``url`` until it answers 200 or ``timeout`` seconds pass."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            time.sleep(1)
    return False


def stop_all(procs: List[subprocess.Popen], timeout: float = 20) -> None:
    """SIGTERM each process group, then SIGKILL what has not exited within ``timeout`` seconds."""
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def server_env(settings: Settings) -> dict:
    """Environment of the server processes: the repository on the path, Rasa's worker count, and the
    embedding model's threads per process (they read it as their MOTCUA_TORCH_THREADS)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env["SANIC_WORKERS"] = str(max(settings.servers.rasa_workers, 1))
    env["MOTCUA_TORCH_THREADS"] = str(max(settings.knowledge.serve_torch_threads, 1))
    env[SECRET_ENV] = action_secret(settings)
    if settings.servers.lock_store_url:  # several servers: a dead one's hold on a conversation runs out soon
        env["TICKET_LOCK_LIFETIME"] = str(max(settings.servers.lock_lifetime_s, 1))
    return env


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def seed_demo_dossiers(settings: Settings, demo: bool) -> None:
    """The demo (`motcua run --demo`, as `make run` does) on SQLite: an empty dossier store gets sample
    dossiers to try lookups with. Never without --demo, never on PostgreSQL: a deployment's store holds
    real dossiers only."""
    if not demo or settings.dossiers.demo_dossiers <= 0:
        return
    if not settings.storage.database_url.startswith("sqlite"):
        print("motcua: --demo adds sample dossiers to the embedded SQLite store only; this store is "
              f"{settings.storage.database_url.split(':', 1)[0]}, so none were added", file=sys.stderr)
        return
    from dossiers.factory import open_service
    from dossiers.service import DossierService
    from motcua.dossier_cli import add_samples

    counter = DossierService.from_settings(settings)  # counting needs no catalogue: start-up stays quick
    empty = counter.count() == 0
    counter.close()
    if empty:
        print("motcua: the dossier store is empty; adding sample dossiers (MOTCUA_DEMO_DOSSIERS=0 turns this off)")
        service = open_service(settings)
        add_samples(service, settings, settings.dossiers.demo_dossiers, seed=7)
        service.close()


def warnings(settings: Settings) -> List[str]:
    """What an operator must know about this run's exposure."""
    lines = []
    if settings.servers.rest_channel:
        lines.append("the REST channel is on (MOTCUA_REST_CHANNEL): any caller can speak as any sender. "
                     "Development and tests only" + ("" if settings.servers.host in LOOPBACK else
                                                     f"; and the server listens on {settings.servers.host}!"))
    if settings.servers.actions_host not in LOOPBACK:
        lines.append(f"the action server listens on {settings.servers.actions_host}: keep that network private "
                     "(calls still need MOTCUA_ACTION_SECRET)")
    return lines


def run(settings: Settings, demo: bool = False) -> int:
    """Start everything, wait for Ctrl-C (or a child dying), then stop everything cleanly."""
    if not settings.servers.rasa_model.exists():
        print(f"motcua: Rasa model {settings.servers.rasa_model} not found: run `make train`", file=sys.stderr)
        return 2
    os.umask(0o077)  # databases, logs and keys this run creates are readable by its own user only
    # one folder per node: two nodes on one machine (the cluster test) must not share their runtime files
    endpoints, credentials = write_runtime_files(settings, ROOT / "build/run" / str(settings.servers.rasa_port))
    seed_demo_dossiers(settings, demo)
    for line in warnings(settings):
        print(f"motcua: WARNING: {line}", file=sys.stderr)
    if settings.servers.rasa_workers > 1 and not settings.servers.lock_store_url:
        print("motcua: MOTCUA_RASA_WORKERS > 1 needs MOTCUA_LOCK_STORE_URL=redis://host:port/db", file=sys.stderr)
        return 2
    from channels.runtime import channel_report

    for line in channel_report(settings):
        print(f"motcua: channel {line}")
    env = server_env(settings)
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
             for cmd in rasa_commands(settings, endpoints, credentials)]
    env = {k: v for k, v in env.items() if k != SECRET_ENV}  # the helpers below call no action
    web = serve_web(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if wait_ready(f"http://{settings.servers.host}:{settings.servers.rasa_port}/", 300):
        set_telegram_webhook(settings, env)
        procs += [subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
                  for cmd in channel_commands(settings)]
        print(f"\nmotcua: staff console at http://{settings.servers.host}:{settings.console.port}/ "
              "(create the first account with `motcua admin create --username NAME`)")
        rest = (f" (REST: http://{settings.servers.host}:{settings.servers.rasa_port}/webhooks/rest/webhook)"
                if settings.servers.rest_channel else "")
        address = f"http://{settings.servers.host}:{settings.servers.web_port}/{rest}"
        print(f"\nmotcua is ready: chat at {address}. Ctrl-C stops.", flush=True)
    code = 0
    while not stop.is_set():
        if any(p.poll() is not None for p in procs):
            print("motcua: a server stopped unexpectedly; stopping the others", file=sys.stderr)
            code = 1
            break
        stop.wait(1)
    web.shutdown()
    stop_all(procs)
    print("motcua stopped.")
    return code
