"""A department's console store, generated for the console benchmark (benchmarks/bench_console.py).

Rasa's tracker table ``events`` exactly as Rasa 3.6's SQLTrackerStore defines it, filled the way the
project's tracker store writes it (components.tracker_store: one JSON object per event, non-ASCII kept
literal; ``ascii_events`` writes stock Rasa's escaped form instead), over the last ``days`` days with a
weekly and daily rhythm and ids in time order; the review log (unanswered questions, feedback), handoffs
with their messages, staff decisions and answers, and staff accounts, in the project's own tables.
Rows go in batches (one transaction each), a day of conversations at a time: memory stays flat.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from core.clock import VN_TZ, now_local
from core.db import make_engine
from core.settings import ROOT
from core.stores.handoff import HandoffStore, handoffs_table, messages_table
from core.stores.review_log import ReviewLog, feedback, unanswered
from core.text import fold
from core.texts import text as ui_text

PASSWORD = "mat-khau-do-kiem-thu-1"
ADMIN = "quantri"
EDITORS = ("nguyen.van.an", "tran.thi.binh", "le.minh.chau")
# (channel, sender id prefix, share of conversations); REST ids carry no prefix (console.conversations.PREFIXES)
CHANNELS = (("web", "web-", 0.46), ("zalo", "zalo-", 0.34), ("telegram", "tg-", 0.16), ("rest", "", 0.04))
HOURS = (0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 1, 3, 6, 7, 7, 5, 3, 4, 6, 6, 5, 3, 2, 3, 3.5, 3, 2, 1)
WEEKDAYS = (1.15, 1.05, 1.0, 1.0, 0.95, 0.45, 0.3)  # Monday first
TURNS = ((1, 0.7), (2, 0.18), (3, 0.07), (4, 0.03), (6, 0.02))  # questions in a session, and how often
SHARES = {"unanswered": 0.06, "handoff": 0.01, "feedback": 0.03, "return": 0.1}
OPEN_HOURS = 72  # handoffs requested this recently are still open (a few dozen at 100,000 conversations)
INTENTS = ("greet", "goodbye", "thank", "affirm", "deny", "ask_office_hours", "out_of_scope", "ask_procedure",
           "ask_documents", "ask_fees", "ask_time", "ask_steps", "ask_where", "ask_channels", "ask_conditions",
           "check_dossier_status", "inform", "request_human", "feedback_positive", "feedback_negative")

PLACES = ("Đông Hải", "Tân Phú", "An Bình", "Hòa Lạc", "Phú Mỹ", "Thạnh Lợi", "Long Hưng", "Vĩnh Thuận", "Mỹ Hòa",
          "Tân Lập", "Bình Minh", "Hưng Đạo", "Quang Trung", "Nghĩa Đô", "Cẩm Thạch", "Xuân Lâm", "Đức Phổ",
          "Phước Hải", "Tam Kỳ", "Hải Châu", "Ea Tu", "Krông Nô", "Mường Thanh", "Bản Phủ", "Sơn Thủy", "Đại Lộc",
          "Thanh Hà", "Kim Sơn", "Yên Thế", "Lạc Dương", "Cát Tiên", "Vạn Ninh", "Diên Khánh", "Tuy Phước",
          "Hoài Nhơn", "Châu Thành", "Cái Nước", "Năm Căn", "Trần Đề", "Quỳnh Lưu")
PLACE_FORMS = ("xã {p}", "xã {p}", "phường {p}", "thôn {n} xã {p}", "ấp {p}", "thị trấn {p}", "tổ {n} phường {p}")
DEEDS = ("làm sổ đỏ", "tách thửa", "sang tên sổ", "chuyển đất vườn lên thổ cư", "cấp đổi sổ đỏ", "hợp thửa",
         "làm lại sổ bị mất", "tặng cho đất", "xin giấy phép khoan giếng", "đăng ký thế chấp")
PROBLEMS = ("sạt lở", "bị lấn chiếm", "cấp trùng sổ", "sai diện tích", "sai tên chủ", "bị thu hồi", "ngập nước",
            "tranh chấp ranh giới", "đo sai", "mất mốc giới")
PROJECTS = ("đường vành đai {n}", "khu công nghiệp {p}", "cao tốc Bắc Nam", "hồ chứa nước {p}", "khu dân cư {p}",
            "mở rộng quốc lộ {n}")
ANIMALS = ("chim yến", "heo", "gà", "bò", "dê", "ong", "cá sấu", "rắn", "vịt")
TREES = ("cà phê", "tiêu", "điều", "cao su", "keo", "bạch đàn", "sầu riêng", "xoài", "dừa")
LAND = ("đất nông nghiệp", "đất rừng sản xuất", "đất trồng cây lâu năm", "đất ở", "đất lúa")
OTHER = ("làm căn cước công dân", "đăng ký xe máy", "đổi giấy phép lái xe", "làm hộ chiếu", "đăng ký kết hôn",
         "làm giấy khai sinh cho con", "xin phiếu lý lịch tư pháp", "đăng ký thường trú", "đăng ký hộ kinh doanh")
RIVERS = ("Hồng", "Đà", "Mã", "Cả", "Thu Bồn", "Trà Khúc", "Ba", "Đồng Nai", "Tiền", "Hậu", "Vàm Cỏ")
QUESTIONS = (  # (template, reason when fixed: else drawn)
    ("mình ở {place} muốn {deed} thì nộp hồ sơ ở đâu", None),
    ("thửa số {parcel} tờ bản đồ số {sheet} ở {place} bị {problem} thì làm thế nào", None),
    ("giá đất ở {place} năm {year} là bao nhiêu", "out_of_scope"),
    ("bao giờ có tiền đền bù dự án {project}", None),
    ("hàng xóm lấn sang đất nhà tôi {metres} mét thì báo ai giải quyết", None),
    ("bộ phận một cửa huyện {district} thứ bảy có làm việc không", None),
    ("phí trích đo thửa số {parcel} ở {place} hết bao nhiêu", None),
    ("nuôi {animal} trong khu dân cư ở {place} có cần giấy phép không", None),
    ("{other} ở đâu", "other_agency"),
    ("muốn {other} thì cần gì", "other_agency"),
    ("hồ sơ nộp từ tháng {month} đến giờ chưa có kết quả thì hỏi ai", None),
    ("đất nhà tôi ở {place} có nằm trong quy hoạch {project} không", None),
    ("xin số điện thoại văn phòng đăng ký đất đai huyện {district}", None),
    ("{deed} cho con thì có mất thuế không", None),
    ("đất {area} m2 ở {place} có tách thửa được không", None),
    ("cây {tree} trên {land} bị thu hồi có được bồi thường không", None),
    ("khai thác cát trên sông {river} có cần giấy phép không", None),
    ("nước giếng khoan nhà em ở {place} có mùi lạ thì báo ở đâu", None),
    ("xe chở rác đổ trộm ở {place} thì phản ánh ở đâu", "out_of_scope"),
    ("sổ đỏ cấp năm {old_year} giờ có phải đổi sang mẫu mới không", None),
    ("thửa {parcel} đứng tên bố em đã mất, giờ {deed} thế nào", None),
    ("làm sao biết thửa số {parcel} tờ {sheet} có bị thế chấp không", None),
    ("{land} ở {place} có được xây nhà không", None),
    ("cán bộ địa chính {place} hẹn mãi không xuống đo đạc", None),
    ("mình muốn hiến {area} m2 đất làm đường thì thủ tục thế nào", None),
    ("trại {animal} gần nhà ở {place} gây ô nhiễm, gửi đơn ở đâu", None),
)
OPENERS = ("", "", "", "cho em hỏi", "cho mình hỏi", "xin hỏi", "ad ơi cho hỏi", "chị ơi cho em hỏi", "dạ cho em hỏi",
           "anh chị cho tôi hỏi", "tôi muốn hỏi", "alo", "hỏi chút")
CLOSERS = ("", "", "", "ạ", "vậy ạ", "với ạ", "nhé", "?", "ạ?", "ad ơi", "được không ạ", "mong được trả lời")
SHORTHAND = (("không", "ko"), ("được", "đc"), ("sổ đỏ", "sđ"), ("bao nhiêu", "bn"), ("thế nào", "ntn"))
TOPICS = ("làm sổ đỏ", "cấp đổi sổ đỏ", "tách thửa", "sang tên sổ đỏ", "chuyển nhượng đất", "thừa kế đất",
          "chuyển mục đích sử dụng đất", "cấp lại sổ bị mất", "đính chính sổ đỏ", "giấy phép môi trường",
          "đăng ký môi trường", "khai thác nước ngầm", "giấy phép xả thải", "đăng ký biến động đất đai",
          "xóa đăng ký thế chấp", "cấp giấy chứng nhận lần đầu", "trích lục bản đồ địa chính", "hợp thửa",
          "giấy phép khoan giếng", "thuê đất", "gia hạn sử dụng đất", "giấy phép thăm dò khoáng sản")
ASPECTS = {
    "documents": ("ask_documents", ("{t} cần giấy tờ gì", "hồ sơ {t} gồm những gì", "làm {t} cần mang theo gì")),
    "fees": ("ask_fees", ("{t} hết bao nhiêu tiền", "lệ phí {t} là bao nhiêu", "phí {t} bao nhiêu")),
    "time": ("ask_time", ("{t} mất bao lâu", "bao lâu thì có kết quả {t}", "{t} mấy ngày thì xong")),
    "where": ("ask_where", ("{t} nộp ở đâu", "nộp hồ sơ {t} ở đâu", "{t} làm ở xã hay ở tỉnh")),
    "steps": ("ask_steps", ("thủ tục {t} như thế nào", "các bước {t}", "hướng dẫn {t}")),
}
DOCUMENTS = ("Đơn đăng ký biến động đất đai theo Mẫu số 11/ĐK", "Giấy chứng nhận đã cấp (bản gốc)",
             "Hợp đồng chuyển nhượng đã công chứng", "Văn bản thỏa thuận phân chia di sản thừa kế",
             "Sơ đồ thửa đất do đơn vị đo đạc lập", "Tờ khai lệ phí trước bạ", "Tờ khai thuế thu nhập cá nhân",
             "Giấy tờ chứng minh miễn, giảm nghĩa vụ tài chính (nếu có)", "Báo cáo đề xuất cấp giấy phép môi trường",
             "Văn bản ủy quyền (nếu nộp thay)", "Trích lục bản đồ địa chính", "Quyết định giao đất, cho thuê đất")
REPLIES = {
    "not_understood": "Xin lỗi, mình chưa hiểu câu hỏi. Bạn nói rõ hơn việc bạn cần làm, hoặc gọi 18001096 nhé.",
    "no_match": "Mình chưa tìm thấy thủ tục phù hợp với câu hỏi này. Cán bộ sẽ xem lại câu hỏi của bạn.",
    "out_of_scope": "Câu hỏi này nằm ngoài các thủ tục của Sở Nông nghiệp và Môi trường. Mình đã ghi lại cho cán bộ.",
    "other_agency": "Việc này do cơ quan khác giải quyết (Công an hoặc UBND cấp xã). Bạn liên hệ cơ quan đó nhé.",
}
STAFF_LINES = ("Chào anh/chị, tôi là cán bộ bộ phận một cửa. Anh/chị cần hỗ trợ gì ạ?",
               "Hồ sơ của anh/chị đang ở bước thẩm định, dự kiến có kết quả trong tuần này.",
               "Anh/chị mang thêm bản sao giấy chứng nhận khi đến nộp bổ sung nhé.",
               "Trường hợp này anh/chị liên hệ văn phòng đăng ký đất đai chi nhánh huyện để được đo lại.")
CITIZEN_LINES = ("dạ em cảm ơn", "vâng ạ, mai em lên nộp bổ sung", "thế em có phải lên tận tỉnh không ạ",
                 "hồ sơ em nộp tháng trước rồi mà chưa thấy gì", "ok cảm ơn chị")


def catalogue_procedures(catalogue_dir: Path = ROOT / "knowledge_base/catalogue") -> List[Tuple[str, str]]:
    """(code, short name) of every catalogue file: the code is the file's name."""
    found = []
    for path in sorted(catalogue_dir.glob("*.yml")):
        match = re.search(r"^short_name: ?(.+)$", path.read_text(encoding="utf-8"), re.M)
        found.append((path.stem, match.group(1).strip().strip("'\"") if match else path.stem))
    return found


