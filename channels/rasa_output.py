"""A Rasa output channel whose every kind of message comes down to one ``reply(recipient, text, buttons)``."""
from __future__ import annotations

from typing import Any, Dict, List, Sequence, Text

from rasa.core.channels.channel import OutputChannel


class ReplyOutput(OutputChannel):
    """Texts, buttons, and images / attachments as their link; subclasses name their ``channel`` and
    send with :meth:`reply`."""

    channel = ""

    def __init__(self, client: Any):
        self.client = client  # the channel's API client

    @classmethod
    def name(cls) -> Text:
        return cls.channel

    async def reply(self, recipient_id: Text, text: Text, buttons: Sequence[Dict[Text, Any]] = ()) -> None:
        raise NotImplementedError

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.reply(recipient_id, text)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        await self.reply(recipient_id, text, buttons)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self.reply(recipient_id, image)

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        await self.reply(recipient_id, attachment)
