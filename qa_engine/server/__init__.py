"""The `qa serve` server: live QA over WebSocket, batch scoring over HTTP.

`create_app(ServerConfig(...))` builds the FastAPI app; `serve(config)` runs it. One
Whisper model per process is shared by every call (see `qa_engine.live.worker`).
"""

from qa_engine.server.app import create_app, serve, uvicorn_config
from qa_engine.server.config import ServerConfig

__all__ = ["ServerConfig", "create_app", "serve", "uvicorn_config"]
