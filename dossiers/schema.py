"""Tables of the dossier service (SQLAlchemy Core). Changes go through an Alembic migration."""
from __future__ import annotations

from sqlalchemy import (
                        BigInteger,
                        Column,
                        DateTime,
                        ForeignKey,
                        Index,
                        Integer,
                        MetaData,
                        String,
                        Table,
                        Text,
                        UniqueConstraint,
)

metadata = MetaData()
CODE = String(40)

dossiers = Table(
    "dossiers", metadata,
    Column("code", CODE, primary_key=True),
    Column("procedure_code", String(16), nullable=False, index=True),
    Column("procedure_name", Text, nullable=False, default=""),
    Column("channel", String(16), nullable=False),  # direct / online / postal
    Column("applicant_name_masked", String(120), nullable=False, default=""),
    Column("salt", String(32), nullable=False),
    Column("name_hash", String(64)),
    Column("phone_hash", String(64)),
    Column("phone_last_hash", String(64)),
    Column("id_hash", String(64)),
    Column("id_last_hash", String(64)),
    Column("received_at", DateTime, nullable=False),
    Column("due_at", DateTime),
    Column("status_code", Integer, nullable=False),
    Column("status_at", DateTime, nullable=False),
    Column("current_step", Text, nullable=False, default=""),
    Column("handling_unit", Text, nullable=False, default=""),
    Column("result_pickup", Text, nullable=False, default=""),
    Column("source", String(16), nullable=False, default="import"),
    Column("updated_at", DateTime, nullable=False),
)

status_history = Table(
    "dossier_status_history", metadata,
    Column("id", Integer, primary_key=True),
    Column("dossier_code", CODE, ForeignKey("dossiers.code", ondelete="CASCADE"), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("at", DateTime, nullable=False),
    Column("handling_unit", Text, nullable=False, default=""),
    Column("step", Text, nullable=False, default=""),
    UniqueConstraint("dossier_code", "status_code", "at", name="uq_history_event"),
)
Index("ix_history_code_at", status_history.c.dossier_code, status_history.c.at)

supplements = Table(
    "dossier_supplements", metadata,
    Column("id", Integer, primary_key=True),
    Column("dossier_code", CODE, ForeignKey("dossiers.code", ondelete="CASCADE"), nullable=False, index=True),
    Column("requested_at", DateTime, nullable=False),
    Column("items", Text, nullable=False),
    Column("deadline", DateTime),
    Column("resolved_at", DateTime),
    UniqueConstraint("dossier_code", "requested_at", name="uq_supplement"),
)

financial_notices = Table(
    "dossier_financial_notices", metadata,
    Column("id", Integer, primary_key=True),
    Column("dossier_code", CODE, ForeignKey("dossiers.code", ondelete="CASCADE"), nullable=False, index=True),
    Column("issued_at", DateTime, nullable=False),
    Column("amount_vnd", BigInteger),
    Column("description", Text, nullable=False, default=""),
    Column("paid_at", DateTime),
    UniqueConstraint("dossier_code", "issued_at", name="uq_financial_notice"),
)

lookup_locks = Table(
    "dossier_lookup_locks", metadata,
    # "sender:<channel>:<conversation id>", "client:<client digest>" or "code:<dossier code>"
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),  # since the last lock (or quiet day)
    Column("level", Integer, nullable=False, default=0, server_default="0"),  # locks served: the next step
    Column("last_failure_at", DateTime),
    Column("locked_until", DateTime),
)

lookup_audit = Table(
    "dossier_lookup_audit", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("conversation_id", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("dossier_code", String(80), nullable=False),
    Column("outcome", String(16), nullable=False),  # ok / denied / locked / invalid
    Column("client_hash", String(32)),  # keyed digest of the client address (Hasher.client_hash), never the address
)
Index("ix_lookup_audit_client_at", lookup_audit.c.client_hash, lookup_audit.c.at)

# Successful verifications: what a conversation may see, until expires_at. Rows are kept past expiry:
# they name the conversations known to own a dossier, which a stranger's failures cannot lock out.
verifications = Table(
    "dossier_verifications", metadata,
    Column("id", Integer, primary_key=True),
    Column("dossier_code", CODE, ForeignKey("dossiers.code", ondelete="CASCADE"), nullable=False),
    Column("conversation_id", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("verified_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    # The client that proved it: a conversation id that leaks (a log, a proxy's log) opens nothing elsewhere.
    Column("client_hash", String(64), nullable=True),
    UniqueConstraint("dossier_code", "conversation_id", "channel", name="uq_verification"),
)
Index("ix_verification_conversation", verifications.c.conversation_id, verifications.c.channel,
      verifications.c.expires_at)

# Staff alerts for many dossier codes tried from one client address (no personal data); delivered by
# `motcua channels deliver` like the handoff alerts: pending / sending / sent / failed / skipped.
lookup_alerts = Table(
    "dossier_lookup_alerts", metadata,
    Column("id", Integer, primary_key=True),
    Column("client_hash", String(32), nullable=False),
    Column("hour", DateTime, nullable=False),  # raised_at to the hour: at most one alert per client and hour
    Column("raised_at", DateTime, nullable=False),
    Column("codes", Integer, nullable=False),  # distinct codes that client tried within the hour
    Column("state", String(16), nullable=False),
    Column("delivered_to", String(256), nullable=False, default=""),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("last_error", Text),
    UniqueConstraint("client_hash", "hour", name="uq_lookup_alert_hour"),
)
Index("ix_lookup_alerts_due", lookup_alerts.c.state, lookup_alerts.c.next_attempt_at)

subscriptions = Table(
    "dossier_notice_subscriptions", metadata,
    Column("id", Integer, primary_key=True),
    Column("dossier_code", CODE, ForeignKey("dossiers.code", ondelete="CASCADE"), nullable=False, index=True),
    Column("conversation_id", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("dossier_code", "conversation_id", "channel", name="uq_subscription"),
)

outbox = Table(
    "notice_outbox", metadata,
    Column("id", Integer, primary_key=True),
    Column("event_key", String(300), nullable=False, unique=True),  # one notice per change and conversation
    Column("dossier_code", CODE, nullable=False),
    Column("conversation_id", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("state", String(16), nullable=False, default="pending"),  # pending / sending / sent / failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
    Column("last_error", Text),
    Column("claimed_at", DateTime),  # when a deliverer took it ('sending' long after: the deliverer died)
    Column("alerted_at", DateTime),  # when staff were alerted that it is stuck or its outcome unknown
)
Index("ix_outbox_due", outbox.c.state, outbox.c.next_attempt_at)

# Staff alerts about notices that may not have reached the citizen: left 'sending' by a deliverer that died,
# or sent with an unknown outcome. Each such notice is counted in one alert; delivered like the lookup alerts.
outbox_alerts = Table(
    "notice_outbox_alerts", metadata,
    Column("id", Integer, primary_key=True),
    Column("raised_at", DateTime, nullable=False),
    Column("stuck", Integer, nullable=False),  # notices 'sending' for longer than the deliverer takes
    Column("unknown", Integer, nullable=False),  # notices whose send timed out after it went out
    Column("state", String(16), nullable=False),
    Column("delivered_to", String(256), nullable=False, default=""),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("last_error", Text),
)
Index("ix_outbox_alerts_due", outbox_alerts.c.state, outbox_alerts.c.next_attempt_at)
