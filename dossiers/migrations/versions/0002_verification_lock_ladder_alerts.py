"""server-side verification, escalating lookup locks, enumeration alerts, client digest in the audit

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 04:35:38.399421
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dossier_lookup_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_hash', sa.String(length=32), nullable=False),
    sa.Column('hour', sa.DateTime(), nullable=False),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.Column('codes', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('delivered_to', sa.String(length=256), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_hash', 'hour', name='uq_lookup_alert_hour')
    )
    with op.batch_alter_table('dossier_lookup_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_lookup_alerts_due', ['state', 'next_attempt_at'], unique=False)

    op.create_table('dossier_verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_code', sa.String(length=40), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('verified_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('client_hash', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['dossier_code'], ['dossiers.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dossier_code', 'conversation_id', 'channel', name='uq_verification')
    )
    with op.batch_alter_table('dossier_verifications', schema=None) as batch_op:
        batch_op.create_index('ix_verification_conversation', ['conversation_id', 'channel', 'expires_at'],
                              unique=False)

    with op.batch_alter_table('dossier_lookup_audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_hash', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_lookup_audit_client_at', ['client_hash', 'at'], unique=False)

    with op.batch_alter_table('dossier_lookup_locks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_failure_at', sa.DateTime(), nullable=True))
    # Failures counted before the upgrade keep counting: their run's start stands in for the last failure.
    op.execute("UPDATE dossier_lookup_locks SET last_failure_at = first_failure_at")
    with op.batch_alter_table('dossier_lookup_locks', schema=None) as batch_op:
        batch_op.drop_column('first_failure_at')


def downgrade():
    with op.batch_alter_table('dossier_lookup_locks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_failure_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE dossier_lookup_locks SET first_failure_at = last_failure_at")
    with op.batch_alter_table('dossier_lookup_locks', schema=None) as batch_op:
        batch_op.drop_column('last_failure_at')
        batch_op.drop_column('level')

    with op.batch_alter_table('dossier_lookup_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_lookup_audit_client_at')
        batch_op.drop_column('client_hash')

    with op.batch_alter_table('dossier_verifications', schema=None) as batch_op:
        batch_op.drop_index('ix_verification_conversation')

    op.drop_table('dossier_verifications')
    with op.batch_alter_table('dossier_lookup_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_lookup_alerts_due')

    op.drop_table('dossier_lookup_alerts')
