"""Channels: the web chat page (bot/webchat), channel credential templates; connectors land here."""
