"""The structure tree of a tagged PDF joined from chunks (``pdfjoin``): what each chunk's tree
holds, and the one tree of the joined file.

A chunk Typst writes tagged has a ``StructTreeRoot`` whose one ``Document`` element holds the
chunk's top-level elements; its ``ParentTree`` maps each page's ``StructParents`` key (and an
annotation's ``StructParent``) to the elements of its marked content, and its ``IDTree`` names
the table cells that other cells list as ``Headers``. The joined file has one root and one
``Document`` holding every chunk's top-level elements in order; the keys of each chunk are
moved past the previous chunks' (``ParentTreeNextKey``), and the IDs take a prefix naming the
chunk (``c2-U1x0y0``), as every chunk numbers its tables from 1. Marked-content IDs (MCIDs)
count per page, so they stay as they are. Typst tags a run of bands (between headings, tables,
figures) as one ``/Span``: where a chunk boundary cut one in two, the join makes it one element
again (``continued_kind``, ``split_contents``, ``pinned``), so the tree reads as one piece's.

    >>> shifted(b"<</Type/Page/StructParents 3/Contents 9 0 R>>", 10, b"c2-")
    b'<</Type/Page/StructParents 13/Contents 9 0 R>>'
    >>> shifted(b"<</S/TH/ID(U1x0y0)/A<</O/Table/Headers[(U1x0y1)<55>]>>>>", 0, b"c2-")
    b'<</S/TH/ID(c2-U1x0y0)/A<</O/Table/Headers[(c2-U1x0y1)<63322d55>]>>>>'
"""

from __future__ import annotations

import itertools
import re
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from polarreports.typeset.pdftext import pieces

__all__ = [
    "ChunkStructure",
    "JoinedStructure",
    "PdfStructureError",
    "continued_kind",
    "needs_shift",
    "pinned",
    "read_structure",
    "shifted",
    "split_contents",
]

_HEX = rb"<[0-9A-Fa-f\s]*>"
_KEY = re.compile(rb"(/StructParents?\s+)(\d+)")
_HEX_ID = re.compile(rb"(/ID\s*)(" + _HEX + rb")")
_ID_BEFORE_STRING = re.compile(rb"/ID\s*$")
_HEADERS = re.compile(rb"/Headers\s*\[")
_HEXES = re.compile(_HEX)
_REFERENCE = re.compile(rb"(?<![\w.])\d+ \d+ R(?!\w)")


class PdfStructureError(ValueError):
    """A chunk is not laid out as Typst writes PDFs (it should not happen with the pinned Typst)."""


def _prefixed(string: bytes, prefix: bytes) -> bytes:
    """A PDF string token with ``prefix`` before its bytes (literal or hex, as it was)."""
    if string.startswith(b"("):
        return b"(" + prefix + string[1:]
    return b"<" + prefix.hex().encode() + string[1:]


def shifted(head: bytes, offset: int, prefix: bytes) -> bytes:
    """An object's dictionary part with its parent-tree keys moved up by ``offset`` and the IDs
    (its own and its headers') given ``prefix``; strings elsewhere are never touched (a URL
    that reads ``/ID(U1x0y0)`` stays as it is).

    >>> shifted(b"<</StructParent 2/A<</URI(https://e.com/(/ID(U1)/StructParent 5))>>>>", 10, b"c2-")
    b'<</StructParent 12/A<</URI(https://e.com/(/ID(U1)/StructParent 5))>>>>'
    """
    found: list[bytes] = []
    id_next = in_headers = False  # the next string is an ID; within a /Headers array
    for is_string, text in pieces(head):
        if is_string:
            found.append(_prefixed(text, prefix) if id_next or in_headers else text)
            id_next = False
            continue
        changed, in_headers = _shifted_text(text, offset, prefix, in_headers=in_headers)
        found.append(changed)
        id_next = not in_headers and _ID_BEFORE_STRING.search(text) is not None
    return b"".join(found)


