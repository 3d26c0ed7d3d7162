"""Join the chunk PDFs of a long report into one file as they come, one chunk in memory at a time.

Typst writes plain PDFs (objects one after another, a classic cross-reference table, one page
tree). Joining them needs no PDF library: each chunk's objects that its pages use are copied
byte for byte, renumbered after the objects already written, and the page tree, the catalog,
the document information and the outline (bookmarks) are written at the end. The first chunk's
XMP metadata (with the joined page count) and output intent are kept, so chunks typeset as
PDF/A join into a PDF/A. Tagged chunks join into one structure tree (``pdfstructure``): one
root and one document element holding each chunk's top-level elements in order, the parent-tree
keys of each chunk moved past the previous chunks', table IDs prefixed per chunk, and the run of
bands a chunk boundary cut in two (a ``/Span``) made one element again, as one piece has it.
Nothing is rewritten inside a string (``pdftext`` finds literal strings whole).
Memory holds one chunk and an offset per object (a tagged PDF: a number per top-level element
and page, and the run element held back, in a temporary file past 4 MB), whatever the page
count; the same chunks give the same bytes.

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
import shutil
import tempfile
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from polarreports.typeset.pdfstructure import (
    ChunkStructure,
    JoinedStructure,
    PdfStructureError,
    continued_kind,
    needs_shift,
    pinned,
    read_structure,
    shifted,
    split_contents,
)
from polarreports.typeset.pdftext import between_strings, outside_strings, pieces

__all__ = ["PdfJoin", "PdfStructureError", "xmp_with_page_count"]

_OBJECT = re.compile(rb"(\d+) (\d+) obj\s")
_REFERENCE = re.compile(rb"(?<![\w.])(\d+) (\d+) R(?![\w])")
# The keyword that starts a stream's bytes (outside a string: see pdftext).
_STREAM = re.compile(rb"stream\r?\n")
_REFERENCE_NUMBERS = re.compile(rb"(?<![\w.])(\d+) \d+ R(?!\w)")
"""A reference, its object number captured (outside strings: where a part holds no string)."""
_XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])")
_SUBSECTION = re.compile(rb"^(\d+) (\d+)\s*$", re.MULTILINE)
_PAGE_COUNT = re.compile(rb"<xmpTPg:NPages>\d+</xmpTPg:NPages>")


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
        body = self.body(number)
        head = body[: _stream_start(body)]
        return [int(number) for text in between_strings(head) for number in _REFERENCE_NUMBERS.findall(text)]


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


def _pinnable(body: bytes) -> bool:
    """Whether an element's contents can go into another element (each item naming its page)."""
    contents = split_contents(body)
    return contents is not None and pinned(contents[1], contents[0]) is not None


def _needed(chunk: _Chunk, structure: ChunkStructure | None, more: list[int]) -> set[int]:
    """The objects of ``chunk`` to copy: those its pages use (not its catalog, page tree,
    outline or metadata), ``more`` (the first chunk's output intent) and the elements of its
    structure tree (not the tree's root or document element: the joined file has its own)."""
    used: set[int] = set()
    todo = list(chunk.pages) + more
    left_out = {chunk.tree, chunk.catalog}
    if structure is not None:
        todo += structure.seeds()
        left_out.update(number for number in (structure.root, structure.document) if number is not None)
    while todo:
        number = todo.pop()
        if number in used or number in left_out or number not in chunk.spans:
            continue
        used.add(number)
        todo.extend(chunk.references(number))
    return used


@dataclass
class _Copy:
    """How a chunk's objects are copied: renumbered (``renumbered``: chunk -> joined file; any
    other reference becomes ``0 0 R``), and in a tagged chunk, with its parent-tree keys moved
    up by ``offset`` and its IDs given ``prefix``."""

    chunk: _Chunk
    renumbered: dict[int, int]
    offset: int = 0
    prefix: bytes = b""
    tagged: bool = False

    def renumber(self, data: bytes) -> bytes:
        """``data`` with its references renumbered (the text of its strings never touched)."""
        return outside_strings(data, self._renumbered)

    def _renumbered(self, text: bytes) -> bytes:
        parts = _REFERENCE_NUMBERS.split(text)  # text, number, text, number, ... (fast on long arrays)
        table = self.renumbered
        parts[1::2] = [b"%d 0 R" % table.get(int(number), 0) for number in parts[1::2]]
        return b"".join(parts)

    def body(self, number: int) -> bytes:
        """Object ``number``'s body as the joined file has it."""
        body = self.chunk.body(number)
        stream = _stream_start(body)
        head = self.renumber(body[:stream])
        if self.tagged and needs_shift(head):
            head = shifted(head, self.offset, self.prefix)
        return head + body[stream:]


RUN_IN_MEMORY = 4 << 20
"""Bytes of a run element's contents held in memory; past them, in a temporary file."""


