"""outbox attachments

Revision ID: 4c6e5df916f8
Revises: 9b7963164142
Created: 2026-11-27 05:12:59.611168
"""

import sqlalchemy as sa
from alembic import op

import rrc.models.types

revision = '4c6e5df916f8'
down_revision = '9b7963164142'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachments', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))



def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('attachments')