def _shifted_text(text: bytes, offset: int, prefix: bytes, *, in_headers: bool) -> tuple[bytes, bool]:
    """``shifted`` for text between strings, which may begin or end inside a /Headers array
    (its hex strings are IDs); returns the text and whether it ends inside one."""

    def key(match: re.Match[bytes]) -> bytes:
        return match.group(1) + b"%d" % (int(match.group(2)) + offset)

    def hex_id(match: re.Match[bytes]) -> bytes:
        return match.group(1) + _prefixed(match.group(2), prefix)

    parts, at = [], 0
    while True:
        if in_headers:
            end = text.find(b"]", at)
            stop = len(text) if end < 0 else end
            parts.append(_HEXES.sub(lambda match: _prefixed(match.group(0), prefix), text[at:stop]))
            if end < 0:
                return b"".join(parts), True
            in_headers, at = False, end
        headers = _HEADERS.search(text, at)
        stop = len(text) if headers is None else headers.end()
        parts.append(_HEX_ID.sub(hex_id, _KEY.sub(key, text[at:stop])))
        if headers is None:
            return b"".join(parts), False
        in_headers, at = True, stop


def needs_shift(head: bytes) -> bool:
    """Whether ``head`` may hold a parent-tree key or an ID (a quick test before ``shifted``)."""
    return b"/StructParent" in head or b"/ID" in head or b"/Headers" in head


_CONTENTS = re.compile(rb"/K\s*\[(?P<items>(?:\s*(?:\d+\s+\d+\s+R|\d+|<<[^<>]*>>))*)\s*\]")
_ITEM = re.compile(rb"\d+\s+\d+\s+R|\d+|<<[^<>]*>>")
_PAGE = re.compile(rb"/Pg\s+(\d+)\s+\d+\s+R")
_PARENT_AND_PAGE = re.compile(rb"/Pg?\s+\d+\s+\d+\s+R")
_TYPE = re.compile(rb"/S\s*(/[^\s/<>\[\]()]+)")
_GROUPS = {b"/Span", b"/Div", b"/NonStruct"}
"""The element types Typst opens for a run of bands (between headings, tables, figures): a
chunk boundary cuts such a run in two, and the join makes it one again."""


def split_contents(body: bytes) -> tuple[bytes, list[bytes]] | None:
    """An element's dictionary without its ``/K``, and the items of its ``/K`` array (None when
    its ``/K`` is not an array of MCIDs, references and dictionaries).

    >>> split_contents(b"<</S/Span/P 3 0 R/K[0 1 <</Type/MCR/Pg 9 0 R/MCID 0>> 12 0 R]/Pg 8 0 R>>")
    (b'<</S/Span/P 3 0 R/Pg 8 0 R>>', [b'0', b'1', b'<</Type/MCR/Pg 9 0 R/MCID 0>>', b'12 0 R'])
    """
    at = 0
    for is_string, text in pieces(body):
        match = None if is_string else _CONTENTS.search(text)
        if match is not None:
            start, end = at + match.start(), at + match.end()
            return body[:start] + body[end:], _ITEM.findall(match.group("items"))
        at += len(text)
    return None


def continued_kind(body: bytes) -> bytes | None:
    """What a run element (``/Span``, ``/Div``) is, less its parent, page and contents: two
    such elements that a chunk boundary cut apart have the same kind (None: not such an
    element, or its contents are not an array).

    >>> continued_kind(b"<</S/Span/P 3 0 R/A[<</O/Layout>>]/K[0 1]/Pg 8 0 R>>")
    b'<</S/Span/A[<</O/Layout>>]>>'
    >>> continued_kind(b"<</S/H1/P 3 0 R/K[0]/Pg 8 0 R>>") is None
    True
    """
    kind = _TYPE.search(body)
    contents = split_contents(body) if kind is not None and kind.group(1) in _GROUPS else None
    return None if contents is None else _PARENT_AND_PAGE.sub(b"", contents[0])


def pinned(items: list[bytes], head: bytes) -> list[bytes] | None:
    """The contents of the element whose dictionary is ``head``, each naming its page: an MCID
    becomes a marked-content reference (``MCR``) to the element's page, a dictionary without a
    page gets it (None: the element has no page and holds MCIDs).

    >>> pinned([b"4", b"<</Type/OBJR/Obj 7 0 R>>", b"12 0 R"], b"<</S/Span/Pg 8 0 R>>")
    [b'<</Type/MCR/Pg 8 0 R/MCID 4>>', b'<</Pg 8 0 R/Type/OBJR/Obj 7 0 R>>', b'12 0 R']
    """
    page = _PAGE.search(head)
    found = []
    for item in items:
        if item.startswith(b"<<"):
            found.append(item if b"/Pg" in item or page is None else b"<</Pg %s 0 R" % page.group(1) + item[2:])
        elif item.endswith(b"R"):
            found.append(item)
        elif page is None:
            return None
        else:
            found.append(b"<</Type/MCR/Pg %s 0 R/MCID %s>>" % (page.group(1), item))
    return found


