"""The web dashboard and JSON API over a built store (read-only).

``serve(db_path)`` starts it on loopback; ``create_app(db_path)`` returns the FastAPI app.
"""

from __future__ import annotations

from talentflow.web.app import create_app, serve

__all__ = ["create_app", "serve"]
