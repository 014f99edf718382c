"""Conversations are stored with phone and ID numbers masked to their last digits."""
import json

from sqlalchemy import create_engine, text

from components.tracker_store import MaskingSQLTrackerStore, mask_value
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker


async def test_numbers_never_reach_the_database(tmp_path):
    db = tmp_path / "tracker.db"
    store = MaskingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    tracker = DialogueStateTracker("conv-1", slots=[])
    parse = {"text": "sdt 0912 345 678 cccd 079203004567", "intent": {"name": "inform", "confidence": 1.0},
             "entities": [{"entity": "phone_number", "value": "0912 345 678", "start": 4, "end": 16}]}
    tracker.update(UserUttered(parse["text"], parse["intent"], parse["entities"], parse))
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(BotUttered("Số của bạn là 0912345678?"))
    await store.save(tracker)
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        stored = " ".join(row[0] for row in conn.execute(text("SELECT data FROM events")))
    engine.dispose()
    assert "0912 345 678" not in stored and "0912345678" not in stored and "079203004567" not in stored
    assert "******5678" in stored and "********4567" in stored
    restored = await store.retrieve("conv-1")
    assert restored.latest_message.text == "sdt ******5678 cccd ********4567"
    assert len(restored.events) == 3


def test_mask_value_walks_nested_data():
    assert mask_value({"a": ["0912345678", {"b": 1}], "c": None}) == {"a": ["******5678", {"b": 1}], "c": None}
    assert json.dumps(mask_value(SlotSet("x", "079203004567").as_dict())).count("4567") == 1
