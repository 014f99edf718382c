"""The tuned Rasa entry point validates action-server responses exactly as Rasa does."""
import pytest
from jsonschema import ValidationError

from motcua import rasa_main
from rasa.core.actions.action import RemoteAction


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
