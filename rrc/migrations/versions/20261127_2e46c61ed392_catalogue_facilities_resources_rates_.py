"""catalogue: facilities, resources, rates, closures

Revision ID: 2e46c61ed392
Revises: 7d3fefb29059
Created: 2026-11-27 03:40:53.749253
"""

import sqlalchemy as sa
from alembic import op

import rrc.models.types

revision = '2e46c61ed392'
down_revision = '7d3fefb29059'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('facility',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_ko', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('description_ko', sa.Text(), nullable=True),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('biosafety_level', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('opening_hours', sa.JSON(), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', rrc.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_facility')),
    sa.UniqueConstraint('code', name=op.f('uq_facility_code'))
    )
    op.create_table('resource',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_ko', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.Enum('instrument', 'space', 'service', 'material', 'training', 'consultation', name='resource_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('summary_ko', sa.String(length=500), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('description_ko', sa.Text(), nullable=True),
    sa.Column('biosafety_level', sa.Integer(), nullable=False),
    sa.Column('high_risk_pathogen', sa.Boolean(), nullable=False),
    sa.Column('human_specimen', sa.Boolean(), nullable=False),
    sa.Column('animal_work', sa.Boolean(), nullable=False),
    sa.Column('gmo', sa.Boolean(), nullable=False),
    sa.Column('booking_mode', sa.Enum('slot', 'quantity', name='booking_mode', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('unit_label', sa.String(length=80), nullable=False),
    sa.Column('unit_label_ko', sa.String(length=80), nullable=True),
    sa.Column('unit_minutes', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('slot_granularity_minutes', sa.Integer(), nullable=False),
    sa.Column('min_duration_minutes', sa.Integer(), nullable=False),
    sa.Column('max_duration_minutes', sa.Integer(), nullable=False),
    sa.Column('min_notice_hours', sa.Integer(), nullable=False),
    sa.Column('max_advance_days', sa.Integer(), nullable=False),
    sa.Column('buffer_minutes', sa.Integer(), nullable=False),
    sa.Column('opening_hours', sa.JSON(), nullable=True),
    sa.Column('cancellation_notice_hours', sa.Integer(), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=True),
    sa.Column('availability_note', sa.String(length=300), nullable=True),
    sa.Column('training_requirement', sa.String(length=300), nullable=True),
    sa.Column('required_documents', sa.JSON(), nullable=False),
    sa.Column('approval_chain', sa.JSON(), nullable=False),
    sa.Column('photo_filename', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('retired_at', rrc.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', rrc.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', rrc.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('booking_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("booking_mode <> 'slot' OR (unit_minutes IS NOT NULL AND unit_minutes > 0)", name=op.f('ck_resource_slot_resources_have_unit_minutes')),
    sa.CheckConstraint('biosafety_level BETWEEN 0 AND 4', name=op.f('ck_resource_biosafety_level_range')),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], name=op.f('fk_resource_facility_id_facility'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource')),
    sa.UniqueConstraint('code', name=op.f('uq_resource_code'))
    )
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_active'), ['active'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_facility_id'), ['facility_id'], unique=False)

    op.create_table('closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=True),
    sa.Column('resource_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', rrc.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', rrc.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', rrc.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(facility_id IS NULL) <> (resource_id IS NULL)', name=op.f('ck_closure_facility_or_resource')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_closure_ends_after_start')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_closure_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], name=op.f('fk_closure_facility_id_facility'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_closure_resource_id_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closure'))
    )
    with op.batch_alter_table('closure', schema=None) as batch_op:
        batch_op.create_index('ix_closure_facility_period', ['facility_id', 'starts_at', 'ends_at'], unique=False)
        batch_op.create_index('ix_closure_resource_period', ['resource_id', 'starts_at', 'ends_at'], unique=False)

    op.create_table('facility_manager',
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], name=op.f('fk_facility_manager_facility_id_facility'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_facility_manager_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('facility_id', 'user_id', name=op.f('pk_facility_manager'))
    )
    op.create_table('rate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.Enum('internal', 'academic', 'sme', 'industry', name='price_tier', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=True),
    sa.Column('setup_fee', sa.BigInteger(), nullable=True),
    sa.Column('on_quote', sa.Boolean(), nullable=False),
    sa.CheckConstraint('on_quote OR unit_price IS NOT NULL', name=op.f('ck_rate_price_or_on_quote')),
    sa.CheckConstraint('setup_fee IS NULL OR setup_fee >= 0', name=op.f('ck_rate_setup_fee_positive')),
    sa.CheckConstraint('unit_price IS NULL OR unit_price >= 0', name=op.f('ck_rate_unit_price_positive')),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_rate_resource_id_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate')),
    sa.UniqueConstraint('resource_id', 'tier', name='uq_rate_resource_tier')
    )


def downgrade():
    op.drop_table('rate')
    op.drop_table('facility_manager')
    with op.batch_alter_table('closure', schema=None) as batch_op:
        batch_op.drop_index('ix_closure_resource_period')
        batch_op.drop_index('ix_closure_facility_period')

    op.drop_table('closure')
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_facility_id'))
        batch_op.drop_index(batch_op.f('ix_resource_active'))

    op.drop_table('resource')
    op.drop_table('facility')
