"""Feedback on answers, requests for a person, and the fallback when nothing is understood."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import templates
from actions.context import channel_of, client_of, current, entity, knowledge_base_for, log_unanswered
from core.privacy import mask_text
from knowledge_base.answers import detect_aspect
from knowledge_base.resolve import ANSWER, SURE, Context, Resolution
from knowledge_base.retrieval.hybrid import Hit
from knowledge_base.situation import Situation


class ActionRecordFeedback(Action):
    """Store the citizen's rating with the answer it rates."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_record_feedback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        """Record positive/negative feedback and reply."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        rating = "positive" if intent == "feedback_positive" else "negative"
        try:
            last = json.loads(tracker.get_slot("last_answer") or "{}")
        except (TypeError, ValueError):
            last = {}
        text = tracker.latest_message.get("text") or ""
        ctx = current()
        ctx.review_log.record_feedback(tracker.sender_id, channel_of(tracker), rating,
                                     comment="" if text.startswith("/") else mask_text(text),
                                     procedure_code=last.get("code"), aspect=last.get("aspect"),
                                     answer=last.get("text", ""))
        hotline = ctx.knowledge_base.settings.office.hotline
        dispatcher.utter_message(text=templates.feedback_thanks() if rating == "positive"
                                 else templates.feedback_negative(hotline))
        return []


class ActionHandoff(Action):
    """The citizen asks for a person: record it and tell how to reach the desk."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        """Log the request for staff; where a person can answer on this channel, queue it for them, within
        settings.channels.handoff_per_hour per conversation and settings.channels.handoff_per_hour_address per
        client address (a flood from fresh web sessions; a generous allowance: many citizens share a carrier's
        address).
        Asking again while one waits is not a new request."""
        from channels.outbound import NOTICE_CHANNELS
        from core.stores.handoff import LIMITED_CLIENT, LIMITED_CONVERSATION

        log_unanswered(tracker, "handoff_requested")
        ctx = current()
        hotline = ctx.knowledge_base.settings.office.hotline
        channel = channel_of(tracker)
        if channel not in NOTICE_CHANNELS:
            dispatcher.utter_message(text=templates.handoff(ctx.working_calendar, hotline))
            return []
        settings = ctx.knowledge_base.settings
        state = ctx.handoffs.request(tracker.sender_id, channel, client_of(tracker),
                                   per_hour=settings.channels.handoff_per_hour,
                                   per_hour_client=settings.channels.handoff_per_hour_address)
        if state in (LIMITED_CONVERSATION, LIMITED_CLIENT):
            dispatcher.utter_message(text=templates.handoff_limited(
                ctx.working_calendar, ctx.clock(), hotline, by_this_conversation=state == LIMITED_CONVERSATION))
            return []
        dispatcher.utter_message(text=templates.handoff_queued(ctx.working_calendar, ctx.clock(), hotline))
        return []


class ActionAffirm(Action):
    """"Vâng", "ok" - or a lone letter right after the bot listed a record's document cases: the classifier reads
    "a", "b", "đ" as a yes, so a case offered by the last message is chosen first."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_affirm"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        """The offered case the reply chooses, the one procedure "Có phải bạn hỏi về …?" offered, else the plain
        "what else?" reply."""
        from actions.procedures import answer_choice, answer_offered_case, still_offered

        events = answer_offered_case(dispatcher, tracker, tracker.latest_message.get("text") or "")
        if events is not None:
            return events
        offered = still_offered(tracker, tracker.get_slot("candidates") or ())
        if len(offered) == 1:  # "vâng" to the one procedure offered: its answer for what was asked
            return answer_choice(dispatcher, tracker, offered[0])
        dispatcher.utter_message(response="utter_affirm_next")
        return []


