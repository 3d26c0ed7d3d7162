"""Images: from bytes, per row from a column of paths or bytes, only from the allowed folders."""

from __future__ import annotations

import io
import re
from pathlib import Path

import polars as pl
import pytest
from PIL import Image as PILImage
from pypdf import PdfReader

import polarreports as pr
from polarreports.emit.images import PLACEHOLDER_TEXT
from tests.conftest import pdf_lines

COLORS = ("red", "green", "blue")


def png(color: str, size: tuple[int, int] = (8, 6)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def jpeg(color: str) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (8, 6), color).save(out, format="JPEG")
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#c00"/></svg>'


def images_per_page(pdf: bytes) -> list[int]:
    """How many images each page draws: its content's ``Do`` operators that paint an image XObject."""
    counts = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        xobjects = page["/Resources"].get("/XObject", {})
        images = {name[1:].encode() for name, ref in xobjects.items() if ref.get_object().get("/Subtype") == "/Image"}
        content = page.get_contents()
        drawn = re.findall(rb"/([^\s/]+)\s+Do\b", content.get_data() if content is not None else b"")
        counts.append(sum(1 for name in drawn if name in images))
    return counts


def image_objects(pdf: bytes) -> int:
    """Distinct image XObjects in the file."""
    reader = PdfReader(io.BytesIO(pdf))
    found = set()
    for page in reader.pages:
        xobjects = page["/Resources"].get("/XObject", {})
        for ref in xobjects.values():
            if ref.get_object().get("/Subtype") == "/Image":
                found.add(ref.idnum)
    return len(found)


def photo_report(**image: object) -> pr.Report:
    return pr.Report(
        name="photos",
        image_dirs=image.pop("image_dirs", []),  # type: ignore[arg-type]
        bands=pr.Bands(
            detail=pr.Band(
                elements=[pr.Field(column="name", width="30mm"), pr.Image(width="20mm", height="6mm", **image)]  # type: ignore[arg-type]
            )
        ),
    )


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for color in COLORS:
        (folder / f"{color}.png").write_bytes(png(color))
    (folder / "green.jpg").write_bytes(jpeg("green"))
    return folder


@pytest.mark.typst
def test_images_from_a_column_of_paths(photos: Path) -> None:
    files = ["red.png", "green.jpg", "blue.png", None, "red.png", "blue.png"] * 5
    data = pl.DataFrame({"name": [f"row {i}" for i in range(len(files))], "photo": files})
    document = photo_report(column="photo", image_dirs=[str(photos)]).render(data)
    assert sum(images_per_page(document.pdf)) == sum(1 for f in files if f is not None)  # one per row with a photo
    assert image_objects(document.pdf) == 3  # each distinct image embedded once
    assert len(document._source.assets) == 3  # and copied into the compile root once
    assert b"red.png" not in document.data_json  # cells carry our asset names, never the paths
    assert b'"assets/' in document.data_json


@pytest.mark.typst
def test_images_from_a_column_of_bytes_png_jpeg_svg() -> None:
    images = [png("red"), jpeg("blue"), SVG, png("red")]
    data = pl.DataFrame({"name": ["a", "b", "c", "d"], "photo": images}, schema={"name": pl.String, "photo": pl.Binary})
    document = photo_report(column="photo").render(data)
    pdf = document.pdf
    assert sum(images_per_page(pdf)) == 3  # the SVG is drawn as vector graphics, not as an image XObject
    assert image_objects(pdf) == 2  # the red PNG twice, embedded once
    assert len(document._source.assets) == 3
    assert sorted(Path(name).suffix for name in document._source.assets) == [".jpg", ".png", ".svg"]


@pytest.mark.typst
def test_an_image_from_bytes_in_the_title(sales: pl.DataFrame) -> None:
    report = pr.Report(
        name="logo",
        bands=pr.Bands(
            title=pr.Band(elements=[pr.Image(data=png("blue", (40, 20)), width="20mm"), pr.Label(text="x")])
        ),
    )
    assert images_per_page(report.render(sales.head(5)).pdf) == [1]


