"""staff alerts for notices stuck in sending or with an unknown outcome

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 15:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notice_outbox_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.Column('stuck', sa.Integer(), nullable=False),
    sa.Column('unknown', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('delivered_to', sa.String(length=256), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notice_outbox_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_alerts_due', ['state', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('notice_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('alerted_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('notice_outbox', schema=None) as batch_op:
        batch_op.drop_column('alerted_at')
        batch_op.drop_column('claimed_at')

    with op.batch_alter_table('notice_outbox_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_alerts_due')

    op.drop_table('notice_outbox_alerts')
