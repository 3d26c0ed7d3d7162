"""One confinement rule for every file a definition names (``resources.confined_path``): an
image's path, a value of an image column, the theme's logo, a subreport's definition and source,
the source's data or database file, and the fonts and catalogs found in the folders it names:
the same hostile paths against each kind, the same errors, and nothing read that may not be."""

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
from polarreports.resources import (
    CATALOG,
    DATA_FILE,
    DATABASE,
    FONT,
    IMAGE,
    KINDS,
    MAX_FILE_BYTES,
    SUBREPORT,
    SUBREPORT_DATA,
    FileKind,
)

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
    (allowed / "zero.svg").symlink_to("/dev/zero")
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
    "symlink to /dev/zero": (lambda _: "zero.svg", r"is a device, not a file", False),
    "FIFO": (lambda _: "pipe.svg", r"is a FIFO, not a file", False),
    "folder": (lambda _: "folder.svg", r"is a folder, not a file", False),
    "huge": (lambda _: "huge.png", r"more than the 20 MB", False),
    "not an image": (lambda _: "notes.svg", r"not a PNG, JPEG, GIF or SVG image", True),
    "SVG with an external href": (lambda _: "external.svg", r"refers to another file or a URL", True),
}
IMAGE_ONLY = {"not an image", "SVG with an external href"}
FILE_NAMES = {"image path", "logo", "subreport definition", "data file"}
"""Fields the definition checks as file names (the others: values, source names, URIs)."""

TITLE = pr.Band(elements=[pr.Label(text="Title")])
LINES = pr.Report(name="lines", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="k")])))


def _report(field: str, name: str, dirs: list[str]) -> pr.Report:
    """A report whose ``field`` names the file ``name``, with ``dirs`` as its allowed folders."""
    detail = pr.Band(elements=[pr.Image(column="photo")])
    if field == "image path":
        return pr.Report(name="r", image_dirs=dirs, bands=pr.Bands(title=pr.Band(elements=[pr.Image(path=name)])))
    if field == "image column":
        return pr.Report(name="r", image_dirs=dirs, bands=pr.Bands(detail=detail))
    if field == "logo":
        return pr.Report(name="r", image_dirs=dirs, theme=pr.Theme(logo=name), bands=pr.Bands(title=TITLE))
    if field in ("subreport definition", "subreport source"):
        report, source = (name, "lines") if field == "subreport definition" else (LINES, name)
        element = pr.Subreport(report=report, source=source, keys=["k"])
        return pr.Report(name="r", image_dirs=dirs, bands=pr.Bands(detail=pr.Band(elements=[element])))
    source = pr.Source(path=name) if field == "data file" else pr.Source(uri=f"sqlite:///{name}", query="SELECT 1")
    return pr.Report(name="r", data_dirs=dirs, source=source, bands=pr.Bands(title=TITLE))


def _render(field: str, name: str) -> bytes:
    """Render a report whose ``field`` names the file ``name``; allowed folders: the working
    directory and /dev (so that /dev/zero is refused for being a device, not for its place)."""
    report = _report(field, name, [str(Path.cwd()), "/dev"])
    data = pl.DataFrame({"photo": [name], "k": [1]})
    frames = {"lines": pl.DataFrame({"k": [1]})}
    if field in ("data file", "database file"):
        return report.render().pdf
    return report.render(data, sources=frames).pdf


# where each kind's errors start, and the kind of file it is (resources.KINDS)
FIELDS = {
    "image path": (r"bands\.title\.elements\[0\] \(image", IMAGE),
    "image column": (r"bands\.detail\.elements\[0\] \(image", IMAGE),
    "logo": (r"theme\.logo: ", IMAGE),
    "subreport definition": (r"bands\.detail\.elements\[0\] \(subreport", SUBREPORT),
    "subreport source": (r"bands\.detail\.elements\[0\] \(subreport", SUBREPORT_DATA),
    "data file": (r"source\.path: ", DATA_FILE),
    "database file": (r"source\.uri: ", DATABASE),
}


def _applies(field: str, case: str) -> bool:
    kind = FIELDS[field][1]
    if case in IMAGE_ONLY:  # a check of images' content
        return kind is IMAGE
    if case == "huge":  # data is read by Polars in pieces: no size limit
        return kind.limit is not None
    # a name without a suffix names a frame given at render (the symlink case covers it)
    return not (case == "/dev/zero" and field == "subreport source")