def tracker_table():
    """Rasa 3.6's own ``events`` table (SQLTrackerStore.SQLEvent): its columns, sequence and index."""
    from rasa.core.tracker_store import SQLTrackerStore  # prints SQLAlchemy's 2.0 notice once
    return SQLTrackerStore.SQLEvent.__table__


class Questions:
    """Questions the assistant could not answer, as citizens type them: thousands of distinct phrasings
    (places, parcel numbers, fillers, with and without accents, shorthand) and a popular few asked often."""

    def __init__(self, rng: random.Random, pool: int = 150):
        self.rng = rng
        popular = random.Random(rng.random())
        self.pool = [self._fresh(popular) for _ in range(pool)]
        self.weights = [1 / (i + 1) ** 0.9 for i in range(pool)]

    @staticmethod
    def _fresh(rng: random.Random) -> Tuple[str, Optional[str]]:
        template, reason = rng.choice(QUESTIONS)
        place = rng.choice(PLACE_FORMS).format(p=rng.choice(PLACES), n=rng.randint(1, 12))
        body = template.format(
            place=place, deed=rng.choice(DEEDS), parcel=rng.randint(1, 900), sheet=rng.randint(1, 80),
            problem=rng.choice(PROBLEMS), year=rng.choice((2025, 2026)), metres=rng.randint(1, 15),
            project=rng.choice(PROJECTS).format(p=rng.choice(PLACES), n=rng.randint(1, 60)),
            district=rng.choice(PLACES), animal=rng.choice(ANIMALS), other=rng.choice(OTHER),
            month=rng.randint(1, 12), area=rng.randrange(40, 3000, 10), tree=rng.choice(TREES), land=rng.choice(LAND),
            river=rng.choice(RIVERS), old_year=rng.randint(1995, 2015))
        text = " ".join(p for p in (rng.choice(OPENERS), body, rng.choice(CLOSERS)) if p).replace(" ?", "?")
        if rng.random() < 0.15:
            for long, short in SHORTHAND:
                text = text.replace(long, short)
        if rng.random() < 0.45:
            text = fold(text)
        elif rng.random() < 0.4:
            text = text[0].upper() + text[1:]
        return text, reason

    def next(self) -> Tuple[str, str]:
        """(text, reason code of the review log)."""
        rng = self.rng
        text, reason = rng.choices(self.pool, self.weights)[0] if rng.random() < 0.35 else self._fresh(rng)
        return text, reason or rng.choices(("no_match", "not_understood", "out_of_scope"), (40, 35, 25))[0]