class _Run:
    """A run element held back: its number, kind, dictionary without ``/K`` and its contents
    so far (in a temporary file past a few MB: a report without headings is one run)."""

    def __init__(self, number: int, kind: bytes, head: bytes) -> None:
        self.number, self.kind, self.head = number, kind, head
        self.items = tempfile.SpooledTemporaryFile(max_size=RUN_IN_MEMORY)  # noqa: SIM115 (closed by write_to)

    def extend(self, items: list[bytes]) -> None:
        self.items.write(b" ".join(items) + b" ")

    def write_to(self, file: BinaryIO) -> None:
        """Write the element's dictionary, its ``/K`` holding every item given."""
        with self.items:
            file.write(self.head[: self.head.rindex(b">>")] + b"/K[")
            self.items.seek(0)
            shutil.copyfileobj(self.items, file)
            file.write(b"]>>")


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
        self._structure: JoinedStructure | None = None
        """The structure tree of a tagged PDF (written last)."""
        self._run: _Run | None = None
        """The last chunk's last top-level element, if a run element (held back: the next chunk
        may go on with it)."""
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
            if self._run is not None:
                self._run.items.close()

    def _write_object(self, number: int, body: bytes | Iterable[bytes]) -> None:
        """Write object ``number`` (any number: the offsets of those not written yet are 0);
        ``body`` may come in parts."""
        if number >= len(self._offsets):  # (numbers held back in between are written later)
            self._offsets.frombytes(bytes(8 * (number + 1 - len(self._offsets))))
        self._offsets[number] = self._file.tell()
        self._file.write(b"%d 0 obj\n" % number)
        if isinstance(body, bytes):
            self._file.write(body)
        else:
            self._file.writelines(body)
        self._file.write(b"\nendobj\n")

    def add(
        self, chunk_pdf: bytes, outline_levels: Sequence[int] = (), *, apart: bool = False, bookmarks: bool = True
    ) -> None:
        """Append a chunk's pages; ``outline_levels``: the level of each of its bookmarks, in
        order (a chunk's own nesting is wrong where it begins inside a group). ``apart``: the
        chunk is a document of its own (a wide listing's next panel), so none of its elements
        goes on with the previous chunk's; ``bookmarks``: whether its bookmarks are kept."""
        chunk = _parse(chunk_pdf)
        self._digest.update(chunk_pdf)
        first = self._info is None
        catalog = chunk.body(chunk.catalog)
        intent = re.search(rb"/OutputIntents\s*(\d+) 0 R", catalog) if first else None
        structure, found = _read(chunk_pdf, catalog, len(self._pages), outline_levels)
        copy = _Copy(chunk, {chunk.tree: self._PAGE_TREE})
        joined = self._joined_structure() if structure is not None else None
        if structure is not None and joined is not None:
            copy.renumbered[structure.root] = joined.root
            if structure.document is not None:
                copy.renumbered[structure.document] = joined.document
            copy.offset, copy.prefix, copy.tagged = joined.next_key, joined.prefix(), True
        used = _needed(chunk, structure, [int(intent.group(1))] if intent else [])
        kids = structure.kids if structure is not None else []
        run = self._run
        continued = (
            not apart
            and run is not None
            and bool(kids)
            and kids[0] in used
            and continued_kind(chunk.body(kids[0])) == run.kind
            and _pinnable(chunk.body(kids[0]))
        )
        if not continued:
            self._end_run()
        for number in sorted(used):
            if continued and run is not None and number == kids[0]:
                copy.renumbered[number] = run.number
            else:
                copy.renumbered[number] = self._next
                self._next += 1
        held = self._hold(copy, kids, continued=continued)
        for number in sorted(used, key=copy.renumbered.__getitem__):
            if number not in held:
                self._write_object(copy.renumbered[number], copy.body(number))
        if structure is not None and joined is not None:
            document = copy.renumber(structure.document_body)
            joined.add(structure, copy.renumbered, document, continued=continued)
        self._pages.extend(copy.renumbered[page] for page in chunk.pages)
        if first:
            self._keep_entries(chunk, catalog, copy.renumbered.get(int(intent.group(1))) if intent else None)
        if bookmarks:
            self._bookmarks.extend(found)

    def order_pages(self, order: Sequence[int]) -> None:
        """Lay the pages added so far out in ``order`` (their indices as added), as a wide
        listing's interleaved panels are; the structure tree keeps the order they were added in
        (a panel read whole, then the next), and the bookmarks point to the same pages.

        ``ValueError`` unless ``order`` names every page once."""
        if sorted(order) != list(range(len(self._pages))):
            msg = f"a page order must name each of the {len(self._pages)} pages once"
            raise ValueError(msg)
        moved_to = {old: new for new, old in enumerate(order)}
        self._pages = array("Q", (self._pages[old] for old in order))
        self._bookmarks = [replace(bookmark, page=moved_to[bookmark.page]) for bookmark in self._bookmarks]

    def _hold(self, copy: _Copy, kids: list[int], *, continued: bool) -> set[int]:
        """Hold back the run element the chunk ends with (the next chunk may go on with it);
        with ``continued``, add the contents of the chunk's first top-level element to the run
        held back. Returns the elements not to write now."""
        held = set()
        if continued and self._run is not None:
            contents = split_contents(copy.body(kids[0]))
            items = pinned(contents[1], contents[0]) if contents is not None else None
            assert items is not None  # (_pinnable)
            self._run.extend(items)
            held.add(kids[0])
        if not kids or (continued and kids[-1] == kids[0]):
            return held
        self._end_run()
        last = kids[-1]
        kind = continued_kind(copy.chunk.body(last))
        contents = split_contents(copy.body(last)) if kind is not None else None
        if kind is not None and contents is not None:
            self._run = _Run(copy.renumbered[last], kind, contents[0])
            self._run.extend(contents[1])
            held.add(last)
        return held

    def _keep_entries(self, chunk: _Chunk, catalog: bytes, intent: int | None) -> None:
        """Keep the first chunk's document information, output intent (copied as ``intent``),
        XMP metadata, language, viewer preferences and mark information."""
        self._info = b"<<>>" if chunk.info is None else chunk.body(chunk.info)
        if intent is not None:
            self._catalog_extra += b"/OutputIntents %d 0 R" % intent
        metadata = re.search(rb"/Metadata\s*(\d+) 0 R", catalog)
        if metadata is not None and int(metadata.group(1)) in chunk.spans:
            self._metadata = chunk.body(int(metadata.group(1)))
        for key in (rb"/Lang\((?:[^\\()]|\\.)*\)", rb"/ViewerPreferences<<[^<>]*>>", rb"/MarkInfo<<[^<>]*>>"):
            found = re.search(key, catalog)
            self._catalog_extra += found.group(0) if found else b""

    def _joined_structure(self) -> JoinedStructure:
        """The joined structure tree, its root and document element numbered at the first
        tagged chunk (written last)."""
        if self._structure is None:
            self._structure = JoinedStructure(root=self._next, document=self._next + 1)
            self._offsets.extend((0, 0))
            self._next += 2
        return self._structure

    def _end_run(self) -> None:
        """Write the run element held back (its contents complete)."""
        run, self._run = self._run, None
        if run is None:
            return
        self._offsets[run.number] = self._file.tell()
        self._file.write(b"%d 0 obj\n" % run.number)
        run.write_to(self._file)
        self._file.write(b"\nendobj\n")

    def _finish(self) -> None:
        self._end_run()
        kids = b" ".join(b"%d 0 R" % page for page in self._pages)  # about 8 bytes a page
        self._write_object(self._PAGE_TREE, b"<</Type/Pages/Count %d/Kids[%s]>>" % (len(self._pages), kids))
        outline = self._write_outline()
        outline_entry = b"/Outlines %d 0 R/PageMode/UseOutlines" % outline if outline else b""
        if self._metadata is not None:
            metadata = self._next
            self._next += 1
            self._write_object(metadata, _with_page_count(self._metadata, len(self._pages)))
            outline_entry += b"/Metadata %d 0 R" % metadata
        if self._structure is not None:
            for number, parts in self._structure.objects(self._next):
                if number >= self._next:
                    self._next = number + 1
                self._write_object(number, parts)
            outline_entry += b"/StructTreeRoot %d 0 R" % self._structure.root
            if b"/MarkInfo" not in self._catalog_extra:
                outline_entry += b"/MarkInfo<</Marked true>>"
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


