"""The texts and buttons the actions send, composed from bot/texts.yml (the words staff edit there)."""
from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from core import texts
from core.formatting import clock, date, soon
from knowledge_base.answers import elide
from knowledge_base.situation import SituationTable

if TYPE_CHECKING:  # pragma: no cover
    from dossiers.calendar import WorkingCalendar

CHOICE_TITLE = 70  # characters of a procedure's button


def choose(count: int = 2) -> str:
    """Ask the citizen to pick one of a few close procedures (or to confirm the one close procedure)."""
    return texts.text("procedures.choose" if count > 1 else "procedures.confirm")


def choice_not_understood() -> str:
    """The reply to a choice that names none of the options."""
    return texts.text("procedures.choice_not_understood")


def feedback_thanks() -> str:
    """Thanks for a good rating."""
    return texts.text("feedback.thanks")


def fallback(hotline: str) -> str:
    """Not understood: how to ask, or the hotline."""
    return texts.text("procedures.fallback", hotline=hotline)


def feedback_negative(hotline: str) -> str:
    """Apology after a bad rating, with where to get help."""
    return texts.text("feedback.negative", hotline=hotline)


def unknown(hotline: str) -> str:
    """Plain 'I do not know' with the desk, the hotline and a person as next steps."""
    return texts.text("procedures.unknown", hotline=hotline)


def other_agency(agency: str) -> str:
    """Another agency's service: name the agency, offer what this assistant does know."""
    return texts.text("procedures.other_agency", agency=agency)


def limit(answer: str, procedure_known: bool, then: str = "") -> str:
    """Another agency decides this part of the case: its answer and a next step (``then``: the name of our
    procedure the part belongs to, when the conversation had none)."""
    if then:
        return texts.text("procedures.limit_then", answer=answer, name=then)
    return texts.text("procedures.limit_in_procedure" if procedure_known else "procedures.limit", answer=answer)


_CHOICE_PAYLOAD = re.compile(r'/choose_option\{"procedure_code":"([0-9A-Za-z.\-]+)"\}')


def choice_buttons(procedures: Sequence[Tuple[str, str]]) -> List[Dict[str, str]]:
    """Buttons that choose a procedure by code, one per (code, name): a long name loses its middle (close
    procedures differ in their last words), and names still alike after that carry their codes."""
    titles = [elide(name, CHOICE_TITLE) for _, name in procedures]
    if len(set(titles)) < len(titles):
        titles = [f"{elide(name, CHOICE_TITLE - len(code) - 3)} ({code})" for code, name in procedures]
    return [{"title": title, "payload": f'/choose_option{{"procedure_code":"{code}"}}'}
            for (code, _), title in zip(procedures, titles)]


def code_of_choice(button: Dict[str, Any]) -> Optional[str]:
    """The procedure code a ``choice_buttons`` button chooses (None for any other button)."""
    match = _CHOICE_PAYLOAD.fullmatch(str((button or {}).get("payload") or ""))
    return match.group(1) if match else None


def case_button(code: str, case: int, title: str) -> Dict[str, str]:
    """A button that shows the documents of another case of the same procedure."""
    return {"title": texts.text("buttons.other_case", title=title),
            "payload": f'/ask_documents{{"procedure_code":"{code}","document_case":"{case}"}}'}


_CASE_PAYLOAD = re.compile(r'^/ask_documents\{"procedure_code":"([^"]+)","document_case":"(\d+)"\}$')


def case_of_button(button: Dict[str, Any]) -> Optional[Tuple[str, int]]:
    """(code, case) a ``case_button`` shows; None for any other button."""
    match = _CASE_PAYLOAD.match(str(button.get("payload") or ""))
    return (match.group(1), int(match.group(2))) if match else None


def situation_buttons(code: str, options: Sequence[Dict[str, Any]]) -> List[Dict[str, str]]:
    """Buttons that answer "which case are you in?" for a checklist ({"title", "case"} options)."""
    def payload(o) -> str:
        shown = f',"document_case":"{o["document_case"]}"' if o.get("document_case") else ""
        return f'/ask_documents{{"procedure_code":"{code}","situation_case":"{o["case"]}"{shown}}}'

    return [{"title": texts.text("buttons.situation_case", label=o["title"]), "payload": payload(o)} for o in options]


_SITUATION_PAYLOAD = re.compile(r'^/ask_documents\{"procedure_code":"([^"]+)","situation_case":"[^"]+"')


def code_of_situation_button(button: Dict[str, Any]) -> Optional[str]:
    """The procedure code a ``situation_buttons`` button answers the case question of (None for any other)."""
    match = _SITUATION_PAYLOAD.match(str((button or {}).get("payload") or ""))
    return match.group(1) if match else None


