"""Importers that restate official records in the catalogue schema."""