@dataclass
class Counts:
    """What the generator wrote."""

    conversations: int = 0
    sessions: int = 0
    events: int = 0
    unanswered: int = 0
    feedback: int = 0
    handoffs: int = 0
    open_handoffs: int = 0
    handoff_messages: int = 0

    def line(self) -> str:
        """The counts in one line."""
        return (f"{self.conversations:,} conversations ({self.sessions:,} sessions), {self.events:,} events, "
                f"{self.unanswered:,} unanswered questions, {self.feedback:,} feedback, {self.handoffs:,} handoffs "
                f"({self.open_handoffs} open), {self.handoff_messages:,} handoff messages")


class Sink:
    """Rows for one table, written ``size`` at a time, one transaction per batch."""

    def __init__(self, engine, table, size: int, count: Callable[[int], None]):
        self.engine, self.table, self.size, self.count, self.rows = engine, table, size, count, []

    def extend(self, rows: List[dict]) -> None:
        """Queue rows; full batches are written at once."""
        self.rows.extend(rows)
        while len(self.rows) >= self.size:
            self._write(self.rows[:self.size])
            del self.rows[:self.size]

    def close(self) -> None:
        """Write what is left."""
        if self.rows:
            self._write(self.rows)
        self.rows = []

    def _write(self, rows: List[dict]) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.table.insert(), rows)
        self.count(len(rows))


