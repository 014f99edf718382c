"""Thin Rasa actions: they orchestrate the knowledge base and services, nothing more."""
