"""Cut a tagged PDF into parts of consecutive pages, each a tagged PDF of its own: a batch's
block of keys, typeset as one report, split into one document per key (``batch/blocks.py``).

A part keeps the whole file's catalog (language, mark information, viewer preferences, role
and class maps) and, of its structure tree, the top-level elements whose marked content is on
the part's pages: they must not reach pages outside it (a block starts each key with its own
heading, where Typst ends a run of bands, so none does); elements that mark no content (the
block's headings, made only for its bookmarks) are left out. The parent tree keeps the keys of the
part's pages and of their annotations, the ID tree the IDs of the elements kept; objects no
longer referred to are not written. The block's bookmarks are left out (the block made them to
find the keys; a key's document alone has none).

    >>> import polarreports as pr
    >>> doc = pr.load("examples/sales_by_region.yaml").model_copy(update={"tagged_pdf": True}).render(
    ...     pr.sample.sales_data(60))
    >>> [len(part) > 0 for part in tagged_parts(doc.pdf, [0])]
    [True]
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any

from polarreports.typeset.pdfjoin import xmp_with_page_count

__all__ = ["TaggedSplitError", "count_pages_in_metadata", "tagged_parts"]


class TaggedSplitError(ValueError):
    """A top-level structure element reaches pages of two parts: the tree cannot be cut there."""


def tagged_parts(content: bytes, starts: Sequence[int]) -> list[bytes]:
    """The tagged PDF ``content`` cut before each page index of ``starts`` (the first is 0):
    each part's bytes. ``TaggedSplitError`` where an element spans two parts."""
    import pikepdf  # imported when needed: it takes 15 MB

    with pikepdf.Pdf.open(io.BytesIO(content)) as whole:
        count = len(whole.pages)
        ends = [*starts[1:], count]
        part_of_page = {
            whole.pages[index].obj.objgen: number
            for number, (start, end) in enumerate(zip(starts, ends, strict=True))
            for index in range(start, end)
        }
        kept: list[list[tuple[int, int]]] = [[] for _ in starts]
        for kid in _array(_holder(whole).get("/K")):
            parts = {part_of_page[page] for page in _pages_of(kid) if page in part_of_page}
            if len(parts) > 1:
                msg = f"a structure element ({kid.get('/S')}) is on the pages of {len(parts)} parts"
                raise TaggedSplitError(msg)
            if parts:  # (an element marking nothing, like the block's bookmark headings, is left out)
                kept[parts.pop()].append(kid.objgen)
    return [_part(content, start, end, elements) for start, end, elements in zip(starts, ends, kept, strict=True)]


def _part(content: bytes, start: int, end: int, kept: list[tuple[int, int]]) -> bytes:
    """Pages ``start`` .. ``end`` of ``content`` with the top-level elements ``kept`` (by
    object number and generation, as in the whole file)."""
    import pikepdf

    with pikepdf.Pdf.open(io.BytesIO(content)) as pdf:
        root = pdf.Root.StructTreeRoot
        holder = _holder(pdf)
        holder.K = pikepdf.Array([pdf.get_object(objgen) for objgen in kept])
        for index in [*range(len(pdf.pages) - 1, end - 1, -1), *range(start - 1, -1, -1)]:
            del pdf.pages[index]
        keys = set()
        for page in pdf.pages:
            if "/StructParents" in page.obj:
                keys.add(int(page.obj.StructParents))
            for annotation in page.obj.get("/Annots", []):
                if "/StructParent" in annotation:
                    keys.add(int(annotation.StructParent))
        entries = [(key, value) for key, value in _tree(root.ParentTree, "/Nums") if key in keys]
        root.ParentTree = pdf.make_indirect(
            pikepdf.Dictionary(Nums=pikepdf.Array([item for key, value in entries for item in (key, value)]))
        )
        if "/IDTree" in root:
            elements = set(_elements(holder))
            names = [(name, value) for name, value in _tree(root.IDTree, "/Names") if value.objgen in elements]
            root.IDTree = pdf.make_indirect(
                pikepdf.Dictionary(Names=pikepdf.Array([item for name, value in names for item in (name, value)]))
            )
        for key in ("/Outlines", "/PageMode"):
            if key in pdf.Root:
                del pdf.Root[key]
        del pdf.trailer["/ID"]  # the block's: each part gets its own, from its content
        count_pages_in_metadata(pdf)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True, fix_metadata_version=False)
        return out.getvalue()


def count_pages_in_metadata(pdf: Any) -> None:
    """Make the XMP metadata of ``pdf`` (an open ``pikepdf.Pdf``) say its own page count
    (``xmpTPg:NPages``): a part of a longer PDF has fewer pages than the metadata it came with."""
    metadata = pdf.Root.get("/Metadata")
    if metadata is None:
        return
    xmp = metadata.read_bytes()
    counted = xmp_with_page_count(xmp, len(pdf.pages))
    if counted != xmp:
        metadata.write(counted)


def _holder(pdf: Any) -> Any:
    """What holds the top-level elements: the one document element Typst writes, else the root."""
    root = pdf.Root.StructTreeRoot
    kids = _array(root.get("/K"))
    return kids[0] if len(kids) == 1 and kids[0].get("/S") == "/Document" else root


def _is_array(value: Any) -> bool:
    import pikepdf

    return isinstance(value, pikepdf.Array)


def _array(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if _is_array(value) else [value]


def _pages_of(element: Any) -> Iterator[tuple[int, int]]:
    """The pages (object number and generation) that ``element`` and what it holds mark content on."""
    import pikepdf

    todo = [element]
    while todo:
        item = todo.pop()
        if not isinstance(item, pikepdf.Dictionary):
            continue
        if "/Pg" in item:
            yield item.Pg.objgen
        todo.extend(_array(item.get("/K")))


def _elements(holder: Any) -> Iterator[tuple[int, int]]:
    """Every structure element below ``holder`` (object number and generation)."""
    import pikepdf

    todo = _array(holder.get("/K"))
    while todo:
        item = todo.pop()
        if isinstance(item, pikepdf.Dictionary) and item.is_indirect:
            yield item.objgen
            todo.extend(_array(item.get("/K")))


def _tree(node: Any, kind: str) -> Iterator[tuple[Any, Any]]:
    """The pairs of a number tree (``/Nums``) or name tree (``/Names``), in order."""
    if kind in node:
        items = list(node[kind])
        for key, value in zip(items[::2], items[1::2], strict=True):
            yield (int(key) if kind == "/Nums" else key), value
    for kid in node.get("/Kids", []):
        yield from _tree(kid, kind)
