"""Rasa's command line with motcua's server-side tuning and safeguards: `python -m motcua.rasa_main run ...`.

Tuning:

- Rasa validates every action-server response against a JSON schema with ``jsonschema.validate``,
  which checks the schema itself again on each call: on 2 cores that was about 60 % of the Rasa
  server's CPU under load. Here the validator is compiled once and reused; responses are still
  validated, with the same error message.
- The NLU result of a message text is kept (LRU, MOTCUA_NLU_CACHE entries per loaded model): the
  same words get the same intent and entities, and "xin chào", "cảm ơn", "còn lệ phí thì sao?"
  come back all day. Button payloads ("/intent{...}") are cheap and not cached.
- Rasa 3.6 runs the NLU graph (tokeniser, ONNX embedding, classifier) synchronously inside the async
  message handler, so while one message was parsed no other conversation moved. Here the graph runs
  in a small pool of worker threads (ONNX Runtime and the tokenizers release the GIL).

Safeguards (no message goes unanswered, none is too big or too many):

- Sanic refuses request bodies over ``request_max_bytes()`` (413) before reading them whole.
- A request middleware: POST bodies must be JSON except on the Telegram and Zalo webhooks (which
  authenticate the sender) and socket.io's transport. A browser posts text/plain or forms to another
  site without asking it first; JSON only to sites whose CORS allows the page. On Rasa's REST
  channel it applies motcua's rate limits (429) and length cap (a polite reply), and the REST
  channel records the client's digest in the metadata instead of what the caller sent.
- Every message a channel hands the agent: one over the length cap gets the polite reply and never
  reaches NLU; socket.io's are rate limited and get the client's digest; when the agent fails (no
  model loaded, tracker store or database down) the citizen gets the apology with the hotline.
- A custom action that cannot run (action server down or hung past ``ACTION_TIMEOUT_S``, HTTP error,
  invalid response) utters the same apology instead of Rasa's silent "the actions events are lost".
"""
from __future__ import annotations

import asyncio
import contextvars
import copy
import functools
import logging
import sys
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Text

from channels.addresses import client_key
from channels.rasa_input import is_json, json_body, request_address, retry_after
from channels.runtime import Refusal, busy_text, client_digest, screen, too_long
from core.settings import get_settings

log = logging.getLogger(__name__)

# Worker threads for the NLU graph per Rasa process: the reference machine has 2 cores, shared with
# the action server; more threads would only queue on them.
NLU_THREADS = 2
# Paths whose POST bodies need not be JSON: the webhooks that authenticate their sender (secret token,
# signature) and socket.io's long-polling transport (text/plain by design, guarded by its own CORS).
NOT_JSON_PATHS = ("/webhooks/telegram/", "/webhooks/zalo/", "/socket.io/")
REST_WEBHOOK = "/webhooks/rest/webhook"
BUSY = "motcua_busy"  # metadata mark of the apology, so one turn says it once
# Longest wait for one action call; the slowest real action (a first search that loads the index) takes seconds.
ACTION_TIMEOUT_S = 30

# The client address of the request being served, for channels whose messages do not carry one
# (socket.io: its events run in tasks started inside the transport's request).
_client_address: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("motcua_client_address",
                                                                                default=None)
_rasa: Dict[str, Any] = {}  # Rasa's own functions that install() replaced


@functools.lru_cache(maxsize=1)
def _response_validator():
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self, result: Dict[Text, Any]) -> bool:
    """RemoteAction._validate_action_result with the validator compiled once."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (". Failed to validate Action server response from API, make sure your response from the "
                      f"Action endpoint is valid. For more information about the format visit "
                      f"{DOCS_BASE_URL}/custom-actions")
    raise error if isinstance(error, ValidationError) else ValidationError(error.message)


_cache_lock = threading.Lock()  # the NLU runs in several threads; the cache's LRU order is shared


def _cache_key(message, only_output_properties: bool):
    """The NLU cache's key of a message, or None for what is not cached (payloads, long texts, cache off)."""
    text = message.text or ""
    if get_settings().servers.nlu_cache <= 0 or not text or text.startswith("/") or len(text) > 1000:
        return None
    return (text, only_output_properties)


