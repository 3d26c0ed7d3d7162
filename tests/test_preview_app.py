"""The live preview's server without a browser: what it accepts and refuses, its headers, its
event stream, and that it stops promptly."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import polarreports as pr
from tests.conftest import ROOT, examples

pytest.importorskip("starlette", reason="the preview extra is not installed: pip install -e '.[dev]'")

from polarreports.preview.app import _checked_values
from polarreports.preview.server import running
from polarreports.preview.session import PreviewSession

pytestmark = pytest.mark.typst
DEFINITION = ROOT / "examples" / "sales_by_region.yaml"


@dataclass
class Answer:
    status_code: int
    headers: Any
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode()

    def json(self) -> Any:
        return json.loads(self.content)


class Client:
    """Requests to the running server, as a browser (or another program) sends them."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Answer:
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers, error.read())

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self._send("GET", path, None, headers or {})

    def post(
        self, path: str, *, content: str | None = None, json: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        if json is not None:
            content, headers = globals()["json"].dumps(json), {"content-type": "application/json"}
        return self._send("POST", path, (content or "").encode(), headers or {})


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pr.sample.write_sales_data(tmp_path_factory.mktemp("preview") / "sales.parquet", 200)


@pytest.fixture(scope="module")
def client(data: Path) -> Iterator[Client]:
    with running(DEFINITION, data) as (url, session):
        session.wait()
        yield Client(url)


def test_the_page_allows_no_inline_script(client: Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert '<script src="/preview.js"' in page.text
    assert "innerHTML" not in client.get("/preview.js").text  # every text is set as text


def test_another_host_name_is_refused(client: Client) -> None:
    """A page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) gets nothing."""
    assert client.get("/api/state", headers={"host": "evil.example:8765"}).status_code == 400
    assert client.get("/api/state", headers={"host": "localhost:8765"}).status_code == 200


def test_actions_take_json_only(client: Client) -> None:
    form = client.post(
        "/api/params", content="year=2025", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert form.status_code == 400
    assert client.post("/api/cancel", content="x", headers={"content-type": "text/plain"}).status_code == 400
    assert client.post("/api/params", content="{", headers={"content-type": "application/json"}).status_code == 400


@pytest.mark.parametrize(
    ("values", "refusal"),
    [
        ({"yeer": "2025"}, "no parameter 'yeer'"),
        ({"year": ["2025"]}, "send a text, a number, a boolean or null"),
        ({"year": "9" * 5_000}, "longer than 1,000 characters"),
        (["year"], "send an object"),
    ],
)
def test_parameter_values_are_checked(client: Client, values: object, refusal: str) -> None:
    answer = client.post("/api/params", json=values)
    assert answer.status_code == 400
    assert refusal in answer.json()["error"]


def test_pages_of_an_old_render_are_gone(client: Client) -> None:
    state = client.get("/api/state").json()
    assert state["status"] == "done"
    assert client.get(f"/page/{state['render']}/1.png").content.startswith(b"\x89PNG")
    assert client.get(f"/page/{state['render'] + 99}/1.png").status_code == 404
    assert client.get(f"/page/{state['render']}/{state['pages'] + 1}.png").status_code == 404
    assert client.get(f"/page/{state['render']}/x.png").status_code == 404


@pytest.mark.serial
def test_events_stream_the_state_and_the_server_stops_promptly(data: Path) -> None:
    before = {t for t in threading.enumerate() if t.name.startswith("polarreports-")}
    with running(DEFINITION, data) as (url, session):
        assert url.startswith("http://127.0.0.1:")
        session.wait()
        with urllib.request.urlopen(url + "events", timeout=10) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            line = stream.readline().decode()
            assert line.startswith("data: ")
            state = json.loads(line.removeprefix("data: "))
            assert state["status"] == "done"
            assert state["summary"][1] == "200 orders"
            start = time.monotonic()
    assert time.monotonic() - start < 10  # an open event stream does not hold the server
    left = {t for t in threading.enumerate() if t.name.startswith("polarreports-")} - before
    assert not {t.name for t in left if t.name in {"polarreports-serve", "polarreports-watch", "polarreports-preview"}}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=1_200),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=examples(300), deadline=None)
@given(values=JSON_VALUES | st.dictionaries(st.sampled_from(["year", "min_quantity", "x"]), JSON_VALUES))
def test_any_json_sent_as_values_is_accepted_or_refused_in_one_line(values: object) -> None:
    """Whatever JSON a page sends, the values are taken (the report's names, short scalars) or
    refused with one line; never another exception."""
    session = PreviewSession(DEFINITION, DEFINITION)
    session._parameters = [{"name": "year"}, {"name": "min_quantity"}]
    try:
        checked, refusal = _checked_values(session, values), ""
    except ValueError as error:
        checked, refusal = {}, str(error)
    if refusal:
        assert "\n" not in refusal
        assert len(refusal) <= 200
        return
    assert isinstance(values, dict)
    assert set(checked) <= {"year", "min_quantity"}
    assert all(v is None or isinstance(v, str | int | float | bool) for v in checked.values())
    assert all(len(v) <= 1_000 for v in checked.values() if isinstance(v, str))
