"""Procedure knowledge base: catalogue, importers, Vietnamese text handling, retrieval, answers."""
