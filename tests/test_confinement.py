"""One confinement rule for every file a definition names (an image's path, a value of an image
column, the theme's logo): the same checks, the same errors, and nothing read that may not be."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import polarreports as pr
from polarreports.plan.images import svg_reference
from polarreports.resources import MAX_FILE_BYTES

SECRET = "TOPSECRET-7f3a"
SECRET_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="20">'
    f'<text x="0" y="15" font-size="12">{SECRET}</text></svg>'
)
GOOD_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'

_listening: list[list[str]] = []
"""While a test listens: the list of every path Python opened (the ``open`` audit event)."""


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _listening and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        _listening[-1].append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def opened() -> Iterator[list[str]]:
    _listening.append([])
    try:
        yield _listening[-1]
    finally:
        _listening.pop()


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``allowed/`` (the working directory, so the base of relative names), ``secret/`` beside it."""
    allowed, secret = tmp_path / "allowed", tmp_path / "secret"
    allowed.mkdir()
    secret.mkdir()
    (secret / "secret.svg").write_text(SECRET_SVG)
    (allowed / "good.svg").write_text(GOOD_SVG)
    (allowed / "link.svg").symlink_to(secret / "secret.svg")
    os.mkfifo(allowed / "pipe.svg")
    (allowed / "folder.svg").mkdir()
    with (allowed / "huge.png").open("wb") as file:  # sparse: 21 MB on paper, a few bytes on disk
        file.write(b"\x89PNG\r\n\x1a\n")
        file.truncate(MAX_FILE_BYTES + 2**20)
    (allowed / "notes.svg").write_text(f"just text, {SECRET}")
    (allowed / "external.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="9" height="9">'
        '<image width="9" height="9" xlink:href="../secret/secret.svg"/></svg>'
    )
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))  # every compile folder lands here
    monkeypatch.chdir(allowed)
    return tmp_path


# name given in the definition (from the layout), what the error says, whether the file may be opened
CASES: dict[str, tuple[Callable[[Path], str], str, bool]] = {
    "traversal": (lambda _: "../secret/secret.svg", r"is outside the folders", False),
    "absolute": (lambda root: str(root / "secret" / "secret.svg"), r"is outside the folders", False),
    "symlink out": (lambda _: "link.svg", r"is outside the folders", False),
    "NUL": (lambda _: "good.svg\x00.png", r"contains a NUL character", False),
    "/dev/zero": (lambda _: "/dev/zero", r"is a device, not a file", False),
    "FIFO": (lambda _: "pipe.svg", r"is a FIFO, not a file", False),
    "folder": (lambda _: "folder.svg", r"is a folder, not a file", False),
    "huge": (lambda _: "huge.png", r"more than the 20 MB", False),
    "not an image": (lambda _: "notes.svg", r"not a PNG, JPEG, GIF or SVG image", True),
    "SVG with an external href": (lambda _: "external.svg", r"refers to another file or a URL", True),
}

TITLE = pr.Band(elements=[pr.Label(text="Title")])


def _render(field: str, name: str) -> bytes:
    """Render a report whose ``field`` names the file ``name``; allowed folders: the working
    directory and /dev (so that /dev/zero is refused for being a device, not for its place)."""
    dirs = [str(Path.cwd()), "/dev"]
    data = pl.DataFrame({"photo": [name]})
    if field == "image path":
        report = pr.Report(name="r", image_dirs=dirs, bands=pr.Bands(title=pr.Band(elements=[pr.Image(path=name)])))
    elif field == "image column":
        report = pr.Report(
            name="r", image_dirs=dirs, bands=pr.Bands(detail=pr.Band(elements=[pr.Image(column="photo")]))
        )
    else:
        report = pr.Report(name="r", image_dirs=dirs, theme=pr.Theme(logo=name), bands=pr.Bands(title=TITLE))
    return report.render(data).pdf


FIELDS = {"image path": r"bands\.title\.elements\[0\] \(image", "image column": r"bands\.detail\.elements\[0\] \(image"}
FIELDS["logo"] = r"theme\.logo"


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("field", list(FIELDS))
def test_every_named_file_is_confined(layout: Path, opened: list[str], field: str, case: str) -> None:
    make_name, message, may_open = CASES[case]
    name = make_name(layout)
    if case == "NUL" and field != "image column":  # no file name holds a NUL: the definition refuses it
        with pytest.raises(pr.DefinitionError, match="NUL character"):
            _render(field, name)
        return
    with pytest.raises(pr.DataError if field == "image column" else pr.PlanError) as error:
        _render(field, name)
    text = str(error.value)
    assert "\n" not in text.split("Hint:", maxsplit=1)[0].strip(), text  # one line, then the hint
    assert re.match(FIELDS[field] if field != "logo" else r"theme\.logo: ", text), text
    assert re.search(message, text), text
    assert SECRET not in text
    touched = {Path(path).name for path in opened}
    if not may_open:  # refused before it was opened
        assert Path(name.replace("\x00", "")).name not in touched, opened
        assert "secret.svg" not in touched, opened
    for path in (layout / "tmp").rglob("*"):  # no compile folder holds the secret
        assert not path.is_file() or SECRET.encode() not in path.read_bytes(), path


@pytest.mark.typst
@pytest.mark.parametrize("field", list(FIELDS))
def test_an_allowed_image_still_shows(layout: Path, field: str) -> None:
    """The control of the table above: the same report with a good file renders."""
    assert _render(field, "good.svg").startswith(b"%PDF")


@pytest.mark.typst
def test_the_logo_reaches_typst_only_as_our_asset(layout: Path) -> None:
    report = pr.Report(name="r", theme=pr.Theme(logo="good.svg"), bands=pr.Bands(title=TITLE))
    document = report.render(pl.DataFrame({"a": [1]}))
    source = document.to_typst()
    assert "good.svg" not in source
    ((name, data),) = document._source.assets.items()
    assert name.startswith("assets/")
    assert name.endswith(".svg")
    assert data == GOOD_SVG.encode()


@pytest.mark.parametrize(
    ("svg", "found"),
    [
        (b'<svg><image href="x.png"/></svg>', "x.png"),
        (b"<svg><image xlink:href='file:///etc/passwd'/></svg>", "file:///etc/passwd"),
        (b'<svg><image href = "http://127.0.0.1:9/x"/></svg>', "http://127.0.0.1:9/x"),
        (b"<svg><style>@import 'a.css';</style></svg>", "@import 'a.css'"),
        (b'<svg><rect style="fill: url(http://e/x#g)"/></svg>', "http://e/x#g"),
        (b'<!DOCTYPE svg [<!ENTITY x SYSTEM "/etc/passwd">]><svg>&x;</svg>', '<!ENTITY x SYSTEM "/etc/passwd"'),
        (b'<svg><use href="#a"/><rect fill="url(#g)"/><image href="data:image/png;base64,AA"/></svg>', None),
    ],
)
def test_svg_references_outside_the_image(svg: bytes, found: str | None) -> None:
    assert svg_reference(svg) == found
