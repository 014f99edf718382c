"""Dossier status (a form: code, then verification digits) and result-date estimates.

What a conversation may see of a dossier is decided by the dossier service's own record of the
verification (``verified_code``), never by the tracker the caller sends: the ``verified_dossier``
slot only steers the dialogue.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import channel_of, client_of, current, entity, knowledge_base_for
from channels.outbound import NOTICE_CHANNELS
from core import texts
from core.privacy import LAST_DIGITS, digits
from core.vocabulary import CHANNEL_READING_ORDER, FILING_CHANNELS, FINAL_STATUSES
from dossiers import replies
from dossiers.codes import EXAMPLE_CODE, check_code, find_code, looks_like_code
from knowledge_base.resolve import ANSWER, KEEP, Context


def _text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


class ValidateDossierStatusForm(FormValidationAction):
    """Reads the code (opening message, spaces, lower case) and the verification digits."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "validate_dossier_status_form"

    async def extract_dossier_code(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        """A valid code anywhere in the message; a wrong-looking one when the code was asked for."""
        text = _text(tracker)
        if text.startswith("/"):
            return {}
        code = find_code(text)
        if code:
            return {"dossier_code": code}
        if tracker.get_slot("requested_slot") == "dossier_code" and looks_like_code(text):
            return {"dossier_code": text}  # a wrong code: validation explains what is wrong
        return {}

    async def extract_verification_digits(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                          domain: DomainDict) -> Dict[Text, Any]:
        """The digits of the answer when the verification was asked for."""
        if tracker.get_slot("requested_slot") != "verification_digits":
            return {}
        text = _text(tracker)
        if find_code(text) or text.startswith("/"):
            return {}
        typed = digits(text)
        if typed:
            return {"verification_digits": typed}
        return {}

    def validate_dossier_code(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> Dict[Text, Any]:
        """Keep a valid code (normalised); otherwise say what is wrong and ask again."""
        check = check_code(str(value or ""))
        if check.ok:
            return {"dossier_code": check.code}
        dispatcher.utter_message(text=texts.text("dossier.code_problem", problem=check.problem, example=EXAMPLE_CODE))
        return {"dossier_code": None}

    def validate_verification_digits(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> Dict[Text, Any]:
        """Keep only the last 4 digits; ask again when fewer were given."""
        typed = digits(str(value or ""))
        if len(typed) >= LAST_DIGITS:
            return {"verification_digits": typed[-LAST_DIGITS:]}  # only the last digits are kept
        dispatcher.utter_message(text=texts.text("dossier.digits_short"))
        return {"verification_digits": None}


class ActionDossierStatus(Action):
    """Look the dossier up with the verification; the same answer for unknown code and wrong digits."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_dossier_status"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        """Look up, answer, forget the verification digits."""
        ctx = current()
        hotline = ctx.knowledge_base.settings.office.hotline
        reset = [SlotSet("verification_digits", None), SlotSet("dossier_code", None)]
        result = ctx.dossier_service.lookup(tracker.sender_id, channel_of(tracker),
                                          tracker.get_slot("dossier_code") or "",
                                          tracker.get_slot("verification_digits") or "", client=client_of(tracker))
        if result.outcome == "ok":
            messages = replies.status_reply(result.view, hotline)
            for message in messages[:-1]:
                dispatcher.utter_message(text=message)
            if result.view.status_code in FINAL_STATUSES or channel_of(tracker) not in NOTICE_CHANNELS:
                dispatcher.utter_message(text=messages[-1] + "\n" + texts.text("common.anything_else"))
            else:
                dispatcher.utter_message(
                    text=messages[-1] + "\n" + texts.text("dossier.offer_notices"),
                    buttons=[{"title": texts.text("buttons.notify_yes"), "payload": "/subscribe_notices"},
                             {"title": texts.text("buttons.notify_no"), "payload": "/deny"}])
            return reset + [SlotSet("verified_dossier", result.view.code)]
        if result.outcome == "locked":
            dispatcher.utter_message(text=replies.locked_reply(result.locked_until, hotline, result.lock_scope))
        elif result.outcome == "invalid":
            dispatcher.utter_message(text=texts.text("dossier.invalid", problem=result.problem))
        else:
            dispatcher.utter_message(
                text=replies.denied_reply(),
                buttons=[{"title": texts.text("buttons.look_up_again"), "payload": "/check_dossier_status"},
                         {"title": texts.text("buttons.human"), "payload": "/request_human"}])
        return reset + [SlotSet("verified_dossier", None)]


class ActionSubscribeNotices(Action):
    """Opt the conversation in to notices for the dossier it has just verified (the server's record)."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_subscribe_notices"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        """Subscribe, or explain that a lookup comes first."""
        channel = channel_of(tracker)
        if channel not in NOTICE_CHANNELS:
            dispatcher.utter_message(text=texts.text("dossier.notices_unavailable"))
            return []
        service = current().dossier_service
        code = service.verified_code(tracker.sender_id, channel, client_of(tracker))
        if not code:
            dispatcher.utter_message(text=texts.text("dossier.look_up_first"))
            return []
        service.subscribe(code, tracker.sender_id, channel)
        dispatcher.utter_message(text=texts.text("dossier.subscribed", code=code))
        return []


def channel_in(text: str) -> Optional[str]:
    """The filing channel a message names ('nộp online', 'qua bưu điện'), if any."""
    from core.text import fold

    folded = fold(text)
    for channel in CHANNEL_READING_ORDER:
        if any(w in folded for w in FILING_CHANNELS[channel].words):
            return channel
    return None


class ActionEstimateDeadline(Action):
    """'If I file now, when is the result due?' for the procedure in context and a chosen channel."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_estimate_deadline"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        """Find the procedure and channel, then compute the due date from now."""
        text = _text(tracker)
        ctx = current()
        kb = knowledge_base_for(tracker)
        # the procedure under discussion, unless the message's words name another one
        found = kb.resolve(text, Context(current=tracker.get_slot("procedure_code"), policy=KEEP))
        code = found.code if found.kind == ANSWER else None
        events: List[Dict[Text, Any]] = []
        if found.via == "search":
            events.append(SlotSet("procedure_code", code))
        named_channel = entity(tracker, "filing_channel") or channel_in(text)
        if not events and not named_channel:  # "khi nào có kết quả?" right after a lookup
            verified = ctx.dossier_service.verified_code(tracker.sender_id, channel_of(tracker), client_of(tracker))
            view = ctx.dossier_service.view(verified) if verified else None
            if view is not None:
                dispatcher.utter_message(text=replies.result_ready_reply(view, kb.settings.office.hotline))
                return []
        if not code:
            dispatcher.utter_message(text=texts.text("deadline.which_procedure"))
            return events
        service = ctx.dossier_service
        limits = service.time_limits
        channels = limits.channels(code)
        name = limits.name(code) or code
        if not channels:
            dispatcher.utter_message(
                text=texts.text("deadline.no_limit", name=name, hotline=kb.settings.office.hotline))
            return events
        channel = named_channel or tracker.get_slot("filing_channel")
        if channel not in channels:
            if len({limits(code, c) for c in channels}) == 1:
                channel = channels[0]  # the same limit on every channel: no need to ask
            else:
                dispatcher.utter_message(
                    text=texts.text("deadline.which_channel", name=name),
                    buttons=[{"title": FILING_CHANNELS[c].title,
                              "payload": f'/ask_result_ready{{"filing_channel":"{c}"}}'} for c in channels])
                return events
        value, unit = limits(code, channel)
        received = ctx.clock().replace(second=0, microsecond=0)
        due = service.calendar.due(received, value, unit)
        dispatcher.utter_message(text=replies.deadline_reply(
            name, channel, received, due, value, unit, limits.note(code, channel),
            counted_from=service.calendar.counting_start(received) if unit.startswith("working") else None))
        return events + [SlotSet("filing_channel", channel)]
