"""Sync with a live one-stop system: an adapter interface and a reference HTTP implementation.

The reference API (documented in docs/dossiers.md): ``GET {base}/dossiers?updated_since=ISO&page=N``
with ``Authorization: Bearer <token>`` answers ``{"items": [row, ...], "next_page": N or null}``, each
row with the export's column names (English forms). Timeouts, HTTP errors and malformed answers
become a structured :class:`SyncResult`, never an exception.
"""
from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass, field
from typing import List, Optional

import requests

from dossiers.importer import map_headers, record_from_row
from dossiers.service import DossierRecord, DossierService


@dataclass
class SyncResult:
    """What a sync fetched and applied, or why it failed (``error``)."""

    ok: bool
    records: List[DossierRecord] = field(default_factory=list)
    rejected: List[str] = field(default_factory=list)  # "row N: reason"
    error: Optional[str] = None  # timeout / connection / http_<status> / bad_response
    detail: str = ""
    applied: int = 0
    notices: int = 0


class OneStopAdapter(abc.ABC):
    """What the dossier service needs from a one-stop system."""

    @abc.abstractmethod
    def fetch_updates(self, since: Optional[dt.datetime]) -> SyncResult:
        """Dossiers changed since ``since`` (all when None)."""


class HttpOneStopAdapter(OneStopAdapter):
    """Reference implementation over the HTTP API described above."""

    def __init__(self, base_url: str, token: Optional[str] = None, timeout_s: float = 10.0, max_pages: int = 1000,
                 session: Optional[requests.Session] = None):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s
        self.max_pages = max_pages
        self.session = session or requests.Session()

    def fetch_updates(self, since: Optional[dt.datetime]) -> SyncResult:
        """Every page of dossiers changed since ``since``; failures become a SyncResult with ``error``."""
        result = SyncResult(ok=True)
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        page: Optional[int] = 1
        pages = 0
        while page is not None:
            pages += 1
            if pages > self.max_pages:
                return SyncResult(False, error="bad_response", detail=f"more than {self.max_pages} pages")
            params = {"page": page}
            if since is not None:
                params["updated_since"] = since.isoformat(timespec="seconds")
            try:
                response = self.session.get(f"{self.base_url}/dossiers", params=params, headers=headers,
                                            timeout=self.timeout_s)
            except requests.Timeout:
                return SyncResult(False, error="timeout", detail=f"no answer within {self.timeout_s:g} s")
            except requests.RequestException as exc:
                return SyncResult(False, error="connection", detail=exc.__class__.__name__)
            if response.status_code != 200:
                return SyncResult(False, error=f"http_{response.status_code}", detail=response.text[:200])
            try:
                body = response.json()
                items = body["items"]
                next_page = body.get("next_page")
                if not isinstance(items, list) or (next_page is not None and not isinstance(next_page, int)):
                    raise TypeError
            except (ValueError, KeyError, TypeError, AttributeError):
                return SyncResult(False, error="bad_response", detail="expected {\"items\": [...], \"next_page\": ...}")
            for number, item in enumerate(items, start=1):
                if not isinstance(item, dict):
                    result.rejected.append(f"page {page} item {number}: not an object")
                    continue
                keys = list(item.keys())
                try:
                    result.records.append(record_from_row(map_headers(keys), [item[k] for k in keys]))
                except ValueError as exc:
                    result.rejected.append(f"page {page} item {number}: {exc}")
            page = next_page
        return result


def sync(service: DossierService, adapter: OneStopAdapter, since: Optional[dt.datetime]) -> SyncResult:
    """Fetch updates and apply them (status changes queue notices)."""
    result = adapter.fetch_updates(since)
    if result.ok and result.records:
        applied = service.upsert_many(result.records, source="sync")
        result.applied = sum(r.action != "unchanged" for r in applied)
        result.notices = sum(r.notices for r in applied)
    return result
