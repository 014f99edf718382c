"""Answer questions about procedures: the asked aspect of the best procedure, or choices."""
from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import templates
from actions.context import current, entity, knowledge_base_for, log_unanswered
from core.text import fold
from knowledge_base.answers import Answer, asked_over, detect_aspect
from knowledge_base.limits import Limit
from knowledge_base.resolve import ANSWER, CHOICES, PICK, Context
from knowledge_base.situation import Situation, read_situation

if TYPE_CHECKING:  # pragma: no cover
    from knowledge_base.retrieval.hybrid import Hit

INTENT_ASPECT = {
    "ask_procedure": "general", "ask_documents": "documents", "ask_fees": "fees", "ask_time": "time",
    "ask_steps": "steps", "ask_where": "where", "ask_channels": "channels", "ask_conditions": "conditions",
    "ask_result": "result", "ask_legal": "legal",
}
# "còn sang tên thì sao?": "còn" only as typed with its accent ("con" is also how a young citizen
# says "I"), "thì sao" in any spelling
_WHAT_ABOUT = (re.compile(r"^\s*còn\b"), re.compile(r"\bthi sao\b"))


def send_answer(dispatcher: CollectingDispatcher, answer: Answer,
                situation: Optional[Situation] = None) -> List[Dict[Text, Any]]:
    """Send the answer's messages (buttons on the last) and remember what was said and the situation."""
    for message in answer.messages[:-1]:
        dispatcher.utter_message(text=message)
    remembered = [SlotSet("situation", situation.to_json())] if situation is not None else []
    if answer.which_case:  # a typed "2" now answers this question, not procedures offered before
        remembered.append(SlotSet("candidates", None))
    if answer.ask_case and answer.code:  # one question about the citizen's case, nothing else
        buttons = templates.situation_buttons(answer.code, answer.ask_case)
        dispatcher.utter_message(text=answer.messages[-1], buttons=buttons)
        return [SlotSet("procedure_code", answer.code), SlotSet("aspect", answer.aspect)] + remembered
    more = [templates.more_button(answer.code, answer.more["case"], answer.more["page"])] \
        if answer.more and answer.code else []
    cases = [templates.case_button(answer.code, c["case"], c["title"]) for c in answer.cases]
    cases += [templates.foreigner_button(answer.code, answer.case_shown)] if answer.foreign_papers and answer.code \
        else []
    cases += [templates.land_button(answer.code, land, answer.case_shown) for land in answer.other_land] \
        if answer.code else []
    steps = templates.aspect_buttons(answer.code, answer.next_aspects) if answer.code else []
    rated = [] if answer.which_case else templates.feedback_buttons()  # a question is not an answer to rate
    dispatcher.utter_message(text=answer.messages[-1], buttons=more + cases + steps + rated)
    return remembered + [SlotSet("procedure_code", answer.code), SlotSet("aspect", answer.aspect),
            SlotSet("last_answer", json.dumps({"code": answer.code, "aspect": answer.aspect,
                                               "text": answer.text[:500]}, ensure_ascii=False))]


def offer_choices(dispatcher: CollectingDispatcher, tracker: Tracker, hits: Sequence[Hit],
                  aspect: str, situation: Optional[Situation] = None, text: str = "") -> List[Dict[Text, Any]]:
    """Ask the citizen to pick one of 2-3 close procedures (buttons carry the code and the short name); asked (in
    ``text``) a time, fee, place or form, each one's is said beside it where their records give it briefly."""
    kb = knowledge_base_for(tracker)
    codes = [h.code for h in hits]
    named = kb.short_names(codes)
    question = kb.compared(aspect, codes, situation, text) or templates.choose(len(hits))
    return offer(dispatcher, question, [(h.code, named.get(h.code, h.name)) for h in hits], aspect)


def offer(dispatcher: CollectingDispatcher, question: str, procedures: Sequence[Tuple[str, str]],
          aspect: str) -> List[Dict[Text, Any]]:
    """``question`` with one button per (code, name); the codes are remembered for "số 2" and the pick."""
    dispatcher.utter_message(text=question, buttons=templates.choice_buttons(procedures))
    return [SlotSet("aspect", aspect), SlotSet("candidates", [code for code, _ in procedures])]


