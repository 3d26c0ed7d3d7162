"""Join the chunk PDFs of a long report into one file as they come, one chunk in memory at a time.

Typst writes plain PDFs (objects one after another, a classic cross-reference table, one page
tree). Joining them needs no PDF library: each chunk's objects that its pages use are copied
byte for byte, renumbered after the objects already written, and the page tree, the catalog,
the document information and the outline (bookmarks) are written at the end. The first chunk's
XMP metadata (with the joined page count) and output intent are kept, so chunks typeset as
PDF/A join into a PDF/A; a tagged PDF's structure tree is not (a tagged report is typeset whole). Memory holds one
chunk and an offset per object, whatever the page count; the same chunks give the same bytes.

    >>> import polarreports as pr
    >>> from polarreports.typeset.compile import compile_document
    >>> doc = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(100))
    >>> (chunk,) = compile_document(doc._source, doc.data_json)
    >>> import tempfile, pypdf; from pathlib import Path
    >>> target = Path(tempfile.mkdtemp()) / "joined.pdf"
    >>> with PdfJoin(target) as joined:
    ...     joined.add(chunk)
    ...     joined.add(chunk)
    >>> len(pypdf.PdfReader(target).pages) == 2 * doc.page_count
    True
"""

from __future__ import annotations

import hashlib
import io
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

__all__ = ["PdfJoin"]

_OBJECT = re.compile(rb"(\d+) (\d+) obj\s")
_REFERENCE = re.compile(rb"(?<![\w.])(\d+) (\d+) R(?![\w])")
# What the dictionary part of an object is made of, as far as renumbering goes: strings (whose
# text is never touched), references, and the keyword that starts a stream's bytes.
_TOKENS = re.compile(rb"\((?:[^\\()]|\\.)*\)|<[0-9A-Fa-f\s]*>|(?<![\w.])(\d+) (\d+) R(?!\w)|stream\r?\n")
_XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])")
_SUBSECTION = re.compile(rb"^(\d+) (\d+)\s*$", re.MULTILINE)


class PdfStructureError(ValueError):
    """A chunk is not laid out as Typst writes PDFs (it should not happen with the pinned Typst)."""


@dataclass(frozen=True)
class _Chunk:
    """The parts of one chunk PDF the join needs."""

    data: bytes
    spans: dict[int, tuple[int, int]]
    """Object number -> byte range of what lies between ``N 0 obj`` and ``endobj``."""
    pages: list[int]
    info: int | None
    catalog: int
    tree: int = 0
    """The page tree the pages hang from (their ``/Parent``)."""

    def body(self, number: int) -> bytes:
        start, end = self.spans[number]
        return self.data[start:end]

    def references(self, number: int) -> list[int]:
        """The objects that object ``number``'s dictionary part refers to."""
        found = []
        for match in _TOKENS.finditer(self.body(number)):
            if match.group(0).startswith(b"stream"):
                break
            if match.group(1) is not None:
                found.append(int(match.group(1)))
        return found


