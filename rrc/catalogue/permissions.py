"""Who may change what in the catalogue."""

from rrc.models import Capability, Facility, Resource, User


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
