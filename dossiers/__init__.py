"""Dossier service: store, status lookup with identity check, working-day calendar, notices."""