def _last_bot_message(tracker: Tracker) -> Tuple[int, Optional[Dict[Text, Any]]]:
    """The bot's last message event in the conversation and its position (-1, None when there is none)."""
    events = tracker.events or []
    for i in range(len(events) - 1, -1, -1):
        if events[i].get("event") == "bot":
            return i, events[i]
    return -1, None


def _last_buttons(tracker: Tracker) -> List[Dict[Text, Any]]:
    """The buttons of the bot's last message (none when it has none, or there is no such message)."""
    _, message = _last_bot_message(tracker)
    return ((message or {}).get("data") or {}).get("buttons") or []


def still_offered(tracker: Tracker, codes: Sequence[str]) -> Tuple[str, ...]:
    """``codes`` (the candidates slot) when the bot's last message is the offer of them (a button choosing each, or
    the case buttons of the one procedure it is not sure of), else none: an offer answered, refused or followed by
    anything else is no longer what a message answers."""
    buttons = _last_buttons(tracker)
    shown = tuple(code for code in (templates.code_of_choice(b) for b in buttons) if code)
    wanted = tuple(str(c) for c in codes)
    return wanted if wanted and (shown == wanted or _unsure_case_codes(buttons) == wanted) else ()


def _unsure_case_codes(buttons: Sequence[Dict[Text, Any]]) -> Tuple[str, ...]:
    """The one procedure whose case buttons are all of a message's buttons (the unsure case question's offer)."""
    codes = {templates.code_of_situation_button(b) for b in buttons}
    return tuple(str(c) for c in codes) if len(codes) == 1 and None not in codes else ()


def answer_unsure_case(dispatcher: CollectingDispatcher, tracker: Tracker, text: str,
                       offered: Sequence[str]) -> Optional[List[Dict[Text, Any]]]:
    """A case typed in reply to the unsure case question ("thừa kế" to "Mình chưa chắc đây là thủ tục bạn hỏi: … Bạn
    thuộc trường hợp …?"): that case's papers of the one procedure offered. None when the last message asked no
    such question or the reply says no case."""
    buttons = _last_buttons(tracker)
    if len(offered) != 1 or _unsure_case_codes(buttons) != tuple(offered):
        return None
    situation = situation_of(tracker, text, offered[0])
    if not situation.case:
        return None
    answer = knowledge_base_for(tracker).answer("", aspect="documents", code=offered[0], situation=situation)
    return send_answer(dispatcher, answer, situation) + [SlotSet("candidates", None)]


def question_offered(tracker: Tracker) -> str:
    """The citizen's message that the bot's last message answered (the question choices were offered for)."""
    at, _ = _last_bot_message(tracker)
    said = [e for e in (tracker.events or [])[:max(at, 0)] if e.get("event") == "user"]
    text = (said[-1].get("text") or "") if said else ""
    return "" if text.startswith("/") else text  # a button's payload says nothing in words


def offered_cases(tracker: Tracker) -> Optional[str]:
    """The procedure whose which-case question is the bot's last message (a button for every document case of
    the record; a checklist's buttons leave out the case shown): a typed "b" or "số 2" right after it chooses
    among them. None otherwise, so a "2" typed after a checklist or any later message is never read as a case."""
    buttons = _last_buttons(tracker)
    shown = [pair for pair in (templates.case_of_button(b) for b in buttons) if pair]
    codes = {code for code, _ in shown}
    if len(codes) != 1:
        return None
    code = codes.pop()
    count = knowledge_base_for(tracker).document_case_count(code)
    return code if count > 1 and {case for _, case in shown} == set(range(1, count + 1)) else None


