"""Translated texts: the definition's labels and titles looked up in gettext message catalogs.

A report with ``translations`` has its texts translated into its ``locale`` before it is
planned, so every output (PDF, PNG, SVG, HTML) and every measurement sees the same translated
text, and the text still reaches Typst only through the one escaping path. As with gettext's
``_("Total")``, a text is its own message id. Catalogs are ``.mo`` files (or ``.po`` files,
compiled in memory, fuzzy entries left out) at ``<dir>/<language>/LC_MESSAGES/<domain>.mo``,
read with Babel (``babel.support.Translations``), for the locale (``de_AT``, then ``de``), then
for the ``fallback`` language; a text none of them has is shown as written, with a warning.

    >>> from polarreports.definition.report import Report, Translations
    >>> from polarreports.definition.report import Band, Bands
    >>> from polarreports.definition.elements import Label
    >>> report = Report(name="r", bands=Bands(summary=Band(elements=[Label(text="Total")])))
    >>> [(m.id, m.locations) for m in extract_messages(report) if m.id]
    [('Total', [('bands.summary.elements[0]', 0)])]
    >>> settings = Translations(dirs=["/nonexistent"])
    >>> translated, warnings = translate_report(report.model_copy(update={"translations": settings}))
    >>> translated.bands.summary.elements[0].text, warnings
    ('Total', [])
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from polarreports.definition.elements import Aggregate, Chart, Crosstab, Expression, Field, Label, PageNumber
from polarreports.definition.report import Band, Report
from polarreports.exceptions import AccessError, DataError, PlanError
from polarreports.resources import CATALOG, read_confined

__all__ = ["MAX_LISTED", "extract_messages", "rewrite_texts", "text_direction", "translate_report"]

MAX_LISTED = 10
"""The most missing messages named one by one in the warnings (the rest are counted)."""

R = TypeVar("R", bound=Report)
Rewrite = Callable[[str, str, str | None], str]
"""``(text, where, msgctxt) -> text``: what a walk over the definition's texts does with each one."""


def _element(element: Any, where: str, rewrite: Rewrite) -> Any:
    names: tuple[str, ...] = ()
    if isinstance(element, Label | PageNumber):
        names = ("text",)
    elif isinstance(element, Field | Expression | Aggregate):
        names = ("null_text",)
    elif isinstance(element, Chart):
        names = ("caption", "alt")
    elif isinstance(element, Crosstab):
        names = ("total_label",)
    context = element.msgctxt
    update: dict[str, Any] = {
        name: rewrite(getattr(element, name), where, context) for name in names if getattr(element, name)
    }
    if isinstance(element, Crosstab):  # its measures' column labels
        measures = {
            name: measure.model_copy(update={"label": rewrite(measure.label, f"{where}.measures.{name}", context)})
            if measure.label
            else measure
            for name, measure in element.measures.items()
        }
        update["measures"] = measures
        for axis in ("rows", "columns"):  # a dimension's heading and the text of its null value
            update[axis] = [
                _dimension(d, f"{where}.{axis}[{k}]", context, rewrite) for k, d in enumerate(getattr(element, axis))
            ]
    return element.model_copy(update=update) if update else element


def _dimension(dimension: Any, where: str, context: str | None, rewrite: Rewrite) -> Any:
    names = [name for name in ("label", "null_text") if getattr(dimension, name)]
    return dimension.model_copy(update={name: rewrite(getattr(dimension, name), where, context) for name in names})


def _band(band: Band | None, where: str, rewrite: Rewrite) -> Band | None:
    if band is None:
        return None
    elements = [_element(e, f"{where}.elements[{i}]", rewrite) for i, e in enumerate(band.elements)]
    return band.model_copy(update={"elements": elements})


