"""The live preview's web application (Starlette): the page, its script, the state as
server-sent events, the page images, and the form's two actions (set parameters, cancel).

Nothing the page shows is read as markup: the script builds every element with DOM calls and
``textContent``, the pages are PNG images, and a Content-Security-Policy allows no inline script.
Requests must name this machine as their host (a web page elsewhere cannot reach the server by
DNS rebinding), and the actions take JSON only (a form on another site cannot post them).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from importlib import resources
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from polarreports.preview.session import MAX_VALUE_CHARS, PreviewSession

__all__ = ["LOCAL_HOSTS", "create_app"]

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
MAX_BODY = 64 * 1024
KEEPALIVE_SECONDS = 15.0
POLL_SECONDS = 0.1
"""How often an open page's event stream looks for a change of the state."""
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_STATIC = {"/": ("index.html", "text/html; charset=utf-8"), "/preview.js": ("preview.js", "text/javascript"),
           "/preview.css": ("preview.css", "text/css")}  # fmt: skip


def _static(name: str) -> bytes:
    return resources.files("polarreports.preview").joinpath("static", name).read_bytes()


def _refused(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=HEADERS)


async def _json_body(request: Request) -> Any:
    """The request's JSON, or a ``ValueError`` saying why not (not JSON, too large)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        msg = "send application/json"
        raise ValueError(msg)
    body = await request.body()
    if len(body) > MAX_BODY:
        msg = f"the request is larger than {MAX_BODY:,} bytes"
        raise ValueError(msg)
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        msg = "the request is not JSON"
        raise ValueError(msg) from None


def _checked_values(session: PreviewSession, values: Any) -> dict[str, Any]:
    """Parameter values from the page: an object of the report's parameters, each a short text,
    a number, a boolean or null (their meaning is checked by the render, as any value is)."""
    if not isinstance(values, dict):
        msg = "send an object of parameter values"
        raise ValueError(msg)
    declared = {p["name"] for p in session.state()["parameters"]}
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if name not in declared:
            msg = f"the report has no parameter {name!r}"
            raise ValueError(msg[:200])
        if value is not None and not isinstance(value, str | int | float | bool):
            msg = f"parameter {name!r}: send a text, a number, a boolean or null"
            raise ValueError(msg)
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            msg = f"parameter {name!r}: longer than {MAX_VALUE_CHARS:,} characters"
            raise ValueError(msg)
        checked[name] = value
    return checked


def create_app(
    session: PreviewSession,
    *,
    allowed_hosts: tuple[str, ...] = LOCAL_HOSTS,
    stopping: Callable[[], bool] = lambda: False,
) -> Starlette:
    """The web application showing ``session``; its event streams end when ``stopping()``."""

    async def static(request: Request) -> Response:
        name, media_type = _STATIC[request.url.path]
        return Response(_static(name), media_type=media_type, headers=HEADERS)

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204, headers=HEADERS)

    async def state(request: Request) -> JSONResponse:
        return JSONResponse(session.state(), headers=HEADERS)

    async def events(request: Request) -> StreamingResponse:
        async def stream() -> AsyncIterator[str]:
            """The state whenever it changes (polled: no thread per open page), until the page
            goes or the server stops."""
            seen = -1
            quiet = 0.0
            while not session.closed and not stopping():
                if session.version != seen:
                    current = session.state()
                    seen = current["version"]
                    quiet = 0.0
                    yield f"data: {json.dumps(current, ensure_ascii=False)}\n\n"
                    continue
                if await request.is_disconnected():
                    return
                await anyio.sleep(POLL_SECONDS)
                quiet += POLL_SECONDS
                if quiet >= KEEPALIVE_SECONDS:
                    quiet = 0.0
                    yield ": keep-alive\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream", headers=HEADERS)

    async def set_params(request: Request) -> JSONResponse:
        try:
            values = _checked_values(session, await _json_body(request))
        except ValueError as error:
            return _refused(400, str(error))
        session.set_params(values)
        return JSONResponse({"ok": True}, headers=HEADERS)

    async def cancel(request: Request) -> JSONResponse:
        try:
            await _json_body(request)
        except ValueError as error:
            return _refused(400, str(error))
        session.cancel()
        return JSONResponse({"ok": True}, headers=HEADERS)

    def page(request: Request) -> Response:  # sync: typesetting runs in Starlette's thread pool
        try:
            render, number = int(request.path_params["render"]), int(request.path_params["number"])
        except ValueError:
            return _refused(404, "no such page")
        image = session.page(render, number)
        if image is None:
            return _refused(404, "no such page (the report was rendered again, or has fewer pages)")
        return Response(bytes(image), media_type="image/png", headers=HEADERS)

    routes = [
        *(Route(path, static) for path in _STATIC),
        Route("/favicon.ico", no_icon),
        Route("/api/state", state),
        Route("/api/params", set_params, methods=["POST"]),
        Route("/api/cancel", cancel, methods=["POST"]),
        Route("/events", events),
        Route("/page/{render}/{number}.png", page),
    ]
    hosts = [host.strip("[]") for host in allowed_hosts] + list(allowed_hosts)
    return Starlette(routes=routes, middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])
