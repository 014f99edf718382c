"""The tuned Rasa entry point validates action-server responses exactly as Rasa does."""
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from motcua import rasa_main


@pytest.fixture
def action():
    rasa_main.install()
    return RemoteAction("action_x", None)


@pytest.mark.parametrize("response", [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "a", "value": 1}], "responses": [{"text": "Xin chào", "buttons": []}]},
])
def test_valid_responses_pass(action, response):
    assert action._validate_action_result(response) is True


@pytest.mark.parametrize("response", [
    {"events": "not a list"}, {"events": [{"no_event_key": 1}]}, {"events": [{"event": "slot", "timestamp": "now"}]},
])
def test_invalid_responses_fail_as_in_rasa(action, response):
    from jsonschema import validate

    with pytest.raises(ValidationError) as ours:
        action._validate_action_result(response)
    with pytest.raises(ValidationError):
        validate(response, RemoteAction.action_response_format_spec())
    assert "Failed to validate Action server response" in ours.value.message


def test_nlu_results_are_cached_per_text():
    from types import SimpleNamespace

    calls = []

    def parse(self, message, tracker, only_output_properties=True):
        calls.append(message.text)
        return {"text": message.text, "intent": {"name": "greet", "confidence": 0.9}, "entities": []}

    cached = rasa_main._cached_parse(parse)
    processor = SimpleNamespace()
    first = cached(processor, SimpleNamespace(text="xin chào"), None)
    first["intent"]["name"] = "changed by the caller"
    again = cached(processor, SimpleNamespace(text="xin chào"), None)
    cached(processor, SimpleNamespace(text="/greet"), None)
    cached(processor, SimpleNamespace(text="/greet"), None)
    assert again["intent"]["name"] == "greet" and calls == ["xin chào", "/greet", "/greet"]
    other = SimpleNamespace()  # another model: its own cache
    cached(other, SimpleNamespace(text="xin chào"), None)
    assert calls[-1] == "xin chào" and len(calls) == 4


# -- The NLU graph off the event loop ------------------------------------------------------------------


async def test_a_slow_parse_does_not_hold_another_conversation():
    """While one message's NLU runs (held here on an event), another conversation's message is parsed."""
    import asyncio
    import threading

    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.domain import Domain

    rasa_main.install()
    started, release = threading.Event(), threading.Event()
    threads = []

    def graph(message, tracker, only_output_properties=True):
        threads.append(threading.current_thread().name)
        if message.text == "một câu rất dài":
            started.set()
            assert release.wait(30), "the slow parse was never released"
        return {"text": message.text, "intent": {"name": "greet", "confidence": 1.0}, "entities": []}

    processor = MessageProcessor.__new__(MessageProcessor)  # no model: the graph is the stand-in above
    processor.http_interpreter, processor.domain = None, Domain.empty()
    processor._parse_message_with_graph = graph
    slow = asyncio.ensure_future(processor.parse_message(UserMessage("một câu rất dài", sender_id="a")))
    assert await asyncio.to_thread(started.wait, 30)
    quick = await asyncio.wait_for(processor.parse_message(UserMessage("xin chào", sender_id="b")), 30)
    assert quick["text"] == "xin chào" and not slow.done()  # answered while the slow one is still running
    release.set()
    assert (await slow)["intent"]["name"] == "greet"
    assert all(name.startswith("motcua-nlu") for name in threads)


async def test_a_text_parsed_before_does_not_queue_behind_new_ones():
    """Both NLU threads held by new texts: a text already in the cache is answered on the loop."""
    import asyncio
    import threading

    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.domain import Domain

    rasa_main.install()
    release, running = threading.Event(), threading.Semaphore(0)

    def graph(message, tracker, only_output_properties=True):
        if message.text != "xin chào":
            running.release()
            assert release.wait(30), "the slow parses were never released"
        return {"text": message.text, "intent": {"name": "greet", "confidence": 1.0}, "entities": []}

    processor = MessageProcessor.__new__(MessageProcessor)
    processor.http_interpreter, processor.domain = None, Domain.empty()
    processor._parse_message_with_graph = rasa_main._cached_parse(lambda self, *a: graph(*a)).__get__(processor)
    await processor.parse_message(UserMessage("xin chào", sender_id="a"))  # now in the cache
    slow = [asyncio.ensure_future(processor.parse_message(UserMessage(f"câu mới {i}", sender_id=f"s{i}")))
            for i in range(rasa_main.NLU_THREADS)]
    for _ in slow:
        assert await asyncio.to_thread(running.acquire, True, 30)  # every NLU thread is busy
    again = await asyncio.wait_for(processor.parse_message(UserMessage("xin chào", sender_id="b")), 5)
    assert again["intent"]["name"] == "greet" and not any(task.done() for task in slow)
    release.set()
    await asyncio.gather(*slow)


# -- A custom action that cannot run ---------------------------------------------------------------------


@pytest.fixture
def hotline(monkeypatch):
    from core.settings import reset_settings

    monkeypatch.setenv("MOTCUA_HOTLINE", "19001234")
    reset_settings()
    yield "19001234"
    reset_settings()