def _parse(data: bytes) -> _Chunk:
    tail = data[-1024:]
    at = tail.rfind(b"startxref")
    if at < 0:
        msg = "no startxref"
        raise PdfStructureError(msg)
    xref_at = int(tail[at + 9 :].split()[0])
    trailer_at = data.find(b"trailer", xref_at)
    table = data[xref_at:trailer_at]
    if not table.startswith(b"xref"):
        msg = "no cross-reference table"
        raise PdfStructureError(msg)
    offsets: dict[int, int] = {}
    for section in _SUBSECTION.finditer(table):
        first, count = int(section.group(1)), int(section.group(2))
        entries = _XREF_ENTRY.findall(table, section.end(), section.end() + 20 * count + 2)
        for i, (offset, _, kind) in enumerate(entries[:count]):
            if kind == b"n":
                offsets[first + i] = int(offset)
    ordered = sorted(offsets.items(), key=lambda item: item[1])
    spans: dict[int, tuple[int, int]] = {}
    for (number, offset), (_, following) in zip(ordered, [*ordered[1:], (0, xref_at)], strict=True):
        header = _OBJECT.match(data, offset)
        end = data.rfind(b"endobj", offset, following)
        if header is None or int(header.group(1)) != number or end < 0:
            msg = f"object {number} is not where the cross-reference table says"
            raise PdfStructureError(msg)
        spans[number] = (header.end(), end)
    trailer = data[trailer_at:]
    root, info = re.search(rb"/Root (\d+) 0 R", trailer), re.search(rb"/Info (\d+) 0 R", trailer)
    if root is None:
        msg = "no catalog"
        raise PdfStructureError(msg)
    catalog = int(root.group(1))
    tree = re.search(rb"/Pages (\d+) 0 R", data[slice(*spans[catalog])])
    if tree is None:
        msg = "no page tree"
        raise PdfStructureError(msg)
    chunk = _Chunk(data, spans, [], int(info.group(1)) if info else None, catalog, int(tree.group(1)))
    kids = re.search(rb"/Kids\[([^\]]*)\]", chunk.body(chunk.tree))
    pages = [int(m.group(1)) for m in _REFERENCE.finditer(kids.group(1))] if kids else []
    if any(b"/Type/Pages" in chunk.body(page) for page in pages):
        msg = "a nested page tree"
        raise PdfStructureError(msg)
    chunk.pages.extend(pages)
    return chunk


