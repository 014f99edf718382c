"""A stand-in for Rasa's REST webhook on a free loopback port, for the benchmark clients' tests."""
import contextlib
from typing import AsyncIterator, Awaitable, Callable

from aiohttp import web


@contextlib.asynccontextmanager
async def rest_stub(handler: Callable[[web.Request], Awaitable[web.Response]]) -> AsyncIterator[str]:
    """Serve ``handler`` as ``POST /webhooks/rest/webhook``; yields the webhook's URL."""
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    finally:
        await runner.cleanup()
