"""Messaging channels: Telegram, Zalo Official Account and the web widget.

Plain modules (no Rasa imports) hold each protocol: ``text`` (splitting, numbered options),
``state`` (what a channel remembers between messages), ``telegram``, ``zalo``, ``web`` and
``outbound`` (notices sent outside a reply). The ``rasa_*`` modules are thin Rasa input channels
over them, registered in the credentials file that `motcua run` writes.

Conversation ids carry their channel: ``tg-<chat id>``, ``zalo-<user id>``, ``web-<session id>``,
so one tracker store holds all channels without collisions and a notice knows where to go.
"""
