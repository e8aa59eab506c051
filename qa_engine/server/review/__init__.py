"""The review and appeal pages of `qa serve --db`, and their JSON API (`/review/api/...`)."""

from qa_engine.server.review.routes import router

__all__ = ["router"]
