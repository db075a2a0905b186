"""requests: approval steps, timeline, comments, attachments

Revision ID: edb03cf6375e
Revises: 2e46c61ed392
Created: 2026-11-27 03:45:44.562630
"""

import sqlalchemy as sa
from alembic import op

import rrc.models.types

revision = 'edb03cf6375e'
down_revision = '2e46c61ed392'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('request_counter',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_request_counter'))
    )
    op.create_table('resource_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'in_review', 'changes_requested', 'approved', 'in_progress', 'completed', 'rejected', 'cancelled', name='request_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('principal_investigator', sa.String(length=120), nullable=False),
    sa.Column('payer', sa.String(length=200), nullable=False),
    sa.Column('billing_contact', sa.String(length=120), nullable=False),
    sa.Column('billing_email', sa.String(length=254), nullable=False),
    sa.Column('po_number', sa.String(length=80), nullable=False),
    sa.Column('proprietary', sa.Boolean(), nullable=False),
    sa.Column('terms_version', sa.String(length=20), nullable=True),
    sa.Column('terms_accepted_at', rrc.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('requested_minutes', sa.Integer(), nullable=True),
    sa.Column('preferred_dates', sa.String(length=300), nullable=False),
    sa.Column('usage_mode', sa.Enum('self_use', 'escorted', name='usage_mode', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('agent_name', sa.String(length=200), nullable=False),
    sa.Column('risk_group', sa.Integer(), nullable=True),
    sa.Column('high_risk_pathogen', sa.Boolean(), nullable=False),
    sa.Column('gmo', sa.Boolean(), nullable=False),
    sa.Column('ibc_approval_number', sa.String(length=80), nullable=False),
    sa.Column('ibc_approval_date', sa.Date(), nullable=True),
    sa.Column('training_evidence', sa.Text(), nullable=False),
    sa.Column('irb_approval_number', sa.String(length=80), nullable=False),
    sa.Column('use_plan', sa.Text(), nullable=False),
    sa.Column('iacuc_protocol_number', sa.String(length=80), nullable=False),
    sa.Column('species', sa.String(length=120), nullable=False),
    sa.Column('animal_count', sa.Integer(), nullable=True),
    sa.Column('material_form', sa.String(length=120), nullable=False),
    sa.Column('shipping_address', sa.Text(), nullable=False),
    sa.Column('shipping_country', sa.String(length=2), nullable=False),
    sa.Column('receiving_person', sa.String(length=120), nullable=False),
    sa.Column('receiving_phone', sa.String(length=40), nullable=False),
    sa.Column('mta_accepted_at', rrc.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('samples_description', sa.Text(), nullable=False),
    sa.Column('plate_format', sa.String(length=40), nullable=False),
    sa.Column('desired_timeline', sa.String(length=200), nullable=False),
    sa.Column('deliverables', sa.Text(), nullable=False),
    sa.Column('estimate_snapshot', sa.JSON(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('late_cancellation', sa.Boolean(), nullable=False),
    sa.Column('created_at', rrc.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', rrc.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', rrc.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', rrc.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', rrc.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('quantity IS NULL OR quantity > 0', name=op.f('ck_resource_request_quantity_positive')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_resource_request_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requester_id'], ['user.id'], name=op.f('fk_resource_request_requester_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_resource_request_resource_id_resource'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_request')),
    sa.UniqueConstraint('reference', name=op.f('uq_resource_request_reference'))
    )
    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_request_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_request_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_request_resource_id'), ['resource_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_request_status'), ['status'], unique=False)
        batch_op.create_index('ix_resource_request_status_updated', ['status', 'updated_at'], unique=False)

    op.create_table('approval_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('coordinator', 'facility_manager', 'biosafety', name='approval_step_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('state', sa.Enum('waiting', 'pending', 'approved', 'rejected', 'changes_requested', 'skipped', name='step_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('pending_since', rrc.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', rrc.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['user.id'], name=op.f('fk_approval_step_assignee_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_approval_step_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['resource_request.id'], name=op.f('fk_approval_step_request_id_resource_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_step')),
    sa.UniqueConstraint('request_id', 'position', name='uq_approval_step_request_position')
    )
    with op.batch_alter_table('approval_step', schema=None) as batch_op:
        batch_op.create_index('ix_approval_step_state_kind', ['state', 'kind'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('document_type', sa.Enum('ibc_approval', 'irb_approval', 'iacuc_approval', 'research_plan', 'signed_mta', 'facility_list', 'training_certificate', 'bl3_permit', 'transfer_notice', 'inactivation_certificate', 'sop', 'contract', 'use_plan', 'compound_list', name='document_type', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_name', sa.String(length=100), nullable=False),
    sa.Column('created_at', rrc.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['resource_request.id'], name=op.f('fk_attachment_request_id_resource_request'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_attachment_uploaded_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_attachment_stored_name'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_request_id'), ['request_id'], unique=False)

    op.create_table('comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('created_at', rrc.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_comment_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['resource_request.id'], name=op.f('fk_comment_request_id_resource_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment'))
    )
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_request_id'), ['request_id'], unique=False)

    op.create_table('request_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('at', rrc.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('from_status', sa.String(length=32), nullable=True),
    sa.Column('to_status', sa.String(length=32), nullable=True),
    sa.Column('step_kind', sa.String(length=32), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_request_event_actor_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['resource_request.id'], name=op.f('fk_request_event_request_id_resource_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_event'))
    )
    with op.batch_alter_table('request_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_event_request_id'), ['request_id'], unique=False)



def downgrade():
    with op.batch_alter_table('request_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_event_request_id'))

    op.drop_table('request_event')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_request_id'))

    op.drop_table('comment')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_request_id'))

    op.drop_table('attachment')
    with op.batch_alter_table('approval_step', schema=None) as batch_op:
        batch_op.drop_index('ix_approval_step_state_kind')

    op.drop_table('approval_step')
    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.drop_index('ix_resource_request_status_updated')
        batch_op.drop_index(batch_op.f('ix_resource_request_status'))
        batch_op.drop_index(batch_op.f('ix_resource_request_resource_id'))
        batch_op.drop_index(batch_op.f('ix_resource_request_requester_id'))
        batch_op.drop_index(batch_op.f('ix_resource_request_organisation_id'))

    op.drop_table('resource_request')
    op.drop_table('request_counter')
