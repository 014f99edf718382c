"""What a citizen reads about a dossier or a deadline: short Vietnamese, ending in a next step.

The words are in bot/texts.yml (groups "dossier" and "deadline"); this module chooses which and fills them.
"""
from __future__ import annotations

import datetime as dt
from typing import List, Optional

from core.formatting import day, moment
from core.texts import text
from core.vocabulary import (
    NEEDS_DOCUMENTS,
    NO_RESULT,
    RESULT_READY,
    RETURNED,
    STOPPED_BY_AGENCY,
    WAITING_ON_CITIZEN,
    filing_channel,
)
from dossiers.service import DossierView
from knowledge_base.answers import vnd
from knowledge_base.time_answers import unit_name


def money(amount: Optional[int]) -> str:
    """'1.250.000 đồng', or 'theo thông báo' without an amount."""
    return vnd(amount) if amount is not None else text("phrases.amount_unknown")


def _head(view: DossierView) -> str:
    """'Hồ sơ <code> (<procedure>)'."""
    if view.procedure_name:
        return text("phrases.dossier_named", code=view.code, procedure=view.procedure_name)
    return text("phrases.dossier", code=view.code)


def _pickup(view: DossierView) -> str:
    return view.result_pickup or text("phrases.default_pickup")


def status_reply(view: DossierView, hotline: str) -> List[str]:
    """The answer to a verified status lookup, as chat messages."""
    lines = [text("dossier.status", dossier=_head(view), status=view.status_name, moment=moment(view.status_at))]
    if view.current_step or view.handling_unit:
        lines.append(text("dossier.current_step",
                          step=" - ".join(x for x in (view.current_step, view.handling_unit) if x)))
    lines.append(text("dossier.received", day=day(view.received_at)))
    if view.due_at:
        lines.append(text("dossier.due", moment=moment(view.due_at)))
    if view.finished_at and view.due_at:
        lines.append(text("dossier.finished_late" if view.late else "dossier.finished_on_time"))
    elif view.status_code in WAITING_ON_CITIZEN:
        lines.append(text("dossier.paused"))
    elif view.working_days_left is not None:
        if view.late:
            lines.append(text("dossier.late", days=abs(view.working_days_left)))
        elif view.working_days_left == 0:
            lines.append(text("dossier.due_today"))
        else:
            lines.append(text("dossier.days_left", days=view.working_days_left))
    for item in view.open_supplements:
        if item.get("deadline"):
            lines.append(text("dossier.supplement_by", day=day(item["deadline"]), items=item["items"]))
        else:
            lines.append(text("dossier.supplement", items=item["items"]))
    for notice in view.unpaid_notices:
        amount = money(notice.get("amount_vnd"))
        if notice.get("description"):
            lines.append(text("dossier.payment_for", amount=amount, what=notice["description"]))
        else:
            lines.append(text("dossier.payment", amount=amount))
    if view.status_code == RESULT_READY:
        lines.append(text("dossier.result_ready", pickup=_pickup(view)))
    elif view.status_code == RETURNED:
        lines.append(text("dossier.result_returned"))
    elif view.status_code in STOPPED_BY_AGENCY:
        lines.append(text("dossier.ask_why_stopped", hotline=hotline))
    elif view.result_pickup:
        lines.append(text("dossier.pickup", pickup=view.result_pickup))
    return ["\n".join(lines)]


def result_ready_reply(view: DossierView, hotline: str) -> str:
    """'When will my result be ready?' about the dossier the citizen has just looked up (its status reply named
    the procedure already: the code is enough here)."""
    head = text("phrases.dossier", code=view.code)
    if view.status_code == RESULT_READY:
        reply = text("dossier.ready", dossier=head, pickup=_pickup(view))
    elif view.status_code == RETURNED:
        reply = text("dossier.returned", dossier=head)
    elif view.status_code in NO_RESULT:
        reply = text("dossier.no_result", dossier=head, status=view.status_name.lower(), hotline=hotline)
    elif view.status_code in WAITING_ON_CITIZEN:
        documents = view.status_code == NEEDS_DOCUMENTS
        waiting = text("phrases.waiting_documents" if documents else "phrases.waiting_payment")
        reply = text("dossier.waiting", dossier=head, waiting=waiting)
    elif view.due_at is None:
        reply = text("dossier.no_date", dossier=head, hotline=hotline)
    elif view.late and view.working_days_left is not None:
        reply = text("dossier.due_late", dossier=head, moment=moment(view.due_at), days=abs(view.working_days_left))
    elif view.working_days_left:
        reply = text("dossier.due_days_left", dossier=head, moment=moment(view.due_at), days=view.working_days_left)
    else:
        reply = text("dossier.due_on", dossier=head, moment=moment(view.due_at))
    return f"{reply} {text('common.anything_else')}"


def denied_reply() -> str:
    """The one answer for an unknown code and for a wrong verification (never says which)."""
    return text("dossier.denied")


def locked_reply(until: dt.datetime, hotline: str, scope: str = "") -> str:
    """The answer while a lookup is locked out: the dossier's lock (failures from anyone) is told apart
    from the conversation's or the client's own, so an owner knows staff can open it."""
    return text("dossier.locked_dossier" if scope == "dossier" else "dossier.locked",
                until=moment(until), hotline=hotline)


def deadline_reply(procedure_name: str, channel: str, received: dt.datetime, due: dt.datetime,
                   value: float, unit: str, note: str = "", counted_from: Optional[dt.datetime] = None) -> str:
    """The answer to 'if I file now, when is the result due?'."""
    notes = []
    if counted_from and counted_from.date() != received.date():
        notes.append(text("phrases.counted_from", moment=moment(counted_from)))
    if unit.startswith("working"):
        notes.append(text("phrases.working_days_only"))
    values = dict(procedure=procedure_name, channel=filing_channel(channel).filing, value=f"{value:g}",
                  unit=unit_name(unit, unit), received=moment(received), due=moment(due))
    parts = [text("deadline.estimate_notes", notes="; ".join(notes), **values) if notes
             else text("deadline.estimate", **values)]
    if note:
        parts.append(text("deadline.note", note=note.strip()))
    parts.append(text("deadline.closing"))
    return " ".join(parts)
