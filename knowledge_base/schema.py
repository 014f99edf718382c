"""Catalogue schema: one administrative procedure, as restated from its official record.

The shape holds both what the portal's public pages show (flattened tables, parsed by
``importer.records``) and the portal's structured JSON API (``importer.portal_json``).
pydantic 1.x is what rasa 3.6 pins, so this module uses its API.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import List, Optional

from pydantic import BaseModel, Field, validator

CODE_PATTERN = r"^\d\.\d{6}$"


class Level(str, Enum):
    """Administrative level that handles a procedure."""

    ministry = "ministry"
    province = "province"
    commune = "commune"
    other = "other"


class Method(str, Enum):
    """How a dossier can be filed."""

    direct = "direct"
    online = "online"
    postal = "postal"


class TimeUnit(str, Enum):
    """Unit of a processing time as the record states it."""

    working_day = "working_day"
    day = "day"
    hour = "hour"
    working_hour = "working_hour"
    week = "week"
    month = "month"
    year = "year"
    unspecified = "unspecified"


class FeeKind(str, Enum):
    """Kind of a charge (the portal's FEE / CHARGE / SERVICE_FEE)."""

    fee = "fee"
    charge = "charge"
    service_fee = "service_fee"
    none = "none"
    unknown = "unknown"


class _Model(BaseModel):
    class Config:
        extra = "forbid"
        validate_assignment = True
        use_enum_values = True


class ProcessingTime(_Model):
    """A time limit: value + unit, with the official note when there is one."""

    value: Optional[float] = Field(default=None, ge=0)
    unit: TimeUnit = TimeUnit.unspecified
    note: str = ""
    # "steps" when the time's own cell gives no unit and the importer read it from the record's steps, which give
    # the same number with one ("trong thời hạn 05 ngày làm việc"); None when the cell itself says it
    unit_from: Optional[str] = None


class Fee(_Model):
    """One fee or charge: an amount in VND when stated, and always the official wording."""

    kind: FeeKind = FeeKind.unknown
    amount_vnd: Optional[int] = Field(default=None, ge=0)
    text: str = ""
    set_by_province: bool = False


class Channel(_Model):
    """A way of filing (in person, postal, online) with its own time limit and fees."""

    method: Method
    time: ProcessingTime = Field(default_factory=ProcessingTime)
    fees: List[Fee] = Field(default_factory=list)
    description: str = ""


class Document(_Model):
    """One paper to submit, with how many originals / copies and its form, if any.

    ``name`` is the record's wording; the importer restates it as the paper itself (``title``) and
    the condition under which it is needed (``condition``, the record's own words), with the
    cases, applicant types and other circumstances that condition names as tags (see
    ``knowledge_base.situation``). ``required`` is False for a paper "(nếu có)".
    """

    name: str
    form: str = ""
    originals: Optional[int] = Field(default=None, ge=0)
    copies: Optional[int] = Field(default=None, ge=0)
    required: bool = True
    has_electronic_form: bool = False
    title: str = ""
    condition: str = ""
    cases: List[str] = Field(default_factory=list)
    applicant_types: List[str] = Field(default_factory=list)
    circumstances: List[str] = Field(default_factory=list)
    form_number: str = ""

    @property
    def paper(self) -> str:
        """The paper to bring, without its condition."""
        return self.title or self.name

    @validator("name")
    def _name_not_blank(cls, v: str) -> str:  # noqa: N805
        if not v.strip():
            raise ValueError("document name is empty")
        return v


class DocumentCase(_Model):
    """The documents for one case ("a) Đối với trường hợp ..."); name is empty when there is one case."""

    name: str = ""
    documents: List[Document] = Field(default_factory=list)
    note: str = ""


class Step(_Model):
    """One numbered step of the procedure."""

    name: str
    description: str = ""


class FilingPlace(_Model):
    """Who files where, as the record's steps say it ("Cá nhân … nộp hồ sơ đến …")."""

    who: str = ""
    where: str
    applicant_types: List[str] = Field(default_factory=list)
    cases: List[str] = Field(default_factory=list)  # the cases who files names ("… tặng cho … cho Nhà nước"): gift


class LegalDocument(_Model):
    """A legal basis: the document's code (số hiệu) and title."""

    code: str = ""
    title: str


class Result(_Model):
    """What the citizen receives at the end."""

    name: str
    code: str = ""


class Procedure(_Model):
    """One administrative procedure of the catalogue."""

    code: str = Field(..., regex=CODE_PATTERN)
    name: str = Field(..., min_length=3)
    # What a chat answer calls it ("Đăng ký biến động: chuyển nhượng, thừa kế, tặng cho"): written by
    # the importer from the name, staff may rewrite it; a re-import keeps theirs.
    short_name: str = ""
    field: str
    levels: List[Level] = Field(..., min_items=1)
    procedure_type: str = ""
    agencies: List[str] = Field(default_factory=list)
    competent_agencies: List[str] = Field(default_factory=list)
    coordinating_agencies: List[str] = Field(default_factory=list)
    address: str = ""
    applicants: List[str] = Field(default_factory=list)
    steps: List[Step] = Field(default_factory=list)
    filing_places: List[FilingPlace] = Field(default_factory=list)
    channels: List[Channel] = Field(default_factory=list)
    document_cases: List[DocumentCase] = Field(default_factory=list)
    conditions: str = ""
    results: List[Result] = Field(default_factory=list)
    legal_basis: List[LegalDocument] = Field(default_factory=list)
    related: str = ""
    fully_online: Optional[bool] = None
    decision: str = ""
    decision_date: Optional[dt.date] = None
    source_url: str = ""
    portal_id: str = ""
    last_updated: Optional[dt.date] = None
    aliases: List[str] = Field(default_factory=list)
    staff_notes: str = ""
    # The province's own fee amounts (HĐND resolutions), written by staff; kept by re-imports.
    province_fees: str = ""

    @validator("channels")
    def _one_channel_per_method(cls, v: List[Channel]) -> List[Channel]:  # noqa: N805
        methods = [c.method for c in v]
        if len(methods) != len(set(methods)):
            raise ValueError("a filing method is listed twice")
        return v

    @property
    def chat_name(self) -> str:
        """The short name, or the official one when there is none."""
        return self.short_name or self.name.rstrip(". ")

    def channel(self, method: str) -> Optional[Channel]:
        """The channel for ``method`` ('direct', 'online', 'postal'), if the record lists it."""
        return next((c for c in self.channels if c.method == method), None)

    @property
    def documents(self) -> List[Document]:
        """All documents across cases."""
        return [d for case in self.document_cases for d in case.documents]
