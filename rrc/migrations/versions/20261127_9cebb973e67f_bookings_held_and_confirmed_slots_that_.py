"""bookings: held and confirmed slots that never overlap

Revision ID: 9cebb973e67f
Revises: edb03cf6375e
Created: 2026-11-27 04:39:50.851019
"""

import sqlalchemy as sa
from alembic import op

import rrc.models.types

revision = '9cebb973e67f'
down_revision = 'edb03cf6375e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', rrc.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', rrc.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('held', 'confirmed', 'cancelled', 'released', 'completed', 'no_show', name='booking_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('late_cancellation', sa.Boolean(), nullable=False),
    sa.Column('reminded_at', rrc.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', rrc.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', rrc.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_booking_ends_after_start')),
    sa.ForeignKeyConstraint(['request_id'], ['resource_request.id'], name=op.f('fk_booking_request_id_resource_request'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_booking_resource_id_resource'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking'))
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_request_id'), ['request_id'], unique=False)
        batch_op.create_index('ix_booking_resource_period', ['resource_id', 'starts_at', 'ends_at'], unique=False)

    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_slots', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))

    # The last guard against double booking on PostgreSQL: no two active bookings of one resource
    # overlap (half-open ranges). Written by hand: autogenerate does not know exclusion constraints.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE booking ADD CONSTRAINT ex_booking_no_overlap EXCLUDE USING gist "
            "(resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            "WHERE (status IN ('held', 'confirmed'))"
        )



def downgrade():
    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.drop_column('requested_slots')

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_resource_period')
        batch_op.drop_index(batch_op.f('ix_booking_request_id'))

    op.drop_table('booking')