def rewrite_texts(report: R, rewrite: Rewrite) -> R:
    """``report`` with each of its texts passed through ``rewrite(text, where, msgctxt)``: the
    title, a contents page's title, labels, page numbers, null texts, chart captions and alt
    texts, crosstabs' total labels, measure and dimension labels and null texts (with their element's
    ``msgctxt``), and the "(continued)" of groups that reprint their header. Empty texts are
    left alone.

    >>> report = Report(name="r", title="Sales")
    >>> rewrite_texts(report, lambda text, where, context: f"{where}={text.upper()}").title
    'title=SALES'
    """
    update: dict[str, Any] = {}
    if report.title:
        update["title"] = rewrite(report.title, "title", None)
    if report.table_of_contents:
        contents = "Contents" if report.table_of_contents is True else str(report.table_of_contents)
        update["table_of_contents"] = rewrite(contents, "table_of_contents", None)
    kinds = type(report.bands).model_fields
    bands = {name: _band(getattr(report.bands, name), f"bands.{name}", rewrite) for name in kinds}
    update["bands"] = report.bands.model_copy(update=bands)
    groups = []
    for i, group in enumerate(report.groups):
        where = f"groups[{i}]"
        change: dict[str, Any] = {
            "header": _band(group.header, f"{where}.header", rewrite),
            "footer": _band(group.footer, f"{where}.footer", rewrite),
        }
        if group.reprint_header and group.continued_text:
            change["continued_text"] = rewrite(group.continued_text, f"{where}.continued_text", None)
        groups.append(group.model_copy(update=change))
    update["groups"] = groups
    return report.model_copy(update=update)


def extract_messages(report: Report) -> Catalog:
    """A Babel catalog of the texts of ``report`` to translate (for a ``.pot`` file), each with
    where it is used."""
    catalog = Catalog(project=report.name, domain=report.translations.domain if report.translations else None)

    def add(text: str, where: str, context: str | None) -> str:
        found = catalog.get(text, context)
        locations = [*(found.locations if found is not None else []), (where, 0)]
        catalog.add(text, locations=locations, context=context)
        return text

    rewrite_texts(report, add)
    return catalog


class _Recorder(NullTranslations):
    """The end of a chain of catalogs: records the messages none of them had."""

    def __init__(self) -> None:
        super().__init__()
        self.missing: list[tuple[str, str | None]] = []

    def _record(self, message: str, context: str | None) -> None:
        if (message, context) not in self.missing:
            self.missing.append((message, context))

    def gettext(self, message: str) -> str:
        self._record(message, None)
        return str(NullTranslations.gettext(self, message))

    def pgettext(self, context: str, message: str) -> str:
        self._record(message, context)
        return str(NullTranslations.pgettext(self, context, message))


def _languages(locale: Locale) -> list[str]:
    """The catalog folder names of a locale, most specific first: de_AT, de."""
    names = [str(locale)]
    if locale.script:
        names.append(f"{locale.language}_{locale.script}")
    names.append(locale.language)
    return list(dict.fromkeys(names))


def _read(path: Path, where: str, dirs: list[Path]) -> bytes | None:
    """The bytes of a catalog file, read like every file a definition names
    (``resources.read_confined``): inside one of ``dirs`` after resolving ``..`` and symlinks, a
    regular file of at most ``MAX_FILE_BYTES``, opened without following links. None when there
    is no such file (or it cannot be read)."""
    try:
        return read_confined(path, str(path), where, dirs, CATALOG)
    except AccessError:
        raise
    except DataError:  # missing or unreadable: the warnings then say what is not translated
        return None


def _parse(data: bytes, path: Path, domain: str) -> Translations:
    try:
        if path.suffix == ".po":
            catalog = read_po(io.BytesIO(data), domain=domain)
            buffer = io.BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            data = buffer.getvalue()
        return Translations(io.BytesIO(data), domain=domain)
    except Exception as error:  # a broken catalog, whatever the parser raises
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        msg = f"translations: the catalog {str(path)!r} cannot be read: {reason}"
        raise PlanError([msg]) from None