@dataclass(frozen=True)
class ChunkStructure:
    """A chunk's structure tree, by object numbers of the chunk."""

    root: int
    """The ``StructTreeRoot``."""
    document: int | None
    """The ``Document`` element the top-level elements hang from (None: from the root)."""
    document_body: bytes
    """That element's dictionary without its ``/K`` (empty without a document element)."""
    kids: list[int]
    """The top-level elements, in order."""
    parents: list[tuple[int, int]]
    """(key, object) of the parent tree: an array of elements (a page) or an element."""
    next_key: int
    role_map: dict[str, bytes]
    class_map: dict[str, bytes]
    ids: list[tuple[bytes, int]]
    """(ID, element) of the ID tree."""

    def seeds(self) -> list[int]:
        """The objects a join copies for this tree (what they refer to comes with them)."""
        return [*self.kids, *(value for _, value in self.parents), *(element for _, element in self.ids)]


def _number(item: Any) -> int:
    if not getattr(item, "is_indirect", False):
        msg = "a structure element or parent-tree entry that is not an object of its own"
        raise PdfStructureError(msg)
    return int(item.objgen[0])


_KEYED = re.compile(rb"\s*(\d+)\s+(\d+)\s+\d+\s+R")
_REFERENCES = re.compile(rb"\s*(\d+)\s+\d+\s+R")


def _referred(value: Any, pattern: re.Pattern[bytes]) -> list[tuple[bytes, ...]]:
    """The items of an array (or one item) of references, read from its text: resolving each
    would parse every element it holds (thousands of marked-content items)."""
    text = value.unparse().strip()
    inner = text[1:-1] if text.startswith(b"[") else text
    found = [match.groups() for match in pattern.finditer(inner)]
    if pattern.sub(b"", inner).strip():
        msg = "a structure element or parent-tree entry that is not an object of its own"
        raise PdfStructureError(msg)
    return found


def _numbers(node: Any, depth: int = 0) -> Iterator[tuple[int, int]]:
    """The (key, object) pairs of a number tree whose values are references."""
    if depth > 32:
        msg = "a number tree nested too deeply"
        raise PdfStructureError(msg)
    if "/Nums" in node:
        yield from ((int(key), int(value)) for key, value in _referred(node["/Nums"], _KEYED))
    for kid in node.get("/Kids", ()):
        yield from _numbers(kid, depth + 1)


def _names(node: Any, depth: int = 0) -> Iterator[tuple[bytes, int]]:
    """The (name, object) pairs of a name tree."""
    if depth > 32:
        msg = "a name tree nested too deeply"
        raise PdfStructureError(msg)
    if "/Names" in node:
        pairs = list(node["/Names"])
        yield from ((bytes(name), _number(value)) for name, value in zip(pairs[::2], pairs[1::2], strict=True))
    for kid in node.get("/Kids", ()):
        yield from _names(kid, depth + 1)


def _kids(value: Any) -> list[int]:
    return [int(number) for (number,) in _referred(value, _REFERENCES)]


def read_structure(pdf: Any) -> ChunkStructure:
    """The structure tree of ``pdf`` (an open ``pikepdf.Pdf``, tagged)."""
    import pikepdf

    root = pdf.Root.StructTreeRoot
    top = root.get("/K", pikepdf.Array())
    document: int | None = None
    document_body = b""
    if isinstance(top, pikepdf.Array) and len(top) == 1:
        top = top[0]
    if isinstance(top, pikepdf.Dictionary) and top.get("/S") == pikepdf.Name.Document:
        document = _number(top)
        document_body = pikepdf.Dictionary({key: value for key, value in top.items() if key != "/K"}).unparse()
        top = top.get("/K", pikepdf.Array())
    parents = list(_numbers(root.get("/ParentTree", pikepdf.Dictionary())))
    next_key = int(root.get("/ParentTreeNextKey", max((key for key, _ in parents), default=-1) + 1))
    ids = list(_names(root.get("/IDTree", pikepdf.Dictionary())))

    def entries(name: str) -> dict[str, bytes]:
        found = root.get(name)
        values = {} if found is None else {str(key): value.unparse(resolved=True) for key, value in found.items()}
        if any(_REFERENCE.search(value) for value in values.values()):
            msg = f"a {name[1:]} entry that refers to another object"
            raise PdfStructureError(msg)
        return values

    return ChunkStructure(
        root=_number(root),
        document=document,
        document_body=document_body,
        kids=_kids(top),
        parents=parents,
        next_key=next_key,
        role_map=entries("/RoleMap"),
        class_map=entries("/ClassMap"),
        ids=ids,
    )


