"""staff request list: newest submission first, from an index

Revision ID: 0332396e3b03
Revises: 4c6e5df916f8
Created: 2026-11-27 08:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0332396e3b03'
down_revision = '4c6e5df916f8'
branch_labels = None
depends_on = None

INDEX = "ix_resource_request_submitted_at_id"


def upgrade():
    # The default order of the staff's list of requests (newest submission first, never
    # submitted last) read from an index instead of sorting every request. Written by hand:
    # PostgreSQL needs NULLS LAST in the index; SQLite cannot say it there, but it sorts NULL
    # lowest, so a plain descending index gives the same order.
    if op.get_bind().dialect.name == "postgresql":
        columns = [sa.text("submitted_at DESC NULLS LAST"), sa.text("id DESC")]
    else:
        columns = [sa.text("submitted_at DESC"), sa.text("id DESC")]
    op.create_index(INDEX, "resource_request", columns, unique=False)


def downgrade():
    op.drop_index(INDEX, table_name="resource_request")
