"""The web apps on loopback for `make run`: web/ served as static files, one server per app on its own port.

Each app gets its own origin (http://127.0.0.1:<port>), another one than the API's, as in production where
CloudFront serves the pages and API Gateway the API: the browser then checks CORS exactly as it will there.
Both servers serve the whole web/ directory (the apps share web/shared/ and web/vendor/) and answer
GET /config.json with the API's URL, which production writes next to the pages when publishing them.
"/" redirects to the app's own page.
"""

from __future__ import annotations

import json
import threading
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
APPS = ("storefront", "back-office")


class _Handler(SimpleHTTPRequestHandler):
    """Static files under WEB_ROOT (SimpleHTTPRequestHandler keeps paths inside it), plus /config.json."""

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".json": "application/json",
        ".svg": "image/svg+xml",
    }

    def __init__(self, *args: Any, app: str, config: bytes, **kwargs: Any) -> None:
        self.app = app
        self.config = config
        super().__init__(*args, directory=str(WEB_ROOT), **kwargs)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/config.json":
            self._send(HTTPStatus.OK, "application/json", self.config)
        elif path == "/":
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", f"/{self.app}/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            super().do_GET()

    def end_headers(self) -> None:
        # Pages change while a developer works on them: never serve a stale module.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per file would drown the API's logs


class WebServer:
    """One app's static server on 127.0.0.1:`port` (0: any free port), in a daemon thread."""

    def __init__(self, app: str, port: int, config: dict[str, Any]) -> None:
        handler = partial(_Handler, app=app, config=json.dumps(config).encode())
        self.app = app
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=f"web-{app}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.app}/"

    def start(self) -> WebServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def web_config(api_url: str, stripe_publishable_key: str = "") -> dict[str, Any]:
    """What /config.json says: the API's URL, and the Stripe publishable key when one is configured."""
    config: dict[str, Any] = {"api_url": api_url}
    if stripe_publishable_key:
        config["stripe_publishable_key"] = stripe_publishable_key
    return config