def xmp_with_page_count(xmp: bytes, pages: int) -> bytes:
    """XMP metadata saying ``pages`` pages where it says a page count (``xmpTPg:NPages``).

    >>> xmp_with_page_count(b"<xmpTPg:NPages>18</xmpTPg:NPages>", 1)
    b'<xmpTPg:NPages>1</xmpTPg:NPages>'
    """
    return _PAGE_COUNT.sub(b"<xmpTPg:NPages>%d</xmpTPg:NPages>" % pages, xmp)


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
    xmp = xmp_with_page_count(xmp, pages)
    head = re.sub(rb"/Length\s+\d+", b"/Length %d" % len(xmp), head)
    return head + opening.group(0) + xmp + b"\nendstream"


def _stream_start(body: bytes) -> int:
    """Where the stream's bytes begin in an object's body (its length if it has none)."""
    if b"stream" not in body:
        return len(body)
    at = 0
    for is_string, text in pieces(body):  # (stops at the keyword: the stream's bytes are not scanned)
        found = None if is_string else _STREAM.search(text)
        if found is not None:
            return at + found.start()
        at += len(text)
    return len(body)


def _read(
    chunk_pdf: bytes, catalog: bytes, first_page: int, levels: Sequence[int]
) -> tuple[ChunkStructure | None, list[_Bookmark]]:
    """A chunk's structure tree (None: not tagged) and bookmarks, read where it has them."""
    tagged, outlined = b"/StructTreeRoot" in catalog, b"/Outlines" in catalog
    if not tagged and not outlined:
        return None, []
    import pikepdf  # imported when needed: it takes 15 MB

    with pikepdf.open(io.BytesIO(chunk_pdf)) as chunk:
        structure = read_structure(chunk) if tagged else None
        return structure, _bookmarks(chunk, first_page, levels) if outlined else []


def _bookmarks(chunk: Any, first_page: int, levels: Sequence[int]) -> list[_Bookmark]:
    """A chunk's bookmarks (of the open ``pikepdf.Pdf``), with the pages they point to counted
    in the joined document."""
    import pikepdf

    found = []
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
