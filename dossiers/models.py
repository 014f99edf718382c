"""What the dossier service takes in and gives out (plain dataclasses)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

from core.vocabulary import CHANNELS, STATUS_NAMES
from dossiers.codes import check_code

# (procedure code, channel) -> (value, unit) of the record's time limit, or None.
TimeLimits = Callable[[str, str], Optional[Tuple[float, str]]]


@dataclass
class DossierRecord:
    """One dossier as a one-stop system exports it (a snapshot at its current status)."""

    code: str
    procedure_code: str
    channel: str
    received_at: dt.datetime
    status_code: int
    status_at: Optional[dt.datetime] = None
    procedure_name: str = ""
    applicant_name: str = ""
    phone: str = ""
    citizen_id: str = ""
    due_at: Optional[dt.datetime] = None
    current_step: str = ""
    handling_unit: str = ""
    result_pickup: str = ""
    supplement_items: str = ""
    supplement_requested_at: Optional[dt.datetime] = None
    supplement_deadline: Optional[dt.datetime] = None
    financial_amount_vnd: Optional[int] = None
    financial_description: str = ""
    financial_issued_at: Optional[dt.datetime] = None
    financial_paid_at: Optional[dt.datetime] = None

    def problems(self) -> List[str]:
        """What makes this record unusable (English, for import reports)."""
        out = []
        check = check_code(self.code)
        if not check.ok:
            out.append(f"bad dossier code {self.code!r}")
        if self.channel not in CHANNELS:
            out.append(f"channel must be one of {', '.join(CHANNELS)}, not {self.channel!r}")
        if self.status_code not in STATUS_NAMES:
            out.append(f"status must be 1-10, not {self.status_code!r}")
        if not self.procedure_code:
            out.append("procedure code is empty")
        if not (self.phone or self.citizen_id):
            out.append("neither phone nor citizen ID: the citizen could never verify")
        if self.due_at and self.due_at < self.received_at:
            out.append("due time is before the received time")
        return out


@dataclass
class UpsertResult:
    """What an upsert did to one dossier, and how many notices it queued."""

    code: str
    action: str  # created / updated / unchanged
    status_changed: bool = False
    notices: int = 0


@dataclass
class DossierView:
    """What a verified citizen may see of a dossier (no personal numbers)."""

    code: str
    procedure_code: str
    procedure_name: str
    channel: str
    applicant: str
    status_code: int
    status_name: str
    status_at: dt.datetime
    current_step: str
    handling_unit: str
    received_at: dt.datetime
    due_at: Optional[dt.datetime]
    result_pickup: str
    finished_at: Optional[dt.datetime] = None
    working_days_left: Optional[int] = None  # >= 0: days left; < 0: working days late
    late: bool = False
    open_supplements: List[dict] = field(default_factory=list)
    unpaid_notices: List[dict] = field(default_factory=list)
    history: List[dict] = field(default_factory=list)


@dataclass
class LookupResult:
    """The outcome of a citizen's lookup; ``view`` only when ``outcome`` is 'ok'."""

    outcome: str  # ok / denied / locked / invalid
    view: Optional[DossierView] = None
    problem: str = ""  # for 'invalid': what is wrong with the code (Vietnamese)
    locked_until: Optional[dt.datetime] = None
    code: Optional[str] = None
    lock_scope: str = ""  # for 'locked': whose lock ends last: conversation / client / dossier
