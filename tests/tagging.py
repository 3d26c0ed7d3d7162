"""Reading a tagged PDF back as a screen reader would (tests' helpers, with pikepdf): the
structure elements in reading order with the text of their marked content, and the checks a
validator makes on the structure tree (veraPDF is not installed: these stand in for its
structure rules)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pikepdf

_BFCHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_BFRANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


def _unicode_map(font: Any) -> dict[int, str]:
    """A Type0 font's codes (2 bytes) -> text, from its ToUnicode CMap."""
    cmap = font.ToUnicode.read_bytes()
    found: dict[int, str] = {}
    for section in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.DOTALL):
        for code, text in _BFCHAR.findall(section):
            found[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for section in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.DOTALL):
        for low, high, text in _BFRANGE.findall(section):
            start = int.from_bytes(bytes.fromhex(text.decode()), "big")
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                found[code] = chr(start + offset)
    return found


def _shown(operands: list[Any], operator: str) -> list[bytes]:
    if operator == "TJ":
        return [bytes(item) for item in operands[0] if isinstance(item, pikepdf.String)]
    return [bytes(operands[-1])]


def page_marked_content(page: pikepdf.Page) -> Iterator[tuple[int, str]]:
    """(MCID, text shown inside it) for each marked-content sequence of the page's content
    stream with an MCID, in stream order (text in nested sequences counts for the innermost)."""
    fonts = {str(name): _unicode_map(font) for name, font in page.Resources.get("/Font", {}).items()}
    properties = page.Resources.get("/Properties", {})
    stack: list[tuple[int | None, list[str]]] = []
    font: dict[int, str] = {}
    for operands, operator in pikepdf.parse_content_stream(page, "BDC BMC EMC Tf Tj TJ ' \""):
        name = str(operator)
        if name in ("BDC", "BMC"):
            found = operands[1] if name == "BDC" else None
            if isinstance(found, pikepdf.Name):
                found = properties.get(str(found))
            mcid = int(found.MCID) if found is not None and "/MCID" in found else None
            stack.append((mcid, []))
        elif name == "EMC":
            mcid, texts = stack.pop()
            if mcid is not None:
                yield mcid, "".join(texts)
        elif name == "Tf":
            font = fonts.get(str(operands[0]), {})
        elif name in ("Tj", "TJ", "'", '"') and stack:
            for string in _shown(list(operands), name):
                codes = [int.from_bytes(string[i : i + 2], "big") for i in range(0, len(string), 2)]
                stack[-1][1].append("".join(font.get(code, "\ufffd") for code in codes))


Content = list[tuple[int, int, str]]
"""(page, MCID, text) of every marked-content sequence of a document, in order."""


def content(pdf: pikepdf.Pdf) -> Content:
    """The marked content of ``pdf`` (reading it is the slow part: pass it on)."""
    return [(i, mcid, text) for i, page in enumerate(pdf.pages) for mcid, text in page_marked_content(page)]


def _marked(marked_content: Content) -> dict[tuple[int, int], str]:
    """(page, MCID) -> text, for the whole document."""
    found: dict[tuple[int, int], str] = {}
    for index, mcid, text in marked_content:
        found[index, mcid] = found.get((index, mcid), "") + text
    return found


def _page_of(pdf: pikepdf.Pdf) -> dict[tuple[int, int], int]:
    return {page.obj.objgen: i for i, page in enumerate(pdf.pages)}


def _children(element: Any) -> list[Any]:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _walk(pdf: pikepdf.Pdf) -> Iterator[tuple[Any, list[Any]]]:
    """Every structure element, depth first in reading order, with its own content items:
    (page, MCID) pairs, and annotations (``("annotation", objgen)``)."""
    pages = _page_of(pdf)
    todo = list(reversed(_children(pdf.Root.StructTreeRoot)))
    while todo:
        element = todo.pop()
        page = pages.get(element.Pg.objgen) if "/Pg" in element else None
        items: list[Any] = []
        children = []
        for kid in _children(element):
            if isinstance(kid, int):
                items.append((page, kid))
            elif kid.get("/Type") == pikepdf.Name.MCR:
                items.append((pages.get(kid.Pg.objgen) if "/Pg" in kid else page, int(kid.MCID)))
            elif kid.get("/Type") == pikepdf.Name.OBJR:
                items.append(("annotation", kid.Obj.objgen))
            else:
                children.append(kid)
        yield element, items
        todo.extend(reversed(children))


