"""View guards for roles and capabilities."""

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from rrc.models import Capability


def capability_required(*capabilities: Capability) -> Callable:
    """Logged in and holding at least one of ``capabilities`` (else 403)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not any(current_user.has_capability(capability) for capability in capabilities):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def staff_required(view: Callable) -> Callable:
    """Logged in as active IPK staff (else 403)."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not (current_user.is_staff and current_user.is_approved):
            abort(403)
        return view(*args, **kwargs)

    return wrapped