def _text_string(text: str) -> bytes:
    """A PDF text string (UTF-16, hex: nothing in it needs escaping)."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def _number(value: float) -> bytes:
    return f"{value:.4f}".rstrip("0").rstrip(".").encode()


@dataclass(frozen=True)
class _Bookmark:
    level: int
    title: str
    page: int
    """Index of the page in the joined document."""
    left: float | None
    top: float | None


class PdfJoin:
    """Writes one PDF at ``path`` from chunk PDFs given in page order (a context manager: the
    end of the file is written when the block ends without an error)."""

    _CATALOG, _PAGE_TREE = 1, 2

    def __init__(self, path: Path) -> None:
        self._file: BinaryIO = path.open("wb")
        self._offsets = array("Q", [0, 0, 0])  # by object number (0: none; 1, 2: written last)
        self._next = 3
        self._pages = array("Q")
        self._bookmarks: list[_Bookmark] = []
        self._info: bytes | None = None
        self._catalog_extra = b""
        self._metadata: bytes | None = None
        """The first chunk's XMP metadata stream (written last, with the joined page count)."""
        self._digest = hashlib.md5(usedforsecurity=False)
        self._file.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def __enter__(self) -> PdfJoin:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if kind is None:
                self._finish()
        finally:
            self._file.close()

    def _write_object(self, number: int, body: bytes) -> None:
        """Write object ``number``: the page tree and catalog at any time, others in order."""
        if number < len(self._offsets):
            self._offsets[number] = self._file.tell()
        else:
            assert number == len(self._offsets)
            self._offsets.append(self._file.tell())
        self._file.write(b"%d 0 obj\n" % number)
        self._file.write(body)
        self._file.write(b"\nendobj\n")

    def add(self, chunk_pdf: bytes, outline_levels: Sequence[int] = ()) -> None:
        """Append a chunk's pages; ``outline_levels``: the level of each of its bookmarks, in
        order (a chunk's own nesting is wrong where it begins inside a group)."""
        chunk = _parse(chunk_pdf)
        self._digest.update(chunk_pdf)
        tree = chunk.tree
        first = self._info is None
        catalog = chunk.body(chunk.catalog)
        intent = re.search(rb"/OutputIntents\s*(\d+) 0 R", catalog) if first else None
        # the objects the pages use (not the chunk's catalog, page tree, outline or metadata),
        # and the first chunk's output intent (PDF/A)
        used: dict[int, int] = {}
        todo = list(chunk.pages) + ([int(intent.group(1))] if intent else [])
        while todo:
            number = todo.pop()
            if number in used or number == tree or number not in chunk.spans:
                continue
            used[number] = 0
            todo.extend(chunk.references(number))
        for number in sorted(used):
            used[number] = self._next
            self._next += 1
        renumbered = {**used, tree: self._PAGE_TREE}

        def new_reference(match: re.Match[bytes]) -> bytes:
            if match.group(1) is None:
                return match.group(0)
            return b"%d 0 R" % renumbered.get(int(match.group(1)), 0)

        for number, new in sorted(used.items(), key=lambda item: item[1]):
            body = chunk.body(number)
            stream = _stream_start(body)
            self._write_object(new, _TOKENS.sub(new_reference, body[:stream]) + body[stream:])
        first_page = len(self._pages)
        self._pages.extend(used[page] for page in chunk.pages)
        if first:
            self._info = b"<<>>" if chunk.info is None else chunk.body(chunk.info)
            if intent is not None and int(intent.group(1)) in used:
                self._catalog_extra += b"/OutputIntents %d 0 R" % used[int(intent.group(1))]
            metadata = re.search(rb"/Metadata\s*(\d+) 0 R", catalog)
            if metadata is not None and int(metadata.group(1)) in chunk.spans:
                self._metadata = chunk.body(int(metadata.group(1)))
            for key in (rb"/Lang\((?:[^\\()]|\\.)*\)", rb"/ViewerPreferences<<[^<>]*>>"):
                found = re.search(key, catalog)
                self._catalog_extra += found.group(0) if found else b""
        if b"/Outlines" in chunk.body(chunk.catalog):
            self._bookmarks.extend(_bookmarks(chunk_pdf, first_page, outline_levels))

    def _finish(self) -> None:
        kids = b" ".join(b"%d 0 R" % page for page in self._pages)  # about 8 bytes a page
        self._write_object(self._PAGE_TREE, b"<</Type/Pages/Count %d/Kids[%s]>>" % (len(self._pages), kids))
        outline = self._write_outline()
        outline_entry = b"/Outlines %d 0 R/PageMode/UseOutlines" % outline if outline else b""
        if self._metadata is not None:
            metadata = self._next
            self._next += 1
            self._write_object(metadata, _with_page_count(self._metadata, len(self._pages)))
            outline_entry += b"/Metadata %d 0 R" % metadata
        catalog = b"<</Type/Catalog/Pages %d 0 R%s%s>>" % (self._PAGE_TREE, self._catalog_extra, outline_entry)
        self._write_object(self._CATALOG, catalog)
        info = self._next
        self._next += 1
        self._write_object(info, self._info or b"<<>>")
        xref_at = self._file.tell()
        self._file.write(b"xref\n0 %d\n0000000000 65535 f\r\n" % self._next)
        self._file.writelines(b"%010d 00000 n\r\n" % offset for offset in self._offsets[1:])
        identifier = self._digest.hexdigest().upper().encode()
        self._file.write(
            b"trailer\n<</Size %d/Root %d 0 R/Info %d 0 R/ID[<%s><%s>]>>\nstartxref\n%d\n%%%%EOF\n"
            % (self._next, self._CATALOG, info, identifier, identifier, xref_at)
        )

    def _write_outline(self) -> int | None:
        """The outline's objects (items nested by level); returns the outline root's number."""
        if not self._bookmarks:
            return None
        root = self._next
        numbers = list(range(root + 1, root + 1 + len(self._bookmarks)))
        self._next = root + 1 + len(self._bookmarks)
        parents: list[int] = []
        children: dict[int, list[int]] = {root: []}
        stack: list[tuple[int, int]] = []  # (level, item)
        for i, bookmark in enumerate(self._bookmarks):
            while stack and stack[-1][0] >= bookmark.level:
                stack.pop()
            parent = stack[-1][1] if stack else root
            parents.append(parent)
            children.setdefault(parent, []).append(numbers[i])
            children[numbers[i]] = []
            stack.append((bookmark.level, numbers[i]))

        def family(number: int) -> bytes:
            kids = children[number]
            if not kids:
                return b""
            return b"/First %d 0 R/Last %d 0 R/Count %d" % (kids[0], kids[-1], _descendants(number))

        def _descendants(number: int) -> int:
            return sum(1 + _descendants(kid) for kid in children[number])

        self._write_object(root, b"<</Type/Outlines%s>>" % family(root))
        for i, bookmark in enumerate(self._bookmarks):
            number, siblings = numbers[i], children[parents[i]]
            at = siblings.index(number)
            links = b"/Prev %d 0 R" % siblings[at - 1] if at > 0 else b""
            links += b"/Next %d 0 R" % siblings[at + 1] if at + 1 < len(siblings) else b""
            left = _number(bookmark.left) if bookmark.left is not None else b"null"
            top = _number(bookmark.top) if bookmark.top is not None else b"null"
            destination = b"[%d 0 R/XYZ %s %s 0]" % (self._pages[bookmark.page], left, top)
            self._write_object(
                number,
                b"<</Title %s/Parent %d 0 R%s%s/Dest %s>>"
                % (_text_string(bookmark.title), parents[i], links, family(number), destination),
            )
        return root