def local(ts: float) -> dt.datetime:
    """A Unix time as the stores record it: naive Vietnam time."""
    return dt.datetime.fromtimestamp(ts, VN_TZ).replace(tzinfo=None)


def decorate(rng: random.Random, text: str) -> str:
    """A question as citizens type it: a filler before or after, accents dropped about half the time."""
    text = " ".join(p for p in (rng.choice(OPENERS[:8]), text, rng.choice(CLOSERS[:8])) if p).replace(" ?", "?")
    return fold(text) if rng.random() < 0.45 else text


@dataclass
class Session:
    """One session of a conversation being written."""

    sender: str
    channel: str
    last: Optional[Tuple[str, str, str]] = None  # the latest answer: code, aspect, text


class Traffic:
    """Sessions of citizens with the assistant: the events the tracker store writes and the rows the actions
    and the console write (review log, handoffs), collected for one day at a time."""

    def __init__(self, rng: random.Random, procedures: List[Tuple[str, str]], now: dt.datetime, ascii_events: bool):
        self.rng, self.procedures = rng, procedures
        weights = [1 / (i + 1) ** 0.8 for i in range(len(procedures))]
        rng.shuffle(weights)  # a few procedures asked about a lot, which ones drawn by the seed
        self.cumulative = list(accumulate(weights))
        self.questions = Questions(rng)
        self.dumps = json.JSONEncoder(ensure_ascii=ascii_events).encode  # json.dumps(**kw) makes one per call
        self.now = now.replace(tzinfo=VN_TZ).timestamp()
        self.used: set = set()
        self.rows: Dict[str, List[dict]] = {"events": [], "unanswered": [], "feedback": [], "handoffs": [],
                                            "handoff_messages": []}
        self.open_handoffs = 0

    def sender(self, prefix: str) -> str:
        """A new conversation id as the channel makes it."""
        rng = self.rng
        while True:
            if prefix == "web-":
                sender = f"web-{rng.getrandbits(96):024x}"
            elif prefix == "tg-":
                sender = f"tg-{rng.randrange(10 ** 8, 7 * 10 ** 9)}"
            elif prefix == "zalo-":
                sender = f"zalo-{rng.randrange(10 ** 17, 10 ** 19)}"
            else:
                sender = f"{rng.getrandbits(128):032x}"
            if sender not in self.used:
                self.used.add(sender)
                return sender

    def plan(self) -> List[str]:
        """The turns of a first session: questions, sometimes unanswered ones, feedback, a request for a person."""
        rng = self.rng
        kinds = [rng.choices(("procedure", "choice", "hours", "dossier"), (80, 6, 6, 8))[0]
                 for _ in range(rng.choices([n for n, _ in TURNS], [w for _, w in TURNS])[0])]
        if rng.random() < 0.1:
            kinds.insert(0, "greet")
        if rng.random() < SHARES["unanswered"]:
            for _ in range(rng.choices((1, 2, 3), (70, 22, 8))[0]):
                kinds.insert(rng.randint(0, len(kinds)), "unanswered")
        if rng.random() < SHARES["feedback"]:  # rates the answer just before it
            if "procedure" in kinds:
                kinds.insert(kinds.index("procedure") + 1, "feedback")
            else:
                kinds += ["procedure", "feedback"]
        if rng.random() < 0.08:
            kinds.append("thanks")
        if rng.random() < SHARES["handoff"]:
            kinds.append("handoff")  # the assistant stops there
        return kinds

    # Events ---------------------------------------------------------------------------------------------
    def _event(self, s: Session, data: dict, intent: Optional[str] = None) -> None:
        self.rows["events"].append({"sender_id": s.sender, "type_name": data["event"], "timestamp": data["timestamp"],
                                    "intent_name": intent, "action_name": data.get("name"), "data": self.dumps(data)})

    def _action(self, s: Session, ts: float, name: str, policy: Optional[str] = "RulePolicy") -> None:
        self._event(s, {"event": "action", "timestamp": ts, "name": name, "policy": policy,
                        "confidence": 1.0 if policy else None, "action_text": None, "hide_rule_turn": False})

    def start(self, s: Session, t: float) -> float:
        """A new session: what Rasa writes before the citizen's first message."""
        self._action(s, t, "action_session_start", None)
        self._event(s, {"event": "session_started", "timestamp": t + 0.001})
        self._action(s, t + 0.002, "action_listen", None)
        return t + 0.01

    def exchange(self, s: Session, t: float, text: str, intent: str, action: str, reply: str,
                 buttons: Optional[list] = None, slots: Tuple[Tuple[str, object], ...] = (),
                 utter: bool = False) -> float:
        """One message and the assistant's reply; the time the reply went out."""
        rng = self.rng
        confidence = rng.uniform(0.3, 0.5) if intent == "nlu_fallback" else rng.uniform(0.55, 0.99)
        others = rng.sample([i for i in INTENTS if i != intent], 9)
        rest, ranking = 1 - confidence, [{"name": intent, "confidence": confidence}]
        for name in others:
            share = rest * rng.uniform(0.2, 0.6)
            ranking.append({"name": name, "confidence": share})
            rest -= share
        meta = {"motcua_client": f"{rng.getrandbits(64):016x}"}
        message_id = f"{rng.getrandbits(128):032x}"
        self._event(s, {"event": "user", "timestamp": t, "metadata": meta, "text": text, "parse_data": {
            "intent": ranking[0], "entities": [], "text": text, "message_id": message_id, "metadata": meta,
            "intent_ranking": ranking}, "input_channel": s.channel, "message_id": message_id}, intent)
        self._event(s, {"event": "user_featurization", "timestamp": t + 0.002, "use_text_for_featurization": False})
        delay = min(rng.lognormvariate(-1.9, 0.6), 5.0)  # median about 150 ms
        self._action(s, t + delay * 0.3, action)
        data = {"elements": None, "quick_replies": None, "buttons": buttons, "attachment": None, "image": None,
                "custom": None}
        self._event(s, {"event": "bot", "timestamp": t + delay, "metadata": {"utter_action": action} if utter else {},
                        "text": reply, "data": data})
        for i, (name, value) in enumerate(slots):
            self._event(s, {"event": "slot", "timestamp": t + delay + 0.001 * (i + 1), "name": name, "value": value})
        self._action(s, t + delay + 0.01, "action_listen")
        return t + delay + 0.01

    # Turns ----------------------------------------------------------------------------------------------
    def procedure(self) -> Tuple[str, str]:
        """A catalogue procedure, the popular ones more often."""
        rng = self.rng
        at = rng.random() * self.cumulative[-1]
        lo, hi = 0, len(self.cumulative) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (mid + 1, hi) if self.cumulative[mid] < at else (lo, mid)
        return self.procedures[lo]

    def answer(self, s: Session, t: float, code: str, short: str, aspect: str, text: str, intent: str) -> float:
        """The citizen's question on one aspect of a procedure and the assistant's answer, with its slots."""
        rng = self.rng
        if aspect == "documents":
            body = "Hồ sơ gồm:\n" + "\n".join(f"{i + 1}. {d}" for i, d in enumerate(
                rng.sample(DOCUMENTS, rng.randint(3, 7)))) + "\nSố lượng: 01 bộ."
        elif aspect == "fees":
            fee = f"{rng.randrange(20, 500) * 1000:,}".replace(",", ".")  # 150.000 đồng
            body = f"Lệ phí: {fee} đồng/hồ sơ (theo nghị quyết của HĐND tỉnh)."
        elif aspect == "time":
            body = f"Thời hạn giải quyết: không quá {rng.randint(3, 30)} ngày làm việc kể từ ngày nhận đủ hồ sơ."
        elif aspect == "where":
            body = ("Nộp tại Trung tâm Phục vụ hành chính công tỉnh hoặc Chi nhánh Văn phòng đăng ký đất đai; "
                    "hoặc nộp trực tuyến trên Cổng Dịch vụ công quốc gia.")
        else:
            body = "\n".join(f"Bước {i + 1}: {step}" for i, step in enumerate(
                ("Nộp hồ sơ", "Tiếp nhận, kiểm tra hồ sơ", "Thẩm định, trình ký", "Trả kết quả")))
        reply = f"{short} (mã {code})\n{body}"
        others = [a for a in ASPECTS if a != aspect]
        buttons = [{"title": ui_text(f"buttons.{a}"), "payload": f'/ask_{a}{{"procedure_code":"{code}"}}'}
                   for a in rng.sample(others, 2)] + [
            {"title": ui_text("buttons.helpful"), "payload": "/feedback_positive"},
            {"title": ui_text("buttons.not_right"), "payload": "/feedback_negative"}]
        last = json.dumps({"code": code, "aspect": aspect, "text": reply[:500]}, ensure_ascii=False)
        s.last = (code, aspect, reply)
        return self.exchange(s, t, text, intent, "action_answer_procedure", reply, buttons,
                             (("procedure_code", code), ("aspect", aspect), ("last_answer", last)))

    def turn(self, s: Session, t: float, kind: str) -> float:
        """One turn of ``kind`` from time ``t``; the time it ended."""
        rng = self.rng
        if kind in ("procedure", "choice"):
            code, short = self.procedure()
            aspect = rng.choice(list(ASPECTS))
            intent, templates = ASPECTS[aspect]
            topic = rng.choice(TOPICS) if rng.random() < 0.7 else short.lower()
            if kind == "procedure":
                return self.answer(s, t, code, short, aspect, decorate(rng, rng.choice(templates).format(t=topic)),
                                   intent)
            offered = [self.procedure() for _ in range(3)]
            buttons = [{"title": name[:70], "payload": f'/choose_option{{"procedure_code":"{c}"}}'}
                       for c, name in offered]
            t = self.exchange(s, t, decorate(rng, topic), "ask_procedure", "action_answer_procedure",
                              "Bạn hỏi thủ tục nào dưới đây?", buttons,
                              (("aspect", aspect), ("candidates", [c for c, _ in offered])))
            code, short = offered[rng.randrange(3)]
            return self.answer(s, t + rng.uniform(3, 20), code, short, aspect,
                               f'/choose_option{{"procedure_code":"{code}"}}', "choose_option")
        if kind == "greet":
            return self.exchange(s, t, rng.choice(("xin chào", "chào ad", "alo", "Chào bạn", "hello")), "greet",
                                 "utter_greet", "Chào bạn! Mình là trợ lý thủ tục hành chính của Sở.", utter=True)
        if kind == "thanks":
            return self.exchange(s, t, rng.choice(("cảm ơn", "cam on ad", "ok thanks", "dạ em cảm ơn ạ")), "thank",
                                 "utter_thank", "Không có gì ạ. Bạn cần gì thêm cứ hỏi mình nhé.", utter=True)
        if kind == "hours":
            return self.exchange(s, t, decorate(rng, rng.choice(("giờ làm việc thứ bảy", "mấy giờ mở cửa",
                                                                  "chiều thứ sáu có làm không"))),
                                 "ask_office_hours", "action_office_hours",
                                 "Bộ phận một cửa làm việc từ thứ Hai đến thứ Sáu: sáng 7:30–11:30, chiều 13:30–17:00.")
        if kind == "dossier":
            code = (f"000.{rng.randint(10, 99)}.{rng.randint(10, 99)}.H{rng.randint(10, 63)}"
                    f"-2611{rng.randint(1, 30):02d}-{rng.randint(1, 9999):04d}")
            t = self.exchange(s, t, f"tra cứu hồ sơ {code}", "check_dossier_status", "action_dossier_status",
                              "Bạn cho mình 4 số cuối số điện thoại đã đăng ký hồ sơ nhé.", None,
                              (("dossier_code", code),))
            return self.exchange(s, t + rng.uniform(5, 40), f"{rng.randint(0, 9999):04d}", "inform",
                                 "action_dossier_status", f"Hồ sơ {code} đang được thẩm định; hẹn trả ngày 15/12/2026.",
                                 None, (("verified_dossier", code),))
        if kind == "unanswered":
            text, reason = self.questions.next()
            intent = "out_of_scope" if reason in ("out_of_scope", "other_agency") else "nlu_fallback"
            action = {"not_understood": "action_default_fallback", "no_match": "action_answer_procedure"}.get(
                reason, "action_out_of_scope")
            buttons = [{"title": ui_text("buttons.human"), "payload": "/request_human"}] \
                if reason == "not_understood" else None
            end = self.exchange(s, t, text, intent, action, REPLIES[reason], buttons)
            near = [self.procedure() for _ in range(rng.randint(1, 3))] \
                if reason in ("no_match", "out_of_scope") else []
            self.rows["unanswered"].append({
                "conversation_id": s.sender, "channel": s.channel, "asked_at": local(t + 0.05), "text": text,
                "reason": reason, "candidates": json.dumps([{"code": c, "name": n, "confidence": round(
                    rng.uniform(0.2, 0.5), 3)} for c, n in near], ensure_ascii=False)})
            return end
        if kind == "feedback":
            positive = rng.random() < 0.7
            typed = rng.random() < 0.2
            text = (rng.choice(("cảm ơn, đúng rồi", "hay quá", "ok đúng")) if positive else
                    rng.choice(("sai rồi", "không phải thủ tục này", "chưa đúng ý tôi"))) if typed else \
                ("/feedback_positive" if positive else "/feedback_negative")
            end = self.exchange(s, t, text, "feedback_positive" if positive else "feedback_negative",
                                "action_record_feedback", "Cảm ơn bạn đã đánh giá câu trả lời.")
            code, aspect, answer = s.last or (None, None, "")
            self.rows["feedback"].append({
                "conversation_id": s.sender, "channel": s.channel, "created_at": local(t + 0.05),
                "rating": "positive" if positive else "negative", "comment": text if typed else "",
                "procedure_code": code, "aspect": aspect, "answer": answer[:500]})
            return end
        assert kind == "handoff", kind
        text = rng.choice(("cho tôi gặp cán bộ", "gặp nhân viên", "/request_human", "cho em nói chuyện với người thật",
                           "gap can bo"))
        end = self.exchange(s, t, text, "request_human", "action_handoff",
                            "Mình đã báo cán bộ; cán bộ sẽ trả lời bạn ngay tại đây trong giờ làm việc.")
        self.rows["unanswered"].append({"conversation_id": s.sender, "channel": s.channel, "asked_at": local(t + 0.05),
                                        "text": text, "reason": "handoff_requested", "candidates": "[]"})
        if s.channel != "rest":
            self.handoff(s, t + 0.05)
        return end

    def handoff(self, s: Session, at: float) -> None:
        """The handoff row and, once taken, the messages between the staff member and the citizen."""
        rng = self.rng
        open_now = at >= self.now - OPEN_HOURS * 3600
        state = ("requested" if rng.random() < 0.5 else "active") if open_now else "closed"
        taken = None if state == "requested" or (state == "closed" and rng.random() < 0.15) else \
            min(at + rng.uniform(60, 1800), self.now - 30)
        closed = None if open_now else (taken or at) + rng.uniform(300, 4 * 3600)
        staff = rng.choice(EDITORS) if taken else None
        self.open_handoffs += open_now
        self.rows["handoffs"].append({"conversation_id": s.sender, "channel": s.channel, "state": state, "staff": staff,
                                      "requested_at": local(at), "taken_at": local(taken) if taken else None,
                                      "closed_at": local(closed) if closed else None})
        if taken is None:
            return
        lines = [("system", None, "Cán bộ nhận cuộc trò chuyện")]
        for i in range(rng.randint(1, 5)):
            lines.append(("staff", staff, rng.choice(STAFF_LINES)) if i % 2 == 0 else
                         ("citizen", None, rng.choice(CITIZEN_LINES)))
        if closed:
            lines.append(("system", None, "Trả lại cho trợ lý tự động"))
        end = closed or self.now - 1
        step = (end - taken) / len(lines)
        self.rows["handoff_messages"].extend(
            {"conversation_id": s.sender, "who": who, "staff": by, "text": line, "at": local(taken + i * step)}
            for i, (who, by, line) in enumerate(lines))

    def session(self, s: Session, t: float, kinds: List[str]) -> float:
        """A whole session from ``t``; when it ended."""
        t = self.start(s, t)
        for kind in kinds:
            t = self.turn(s, t + self.rng.uniform(2, 15), kind) + self.rng.uniform(5, 100)
        return t

    def take(self) -> Dict[str, List[dict]]:
        """The rows collected since the last call, events in time order (as Rasa writes them)."""
        rows = self.rows
        rows["events"].sort(key=lambda r: r["timestamp"])
        self.rows = {name: [] for name in rows}
        return rows


