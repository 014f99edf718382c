"""initial dossier schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 06:30:02.528154
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dossier_lookup_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('dossier_code', sa.String(length=80), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dossier_lookup_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_lookup_audit_at'), ['at'], unique=False)

    op.create_table('dossier_lookup_locks',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_failure_at', sa.DateTime(), nullable=True),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('dossiers',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('procedure_code', sa.String(length=16), nullable=False),
    sa.Column('procedure_name', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('applicant_name_masked', sa.String(length=120), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('name_hash', sa.String(length=64), nullable=True),
    sa.Column('phone_hash', sa.String(length=64), nullable=True),
    sa.Column('phone_last_hash', sa.String(length=64), nullable=True),
    sa.Column('id_hash', sa.String(length=64), nullable=True),
    sa.Column('id_last_hash', sa.String(length=64), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('status_at', sa.DateTime(), nullable=False),
    sa.Column('current_step', sa.Text(), nullable=False),
    sa.Column('handling_unit', sa.Text(), nullable=False),
    sa.Column('result_pickup', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossiers_procedure_code'), ['procedure_code'], unique=False)

    op.create_table('notice_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_key', sa.String(length=300), nullable=False),
    sa.Column('dossier_code', sa.String(length=40), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_key')
    )
    with op.batch_alter_table('notice_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['state', 'next_attempt_at'], unique=False)

    op.create_table('dossier_financial_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_code', sa.String(length=40), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('paid_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['dossier_code'], ['dossiers.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dossier_code', 'issued_at', name='uq_financial_notice')
    )
    with op.batch_alter_table('dossier_financial_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_financial_notices_dossier_code'), ['dossier_code'], unique=False)

    op.create_table('dossier_notice_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_code', sa.String(length=40), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dossier_code'], ['dossiers.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dossier_code', 'conversation_id', 'channel', name='uq_subscription')
    )
    with op.batch_alter_table('dossier_notice_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_notice_subscriptions_dossier_code'), ['dossier_code'], unique=False)

    op.create_table('dossier_status_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_code', sa.String(length=40), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('handling_unit', sa.Text(), nullable=False),
    sa.Column('step', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['dossier_code'], ['dossiers.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dossier_code', 'status_code', 'at', name='uq_history_event')
    )
    with op.batch_alter_table('dossier_status_history', schema=None) as batch_op:
        batch_op.create_index('ix_history_code_at', ['dossier_code', 'at'], unique=False)

    op.create_table('dossier_supplements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_code', sa.String(length=40), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('items', sa.Text(), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['dossier_code'], ['dossiers.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dossier_code', 'requested_at', name='uq_supplement')
    )
    with op.batch_alter_table('dossier_supplements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_supplements_dossier_code'), ['dossier_code'], unique=False)



def downgrade():
    with op.batch_alter_table('dossier_supplements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_supplements_dossier_code'))

    op.drop_table('dossier_supplements')
    with op.batch_alter_table('dossier_status_history', schema=None) as batch_op:
        batch_op.drop_index('ix_history_code_at')

    op.drop_table('dossier_status_history')
    with op.batch_alter_table('dossier_notice_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_notice_subscriptions_dossier_code'))

    op.drop_table('dossier_notice_subscriptions')
    with op.batch_alter_table('dossier_financial_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_financial_notices_dossier_code'))

    op.drop_table('dossier_financial_notices')
    with op.batch_alter_table('notice_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('notice_outbox')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossiers_procedure_code'))

    op.drop_table('dossiers')
    op.drop_table('dossier_lookup_locks')
    with op.batch_alter_table('dossier_lookup_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_lookup_audit_at'))

    op.drop_table('dossier_lookup_audit')
