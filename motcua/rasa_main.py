"""Rasa's command line with motcua's server-side tuning: `python -m motcua.rasa_main run ...`.

- Rasa validates every action-server response against a JSON schema with ``jsonschema.validate``,
  which checks the schema itself again on each call: on 2 cores that was about 60 % of the Rasa
  server's CPU under load. Here the validator is compiled once and reused; responses are still
  validated, with the same error message.
- The NLU result of a message text is kept (LRU, MOTCUA_NLU_CACHE entries per loaded model): the
  same words get the same intent and entities, and "xin chào", "cảm ơn", "còn lệ phí thì sao?"
  come back all day. Button payloads ("/intent{...}") are cheap and not cached.
"""
from __future__ import annotations

import copy
import functools
import sys
from collections import OrderedDict
from typing import Any, Dict, Text


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


def _cached_parse(parse):
    """Wrap MessageProcessor._parse_message_with_graph with a per-processor LRU on the message text."""

    @functools.wraps(parse)
    def parse_with_cache(self, message, tracker, only_output_properties: bool = True):
        from motcua.settings import get_settings

        size = get_settings().nlu_cache
        text = message.text or ""
        if size <= 0 or not text or text.startswith("/") or len(text) > 1000:
            return parse(self, message, tracker, only_output_properties)
        cache = self.__dict__.setdefault("_motcua_nlu_cache", OrderedDict())  # a new model, a new processor
        key = (text, only_output_properties)
        if key in cache:
            cache.move_to_end(key)
            return copy.deepcopy(cache[key])
        result = parse(self, message, tracker, only_output_properties)
        cache[key] = copy.deepcopy(result)
        while len(cache) > size:
            cache.popitem(last=False)
        return result

    parse_with_cache.motcua_cached = True
    return parse_with_cache


def install() -> None:
    """Apply the tuning to this process's Rasa (idempotent)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor

    RemoteAction._validate_action_result = _validate_action_result
    if not getattr(MessageProcessor._parse_message_with_graph, "motcua_cached", False):
        MessageProcessor._parse_message_with_graph = _cached_parse(MessageProcessor._parse_message_with_graph)


def main() -> None:
    """Run Rasa's CLI (arguments as for `rasa`) with the tuning applied."""
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
