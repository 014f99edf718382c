"""The action server, behind a shared secret: `python -m motcua.action_server [--port N]`.

Rasa's own `rasa run actions` listens on every interface, lets any caller run any action with any
tracker, and echoes the request body in its error replies. Here:

- it listens on ``settings.servers.actions_host`` (loopback by default: only the Rasa server calls it);
- every call but ``GET /health`` must carry the shared secret in ``X-Motcua-Action-Secret``
  (compared in constant time); the Rasa server sends it from its endpoints file, which names the
  environment variable, never the value;
- an action whose ``run`` is a plain function (a search, a database query) runs in a worker thread,
  so one slow action never holds the other conversations' actions;
- errors answer with a short JSON body and no tracker.
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import hmac
import inspect
import logging
import zlib
from typing import Callable, Optional

from core.privacy import ACTION_SECRET_ENV, action_secret
from core.settings import Settings, get_settings

__all__ = ["SECRET_ENV", "SECRET_HEADER", "action_secret", "create_app", "is_authorised"]

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Motcua-Action-Secret"
SECRET_ENV = ACTION_SECRET_ENV
# A tracker of a long conversation is a few hundred KB; nothing legitimate comes near this.
MAX_BODY_BYTES = 16 * 1024 * 1024


def is_authorised(header: Optional[str], secret: str) -> bool:
    """True when the header holds the secret (constant-time compare; a missing header is refused)."""
    return bool(header) and hmac.compare_digest(header.encode("utf-8"), secret.encode("utf-8"))


def off_the_loop(run: Callable) -> Callable:
    """A plain-function action run in a worker thread; coroutine functions are returned unchanged."""
    if inspect.iscoroutinefunction(run):
        return run

    @functools.wraps(run)
    async def threaded(dispatcher, tracker, domain):
        return await asyncio.to_thread(run, dispatcher, tracker, domain)

    return threaded


def create_app(settings: Settings, package: str = "actions"):
    """The Sanic app: /health (open), /webhook and /actions (secret required)."""
    from rasa_sdk import utils
    from rasa_sdk.executor import ActionExecutor
    from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
    from sanic import Sanic, response

    secret = action_secret(settings)
    app = Sanic("motcua_actions", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    executor = ActionExecutor()
    executor.register_package(package)
    for name, run in list(executor.actions.items()):
        executor.actions[name] = off_the_loop(run)

    @app.middleware("request")
    async def authenticate(request):
        if request.path == "/health" and request.method == "GET":
            return None
        if not is_authorised(request.headers.get(SECRET_HEADER), secret):
            log.warning("action server: refused a call to %s without the shared secret", request.path)
            return response.json({"error": "unauthorised"}, status=401)
        return None

    @app.get("/health")
    async def health(_):
        return response.json({"status": "ok"})

    @app.post("/webhook")
    async def webhook(request):
        try:
            if request.headers.get("Content-Encoding") == "deflate":
                import json

                call = json.loads(zlib.decompressobj().decompress(request.body, MAX_BODY_BYTES))
            else:
                call = request.json
        except Exception:
            call = None
        if not isinstance(call, dict) or not isinstance(call.get("tracker"), dict):
            return response.json({"error": "invalid body"}, status=400)
        utils.check_version_compatibility(call.get("version"))
        try:
            result = await executor.run(call)
        except ActionExecutionRejection as exc:
            return response.json({"error": exc.message, "action_name": exc.action_name}, status=400)
        except ActionNotFoundException as exc:
            return response.json({"error": exc.message, "action_name": exc.action_name}, status=404)
        return response.json(result)

    @app.get("/actions")
    async def actions(_):
        return response.json([{"name": name} for name in executor.actions])

    @app.exception(Exception)
    async def failed(request, exception):
        log.error("action server: %s %s failed", request.method, request.path, exc_info=exception)
        return response.json({"error": "internal error"}, status=500)

    return app


def main(argv=None) -> None:
    """Serve the actions on settings.servers.actions_host and the given (or configured) port."""
    parser = argparse.ArgumentParser(description="motcua's action server (shared secret, loopback by default)")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args(argv)
    settings = get_settings()
    logging.basicConfig(level=settings.servers.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s  - %(message)s")
    from core.privacy import install_log_masking

    install_log_masking()  # phone and ID numbers never reach a log line
    app = create_app(settings, args.actions)
    port = args.port or settings.servers.actions_port
    log.info("action server on http://%s:%s (shared secret required)", settings.servers.actions_host, port)
    app.run(host=settings.servers.actions_host, port=port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
