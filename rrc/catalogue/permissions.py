"""Who may change what in the catalogue."""

import sqlalchemy as sa
from sqlalchemy import ColumnElement

from rrc.models import Capability, Facility, Resource, User, facility_manager


def can_manage_catalogue(user: User) -> bool:
    """Coordinators and admins edit every facility and resource."""
    return user.is_authenticated and user.has_capability(Capability.COORDINATOR)


def can_edit_facility(user: User, facility: Facility) -> bool:
    """Coordinators and admins, or a facility manager of this facility."""
    if not user.is_authenticated:
        return False
    if can_manage_catalogue(user):
        return True
    return user.has_capability(Capability.FACILITY_MANAGER) and facility.is_managed_by(user)


def can_edit_resource(user: User, resource: Resource) -> bool:
    """Whoever may edit the resource's facility."""
    return can_edit_facility(user, resource.facility)


def can_use_catalogue_admin(user: User) -> bool:
    """Staff who may open the catalogue management pages at all."""
    return user.is_authenticated and (
        user.has_capability(Capability.COORDINATOR)
        or user.has_capability(Capability.FACILITY_MANAGER)
    )


def can_manage_facilities(user: User) -> bool:
    """Create, edit and retire facilities and assign their managers: coordinators and admins."""
    return can_manage_catalogue(user)


def can_import_catalogue(user: User) -> bool:
    """Bulk CSV import of resources: coordinators and admins."""
    return can_manage_catalogue(user)


def editable_facility_condition(user: User) -> ColumnElement[bool]:
    """A WHERE condition on ``Facility`` keeping the facilities whose catalogue ``user`` edits."""
    if not user.is_authenticated:
        return sa.false()
    if can_manage_catalogue(user):
        return sa.true()
    if not user.has_capability(Capability.FACILITY_MANAGER):
        return sa.false()
    return Facility.id.in_(
        sa.select(facility_manager.c.facility_id).where(facility_manager.c.user_id == user.id)
    )