def _catalogs(report: Report, languages: list[str], base_dir: Path) -> list[tuple[str, Translations]]:
    """The catalogs found for ``languages``, in order: (language, catalog)."""
    settings = report.translations
    assert settings is not None
    found = []
    for language in languages:
        for i, folder in enumerate(settings.dirs):
            root = (base_dir / folder).resolve()
            for suffix in (".mo", ".po"):
                path = root / language / "LC_MESSAGES" / f"{settings.domain}{suffix}"
                data = _read(path, f"translations.dirs[{i}]", [root])
                if data is not None:
                    found.append((language, _parse(data, path, settings.domain)))
                    break
    return found


def _chain(catalogs: list[tuple[str, Translations]], end: NullTranslations) -> NullTranslations:
    if not catalogs:
        return end
    first = catalogs[0][1]
    for _, catalog in catalogs[1:]:
        first.add_fallback(catalog)
    first.add_fallback(end)
    return first


def translate_report(report: R, base_dir: Path | None = None) -> tuple[R, list[str]]:
    """``report`` with its texts translated into its locale, and the warnings about texts left
    untranslated (a ``PlanError`` instead with ``missing: error``). A report without
    ``translations`` (or with a locale Babel does not know: the plan reports that) is returned
    as it is. Catalog folders are relative to ``base_dir`` (default: the working directory)."""
    settings = report.translations
    if settings is None:
        return report, []
    try:
        locale = Locale.parse(report.locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return report, []
    base = base_dir or Path.cwd()
    own = _catalogs(report, _languages(locale), base)
    fallback: list[tuple[str, Translations]] = []
    if settings.fallback:
        try:
            fallback_locale = Locale.parse(settings.fallback.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            msg = f"translations.fallback: {settings.fallback!r} is not a language Babel knows (such as 'en' or 'de')"
            raise PlanError([msg]) from None
        names = [name for name in _languages(fallback_locale) if name not in _languages(locale)]
        fallback = _catalogs(report, names, base)
    untranslated = _Recorder()
    unknown = _Recorder()
    untranslated.add_fallback(_chain(fallback, unknown))
    chain = _chain(own, untranslated)

    def translate(text: str, where: str, context: str | None) -> str:
        return str(chain.gettext(text) if context is None else chain.pgettext(context, text))

    translated = rewrite_texts(report, translate)
    if settings.source_language and locale.language == settings.source_language.lower():
        return translated, []
    language = str(locale)
    if not own:
        folders = ", ".join(settings.dirs) or "(no folder)"
        problems = [
            f"translations: no {language!r} catalog named {settings.domain!r} in {folders}; "
            "the texts are shown " + ("from the fallback" if fallback else "as written")
        ]
    else:
        problems = [
            f"translations: no {language!r} translation of {text!r}"
            + ("" if context is None else f" (msgctxt {context!r})")
            + "; shown "
            + ("as written" if (text, context) in unknown.missing else f"in {settings.fallback!r}")
            for text, context in untranslated.missing[:MAX_LISTED]
        ]
        if len(untranslated.missing) > MAX_LISTED:
            more = len(untranslated.missing) - MAX_LISTED
            problems.append(f"translations: and {more} more texts without a {language!r} translation")
    if problems and settings.missing == "error":
        hint = "\nHint: add them to the catalog, or set translations.missing: warn."
        raise PlanError([*problems[:-1], problems[-1] + hint])
    return translated, problems


def text_direction(locale: str) -> str:
    """The direction the locale's script is written in, from Babel's CLDR data: ``rtl`` or
    ``ltr`` (also for a locale Babel does not know).

    >>> text_direction("he_IL"), text_direction("ar"), text_direction("de_DE"), text_direction("xx")
    ('rtl', 'rtl', 'ltr', 'ltr')
    """
    try:
        return "rtl" if Locale.parse(locale.replace("-", "_")).text_direction == "rtl" else "ltr"
    except (UnknownLocaleError, ValueError, TypeError):
        return "ltr"
