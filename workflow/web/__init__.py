"""The web app and the JSON API: `create_app(app)` builds the FastAPI application."""

from workflow.web.factory import create_app

__all__ = ["create_app"]
