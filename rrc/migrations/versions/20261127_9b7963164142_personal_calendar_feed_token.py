"""personal calendar feed token

Revision ID: 9b7963164142
Revises: 9cebb973e67f
Created: 2026-11-27 04:45:19.741639
"""

import sqlalchemy as sa
from alembic import op

import rrc.models.types

revision = '9b7963164142'
down_revision = '9cebb973e67f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_user_calendar_token'), ['calendar_token'])



def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_calendar_token'), type_='unique')
        batch_op.drop_column('calendar_token')

