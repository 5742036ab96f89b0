"""The report and the dbt docs over http, beside the Dagster UI: a browser refuses file:// links
from an http page, so the assets link here instead (settings.files_url()). Read-only, loopback by
default, each URL prefix mapped to one folder; nothing outside those folders is served.
"""
from __future__ import annotations

import functools
import html
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Handler(SimpleHTTPRequestHandler):
    roots: dict[str, Path] = {}

    def translate_path(self, path: str) -> str:
        parts = [p for p in unquote(urlsplit(path).path).split("/") if p]
        if not parts or parts[0] not in self.roots or any(p in ("..", ".") for p in parts):
            return ""  # not a file: do_GET answers 404 (or the index for "/")
        return str(self.roots[parts[0]].joinpath(*parts[1:]))

    def do_GET(self) -> None:
        if urlsplit(self.path).path in ("", "/"):
            return self._index()
        if not self.translate_path(self.path):
            return self.send_error(404, "not one of the served folders")
        return super().do_GET()

    def do_HEAD(self) -> None:
        if not self.translate_path(self.path):
            return self.send_error(404, "not one of the served folders")
        return super().do_HEAD()

    def _index(self) -> None:
        items = "".join(f'<li><a href="/{name}/">{name}</a> ({html.escape(str(root))})</li>'
                        for name, root in self.roots.items())
        body = f"<!doctype html><title>aquamind files</title><ul>{items}</ul>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # the UI's console is not an access log
        pass


class FileServer:
    """`with FileServer(host, port, {"report": dir, ...}) as fs: fs.url`; serves in a thread."""

    def __init__(self, host: str, port: int, roots: dict[str, Path]):
        handler = type("Handler", (_Handler,), {"roots": {k: Path(v) for k, v in roots.items()}})
        self._server = ThreadingHTTPServer((host, port), functools.partial(handler, directory="/nonexistent"))
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="file-server", daemon=True)

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