def answer_offered_case(dispatcher: CollectingDispatcher, tracker: Tracker, text: str, by_words: bool = False,
                        code: Optional[str] = None) -> Optional[List[Dict[Text, Any]]]:
    """A reply to the which-case question (about ``code``, else the one the last message asked) that chooses one
    of its cases: that case's papers. The reply chooses by its symbol or position ("b", "dạ số 2", "cái cuối"),
    and, with ``by_words`` (the message stays on that procedure, or is a short reply), by its heading's words or
    the citizen's situation ("tàu nhập khẩu", "mua lại"). None when no case was asked or the reply chooses none."""
    code = code or offered_cases(tracker)
    if not code or detect_aspect(text) not in ("general", "documents"):  # "lệ phí tàu nhập khẩu" asks the fee
        return None
    kb = knowledge_base_for(tracker)
    case = kb.case_in_reply(code, text, by_words=by_words)
    if case is None:
        return None
    situation = situation_of(tracker, text)
    return send_answer(dispatcher, kb.answer("", aspect="documents", code=code, case=case, situation=situation),
                       situation)


def asked_aspect(tracker: Tracker, aspect: str, named: str, text: str) -> str:
    """``aspect``, or the one asked before when the message's words name none (``named``, from
    ``detect_aspect(text)``, is "general").

    "nộp ở đâu?" - "Bạn hỏi về thủ tục nào?" - "tách thửa": the answer is where to file.
    "lệ phí tách thửa?" - … - "còn sang tên thì sao?": the fees of the other procedure. Only
    words in the message count as naming an aspect: the intent of "còn sang tên thì sao?" is a
    guess between aspects.
    """
    previous = tracker.get_slot("aspect")
    if not previous or previous == "general" or named != "general":
        return aspect
    if (not tracker.get_slot("procedure_code") or _WHAT_ABOUT[0].search(text.lower())
            or _WHAT_ABOUT[1].search(fold(text.lower()))):
        return previous
    return aspect