def day_moments(rng: random.Random, day: dt.date, count: int, latest: float) -> List[float]:
    """``count`` start times on ``day`` (Vietnam time) following the office's daily rhythm, none after ``latest``."""
    midnight = dt.datetime.combine(day, dt.time(), VN_TZ).timestamp()
    moments = []
    for hour in rng.choices(range(24), HOURS, k=count):
        t = midnight + hour * 3600 + rng.random() * 3600
        moments.append(t if t <= latest else midnight + rng.random() * max(latest - midnight, 1))
    return sorted(moments)


def staff_side(database_url: str, questions: Questions, rng: random.Random) -> int:
    """The staff accounts (an admin, editors), and decisions on some popular questions (mapped, answered with a
    staff answer, dismissed), each audited as the console does; returns the number of decisions."""
    from console.store import ConsoleStore
    from knowledge_base.grouping import key_of

    store = ConsoleStore(database_url)
    store.create_user(ADMIN, PASSWORD, "admin", "Quản trị viên")
    for name in EDITORS:
        store.create_user(name, PASSWORD, "editor", name.replace(".", " ").title())
    decided = {key_of(text): text for text, _ in rng.sample(questions.pool, len(questions.pool) // 5)}
    for key, text in decided.items():
        editor, decision = rng.choice(EDITORS), rng.choice(("mapped", "answered", "dismissed"))
        code = faq_id = None
        if decision == "mapped":
            code = "1.013831"
            store.audit(editor, "map_question", code, phrasings=[text], aliases_added=1)
        elif decision == "answered":
            faq_id = store.add_faq(text, "Câu hỏi này bạn liên hệ UBND cấp xã nơi có đất để được hướng dẫn.", editor)
            store.audit(editor, "answer_question", str(faq_id), question=text)
        else:
            store.audit(editor, "dismiss_question", key, phrasings=[text])
        store.decide([key], decision, editor, procedure_code=code, faq_id=faq_id)
    store.engine.dispose()
    return len(decided)


def generate(tracker_url: str, database_url: str, conversations: int = 100_000, days: int = 120, seed: int = 7,
             now: Optional[dt.datetime] = None, ascii_events: bool = False, batch: int = 10_000,
             catalogue_dir: Path = ROOT / "knowledge_base/catalogue",
             progress: Optional[Callable[[str], None]] = None) -> Counts:
    """Fill the tracker store at ``tracker_url`` and the application database at ``database_url`` with
    ``conversations`` conversations over the ``days`` days up to ``now`` (naive Vietnam time)."""
    now = now or now_local()
    rng = random.Random(seed)
    counts = Counts(conversations=conversations)
    tracker_engine = make_engine(tracker_url)
    events = tracker_table()
    events.metadata.create_all(tracker_engine)
    review = ReviewLog(database_url)
    handoffs = HandoffStore(database_url)

    def counter(name: str) -> Callable[[int], None]:
        return lambda n: setattr(counts, name, getattr(counts, name) + n)

    sinks = {"events": Sink(tracker_engine, events, batch, counter("events")),
             "unanswered": Sink(review.engine, unanswered, batch, counter("unanswered")),
             "feedback": Sink(review.engine, feedback, batch, counter("feedback")),
             "handoffs": Sink(handoffs.engine, handoffs_table, batch, counter("handoffs")),
             "handoff_messages": Sink(handoffs.engine, messages_table, batch, counter("handoff_messages"))}
    world = Traffic(rng, catalogue_procedures(catalogue_dir), now, ascii_events)
    latest = world.now - 1800  # a session started in the last half hour might still be going on
    first = now.date() - dt.timedelta(days=days - 1)
    weights = [WEEKDAYS[(first + dt.timedelta(days=d)).weekday()] * (0.8 + 0.4 * d / max(days - 1, 1))
               for d in range(days)]
    weights[-1] *= sum(HOURS[:now.hour]) / sum(HOURS)  # today is not over
    per_day = Counter(rng.choices(range(days), weights, k=conversations))
    returns: Dict[dt.date, List[Tuple[Session, float]]] = {}
    for d in range(days):
        day = first + dt.timedelta(days=d)
        for t in day_moments(rng, day, per_day[d], latest):
            channel, prefix, _ = rng.choices(CHANNELS, [w for _, _, w in CHANNELS])[0]
            s = Session(world.sender(prefix), channel)
            end = world.session(s, t, world.plan())
            counts.sessions += 1
            back = end + rng.uniform(1, 30) * 86400
            if channel in ("zalo", "telegram") and rng.random() < SHARES["return"] and back < latest:
                returns.setdefault(local(back).date(), []).append((Session(s.sender, channel), back))
        for s, t in returns.pop(day, []):
            world.session(s, t, [rng.choice(("procedure", "procedure", "dossier", "hours"))])
            counts.sessions += 1
        for name, rows in world.take().items():
            sinks[name].extend(rows)
        if progress and (d % 10 == 9 or d == days - 1):
            progress(f"  day {d + 1}/{days}: {counts.events + len(sinks['events'].rows):,} events")
    for sink in sinks.values():
        sink.close()
    counts.open_handoffs = world.open_handoffs
    if tracker_engine.dialect.name == "postgresql":  # what autovacuum would have done by then
        for engine in {tracker_url: tracker_engine, database_url: review.engine}.values():
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
    staff_side(database_url, world.questions, rng)
    for engine in (tracker_engine, review.engine, handoffs.engine):
        engine.dispose()
    return counts