def run_action(url: str, events=(), name: str = "action_answer_procedure"):
    import asyncio

    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    rasa_main.install()
    tracker = DialogueStateTracker.from_events("citizen-1", [UserUttered("tách thửa mất bao lâu"), *events])
    action = RemoteAction(name, EndpointConfig(url))
    return asyncio.run(action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker,
                                  Domain.empty()))


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


BUSY = ("Xin lỗi, hệ thống đang bận nên chưa trả lời được. Bạn vui lòng nhắn lại sau ít phút, hoặc gọi tổng đài "
        "19001234.")


def test_action_server_down_gives_the_apology(hotline):
    from rasa.shared.core.events import BotUttered

    events = run_action(f"http://127.0.0.1:{closed_port()}/webhook")
    assert events == [BotUttered(BUSY, metadata={"motcua_busy": True})]
    assert run_action(f"http://127.0.0.1:{closed_port()}/webhook", events) == []  # once per turn


def test_a_form_whose_validation_cannot_run_stops_asking(hotline):
    from rasa.shared.core.events import BotUttered, SlotSet

    events = run_action(f"http://127.0.0.1:{closed_port()}/webhook", name="validate_dossier_status_form")
    assert events == [BotUttered(BUSY, metadata={"motcua_busy": True}), SlotSet("requested_slot", None)]


def test_action_server_errors_give_the_apology_and_rejections_stay_rasas(hotline):
    from rasa.core.actions.action import ActionExecutionRejection
    from rasa.shared.core.events import BotUttered

    from channels.fakes import FakeWebhook

    class Rejecting(FakeWebhook):
        def handle(self, method, path, headers, body):
            return 400, {"action_name": "action_answer_procedure", "error": "not now"}

    failing, rejecting = FakeWebhook(fail_times=5).start(), Rejecting().start()
    try:
        assert run_action(failing.url + "/webhook") == [BotUttered(BUSY, metadata={"motcua_busy": True})]
        with pytest.raises(ActionExecutionRejection):
            run_action(rejecting.url + "/webhook")
    finally:
        failing.stop()
        rejecting.stop()


# -- The trained assistant, its action server down or its tracker store failing ---------------------------


@pytest.fixture(scope="module")
def assistant(rasa_model, base_model_dir, tmp_path_factory):
    """The trained model in process, its action endpoint on a closed port, an in-memory tracker store."""
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    from core.settings import reset_settings

    rasa_main.install()
    mp = pytest.MonkeyPatch()
    mp.setenv("MOTCUA_HOTLINE", "19001234")
    mp.setenv("MOTCUA_EMBEDDING_MODEL", str(base_model_dir))
    mp.setenv("MOTCUA_DOSSIER_KEY_FILE", str(tmp_path_factory.mktemp("assistant") / "key"))
    reset_settings()
    yield Agent.load(str(rasa_model), action_endpoint=EndpointConfig(f"http://127.0.0.1:{closed_port()}/webhook"))
    mp.undo()
    reset_settings()


async def ask(agent, sender: str, text: str):
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    collector = CollectingOutputChannel()
    await agent.handle_message(UserMessage(text, collector, sender, input_channel="web"))
    return [m.get("text") for m in collector.messages]


async def test_the_assistant_answers_with_the_apology_when_its_action_server_is_down(assistant):
    assert await ask(assistant, "down-1", "tach thua mat bao lau") == [BUSY]  # a custom action: it cannot run
    greeting = await ask(assistant, "down-1", "xin chào")  # a response of the domain needs no action server
    assert greeting and greeting != [BUSY]


async def test_the_assistant_answers_with_the_apology_when_its_tracker_store_fails(assistant, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def down(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("could not connect to server"))

    monkeypatch.setattr(assistant.processor.tracker_store, "retrieve", down)
    assert await ask(assistant, "store-down-1", "xin chào") == [BUSY]


async def test_an_answer_whose_turn_could_not_be_stored_is_never_shown(assistant, monkeypatch):
    """The database failed after the answer was ready: the citizen gets the apology only (and sends the message
    again), never an answer the conversation's history does not hold."""
    from sqlalchemy.exc import OperationalError

    async def down(tracker):
        raise OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(assistant.processor.tracker_store, "save", down)
    assert await ask(assistant, "store-down-2", "xin chào") == [BUSY]


def test_rasa_never_falls_back_to_memory_when_the_tracker_store_fails():
    """Rasa's FailSafeTrackerStore would read the conversation as new and keep the turn in memory only."""
    import asyncio

    from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
    from rasa.shared.core.domain import Domain

    rasa_main.install()

    class Down(InMemoryTrackerStore):
        async def retrieve(self, sender_id):
            raise ConnectionError("database down")

        async def save(self, tracker):
            raise ConnectionError("database down")

    store = FailSafeTrackerStore(Down(Domain.empty()))
    with pytest.raises(ConnectionError):
        asyncio.run(store.retrieve("x"))
    with pytest.raises(ConnectionError):
        asyncio.run(store.save(None))


async def test_an_over_long_message_never_reaches_the_trained_nlu(assistant, monkeypatch):
    parsed = []
    monkeypatch.setattr(assistant.processor, "_parse_message_with_graph", lambda *a, **k: parsed.append(a))
    replies = await ask(assistant, "long-1", "tách thửa " * 201)
    assert parsed == [] and replies[0].startswith("Tin nhắn của bạn dài hơn 2.000 ký tự")
