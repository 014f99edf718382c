"""The unanswered questions in groups that mean the same, kept in the console's database as they arrive.

Each question of the review log (``unanswered``) is placed once, in order, into a group (``question_members``):
its comparison key's group when that key was seen before, else the group whose mean encoder vector is nearest
when close enough (``knowledge_base.grouping.MeaningGroups``, threshold ``GROUP_AT`` chosen on a labelled sample:
``make bench-grouping``), else a new group. Greetings, places and numbers are removed before encoding. Without
the encoder (no model built) a question groups with the same key only.

Pages read groups as SQL aggregates over the members, 50 to a page: a group is open while one of its keys has
no staff decision (``staff_question_decisions``). Staff can split phrasings off a group and merge two groups;
later askings of a split phrasing follow it to its new group.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from console.rollup import mark, move_mark, state_table
from console.rollup import metadata as rollup_metadata
from console.store import decisions_table
from core.db import create_tables, insert_once, make_engine
from core.privacy import mask_text
from core.stores.review_log import unanswered
from knowledge_base.grouping import MeaningGroups, content_of, key_of

log = logging.getLogger(__name__)

GROUP_AT = 0.90  # centred cosine to a group's mean vector: `make bench-grouping` (tuning sample, fine-tuned encoder;
#                 0.85 until the model of 4/12/2026, whose tuning precision there is 0.83)
BATCH = 500
STATE = "questions"  # the watermark: the last review-log row placed
VERSION = "question_groups"  # bumped by every change to the groups: another worker's cache is then stale

metadata = MetaData()

groups_table = Table(
    "question_groups", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime, nullable=False),
    Column("vector", LargeBinary, nullable=True),  # float32 sum of its members' unit vectors
    Column("size", Integer, nullable=False, default=0),  # how many vectors that sum holds
    sqlite_autoincrement=True,  # a deleted group's id is never given again
)

members_table = Table(
    "question_members", metadata,
    Column("unanswered_id", Integer, primary_key=True, autoincrement=False),
    Column("group_id", Integer, nullable=False),
    Column("key", String(200), nullable=False, index=True),  # key_of: staff decisions are per key
    Column("content", String(200), nullable=False, default=""),  # content_of: the same content, the same group
    Column("asked_at", DateTime, nullable=False, index=True),
    Column("channel", String(32), nullable=False),
    Index("ix_question_members_group", "group_id", "asked_at"),
)


@dataclass
class GroupRow:
    """One line of the list: a group with its counts and what staff decided."""

    id: int
    count: int
    latest: dt.datetime
    open_count: int
    phrasings: List[str]
    channels: List[str]
    decision: Optional[dict] = None


class QuestionGroups:
    """Places the review log's new questions into groups and reads them for the console's pages."""

    def __init__(self, url: str, embed: Optional[Callable[[List[str]], np.ndarray]] = None,
                 threshold: float = GROUP_AT, exclude_reasons: Sequence[str] = ("handoff_requested",)):
        """``embed``: texts to unit vectors (None: group by key only)."""
        self.engine: Engine = make_engine(url)
        create_tables(rollup_metadata, self.engine)  # its state table keeps the watermark
        create_tables(decisions_table.metadata, self.engine)  # the staff's decisions, joined on the pages
        create_tables(metadata, self.engine)
        self.embed, self.threshold, self.exclude = embed, threshold, tuple(exclude_reasons)
        self._groups: Optional[MeaningGroups] = None
        self._version = -1

    # Placing new questions ------------------------------------------------------------------------------
    def catch_up(self, budget: Optional[int] = None) -> int:
        """Place the questions logged since the last call (at most about ``budget``); how many were placed."""
        done = 0
        while budget is None or done < budget:
            placed, more = self._step(BATCH if budget is None else min(BATCH, budget - done))
            done += placed
            if not more:
                break
        return done

    def _step(self, size: int) -> Tuple[int, bool]:
        with self.engine.connect() as conn:
            last = mark(conn, STATE)
            rows = conn.execute(select(unanswered.c.id, unanswered.c.text, unanswered.c.asked_at, unanswered.c.channel,
                                       unanswered.c.reason).where(unanswered.c.id > last)
                                .order_by(unanswered.c.id).limit(size)).all()
        if not rows:
            return 0, False
        wanted = [r for r in rows if r.reason not in self.exclude and r.text]
        contents = {r.id: content_of(r.text) for r in wanted}
        vectors = self._vectors(sorted({c for c in contents.values() if c}))
        try:
            with self.engine.begin() as conn:
                if not move_mark(conn, STATE, last, rows[-1].id):
                    return 0, False  # another worker placed them
                groups = self._loaded(conn)
                changed = set()
                for row in wanted:
                    key, content = key_of(row.text)[:200], contents[row.id][:200]
                    group = groups.place(key, content, vectors.get(contents[row.id]), -1)
                    if group == -1:  # a new group: its id from the database
                        group = int(conn.execute(insert(groups_table).values(created_at=dt.datetime.now(), size=0))
                                    .inserted_primary_key[0])
                        groups.rename(-1, group, [key, "content:" + content])
                    changed.add(group)
                    conn.execute(insert(members_table).values(unanswered_id=row.id, group_id=group, key=key,
                                                              content=content, asked_at=row.asked_at,
                                                              channel=row.channel or "unknown"))
                self._save_vectors(conn, groups, changed)
                self._bump(conn)
        except BaseException:
            self._groups = None  # the cache may hold what was rolled back
            raise
        return len(rows), len(rows) == size

    def _bump(self, conn: Connection) -> None:
        """Record a change to the groups (this process's cache stays current; others reload theirs)."""
        insert_once(conn, insert(state_table).values(name=VERSION, last_id=0))
        conn.execute(update(state_table).where(state_table.c.name == VERSION)
                     .values(last_id=state_table.c.last_id + 1, updated_at=dt.datetime.now()))
        self._version = mark(conn, VERSION)

    def _vectors(self, contents: List[str]) -> Dict[str, np.ndarray]:
        if not contents or self.embed is None:
            return {}
        try:
            return dict(zip(contents, self.embed(contents)))
        except Exception as exc:  # no model built, or it failed to load: group by key, say so once
            log.warning("question grouping without the encoder (%s): same wording only", exc)
            self.embed = None
            return {}

    def _loaded(self, conn: Connection) -> MeaningGroups:
        """The groups' vectors and keys, read again when another worker (or a split, a merge) changed them."""
        version = mark(conn, VERSION)
        if self._groups is None or version != self._version:
            self._version = version
            ids, sums, sizes, dimension = [], [], [], 0
            for gid, blob, size in conn.execute(select(groups_table.c.id, groups_table.c.vector, groups_table.c.size)
                                                .order_by(groups_table.c.id)):
                vector = np.frombuffer(blob, np.float32) if blob else None
                ids.append(gid)
                sums.append(vector)
                sizes.append(size or 0 if vector is not None else 0)
                dimension = dimension or (vector.shape[0] if vector is not None else 0)
            dimension = dimension or 384
            matrix = np.vstack([v if v is not None else np.zeros(dimension, np.float32) for v in sums]) if ids \
                else np.zeros((0, dimension), np.float32)
            groups = MeaningGroups(self.threshold, dimension)
            m = members_table
            keys = {"content:" + c: g for c, g in conn.execute(select(m.c.content, func.max(m.c.group_id))
                                                                .where(m.c.content != "").group_by(m.c.content))}
            keys.update(conn.execute(select(m.c.key, func.max(m.c.group_id)).group_by(m.c.key)).all())
            groups.load(ids, matrix, sizes, keys)
            self._groups = groups
        return self._groups

    @staticmethod
    def _save_vectors(conn: Connection, groups: MeaningGroups, changed) -> None:
        for gid in changed:
            at = groups.row_of(gid)
            row = groups.sums[at]
            conn.execute(update(groups_table).where(groups_table.c.id == gid).values(
                vector=row.astype(np.float32).tobytes() if row.any() else None, size=int(groups.sizes[at])))

    # Reading ------------------------------------------------------------------------------------------
    def page(self, since: dt.datetime, open_only: bool, sort: str = "frequent", page: int = 1,
             per_page: int = 50) -> Tuple[List[GroupRow], bool]:
        """One page of groups asked since ``since``: open ones (a key without a decision) or decided ones, the
        most asked or the newest first; and whether another page follows."""
        m, d = members_table, decisions_table
        undecided = func.sum(case((d.c.id.is_(None), 1), else_=0)).label("open_count")
        count, latest = func.count().label("n"), func.max(m.c.asked_at).label("latest")
        query = (select(m.c.group_id, count, latest, undecided)
                 .select_from(m.outerjoin(d, d.c.question_key == m.c.key)).where(m.c.asked_at >= since)
                 .group_by(m.c.group_id).having(undecided > 0 if open_only else undecided == 0))
        order = [latest.desc(), m.c.group_id.desc()] if sort == "newest" else [count.desc(), latest.desc()]
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(*order).offset((page - 1) * per_page).limit(per_page + 1)).all()
            shown = rows[:per_page]
            details = self._details(conn, [r.group_id for r in shown], since)
        return [GroupRow(r.group_id, int(r.n), r.latest, int(r.open_count or 0), *details[r.group_id])
                for r in shown], len(rows) > per_page

    def _details(self, conn: Connection, ids: List[int], since: Optional[dt.datetime],
                 phrasings: int = 4) -> Dict[int, tuple]:
        """Per group: its most asked phrasings, its channels and its latest decision."""
        out: Dict[int, tuple] = {gid: ([], [], None) for gid in ids}
        if not ids:
            return out
        m, u, d = members_table, unanswered, decisions_table
        recent = m.c.asked_at >= since if since else True
        asked = func.count().label("n")
        texts = conn.execute(select(m.c.group_id, u.c.text, asked).select_from(m.join(u, u.c.id == m.c.unanswered_id))
                             .where(and_(m.c.group_id.in_(ids), recent, u.c.text != ""))
                             .group_by(m.c.group_id, u.c.text).order_by(m.c.group_id, asked.desc(), u.c.text)).all()
        for gid, text, _ in texts:
            if len(out[gid][0]) < phrasings:
                out[gid][0].append(mask_text(text))
        for gid, channel in conn.execute(select(m.c.group_id, m.c.channel).where(and_(m.c.group_id.in_(ids), recent))
                                         .distinct().order_by(m.c.group_id, m.c.channel)):
            out[gid][1].append(channel)
        decided = conn.execute(select(m.c.group_id, d.c.id, d.c.decision, d.c.procedure_code, d.c.username, d.c.at)
                               .select_from(m.join(d, d.c.question_key == m.c.key)).where(m.c.group_id.in_(ids))
                               .distinct().order_by(d.c.at)).mappings().all()
        for row in decided:
            out[row["group_id"]] = (out[row["group_id"]][0], out[row["group_id"]][1],
                                    {k: row[k] for k in ("decision", "procedure_code", "username", "at")})
        return out

    def group(self, gid: int, phrasings: int = 100) -> Optional[dict]:
        """One group: counts, up to ``phrasings`` phrasings with how often each was asked, its keys, and its
        latest five askings (review-log rows); None when there is no such group."""
        m, u = members_table, unanswered
        with self.engine.connect() as conn:
            head = conn.execute(select(func.count(), func.max(m.c.asked_at)).where(m.c.group_id == gid)).first()
            if not head or not head[0]:
                return None
            asked = func.count().label("n")
            texts = conn.execute(select(u.c.text, func.min(m.c.key).label("key"), asked)
                                 .select_from(m.join(u, u.c.id == m.c.unanswered_id))
                                 .where(and_(m.c.group_id == gid, u.c.text != "")).group_by(u.c.text)
                                 .order_by(asked.desc(), u.c.text).limit(phrasings)).all()
            keys = list(conn.execute(select(m.c.key).where(m.c.group_id == gid).distinct().order_by(m.c.key))
                        .scalars())
            latest = [dict(r._mapping, text=mask_text(r.text)) for r in conn.execute(
                select(u).select_from(m.join(u, u.c.id == m.c.unanswered_id)).where(m.c.group_id == gid)
                .order_by(m.c.asked_at.desc(), u.c.id.desc()).limit(5))]
            decision = self._details(conn, [gid], None)[gid][2]
        return {"id": gid, "count": int(head[0]), "latest": head[1], "decision": decision, "keys": keys,
                "phrasings": [(mask_text(t.text), t.key, int(t.n)) for t in texts], "rows": latest}

    def neighbours(self, gid: int, top: int = 5) -> List[Tuple[int, float, str]]:
        """The groups nearest in meaning to group ``gid`` (to merge with): id, cosine, most asked phrasing."""
        with self.engine.connect() as conn:
            groups = self._loaded(conn)
            if gid not in groups.ids:
                return []
            row = groups.sums[groups.row_of(gid)]
            if not row.any():
                return []
            size = float(groups.sizes[groups.row_of(gid)]) or 1.0
            found = groups.nearest(row / size, exclude=gid, top=top)
            names = self._details(conn, [g for g, _ in found], None)
        return [(g, score, (names[g][0] or [""])[0]) for g, score in found if names[g][0]]

    # Staff's changes ---------------------------------------------------------------------------------------
    def merge(self, into: int, other: int) -> int:
        """Move every question of group ``other`` into group ``into``; how many moved."""
        if into == other:
            return 0
        vectors = self._phrasing_vectors([into, other])
        with self.engine.begin() as conn:
            moved = conn.execute(update(members_table).where(members_table.c.group_id == other)
                                 .values(group_id=into)).rowcount
            if moved:
                self._resum(conn, [into, other], vectors)
                self._bump(conn)
        self._groups = None
        return int(moved or 0)

    def split(self, gid: int, keys: Sequence[str]) -> Optional[int]:
        """Move the phrasings with ``keys`` out of group ``gid`` into a new group; its id, or None when nothing
        would move or nothing would stay."""
        m = members_table
        vectors = self._phrasing_vectors([gid])
        with self.engine.begin() as conn:
            present = set(conn.execute(select(m.c.key).where(m.c.group_id == gid).distinct()).scalars())
            chosen = present & set(keys)
            if not chosen or chosen == present:
                return None
            new = int(conn.execute(insert(groups_table).values(created_at=dt.datetime.now(), size=0))
                      .inserted_primary_key[0])
            conn.execute(update(m).where(and_(m.c.group_id == gid, m.c.key.in_(sorted(chosen)))).values(group_id=new))
            self._resum(conn, [gid, new], vectors)
            self._bump(conn)
        self._groups = None
        return new

    def _phrasing_vectors(self, ids: List[int]) -> Dict[str, np.ndarray]:
        """The vectors of the groups' contents, encoded before a transaction takes the write lock."""
        m = members_table
        with self.engine.connect() as conn:
            contents = sorted(set(conn.execute(select(m.c.content).where(and_(m.c.group_id.in_(ids),
                                                                               m.c.content != "")).distinct())
                                  .scalars()))
        return self._vectors(contents)

    @staticmethod
    def _resum(conn: Connection, ids: List[int], vectors: Dict[str, np.ndarray]) -> None:
        """Recompute the groups' vector sums from their members' contents (after a split or a merge)."""
        m = members_table
        for gid in ids:
            contents = list(conn.execute(select(m.c.content).where(and_(m.c.group_id == gid, m.c.content != "")))
                            .scalars())
            found = [vectors[c] for c in contents if c in vectors]
            blob = np.sum(found, axis=0).astype(np.float32).tobytes() if found else None
            size = len(found)
            if not conn.execute(select(func.count()).where(m.c.group_id == gid)).scalar():
                conn.execute(delete(groups_table).where(groups_table.c.id == gid))
            else:
                conn.execute(update(groups_table).where(groups_table.c.id == gid).values(vector=blob, size=size))

    def close(self) -> None:
        self.engine.dispose()
