"""Serve the live preview (uvicorn), re-rendering when the definition or the data file changes
(watchfiles).

:func:`serve` runs until Ctrl-C (the command line's ``polarreports preview``); :func:`running`
serves on a free port in a thread for as long as a ``with`` block lasts (tests, notebooks).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from polarreports.control import logger
from polarreports.preview.app import LOCAL_HOSTS, create_app
from polarreports.preview.session import PreviewSession

__all__ = ["Watcher", "running", "serve"]

DEBOUNCE_MS = 150
"""Changes this close together (an editor's write and rename) make one render."""


class Watcher:
    """Renders ``session`` again whenever its definition or data file changes (written,
    replaced, created again), watching their folders so that an editor's save-by-rename counts."""

    def __init__(self, session: PreviewSession) -> None:
        self.session = session
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="polarreports-watch")
        self._ready = threading.Event()

    def start(self) -> Watcher:
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _watch(self) -> None:
        from watchfiles import watch

        files = {self.session.definition.resolve(), self.session.data.resolve()}
        folders = sorted({str(path.parent) for path in files})

        def ours(change: Any, path: str) -> bool:
            return Path(path).resolve() in files

        self._ready.set()
        for changes in watch(
            *folders,
            watch_filter=ours,
            stop_event=self._stop,
            debounce=DEBOUNCE_MS,
            rust_timeout=500,
            yield_on_timeout=False,
        ):
            logger.info("preview: %s changed; rendering again", ", ".join(sorted({Path(p).name for _, p in changes})))
            self.session.render_now()


def _server(session: PreviewSession, host: str) -> Any:
    import uvicorn

    # every address (asked for, with a warning): any name that reaches it; otherwise this one's
    allowed = ("*",) if host in {"0.0.0.0", "::"} else LOCAL_HOSTS if host in LOCAL_HOSTS else (*LOCAL_HOSTS, host)
    servers: list[uvicorn.Server] = []
    config = uvicorn.Config(
        create_app(session, allowed_hosts=allowed, stopping=lambda: bool(servers) and servers[0].should_exit),
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    servers.append(uvicorn.Server(config))
    return servers[0]


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    sock.listen(64)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


@contextlib.contextmanager
def running(
    definition: Path,
    data: Path,
    *,
    params: dict[str, Any] | None = None,
    sources: Mapping[str, Any] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[tuple[str, PreviewSession]]:
    """Serve the preview in a thread (on a free port unless ``port`` is given) for the block;
    gives its address and session, and stops everything (server, watcher, render) after it.

    >>> import tempfile, urllib.request, polarreports as pr
    >>> data = pr.sample.write_sales_data(Path(tempfile.mkdtemp()) / "sales.parquet", 100)
    >>> with running(Path("examples/sales_by_region.yaml"), data) as (url, session):
    ...     b"<title>" in urllib.request.urlopen(url, timeout=10).read()
    True
    """
    session = PreviewSession(definition, data, params, sources)
    sock = _bind(host, port)
    server = _server(session, host)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="polarreports-serve")
    watcher = Watcher(session)
    try:
        watcher.start()
        session.render_now()
        thread.start()
        for _ in range(500):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.01)
        yield url_of(sock), session
    finally:
        session.close()  # ends the event streams, so the server stops at once
        server.should_exit = True
        thread.join(10)
        watcher.stop()
        sock.close()


def serve(
    definition: Path,
    data: Path,
    *,
    params: dict[str, Any] | None = None,
    sources: Mapping[str, Any] | None = None,
    host: str = "127.0.0.1",
    port: int = 8765,
) -> None:
    """Serve the preview until Ctrl-C, saying where."""
    session = PreviewSession(definition, data, params, sources)
    sock = _bind(host, port)
    server = _server(session, host)
    watcher = Watcher(session).start()
    session.render_now()
    print(f"polarreports preview of {definition} over {data}: {url_of(sock)} (Ctrl-C stops)", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        session.close()
        watcher.stop()
        sock.close()