@pytest.mark.parametrize(
    ("field", "case"), [(field, case) for field in FIELDS for case in CASES if _applies(field, case)]
)
def test_every_named_file_is_confined(layout: Path, opened: list[str], field: str, case: str) -> None:
    make_name, message, may_open = CASES[case]
    start = FIELDS[field][0]
    name = make_name(layout)
    if case == "NUL" and field in FILE_NAMES:  # no file name holds a NUL: the definition refuses it
        with pytest.raises(pr.DefinitionError, match="NUL character"):
            _render(field, name)
        return
    expected = pr.PlanError if field in ("image path", "logo") else pr.DataError
    with pytest.raises(expected) as error:  # AccessError included, a DataError
        _render(field, name)
    text = str(error.value)
    assert "\n" not in text.split("Hint:", maxsplit=1)[0].strip(), text  # one line, then the hint
    assert re.match(start, text), text
    assert re.search(message, text), text
    if not may_open:
        assert isinstance(error.value, pr.AccessError) or field in ("image path", "logo"), repr(error.value)
    assert SECRET not in text
    touched = {Path(path).name for path in opened}
    if not may_open:  # refused before it was opened
        assert Path(name.replace("\x00", "")).name not in touched, opened
        assert "secret.svg" not in touched, opened
    for path in (layout / "tmp").rglob("*"):  # no compile folder holds the secret
        assert not path.is_file() or SECRET.encode() not in path.read_bytes(), path


def _huge(path: Path, size: int) -> None:
    with path.open("wb") as file:  # sparse: large on paper, a few bytes on disk
        file.truncate(size + 2**20)


# what is put where a kind found in a folder is looked for, and what the error says
PLANTED: dict[str, tuple[Callable[[Path, Path, FileKind], Any], str]] = {
    "symlink out": (lambda path, root, _: path.symlink_to(root / "secret" / "secret.svg"), r"is outside the folders"),
    "symlink to /dev/zero": (lambda path, _, __: path.symlink_to("/dev/zero"), r"is outside the folders"),
    "FIFO": (lambda path, _, __: os.mkfifo(path), r"is a FIFO, not a file"),
    "folder": (lambda path, _, __: path.mkdir(), r"is a folder, not a file"),
    "huge": (lambda path, _, kind: _huge(path, kind.limit), r"more than the \d+ MB"),
}


def _render_listed(kind: str, folder: Path) -> None:
    """Render a report that reads its fonts, or its catalogs, from ``folder``."""
    if kind == "font":
        report = pr.Report(name="r", font_dirs=[str(folder)], bands=pr.Bands(title=TITLE))
    else:
        translations = pr.Translations(dirs=[str(folder)])
        report = pr.Report(name="r", locale="de_DE", translations=translations, bands=pr.Bands(title=TITLE))
    report.render(pl.DataFrame({"a": [1]}))


# the file looked for in the folder, where the errors start, the kind of file
LISTED = {
    "font": ("face.ttf", r"font_dirs\[0\]", FONT, pr.PlanError),
    "catalog": ("de_DE/LC_MESSAGES/messages.mo", r"translations\.dirs\[0\]: ", CATALOG, pr.AccessError),
}


@pytest.mark.parametrize("case", list(PLANTED))
@pytest.mark.parametrize("listed", list(LISTED))
def test_every_file_found_in_a_named_folder_is_confined(
    layout: Path, opened: list[str], listed: str, case: str
) -> None:
    """Fonts and catalogs are not named one by one but found in a folder the definition names:
    the same rule refuses a hostile file there (traversal, absolute names and NUL cannot be
    written: the names are the folder's own)."""
    plant, message = PLANTED[case]
    relative, start, kind, expected = LISTED[listed]
    folder = layout / "allowed" / listed
    path = folder / relative
    path.parent.mkdir(parents=True)
    plant(path, layout, kind)
    opened.clear()  # planting opened it; from here on, nothing may
    with pytest.raises(expected) as error:
        _render_listed(listed, folder)
    text = str(error.value)
    assert re.match(start, text), text
    assert re.search(message, text), text
    assert SECRET not in text
    assert not {Path(p).name for p in opened} & {path.name, "secret.svg"}, opened


def test_every_kind_of_file_is_in_a_table_above() -> None:
    """A new kind of file a definition names gets the hostile cases too."""
    covered = {kind for _, kind in FIELDS.values()} | {kind for _, _, kind, _ in LISTED.values()}
    assert covered == set(KINDS)


@pytest.mark.typst
@pytest.mark.parametrize("field", [field for field, (_, kind) in FIELDS.items() if kind is IMAGE])
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