def reading(pdf: pikepdf.Pdf, marked_content: Content | None = None) -> list[tuple[str, str]]:
    """Each structure element's type and the text of its own marked content, in reading order:
    what a screen reader goes through."""
    marked = _marked(content(pdf) if marked_content is None else marked_content)
    found = []
    for element, items in _walk(pdf):
        text = "".join("[annotation]" if item[0] == "annotation" else marked.get(item, "") for item in items)
        found.append((str(element.S), text))
    return found


def structure_problems(pdf: pikepdf.Pdf, marked_content: Content | None = None) -> list[str]:
    """What is wrong with the structure tree of ``pdf``: marked content referred to from the tree
    not exactly once, parent-tree keys that are not unique or do not lead back to their page's
    elements, IDs that do not resolve."""
    problems = []
    root = pdf.Root.StructTreeRoot
    marked_content = content(pdf) if marked_content is None else marked_content
    in_content = Counter((index, mcid) for index, mcid, _ in marked_content)
    problems += [
        f"page {p + 1}: MCID {m} appears {n} times in the content" for (p, m), n in in_content.items() if n > 1
    ]
    owners: dict[Any, list[Any]] = {}
    for element, items in _walk(pdf):
        for item in items:
            owners.setdefault(item, []).append(element)
    for item in set(in_content) | {item for item in owners if item[0] != "annotation"}:
        count = len(owners.get(item, []))
        if count != 1 or item not in in_content:
            problems.append(f"page {item[0] + 1} MCID {item[1]}: {count} references, in content: {item in in_content}")
    parents = dict(_number_tree(root.ParentTree))
    keys = Counter()
    for index, page in enumerate(pdf.pages):
        if "/StructParents" not in page.obj:
            continue
        key = int(page.obj.StructParents)
        keys[key] += 1
        entries = parents.get(key)
        mcids = [m for (p, m) in in_content if p == index]
        if entries is None:
            problems.append(f"page {index + 1}: StructParents {key} is not in the ParentTree")
            continue
        for mcid in mcids:
            if mcid >= len(entries) or not any(e.objgen == entries[mcid].objgen for e in owners.get((index, mcid), [])):
                problems.append(f"page {index + 1}: ParentTree[{key}][{mcid}] is not the element of MCID {mcid}")
        for annotation in page.obj.get("/Annots", []):
            if "/StructParent" in annotation:
                key = int(annotation.StructParent)
                keys[key] += 1
                owner = owners.get(("annotation", annotation.objgen), [])
                if key not in parents or [e.objgen for e in owner] != [parents[key].objgen]:
                    problems.append(f"page {index + 1}: annotation's StructParent {key} is not its element")
    problems += [f"StructParents key {key} used {n} times" for key, n in keys.items() if n > 1]
    if keys and int(root.ParentTreeNextKey) <= max(keys):
        problems.append(f"ParentTreeNextKey {int(root.ParentTreeNextKey)} is not past the keys")
    id_entries = [(bytes(k), v) for k, v in _number_tree(root.IDTree, "/Names")] if "/IDTree" in root else []
    ids = dict(id_entries)
    named = [name for name, _ in id_entries]
    if named != sorted(named) or len(set(named)) != len(named):
        problems.append("the IDTree's names are not unique and sorted")
    for element, _ in _walk(pdf):
        if "/ID" in element and ids.get(bytes(element.ID), element).objgen != element.objgen:
            problems.append(f"ID {bytes(element.ID)!r} does not lead to its element")
        for attributes in _children_of(element.get("/A")):
            for header in attributes.get("/Headers", []) if isinstance(attributes, pikepdf.Dictionary) else []:
                if bytes(header) not in ids:
                    problems.append(f"header {bytes(header)!r} is not in the IDTree")
    return problems


def _children_of(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, pikepdf.Array) else [value]


def _number_tree(node: Any, kind: str = "/Nums") -> Iterator[tuple[Any, Any]]:
    if kind in node:
        items = list(node[kind])
        yield from ((int(k) if kind == "/Nums" else k, v) for k, v in zip(items[::2], items[1::2], strict=True))
    for kid in node.get("/Kids", []):
        yield from _number_tree(kid, kind)
