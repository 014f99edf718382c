"""What motcua's Rasa input channels share: a fixed name, secrets from settings, a health route."""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request


class SettingsInput(InputChannel):
    """An input channel named ``channel`` whose secrets come from motcua's settings, not credentials.yml."""

    channel = ""

    @classmethod
    def name(cls) -> Text:
        return cls.channel

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "SettingsInput":
        return cls()  # secrets come from settings (environment or the git-ignored channels file)

    def health_blueprint(self, name: str) -> Blueprint:
        """A blueprint that already answers GET / with {"status": "ok"}."""
        hook = Blueprint(name, __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request):
            return response.json({"status": "ok"})

        return hook
