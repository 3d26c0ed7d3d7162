"""Resolve styles: the theme's, the named ones, the bands' and elements' own settings, and the
per-instance choices (zebra stripes, conditional styles) that Polars computes.

A band or element whose look varies per instance gets a ``Switch``: a Polars expression giving
the index of its look as a string ("0", "1", ...), carried to Typst as a hidden cell; Typst
picks among looks written out in advance, so no style is computed per row in Typst.

    >>> from polarreports.definition.styles import Style
    >>> Look.of(Style(bold=True, color="#222222")).then(Look.of(Style(color="#b00020"))).color
    '#b00020'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import polars as pl

from polarreports.definition.report import Band, Report
from polarreports.definition.styles import SHIPPED_FONTS, ConditionalStyle, Style
from polarreports.definition.themes import theme_styles, zebra_color, zebra_default
from polarreports.plan.expressions import ROW_INDEX
from polarreports.suggest import closest

__all__ = ["BandStyling", "Look", "StyleResolver", "Switch"]

LINE_STROKE = "0.5pt"
"""A band's ``line_above``/``line_below``: 0.5pt in the default grey (``luma(110)``)."""


@dataclass(frozen=True)
class Look:
    """Resolved settings; None (or no border side) means "not set here"."""

    font: str | None = None
    size: float | None = None
    bold: bool | None = None
    italic: bool | None = None
    color: str | None = None
    fill: str | None = None
    border: tuple[tuple[str, str], ...] = ()
    """(side, stroke) pairs, such as ("bottom", "0.5pt #888888")."""
    padding: str | None = None

    @staticmethod
    def of(style: Style) -> Look:
        border = tuple(sorted((style.border or {}).items()))
        return Look(style.font, style.size, style.bold, style.italic, style.color, style.fill, border, style.padding)

    def then(self, other: Look) -> Look:
        """This look with ``other``'s settings on top."""
        changes: dict[str, Any] = {
            f.name: getattr(other, f.name) for f in fields(other) if getattr(other, f.name) is not None
        }
        changes["border"] = tuple(sorted({**dict(self.border), **dict(other.border)}.items()))
        return replace(self, **changes)

    @property
    def text(self) -> Look:
        """Only the text settings."""
        return Look(self.font, self.size, self.bold, self.italic, self.color)

    @property
    def box(self) -> Look:
        """Only the box settings."""
        return Look(fill=self.fill, border=self.border, padding=self.padding)


@dataclass(frozen=True)
class Switch:
    """A per-instance choice among ``looks``: ``value`` gives the chosen index as a string."""

    value: pl.Expr
    looks: tuple[Look, ...]


@dataclass(frozen=True)
class BandStyling:
    """How a band and its elements look; the cells' looks follow ``BandPlan.cells``."""

    band: Look
    band_switch: Switch | None
    elements: tuple[Look, ...]
    """Per cell: the element's look (its style and own settings, without the band's)."""
    element_switches: tuple[Switch | None, ...]
    conditions: tuple[tuple[str, pl.Expr], ...] = ()
    """Every ``when``, by where it is, for the type check (it must be true or false)."""
    logo: tuple[str, bytes] | None = None
    """The theme's logo, when this band shows it: our asset name and its bytes (read at plan time)."""

    @property
    def switches(self) -> tuple[Switch, ...]:
        """The hidden cells, in order: the band's, then its elements'."""
        found = [self.band_switch, *self.element_switches]
        return tuple(switch for switch in found if switch is not None)


def _own_band_look(band: Band) -> Look:
    border = []
    if band.line_above:
        border.append(("top", LINE_STROKE))
    if band.line_below:
        border.append(("bottom", LINE_STROKE))
    return Look(fill=band.fill, padding=band.padding, border=tuple(border))


def _own_element_look(element: Any) -> Look:
    return Look(size=element.size, bold=element.bold, italic=element.italic, color=element.color)


