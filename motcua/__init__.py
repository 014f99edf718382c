"""motcua: operator tooling and settings for the one-stop-desk assistant."""