def _cached(processor, key) -> Optional[Dict[Text, Any]]:
    """A copy of the cached parse of ``key`` (most recently used now), or None."""
    if key is None:
        return None
    with _cache_lock:
        cache = processor.__dict__.setdefault("_motcua_nlu_cache", OrderedDict())  # a new model, a new processor
        if key in cache:
            cache.move_to_end(key)
            return copy.deepcopy(cache[key])
    return None


def _cached_parse(parse):
    """Wrap MessageProcessor._parse_message_with_graph with a per-processor LRU on the message text."""

    @functools.wraps(parse)
    def parse_with_cache(self, message, tracker, only_output_properties: bool = True):
        key = _cache_key(message, only_output_properties)
        hit = _cached(self, key)
        if hit is not None:
            return hit
        result = parse(self, message, tracker, only_output_properties)
        if key is not None:
            with _cache_lock:
                cache = self.__dict__.setdefault("_motcua_nlu_cache", OrderedDict())
                cache[key] = copy.deepcopy(result)
                while len(cache) > get_settings().servers.nlu_cache:
                    cache.popitem(last=False)
        return result

    parse_with_cache.motcua_cached = True
    return parse_with_cache


@functools.lru_cache(maxsize=1)
def _nlu_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(NLU_THREADS, thread_name_prefix="motcua-nlu")


async def _parse_message(self, message, tracker=None, only_output_properties: bool = True) -> Dict[Text, Any]:
    """MessageProcessor.parse_message with the NLU graph run in a worker thread instead of on the event loop.

    The rest is Rasa's: retrieval intents completed, unseen intents and entities warned about. The
    conversation's tracker is not touched meanwhile: Rasa's lock store holds one message per conversation.
    """
    if self.http_interpreter:
        return await _rasa["parse_message"](self, message, tracker, only_output_properties)
    from rasa.shared.core.trackers import DialogueStateTracker

    if tracker is None:
        tracker = DialogueStateTracker.from_events(message.sender_id, [])
    # A text parsed before is answered here: it must not queue behind new texts in the pool.
    parse_data = _cached(self, _cache_key(message, only_output_properties))
    if parse_data is None:
        run = functools.partial(contextvars.copy_context().run, self._parse_message_with_graph, message, tracker,
                                only_output_properties)
        parse_data = await asyncio.get_running_loop().run_in_executor(_nlu_pool(), run)
    self._update_full_retrieval_intent(parse_data)
    self._check_for_unseen_features(parse_data)
    return parse_data


def _apologised(tracker) -> bool:
    """Whether this turn (the events since the citizen's latest message) already said the apology."""
    from rasa.shared.core.events import BotUttered, UserUttered

    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and (event.metadata or {}).get(BUSY):
            return True
    return False


async def _run_remote_action(self, output_channel, nlg, tracker, domain) -> List:
    """RemoteAction.run that answers with the apology when the action server cannot run the action.

    A rejection (a form's validation saying no) is still Rasa's to handle.
    """
    from rasa.core.actions.action import ActionExecutionRejection
    from rasa.shared.core.constants import REQUESTED_SLOT
    from rasa.shared.core.events import BotUttered, SlotSet

    try:
        return await _rasa["remote_run"](self, output_channel, nlg, tracker, domain)
    except ActionExecutionRejection:
        raise
    except Exception:
        log.exception("custom action %s could not run; the citizen gets the apology", self.name())
        events = [] if _apologised(tracker) else [BotUttered(busy_text(), metadata={BUSY: True})]
        if self.name().startswith("validate_"):  # a form whose answers cannot be checked stops asking
            events.append(SlotSet(REQUESTED_SLOT, None))
        return events


async def _say(output, recipient_id: Text, text: Text) -> None:
    """Send one text through a channel's output; a failure there is logged, nothing more can be done."""
    try:
        await output.send_text_message(recipient_id, text)
    except Exception:
        log.exception("could not send to %s", recipient_id)