def test_image_bytes_cannot_be_saved_to_yaml() -> None:
    report = pr.Report(name="logo", bands=pr.Bands(title=pr.Band(elements=[pr.Image(data=png("blue"))])))
    with pytest.raises(pr.DefinitionError, match=r"an image given as bytes \(\d+ bytes\) cannot be saved"):
        report.to_yaml()


def test_an_image_needs_exactly_one_source() -> None:
    with pytest.raises(pr.DefinitionError, match="exactly one of path, column or data"):
        pr.Image(path="a.png", column="photo")


def test_paths_outside_the_allowed_folders_are_errors(photos: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(png("red"))
    (photos / "link.png").symlink_to(secret)
    for path in ("../secret.png", str(secret), "link.png"):
        data = pl.DataFrame({"name": ["a"], "photo": [path]})
        with pytest.raises(
            pr.DataError, match=r"bands\.detail\.elements\[1\] \(image 'photo'\): the image .* is outside"
        ):
            photo_report(column="photo", image_dirs=[str(photos)], on_missing="placeholder").render(data)
    static = pr.Report(
        name="r", image_dirs=[str(photos)], bands=pr.Bands(title=pr.Band(elements=[pr.Image(path=str(secret))]))
    )
    with pytest.raises(
        pr.PlanError, match=r"bands\.title\.elements\[0\] \(image '.*'\): the image '.*secret\.png' .* is outside"
    ):
        static.render(pl.DataFrame({"name": ["a"]}))


@pytest.mark.typst
def test_the_default_folder_is_the_definition_folder(photos: Path, tmp_path: Path) -> None:
    definition = photos / "report.yaml"
    definition.write_text(photo_report(column="photo").to_yaml())
    data = pl.DataFrame({"name": ["a", "b"], "photo": ["red.png", "../secret.png"]})
    (tmp_path / "secret.png").write_bytes(png("red"))
    with pytest.raises(pr.DataError, match="outside the folders images may be read from"):
        pr.load(definition).render(data)
    assert images_per_page(pr.load(definition).render(data.head(1)).pdf) == [1]


@pytest.mark.typst
def test_missing_images_raise_or_show_a_placeholder(photos: Path) -> None:
    data = pl.DataFrame({"name": ["a", "b", "c"], "photo": ["red.png", "nowhere.png", "not-an-image.png"]})
    (photos / "not-an-image.png").write_text("hello")
    with pytest.raises(pr.DataError, match=r"the image 'nowhere\.png' is missing.*\nHint: .*on_missing: placeholder"):
        photo_report(column="photo", image_dirs=[str(photos)]).render(data)
    pdf = photo_report(column="photo", image_dirs=[str(photos)], on_missing="placeholder").render(data).pdf
    assert images_per_page(pdf) == [1]
    assert pdf_lines(pdf) == ["a", "b", PLACEHOLDER_TEXT, "c", PLACEHOLDER_TEXT]


def test_an_image_column_must_hold_paths_or_bytes() -> None:
    data = pl.DataFrame({"name": ["a"], "photo": [1]})
    with pytest.raises(pr.PlanError, match=r"an image column must hold paths \(String\) or the images' bytes"):
        photo_report(column="photo").render(data)


@pytest.mark.typst
def test_images_per_group(photos: Path, sales: pl.DataFrame) -> None:
    flags = {region: f"{COLORS[i % 3]}.png" for i, region in enumerate(sorted(sales["region"].unique()))}
    data = sales.head(200).with_columns(flag=pl.col("region").replace_strict(flags))
    report = pr.Report(
        name="flags",
        image_dirs=[str(photos)],
        groups=[
            pr.Group(
                name="region",
                header=pr.Band(elements=[pr.Field(column="region"), pr.Image(column="flag", width="8mm")]),
            )
        ],
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="order_id")])),
    )
    assert sum(images_per_page(report.render(data).pdf)) == data["region"].n_unique()
