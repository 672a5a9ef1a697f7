"""Who may do what: the role checks every area uses on its views."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from qzt.models import Role


def roles_required(*roles: Role):
    """Logged in (else the login page) with one of `roles` (else 403)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


STAFF = (Role.ADMIN, Role.AUTHORITY, Role.OPERATOR)

staff_required = roles_required(*STAFF)
admin_required = roles_required(Role.ADMIN)
# Only institution accounts have an application; staff and enterprises get 403.
applicant_required = roles_required(Role.INSTITUTION)