def _with_page_count(metadata: bytes, pages: int) -> bytes:
    """An XMP metadata stream object saying ``pages`` pages (``xmpTPg:NPages``), its length
    fixed; a compressed one is kept as it is."""
    start = _stream_start(metadata)
    head, rest = metadata[:start], metadata[start:]
    if b"/Filter" in head:
        return metadata
    opening = re.match(rb"stream\r?\n", rest)
    assert opening is not None
    end = rest.rfind(b"endstream")
    xmp = rest[opening.end() : end].rstrip(b"\r\n")
    xmp = re.sub(rb"<xmpTPg:NPages>\d+</xmpTPg:NPages>", b"<xmpTPg:NPages>%d</xmpTPg:NPages>" % pages, xmp)
    head = re.sub(rb"/Length\s+\d+", b"/Length %d" % len(xmp), head)
    return head + opening.group(0) + xmp + b"\nendstream"


def _stream_start(body: bytes) -> int:
    """Where the stream's bytes begin in an object's body (its length if it has none)."""
    for match in _TOKENS.finditer(body):
        if match.group(0).startswith(b"stream"):
            return match.start()
    return len(body)


def _bookmarks(chunk_pdf: bytes, first_page: int, levels: Sequence[int]) -> list[_Bookmark]:
    """A chunk's bookmarks, with the pages they point to counted in the joined document."""
    import pikepdf  # imported when needed: it takes 15 MB

    found = []
    with pikepdf.open(io.BytesIO(chunk_pdf)) as chunk:
        pages = {page.obj.objgen: first_page + i for i, page in enumerate(chunk.pages)}
        with chunk.open_outline() as outline:
            items = outline_entries(outline.root)
        chunk_levels = list(levels) if len(levels) == len(items) else [depth for depth, _ in items]
        for level, (_, item) in zip(chunk_levels, items, strict=True):
            destination = item.destination
            if not isinstance(destination, pikepdf.Array) or len(destination) < 1:
                continue
            page = pages.get(destination[0].objgen)
            if page is None:
                continue
            corner = [_coordinate(value) for value in list(destination)[2:4]] + [None, None]
            found.append(_Bookmark(level, str(item.title), page, corner[0], corner[1]))
    return found


def _coordinate(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def outline_entries(items: Any, depth: int = 1) -> list[tuple[int, Any]]:
    """A chunk outline's items (pikepdf ``OutlineItem``) in document order, with their depth."""
    found = []
    for item in items:
        found.append((depth, item))
        found.extend(outline_entries(item.children, depth + 1))
    return found
