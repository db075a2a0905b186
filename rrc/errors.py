"""Error pages in the portal's style; the 500 handler rolls back the session."""

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from rrc.extensions import db

ERROR_TEXT = {
    400: (
        _l("Bad request"),
        _l("The form could not be read. Go back, reload the page and try again."),
    ),
    403: (_l("Not allowed"), _l("Your account does not have access to this page.")),
    404: (_l("Not found"), _l("There is nothing here, or nothing you may see.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (_l("Too large"), _l("The file or form you sent is larger than the portal accepts.")),
    429: (
        _l("Too many attempts"),
        _l("Too many attempts in a short time. Wait a few minutes and try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("The portal hit an error. Nothing you sent was half-saved; please try again."),
    ),
}


def render_error(code: int):
    """The error page for ``code``."""
    title, text = ERROR_TEXT.get(code, ERROR_TEXT[500])
    return render_template("errors/error.html", code=code, title=title, text=text), code


def register_error_handlers(app: Flask) -> None:
    """Install handlers for HTTP errors and unexpected exceptions."""

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if error.code in ERROR_TEXT:
            return render_error(error.code)
        return error

    @app.errorhandler(500)
    def handle_server_error(_error):
        db.session.rollback()
        return render_error(500)