def _socketio_refusal(message) -> Optional[Refusal]:
    """socket.io's messages: the client's digest from the connection's address (never what the client sent),
    and the same rate limits as the other channels."""
    address = _client_address.get() or "unknown"
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    message.metadata = {**metadata, "motcua_client": client_digest(f"ip:{client_key(address)}")}
    return screen(message.text, f"ip:{client_key(address)}", message.sender_id)


class _Held:
    """Holds what a streaming output (socket.io, Telegram, Zalo) sends while a message is handled: it goes out
    once the turn is stored (``release``), never when storing it failed (``drop``: the citizen gets the apology
    and sends again, instead of an answer the conversation's history would not hold, and never that answer
    twice)."""

    def __init__(self, output) -> None:
        self.output, self.send, self.held = output, output.send_response, []

        async def hold(recipient_id: Text, message: Dict[Text, Any]) -> None:
            self.held.append((recipient_id, message))

        output.send_response = hold

    async def release(self) -> None:
        self.output.send_response = self.send
        for recipient_id, message in self.held:
            await self.send(recipient_id, message)

    def drop(self) -> None:
        self.output.send_response = self.send


async def _handle_message(self, message):
    """Agent.handle_message, guarded: no over-long message reaches NLU, no failure leaves the citizen without a
    reply, and no answer goes out unless its turn was stored (then the citizen gets the apology and sends again)."""
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.channels.socketio import SocketIOOutput

    output = message.output_channel
    refusal = _socketio_refusal(message) if isinstance(output, SocketIOOutput) else too_long(message.text)
    if refusal is not None:
        log.info("%s: message of %s not passed on (%s)", message.input_channel, message.sender_id, refusal.reason)
        if refusal.notify:
            await _say(output, message.sender_id, refusal.text)
        return output.messages if isinstance(output, CollectingOutputChannel) else None
    if not self.is_ready():
        log.warning("no model loaded: message of %s answered with the apology", message.sender_id)
        await _say(output, message.sender_id, busy_text())
        return output.messages if isinstance(output, CollectingOutputChannel) else None
    # channels that send as the turn goes (socket.io, Telegram, Zalo) hold their messages until it is stored
    held = None if isinstance(output, CollectingOutputChannel) else _Held(output)
    try:
        result = await _rasa["handle_message"](self, message)
    except Exception:
        log.exception("handling a message of %s failed", message.sender_id)
        if held is not None:
            held.drop()
        if isinstance(output, CollectingOutputChannel):
            output.messages.clear()  # an answer whose turn was not stored is never shown
        await _say(output, message.sender_id, busy_text())
        return output.messages if isinstance(output, CollectingOutputChannel) else None
    if held is not None:
        await held.release()
    return result


def request_max_bytes() -> int:
    """The largest request body the Rasa server reads: 64 KB, or more for a higher max_message_chars.

    A message of 2,000 characters is at most 24 KB as JSON (an emoji escaped as two \\uXXXX).
    """
    return max(64 * 1024, 16 * get_settings().channels.max_message_chars)


def _refuse(status: int, text: str):
    from sanic import response

    return response.json({"error": text}, status=status)


async def screen_request(request):
    """Sanic request middleware: note the client's address; JSON bodies only; REST messages through the limits."""
    address = request_address(request)
    _client_address.set(address)
    request.ctx.motcua_address = address
    if request.method != "POST" or request.path.startswith(NOT_JSON_PATHS):
        return None
    if request.stream is not None and request.stream.request_body:
        return None  # body not read: Sanic is answering an error (413 too large) and runs the middleware first
    if not is_json(request.headers.get("content-type")):
        return _refuse(415, "Yêu cầu phải gửi nội dung JSON (Content-Type: application/json).")
    if request.path.rstrip("/") != REST_WEBHOOK:
        return None
    body = json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("message", ""), str):
        return _refuse(400, "Yêu cầu không đúng định dạng: cần {\"sender\": \"...\", \"message\": \"...\"}.")
    sender = str(body.get("sender") or "default")
    refusal = screen(body.get("message"), f"ip:{client_key(address)}", sender)
    if refusal is None:
        return None
    from sanic import response

    log.info("rest: message of %s not passed on (%s)", sender, refusal.reason)
    too_many = refusal.reason == "too_many"
    return response.json([{"recipient_id": sender, "text": refusal.text}], status=429 if too_many else 200,
                         headers=retry_after(refusal.retry_after) if too_many else None)


