"""Office hours and contact of the department's one-stop desk."""
from typing import Any, Dict, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import knowledge_base
from actions.procedures import redirect_other_agency


class ActionOfficeHours(Action):
    """The desk's hours and the hotline of the settings; another agency's hours or phone are that agency's."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_office_hours"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]):
        """Name the other agency when the question is about one ("giờ làm việc của cơ quan thuế"), else
        answer with the department's hours and hotline (MOTCUA_HOTLINE)."""
        if redirect_other_agency(dispatcher, tracker, tracker.latest_message.get("text") or ""):
            return []
        dispatcher.utter_message(response="utter_office_hours", hotline=knowledge_base().settings.hotline)
        return []