class ActionOutOfScope(Action):
    """Classed outside the department's procedures: another agency named, a staff answer or a sure catalogue
    match if one fits, else say so and log it for staff."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_out_of_scope"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        """Staff may answer such questions (parking, opening hours of a branch…) from the console.

        Out of scope is the classifier's least sure intent (it is the open class), so the catalogue
        is asked before the citizen is told the question is outside the department's procedures:
        a sure match is answered (a phrasing staff mapped to a procedure, a land question misread);
        otherwise the question is logged for staff with the procedures the search came closest to.
        """
        events, found = answer_elsewhere(dispatcher, tracker)
        if events is not None:
            return events
        log_unanswered(tracker, "out_of_scope", considered(found))
        dispatcher.utter_message(response="utter_out_of_scope")
        return []


class ActionDefaultFallback(Action):
    """Not understood: say so, record the question, offer the desk or a person."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_default_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        """A procedure question the classifier could not give an aspect is answered as one (a staff answer first);
        otherwise another agency's service, a staff answer or a sure catalogue match first; else log and reply,
        and the message is dropped from the conversation.
        """
        from rasa_sdk.events import UserUtteranceReverted

        from actions.procedures import ActionAnswerProcedure, staff_answer

        if torn_between_procedure_questions(tracker):  # "… đổi tên … cần giấy tờ gì": documents or the procedure?
            return [] if staff_answer(dispatcher, tracker) else ActionAnswerProcedure().run(dispatcher, tracker, domain)
        events, found = answer_elsewhere(dispatcher, tracker)  # e.g. a phrasing staff just mapped
        if events is not None:
            return events
        log_unanswered(tracker, "not_understood", considered(found))
        dispatcher.utter_message(text=templates.fallback(current().knowledge_base.settings.office.hotline),
                                 buttons=templates.help_buttons())
        return [UserUtteranceReverted()]


# Two procedure-question intents this sure together make a procedure question, whichever aspect it asks
PROCEDURE_QUESTION_AT = 0.6


def torn_between_procedure_questions(tracker: Tracker) -> bool:
    """Whether the classifier fell back only because two procedure-question intents came too close ("cần giấy tờ
    gì" read as the documents and as the procedure): the message is a procedure question, its words say which
    aspect, and the procedure's answer (or its choices when the search is unsure) serves it, not "not understood".
    Not while a form asks for something (a dossier code) nor when the message names a dossier.
    """
    from actions.procedures import INTENT_ASPECT

    if tracker.active_loop.get("name") or entity(tracker, "dossier_code"):
        return False  # a form is asking (the fallback rule leaves it to ask again), or a dossier is named
    ranking = [r for r in tracker.latest_message.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    best = ranking[:2]
    return (len(best) == 2 and all(r.get("name") in INTENT_ASPECT for r in best)
            and sum(float(r.get("confidence") or 0.0) for r in best) >= PROCEDURE_QUESTION_AT)


def answer_elsewhere(dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> Tuple[Optional[List[Dict[Text, Any]]], Optional[Resolution]]:
    """What a message the classifier could not place may still get: another agency's name, a staff answer, or
    the catalogue's answer when the resolver is sure of the procedure. (events, or None if none fits; the
    resolution, None when the message was answered before the catalogue was asked)."""
    from actions.procedures import (
        answer_offered_case,
        asked_aspect,
        offered_cases,
        redirect_other_agency,
        send_answer,
        send_limit,
        situation_of,
        staff_answer,
    )

    text = tracker.latest_message.get("text") or ""
    asked_cases = offered_cases(tracker)
    typed_case = answer_offered_case(dispatcher, tracker, text, code=asked_cases)  # "b" after "which case?"
    if typed_case is not None:
        return typed_case, None
    if redirect_other_agency(dispatcher, tracker, text) or staff_answer(dispatcher, tracker):
        return [], None
    kb = knowledge_base_for(tracker)
    found = kb.resolve(text, Context(policy=SURE))
    # a reply in words to "which case?" ("tôi là việt kiều"): when it stays on that procedure, or is a short
    # statement that is sure of no other (a question - "việt kiều có được mua nhà không" - is a new one)
    if asked_cases and found.limit is None and (found.code == asked_cases if found.kind == ANSWER
                                                else kb.is_short_reply(text)):
        typed_case = answer_offered_case(dispatcher, tracker, text, by_words=True, code=asked_cases)
        if typed_case is not None:
            return typed_case, found
    # what the citizen said about themselves ("nhận thừa kế…") counts for the next question too
    situation = situation_of(tracker, text)
    if found.limit is not None:
        events = send_limit(dispatcher, tracker, found.limit)
        return events + ([SlotSet("situation", situation.to_json())] if situation.to_json() else []), None
    current = tracker.get_slot("procedure_code")
    known = Situation.from_json(tracker.get_slot("situation"))
    if (found.kind != ANSWER and current and tracker.get_slot("aspect") == "documents" and kb.is_short_reply(text)
            and (situation.applicant, situation.case, situation.land) != (known.applicant, known.case, known.land)):
        # "tôi là người nước ngoài" after a checklist (which says to write so), "có cả đất lúa nữa" after one that
        # left out rice land's papers: that checklist, for who they are and the land they have
        situation = situation_of(tracker, text, str(current))
        return send_answer(dispatcher, kb.answer("", aspect="documents", code=str(current), situation=situation),
                           situation), found
    if found.kind != ANSWER:
        return None, found
    named = detect_aspect(text)
    aspect = asked_aspect(tracker, named, named, text)
    situation = situation_of(tracker, text, found.code)
    return send_answer(dispatcher, kb.answer(text, aspect=aspect, code=found.code, situation=situation),
                       situation), found


def considered(found: Optional[Resolution]) -> List[Hit]:
    """The hits the resolver weighed, for the unanswered log (as the answer action logs them)."""
    return list(found.considered) if found is not None else []