def _slot(kind: str, level: int) -> str:
    return f"group_header_{min(level, 2)}" if kind == "group_header" else kind


class StyleResolver:
    """Resolves the styles of one report; problems go to ``issue`` (collected into a PlanError)."""

    def __init__(
        self,
        report: Report,
        issue: Callable[[str], None],
        logo: tuple[str, bytes] | None = None,
        families: Sequence[str] = (),
    ) -> None:
        self.report = report
        self.issue = issue
        self.logo = logo
        """The theme's logo, already read (``plan.images.logo_image``)."""
        self.families = list(dict.fromkeys(families))
        """The families of the report's own fonts (``font_dirs``), besides the shipped ones."""
        self.own_fonts: dict[str, str] = {}
        """Each family of the report's own a style uses -> where (``styles.brand.font``)."""
        self.theme = theme_styles(report.theme)
        self.named: dict[str, Look | None] = {}
        for name in report.styles:
            self._named(name, ())

    def _named(self, name: str, chain: tuple[str, ...]) -> Look | None:
        """The look of named style ``name``, with what it extends (None if broken)."""
        if name in self.named:
            return self.named[name]
        style = self.report.styles[name]
        where = f"styles.{name}"
        look: Look | None = Look.of(style)
        own = {family.casefold() for family in self.families}
        if style.font is not None and style.font not in SHIPPED_FONTS and style.font.casefold() not in own:
            known = [*SHIPPED_FONTS, *self.families]
            ours = f"; in font_dirs: {', '.join(self.families)}" if self.families else ""
            self.issue(
                f"{where}.font: unknown font {style.font!r}{closest(style.font, known)} "
                f"(the fonts that ship with polarreports: {', '.join(SHIPPED_FONTS)}{ours})"
            )
            look = None
        elif style.font is not None and style.font.casefold() in own:
            self.own_fonts.setdefault(style.font, f"{where}.font")
        if style.extends is not None:
            if style.extends in (*chain, name):
                self.issue(f"{where}.extends: styles extend each other in a circle: {' -> '.join((*chain, name))}")
                look = None
            elif style.extends not in self.report.styles:
                self._unknown(f"{where}.extends", style.extends)
                look = None
            else:
                parent = self._named(style.extends, (*chain, name))
                look = None if parent is None or look is None else parent.then(look)
        self.named[name] = look
        return look

    def _unknown(self, where: str, name: str) -> None:
        names = list(self.report.styles)
        hint = closest(name, names)
        known = f" (styles: {', '.join(names)})" if names else " (the report defines no styles)"
        self.issue(f"{where}: unknown style {name!r}{hint}{known}")

    def look(self, name: str | None, where: str) -> Look:
        """The named style's look, or an empty one (and an issue) if there is no such style."""
        if name is None:
            return Look()
        if name not in self.report.styles:
            self._unknown(where, name)
            return Look()
        return self.named.get(name) or Look()

    def band(
        self,
        kind: str,
        name: str,
        band: Band,
        level: int,
        cells: Sequence[Any],
        compile_when: Callable[[Any, str], pl.Expr | None],
        zebra_keys: list[str] | None,
    ) -> BandStyling:
        """The styling of one band; ``cells`` are its planned cells (``element`` and ``where``),
        ``compile_when`` turns a ``when`` into an expression in the band's scope, and
        ``zebra_keys`` are the columns within which stripes restart (detail band only)."""
        theme = self.theme.get(_slot(kind, level))
        base = (Look.of(theme) if theme else Look()).then(self.look(band.style, f"{name}.style"))
        base = base.then(_own_band_look(band))
        conditions: list[tuple[str, pl.Expr]] = []
        zebra = band.zebra if band.zebra is not None else (kind == "detail" and zebra_default(self.report.theme))
        if zebra and kind != "detail":
            self.issue(f"{name}.zebra: only the detail band can be striped")
            zebra = False
        stripe = zebra if isinstance(zebra, str) else zebra_color(self.report.theme) if zebra else None
        band_switch = self._switch(band.conditional_styles, f"{name}.conditional_styles", compile_when)
        index, extra = (band_switch[0], band_switch[2]) if band_switch else (pl.lit(0, dtype=pl.Int32), (Look(),))
        if band_switch is not None:
            conditions.extend(band_switch[1])
        switch = None
        if stripe is not None and zebra_keys is not None:
            if zebra_keys or band.print_when is not None:
                parity = pl.int_range(pl.len(), dtype=pl.Int32) % 2  # among the rows shown
                if zebra_keys:
                    parity = parity.over(zebra_keys)
            else:  # every row shows: its number tells its stripe, and reads no other row
                parity = (pl.col(ROW_INDEX) % 2).cast(pl.Int32)
            # index 2i: condition i on a plain row; 2i + 1: on a striped row (a conditional fill wins)
            striped = base.then(Look(fill=stripe))
            looks = tuple(look for each in extra for look in (base.then(each), striped.then(each)))
            switch = Switch((index * 2 + parity).cast(pl.String), looks)
        elif band_switch is not None:
            switch = Switch(index.cast(pl.String), tuple(base.then(each) for each in extra))
        element_looks: list[Look] = []
        element_switches: list[Switch | None] = []
        for cell in cells:
            element = cell.element
            look = self.look(element.style, f"{cell.where}.style").then(_own_element_look(element))
            element_looks.append(look)
            found = self._switch(element.conditional_styles, f"{cell.where}.conditional_styles", compile_when)
            if found is None:
                element_switches.append(None)
            else:
                conditions.extend(found[1])
                element_switches.append(Switch(found[0].cast(pl.String), tuple(look.then(each) for each in found[2])))
        logo = self.logo if kind == self._logo_kind() else None
        return BandStyling(base, switch, tuple(element_looks), tuple(element_switches), tuple(conditions), logo)

    def _logo_kind(self) -> str | None:
        bands = self.report.bands
        return "title" if bands.title is not None else "page_header" if bands.page_header is not None else None

    def check_logo(self) -> None:
        if self.report.theme.logo is not None and self._logo_kind() is None:
            self.issue("theme.logo: the report has no title or page header band to show the logo in")

    def _switch(
        self,
        choices: list[ConditionalStyle],
        where: str,
        compile_when: Callable[[Any, str], pl.Expr | None],
    ) -> tuple[pl.Expr, list[tuple[str, pl.Expr]], tuple[Look, ...]] | None:
        """The index of the first true condition (1-based; 0: none), the conditions, and the
        conditional styles' looks (index 0: no style)."""
        if not choices:
            return None
        index: Any = pl
        conditions = []
        looks = [Look()]
        for i, choice in enumerate(choices):
            at = f"{where}[{i}]"
            looks.append(self.look(choice.style, f"{at}.style"))
            when = compile_when(choice.when, f"{at}.when")
            if when is None:
                continue
            conditions.append((f"{at}.when", when))
            index = index.when(when.fill_null(value=False)).then(pl.lit(i + 1, dtype=pl.Int32))
        if not conditions:
            return None
        return index.otherwise(pl.lit(0, dtype=pl.Int32)), conditions, tuple(looks)


def detail_stripe(report: Report) -> str | None:
    """The colour of the detail band's zebra stripes (its ``zebra``, else the theme's), or None.

    >>> detail_stripe(Report(name="r", bands={"detail": {"zebra": "#eeeeee"}}))
    '#eeeeee'
    >>> detail_stripe(Report(name="r")) is None
    True
    """
    detail = report.bands.detail
    zebra = detail.zebra if detail is not None and detail.zebra is not None else zebra_default(report.theme)
    return zebra if isinstance(zebra, str) else zebra_color(report.theme) if zebra else None
