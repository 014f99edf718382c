"""Office hours and contact of the department's one-stop desk."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import templates
from actions.context import current
from actions.procedures import redirect_other_agency


class ActionOfficeHours(Action):
    """The desk's hours (calendar.yml), whether it is open now, and the hotline (MOTCUA_HOTLINE); another
    agency's hours or phone are that agency's."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_office_hours"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        """Name the other agency when the question is about one ("giờ làm việc của cơ quan thuế"), else
        answer with the department's."""
        if redirect_other_agency(dispatcher, tracker, tracker.latest_message.get("text") or ""):
            return []
        ctx = current()
        dispatcher.utter_message(text=templates.office_hours(ctx.working_calendar, ctx.clock(),
                                                             ctx.knowledge_base.settings.office.hotline))
        return []