@dataclass
class JoinedStructure:
    """The one structure tree of a joined PDF, built chunk by chunk: object numbers of the
    joined file. Memory: a number per top-level element and two per parent-tree entry."""

    root: int
    """The joined ``StructTreeRoot``'s object number (reserved before the first chunk)."""
    document: int
    """The joined ``Document`` element's (reserved too)."""
    document_body: bytes | None = None
    kids: array[int] = field(default_factory=lambda: array("Q"))
    parents: array[int] = field(default_factory=lambda: array("Q"))
    """key, object, key, object, ..."""
    next_key: int = 0
    role_map: dict[str, bytes] = field(default_factory=dict)
    class_map: dict[str, bytes] = field(default_factory=dict)
    ids: list[tuple[bytes, int]] = field(default_factory=list)
    chunks: int = 0

    def add(self, chunk: ChunkStructure, renumbered: dict[int, int], document_body: bytes, *, continued: bool) -> None:
        """Take in a chunk's tree (its objects copied, renumbered by ``renumbered``; its document
        element's body renumbered too) after the chunks before it; ``continued``: its first
        top-level element was joined to the previous chunk's last."""
        if self.document_body is None:
            self.document_body = document_body if chunk.document is not None else b""
        self.kids.extend(renumbered[kid] for kid in chunk.kids[1 if continued else 0 :])
        for key, value in chunk.parents:
            self.parents.extend((key + self.next_key, renumbered[value]))
        self.next_key += chunk.next_key
        for name, role in chunk.role_map.items():
            self.role_map.setdefault(name, role)
        for name, attributes in chunk.class_map.items():
            self.class_map.setdefault(name, attributes)
        prefix = self.prefix()
        self.ids.extend((prefix + key, renumbered[element]) for key, element in chunk.ids)
        self.chunks += 1

    def prefix(self) -> bytes:
        """The prefix of the IDs of the chunk being added."""
        return b"c%d-" % (self.chunks + 1)

    def objects(self, first: int) -> Iterator[tuple[int, Iterable[bytes]]]:
        """The tree's objects to write, each as parts (written one after another: a long
        document's arrays are never built whole): the root, the document element, the parent
        tree and the ID tree, the last two numbered from ``first``."""
        parent_tree, id_tree = first, first + 1
        pairs, kids = self.parents, self.kids

        def references() -> Iterator[bytes]:
            return (b"%d 0 R " % kid for kid in kids)

        root = b"<</Type/StructTreeRoot/ParentTree %d 0 R/ParentTreeNextKey %d" % (parent_tree, self.next_key)
        for name, entries in (("/RoleMap", self.role_map), ("/ClassMap", self.class_map)):
            if entries:
                root += name.encode() + b"<<" + b"".join(key.encode() + b" " + v for key, v in entries.items()) + b">>"
        if self.ids:
            root += b"/IDTree %d 0 R" % id_tree
        body = self.document_body
        if body:
            yield self.root, (root, b"/K[%d 0 R]>>" % self.document)
            yield self.document, itertools.chain((body[: body.rindex(b">>")], b"/K["), references(), (b"]>>",))
        else:  # (without a document element in the chunks, its reserved number holds a null)
            yield self.root, itertools.chain((root, b"/K["), references(), (b"]>>",))
            yield self.document, (b"null",)
        nums = (b"%d %d 0 R " % (pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2))
        yield parent_tree, itertools.chain((b"<</Nums[",), nums, (b"]>>",))
        if self.ids:
            names = (b"<%s>%d 0 R" % (key.hex().encode(), element) for key, element in sorted(self.ids))
            yield id_tree, itertools.chain((b"<</Names[",), names, (b"]>>",))