def guard_app(app) -> None:
    """Cap request sizes and screen requests on a Sanic app that Rasa configured."""
    app.config.REQUEST_MAX_SIZE = request_max_bytes()
    app.config.WEBSOCKET_MAX_SIZE = request_max_bytes()
    app.register_middleware(screen_request, "request")


def _configure_app(*args, **kwargs):
    """rasa.core.run.configure_app, then :func:`guard_app`."""
    app = _rasa["configure_app"](*args, **kwargs)
    guard_app(app)
    return app


def _rest_metadata(self, request) -> Dict[Text, Any]:
    """RestInput.get_metadata: the client's digest, computed here; metadata the caller sent is not believed."""
    address = getattr(request.ctx, "motcua_address", None) or request_address(request)
    return {"motcua_client": client_digest(f"ip:{client_key(address)}")}


def _rest_input_channel(self, request) -> Text:
    """RestInput's channel name: always "rest" (Rasa takes the caller's "input_channel" field)."""
    return self.name()


def _fail_loudly() -> None:
    """Rasa wraps the tracker store in a FailSafeTrackerStore: when the database fails, it reads a conversation
    as new (its context forgotten) and keeps the turn in this process's memory only, while the citizen gets an
    answer the stored history will never hold. Here a failure stays a failure (after the store's own retries):
    the message is answered with the apology and the citizen sends it again. A new conversation is created by the
    store itself (``MaskingSQLTrackerStore.create_tracker``), not by the wrapper's generic code."""
    from rasa.core.tracker_store import FailSafeTrackerStore

    async def retrieve(self, sender_id):
        return await self._tracker_store.retrieve(sender_id)

    async def retrieve_full_tracker(self, sender_id):
        return await self._tracker_store.retrieve_full_tracker(sender_id)

    async def save(self, tracker):
        await self._tracker_store.save(tracker)

    async def create_tracker(self, sender_id, append_action_listen=True):
        # the store's own (a new conversation's first save need not count what is stored), with the wrapper's
        # event history limit, which Rasa sets on the wrapper alone
        self._tracker_store.max_event_history = self.max_event_history
        return await self._tracker_store.create_tracker(sender_id, append_action_listen)

    FailSafeTrackerStore.retrieve = retrieve
    FailSafeTrackerStore.create_tracker = create_tracker
    FailSafeTrackerStore.retrieve_full_tracker = retrieve_full_tracker
    FailSafeTrackerStore.save = save


def install() -> None:
    """Apply the tuning and safeguards to this process's Rasa (idempotent)."""
    import rasa.core.run
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.core.channels.rest import RestInput
    from rasa.core.processor import MessageProcessor

    RemoteAction._validate_action_result = _validate_action_result
    if not getattr(MessageProcessor._parse_message_with_graph, "motcua_cached", False):
        MessageProcessor._parse_message_with_graph = _cached_parse(MessageProcessor._parse_message_with_graph)
    for name, owner, attr, ours in (("parse_message", MessageProcessor, "parse_message", _parse_message),
                                    ("remote_run", RemoteAction, "run", _run_remote_action),
                                    ("handle_message", Agent, "handle_message", _handle_message),
                                    ("configure_app", rasa.core.run, "configure_app", _configure_app)):
        if getattr(owner, attr) is not ours:
            _rasa[name] = getattr(owner, attr)
            setattr(owner, attr, ours)
    _fail_loudly()
    RestInput.get_metadata = _rest_metadata
    RestInput._extract_input_channel = _rest_input_channel
    # Rasa waits 5 minutes for a hung action server; the citizen gets the apology after this instead.
    import rasa.core.actions.action as rasa_action

    rasa_action.DEFAULT_REQUEST_TIMEOUT = ACTION_TIMEOUT_S


def main() -> None:
    """Run Rasa's CLI (arguments as for `rasa`) with the tuning applied."""
    install()
    from core.privacy import install_log_masking

    install_log_masking()  # phone and ID numbers never reach a log line
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