def staff_answer(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Answer with what staff wrote for this question in the console, if anything; True when answered."""
    from core.stores.faq import staff_reply

    entry = current().staff_answers.match(tracker.latest_message.get("text") or "")
    if entry is None:
        return False
    dispatcher.utter_message(text=staff_reply(entry), buttons=templates.feedback_buttons())
    return True


def admit_unknown(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str,
                  candidates: Sequence[Hit] = ()) -> None:
    """Say plainly we do not know, log the question for staff, offer the desk or a person."""
    if staff_answer(dispatcher, tracker):
        return
    log_unanswered(tracker, reason, candidates)
    dispatcher.utter_message(text=templates.unknown(current().knowledge_base.settings.office.hotline),
                             buttons=templates.help_buttons())


def redirect_other_agency(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> bool:
    """Another agency's service (passport, marriage…): a staff answer, else name that agency and log it.

    True when the question was another agency's (and has been answered).
    """
    agency = current().knowledge_base.other_agency(text)
    if agency is None:
        return False
    if staff_answer(dispatcher, tracker):
        return True
    log_unanswered(tracker, "other_agency")
    dispatcher.utter_message(text=templates.other_agency(agency), buttons=templates.help_buttons())
    return True


def send_limit(dispatcher: CollectingDispatcher, tracker: Tracker, limit: Limit) -> List[Dict[Text, Any]]:
    """A part of the case another agency decides (tax, notarisation…): say who, and what we know. Asked before
    any procedure, the conversation is then about the procedure the part belongs to, if the table names one."""
    log_unanswered(tracker, "other_agency")
    code = tracker.get_slot("procedure_code")
    events: List[Dict[Text, Any]] = []
    then = knowledge_base_for(tracker).short_names([limit.procedure]) if not code and limit.procedure else {}
    if then:
        code, events = limit.procedure, [SlotSet("procedure_code", limit.procedure), SlotSet("aspect", "general")]
    buttons = templates.aspect_buttons(code, ("documents", "fees")) if code else []
    dispatcher.utter_message(text=templates.limit(limit.answer, bool(code), then.get(str(code), "")),
                             buttons=buttons + templates.help_buttons())
    return events


class ActionAnswerProcedure(Action):
    """Answer the asked aspect for the procedure in the message, or the one under discussion."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_answer_procedure"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        """Resolve the procedure, then answer / offer choices / ask which one / admit not knowing."""
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        named = detect_aspect(text)  # the aspect the message's own words ask, or "general"
        aspect = asked_over(INTENT_ASPECT.get(intent, "general"), text)  # question words may outweigh the intent
        kb = knowledge_base_for(tracker)
        case, page = document_case(tracker), answer_page(tracker)
        situation = situation_of(tracker, text)
        shown = entity(tracker, "procedure_code") or tracker.get_slot("procedure_code")
        aspect = asked_aspect(tracker, aspect, named, text)
        # a button under a documents answer ("📄 other case", "Thừa kế", "Xem tiếp") carries the procedure shown
        by_button = bool(case or page > 1 or entity(tracker, "situation_case")
                         or entity(tracker, "situation_applicant") or entity(tracker, "situation_land"))
        offered = tracker.get_slot("candidates") or ()
        # a button under an answer (its payload carries the code) is about that answer's procedure, never a yes
        payload = text.startswith("/")
        asked_offer = () if payload else still_offered(tracker, offered)
        unsure_reply = answer_unsure_case(dispatcher, tracker, text, asked_offer) \
            if named in ("general", "documents") else None
        if unsure_reply is not None:
            return unsure_reply
        found = kb.resolve(text, Context(current=shown if payload else tracker.get_slot("procedure_code"),
                                         aspect=aspect, chosen=shown if by_button else None, offered=asked_offer))
        if found.via == "chosen":  # an older button may carry another procedure: its own situation
            situation = situation_of(tracker, text, found.code)
            return send_answer(dispatcher, kb.answer("", aspect="documents", code=found.code, case=case,
                                                     situation=situation, page=page), situation)
        # "b", or "tàu nhập khẩu" when the message stays on the procedure, after "which document case is yours?"
        asked_cases = offered_cases(tracker)
        typed_case = answer_offered_case(dispatcher, tracker, text, code=asked_cases,
                                         by_words=found.kind == ANSWER and found.code == asked_cases)
        if typed_case is not None:
            return typed_case
        # what the citizen said about themselves is kept whatever comes of this message (a pick, a new question)
        remembered = [SlotSet("situation", situation.to_json())] if situation.to_json() else []
        again = kb.which_offered(aspect, asked_offer, situation, text) \
            if found.reason == "nothing_named" and asked_offer else None
        if again is not None:  # "mất bao lâu" after choices were offered and none picked: the same choices
            return offer(dispatcher, again.text, [(c["payload"], c["title"]) for c in again.choices],
                         again.aspect) + remembered
        if found.kind == CHOICES and len(found.choices) == 1 and aspect == "documents":
            code = found.choices[0].code
            unsure = kb.unsure_case_question(code, text, situation_of(tracker, text, code))
            if unsure is not None:  # a tap on a case both confirms the procedure and answers its papers
                dispatcher.utter_message(text=unsure.text, buttons=templates.situation_buttons(code, unsure.ask_case))
                return [SlotSet("aspect", aspect), SlotSet("candidates", [code])] + remembered
        if found.kind == CHOICES:
            return offer_choices(dispatcher, tracker, found.choices, aspect, situation, text) + remembered
        # whatever else comes of this message, choices offered before are no longer what the citizen answers
        remembered += [SlotSet("candidates", None)] if offered else []
        if found.reason == "other_agency":
            redirect_other_agency(dispatcher, tracker, text)
            return remembered
        if found.limit is not None:
            return send_limit(dispatcher, tracker, found.limit) + remembered
        if found.kind == ANSWER:
            # the question the one procedure was offered for says the case too ("… thừa kế …" then "mất bao lâu")
            said = f"{question_offered(tracker)}. {text}" if found.via == "offered" else text
            situation = situation_of(tracker, said, found.code)  # send_answer remembers it
            return send_answer(dispatcher, kb.answer(text, aspect=aspect, code=found.code, situation=situation),
                               situation) + ([SlotSet("candidates", None)] if offered else [])
        if found.reason in ("nothing_named", "refused"):  # "không phải": which procedure, not the same offer
            answer = kb.which_procedure(aspect)
            dispatcher.utter_message(text=answer.text)
            return [SlotSet("aspect", answer.aspect)] + remembered
        admit_unknown(dispatcher, tracker, "no_match", found.considered)
        return [SlotSet("aspect", aspect)] + remembered


class ActionChooseOption(Action):
    """Answer for the procedure the citizen picked (button payload, or "số 2", "cái đầu")."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_choose_option"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        """Resolve the choice (button or ordinal among the offered codes), then answer the pending aspect for it."""
        text = tracker.latest_message.get("text") or ""
        if not entity(tracker, "procedure_code"):
            events = answer_offered_case(dispatcher, tracker, text)  # "2" right after "which document case?"
            if events is not None:
                return events
        kb = knowledge_base_for(tracker)
        # "số 2" picks among the procedures the last message offered, never an older offer
        offered = still_offered(tracker, tracker.get_slot("candidates") or ())
        found = kb.resolve(text, Context(chosen=entity(tracker, "procedure_code"), offered=offered, policy=PICK))
        if found.kind != ANSWER or not found.code:
            dispatcher.utter_message(text=templates.choice_not_understood())
            return []
        return answer_choice(dispatcher, tracker, found.code)


def answer_choice(dispatcher: CollectingDispatcher, tracker: Tracker, code: str) -> List[Dict[Text, Any]]:
    """The pending aspect answered for the procedure the citizen picked or confirmed ("vâng" to "Có phải …?")."""
    kb = knowledge_base_for(tracker)
    aspect = tracker.get_slot("aspect") or "general"
    # the question the choices answered still says which document case, or what to quote ("tàu nhập khẩu"),
    # and a case said with it holds for the procedure picked, while one said of another field's does not
    asked = question_offered(tracker)
    situation = situation_of(tracker, asked, code)
    return send_answer(dispatcher, kb.answer(asked, aspect=aspect, code=code, situation=situation),
                       situation) + [SlotSet("candidates", None)]


def situation_of(tracker: Tracker, text: str, code: Optional[str] = None) -> Situation:
    """What the citizen has said about themselves so far, this message and its button included; for an answer
    about ``code``, a case (inheritance, sale…) said under a procedure of another field is not kept: bought land is
    no bought boat, but land given by parents is still given when the citizen moves from splitting it to
    transferring it. What they ask of the paper (``Situation.request``: "cấp lại", or a first issue) is read for
    an answer about ``code`` only, and kept while the conversation stays on that procedure."""
    kb = knowledge_base_for(tracker)
    known = Situation.from_json(tracker.get_slot("situation"))
    previous = tracker.get_slot("procedure_code")
    if code and previous and code != previous:  # "cấp lại" was asked of the paper before, not of this one
        known = known.with_request(None)
    if code and previous and not kb.same_field(code, str(previous)):
        known = known.without_case()
    # what the message asks of a paper ("cấp lại") is read only for the procedure it is answered about
    said = kb.situation_in(text, code, known.said) if code else read_situation(text).with_said(known.said)
    # the conditions named were worked out from the known ones ("à nhầm, 15 m3" drops "8 m3"): they replace them
    return known.merged(said).with_said(said.said).with_case(entity(tracker, "situation_case")).with_applicant(
        entity(tracker, "situation_applicant")).with_land(entity(tracker, "situation_land"))


def answer_page(tracker: Tracker) -> int:
    """The page of a long answer a "Xem tiếp" button asked for (1 when none)."""
    value = str(entity(tracker, "answer_page") or "")
    return int(value) if value.isascii() and value.isdigit() and 1 <= int(value) <= 50 else 1


def document_case(tracker: Tracker) -> Optional[int]:
    """The document case a button asked for (1-based), if any."""
    value = str(entity(tracker, "document_case") or "")
    return int(value) if value.isascii() and value.isdigit() and 0 < int(value) <= 50 else None