def foreigner_button(code: str, case: Optional[int] = None) -> Dict[str, str]:
    """A button that shows a checklist's papers (of document ``case``, if given) for a foreign applicant."""
    shown = f',"document_case":"{case}"' if case else ""
    return {"title": texts.text("buttons.foreigner"),
            "payload": f'/ask_documents{{"procedure_code":"{code}","situation_applicant":"foreigner"{shown}}}'}


def land_button(code: str, land: str, case: Optional[int] = None) -> Dict[str, str]:
    """A button that shows a checklist's papers (of document ``case``, if given) for a citizen who also has land of
    the kind ``land`` (a tag of situations.yml), whose papers it left out."""
    shown = f',"document_case":"{case}"' if case else ""
    label = SituationTable.default().land_labels.get(land, land)
    return {"title": texts.text("buttons.other_land", label=label),
            "payload": f'/ask_documents{{"procedure_code":"{code}","situation_land":"{land}"{shown}}}'}


def more_button(code: str, case: int, page: int) -> Dict[str, str]:
    """The next page of a long checklist."""
    return {"title": texts.text("buttons.more"),
            "payload": f'/ask_documents{{"procedure_code":"{code}","document_case":"{case}","answer_page":"{page}"}}'}


def aspect_buttons(code: str, aspects: Sequence[str]) -> List[Dict[str, str]]:
    """Buttons that ask the same procedure's next aspects ("Lệ phí", "Thời hạn")."""
    titles = {"documents": texts.text("buttons.documents"), "fees": texts.text("buttons.fees"),
              "time": texts.text("buttons.time"), "where": texts.text("buttons.where"),
              "channels": texts.text("buttons.channels"), "steps": texts.text("buttons.steps")}
    return [{"title": titles[a], "payload": f'/ask_{a}{{"procedure_code":"{code}"}}'} for a in aspects]


def feedback_buttons() -> List[Dict[str, str]]:
    """Rate the answer."""
    return [{"title": texts.text("buttons.helpful"), "payload": "/feedback_positive"},
            {"title": texts.text("buttons.not_right"), "payload": "/feedback_negative"}]


def help_buttons() -> List[Dict[str, str]]:
    """Next steps when nothing fits."""
    return [{"title": texts.text("buttons.human"), "payload": "/request_human"},
            {"title": texts.text("buttons.hours"), "payload": "/ask_office_hours"}]


def periods(calendar: WorkingCalendar) -> str:
    """The office hours of a working day (calendar.yml): "8h00–12h00, 13h00–17h00"."""
    return ", ".join(f"{clock(start)}–{clock(end)}" for start, end in calendar.office_hours)


def next_opening(calendar: WorkingCalendar, now: dt.datetime) -> str:
    """When the desk opens next, as a citizen reads it: "8h00 thứ Tư, 25/11"."""
    return soon(calendar.next_opening(now))


def office_hours(calendar: WorkingCalendar, now: dt.datetime, hotline: str) -> str:
    """The desk's hours from the working calendar (calendar.yml), whether it is open now, and the hotline."""
    end = calendar.open_until(now)
    if end is not None:
        state = texts.text("office.open_now", until=clock(end))
    else:
        state = texts.text("office.closed_now", opening=next_opening(calendar, now))
    return texts.text("office.hours", periods=periods(calendar), state=state, hotline=hotline)


def handoff(calendar: WorkingCalendar, hotline: str) -> str:
    """The citizen asked for a person on a channel staff cannot answer on: the hotline and the desk, in office hours."""
    return texts.text("handoff.desk", periods=periods(calendar), hotline=hotline)


def handoff_limited(calendar: WorkingCalendar, now: dt.datetime, hotline: str,
                    by_this_conversation: bool = True) -> str:
    """A request for a person not queued: this conversation asked settings.channels.handoff_per_hour times within the
    hour (its requests will be answered), or many came from this connection (a shared address: this citizen
    may never have asked). The hotline and the desk instead, with when the desk is open."""
    end = calendar.open_until(now)
    if end is not None:
        when = texts.text("phrases.call_now", hotline=hotline, until=clock(end))
    else:
        when = texts.text("phrases.call_from", hotline=hotline, opening=next_opening(calendar, now))
    return texts.text("handoff.limited_conversation" if by_this_conversation else "handoff.limited_address", when=when)


def handoff_queued(calendar: WorkingCalendar, now: dt.datetime, hotline: str) -> str:
    """The citizen asked for a person on a channel staff can answer: say when one will come."""
    if calendar.is_open(now):
        return texts.text("handoff.queued_open", hotline=hotline)
    opening = calendar.next_opening(now)
    return texts.text("handoff.queued_closed", time=clock(opening), date=date(opening))
