"""Rows from a database: a SQL query run through a well-kept connector, its ``:name``
placeholders bound to the report's parameters, never pasted into the SQL.

- ``postgresql://`` (or ``postgres://``): ADBC's PostgreSQL driver (libpq inside the wheel);
  placeholders become ``$1, $2, ...``.
- ``sqlite:///path.db``: ADBC's SQLite driver, the file opened read-only; ``?`` placeholders.
- ``duckdb:`` (in memory) or ``duckdb:///path.duckdb`` (read-only): DuckDB, for a query over
  files (``read_parquet('/data/sales/*.parquet')``), which may read only inside the allowed
  folders (``allowed_directories``, external access off, the configuration locked). DuckDB checks
  a file name as written: name files by absolute paths, or by relative ones when the working
  directory is inside the allowed folders (they are then looked up in the first folder, then
  in the working directory).

ADBC was chosen over connectorx because it binds parameters (connectorx takes only a finished
SQL string). The result arrives as Arrow record batches, written to a temporary file as they
come and scanned lazily (``spill``): a large result is never whole in memory, and the query
runs once however many passes the report makes over its rows. The connection runs in a
transaction that is never committed, so a query that writes changes nothing (and a statement
that is no query, such as ``DELETE``, is refused before it runs). Files (the SQLite or DuckDB
file) must lie inside ``dirs``.

Credentials never come from a definition: ``${NAME}`` in a URI is read from the environment
at render time (``postgresql://app:${PGPASSWORD}@db/shop``), and libpq also reads ``PGPASSWORD``
itself. Every error message has each such value, and the resolved URI, replaced by its
placeholder form before it is raised; nothing here logs a URI.

    >>> bind("SELECT * FROM t WHERE a = :a AND b::text = ':b' AND c = :a", "$")
    ("SELECT * FROM t WHERE a = $1 AND b::text = ':b' AND c = $2", ['a', 'a'])
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import polars as pl

from polarreports.compute.spill import BATCH_ROWS, spilled
from polarreports.exceptions import AccessError, DataError
from polarreports.resources import DATABASE, confined_path
from polarreports.suggest import closest

__all__ = ["bind", "is_uri", "read_database", "resolve_placeholders"]

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TOKENS = re.compile(
    r"""'(?:[^']|'')*'"""  # a string literal
    r'''|"(?:[^"]|"")*"'''  # a quoted identifier
    r"|--[^\n]*"  # a line comment
    r"|/\*.*?\*/"  # a block comment
    r"|\$(?P<tag>[A-Za-z_]*)\$.*?\$(?P=tag)\$"  # a PostgreSQL dollar-quoted string
    r"|::"  # a PostgreSQL cast
    r"|:(?P<name>[A-Za-z_][A-Za-z0-9_]*)",  # a placeholder
    re.DOTALL,
)


def is_uri(text: str) -> bool:
    """Whether ``text`` names a database rather than a file.

    >>> is_uri("postgresql://db/shop"), is_uri("duckdb:"), is_uri("sales.parquet")
    (True, True, False)
    """
    return text.split(":", 1)[0].lower() in ("postgresql", "postgres", "sqlite", "duckdb") and ":" in text


def bind(query: str, style: str) -> tuple[str, list[str]]:
    """``query`` with each ``:name`` (outside strings, identifiers, comments and ``::`` casts)
    replaced by the driver's placeholder (``$`` gives ``$1, $2, ...``; ``?`` gives ``?``), and
    the names in order."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name is None:
            return match.group(0)
        names.append(name)
        return f"${len(names)}" if style == "$" else "?"

    return _TOKENS.sub(replace, query), names


def resolve_placeholders(uri: str, environ: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """``uri`` with each ``${NAME}`` read from the environment, and the values put in (the
    secrets every message must hide); a ``DataError`` names a variable that is not set."""
    environ = os.environ if environ is None else environ
    secrets: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            msg = f"source.uri: the environment variable {name} is not set.\nHint: export {name}=... before rendering."
            raise DataError(msg)
        secrets.append(environ[name])
        return environ[name]

    return _PLACEHOLDER.sub(value, uri), [s for s in secrets if s]


def _hidden(text: str, uri: str, resolved: str, secrets: Sequence[str]) -> str:
    """``text`` with the resolved URI and every secret replaced by their placeholder form."""
    text = text.replace(resolved, uri)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _values(names: list[str], parameters: Mapping[str, Any]) -> list[Any]:
    for name in names:
        if name not in parameters:
            msg = (
                f"source.query: :{name} is not a parameter of the report{closest(name, list(parameters))}.\n"
                "Hint: declare it under parameters, or write a literal value."
            )
            raise DataError(msg)
    return [parameters[name] for name in names]


def _confined(text: str, dirs: Sequence[Path]) -> Path:
    """The file a URI names, relative to the first allowed folder, which must lie inside one
    (the rule of every file a definition names: :func:`polarreports.resources.confined_path`)."""
    name = unquote(text)
    return confined_path(dirs[0] / name if dirs else Path(name), name, "source.uri", dirs, DATABASE)


def _file_part(uri: str) -> str:
    """The path of ``sqlite:///x.db`` or ``duckdb:///x.duckdb`` ("" for ``duckdb:``)."""
    rest = uri.split(":", 1)[1]
    return rest[3:] if rest.startswith("///") else rest.removeprefix("//")


def _bound(values: list[Any]) -> dict[str, Any] | None:
    """The ``execute_options`` that bind ``values`` to an ADBC cursor's placeholders."""
    return {"parameters": values} if values else None


def _postgres(resolved: str, query: str, values: list[Any]) -> pl.LazyFrame:
    import adbc_driver_postgresql.dbapi as postgres

    with postgres.connect(resolved) as connection, connection.cursor() as cursor:
        cursor.execute(query, values or None)
        return spilled(cursor.fetch_record_batch())


def _sqlite(path: Path, query: str, values: list[Any]) -> pl.LazyFrame:
    import adbc_driver_sqlite.dbapi as sqlite

    with sqlite.connect(f"file:{path}?mode=ro") as connection, connection.cursor() as cursor:
        cursor.execute(query, values or None)
        return spilled(cursor.fetch_record_batch())


def _duckdb(path: Path | None, query: str, values: list[Any], dirs: Sequence[Path]) -> pl.LazyFrame:
    import duckdb

    allowed = [f"{folder}/" for folder in dirs]
    if any(Path.cwd().resolve().is_relative_to(folder) for folder in dirs):
        allowed.append("./")  # relative names: DuckDB checks them as written, and they resolve inside
    folders = ", ".join("'" + folder.replace("'", "''") + "'" for folder in allowed)
    target = str(path) if path is not None else ":memory:"
    with duckdb.connect(target, read_only=path is not None) as connection:
        connection.execute(f"SET allowed_directories = [{folders}]")  # our folders, quoted as SQL strings
        if dirs:  # relative file names are the first folder's (the definition's), not the working directory's
            first = str(dirs[0]).replace("'", "''")
            connection.execute(f"SET file_search_path = '{first}'")
        connection.execute("SET enable_external_access = false")  # files only inside allowed_directories
        connection.execute("SET lock_configuration = true")  # and the query cannot change that
        return spilled(connection.sql(query, params=values or None).to_arrow_reader(BATCH_ROWS))


_LEADING = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/|\()*", re.DOTALL)
_READS = ("SELECT", "WITH", "VALUES", "TABLE", "FROM")


def _check_reads(query: str) -> None:
    """A ``DataError`` unless ``query`` is a query that reads (it starts, after comments and
    parentheses, with one of ``_READS``): a definition's source is no place for a statement.

    >>> _check_reads("/* x */ (SELECT 1)")
    >>> _check_reads("DELETE FROM orders")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    polarreports.DataError: source.query: DELETE statements are not queries that read rows; ...
    """
    word = re.match(r"[A-Za-z]*", query[_LEADING.match(query).end() :])  # type: ignore[union-attr]
    first = word.group().upper() if word else ""
    if first not in _READS:
        msg = (
            f"source.query: {first or 'such'} statements are not queries that read rows; "
            f"a source's query starts with {', '.join(_READS[:-1])} or {_READS[-1]}"
        )
        raise DataError(msg)


def read_database(
    uri: str, query: str, parameters: Mapping[str, Any], dirs: Sequence[Path], *, schema_only: bool = False
) -> pl.LazyFrame:
    """The rows of ``query`` at ``uri`` (see the module's docstring); with ``schema_only``, none
    of them (the query wrapped in ``LIMIT 0``), for checking a definition."""
    resolved, secrets = resolve_placeholders(uri)
    scheme = uri.split(":", 1)[0].lower()
    body = query.strip().rstrip(";")
    _check_reads(body)
    if schema_only:
        body = f"SELECT * FROM ({body}) AS polarreports_source LIMIT 0"
    sql, names = bind(body, "$" if scheme in ("postgresql", "postgres") else "?")
    values = _values(names, parameters)
    try:
        if scheme in ("postgresql", "postgres"):
            rows = _postgres(resolved, sql, values)
        elif scheme == "sqlite":
            rows = _sqlite(_confined(_file_part(resolved), dirs), sql, values)
        else:
            part = _file_part(resolved)
            rows = _duckdb(_confined(part, dirs) if part else None, sql, values, dirs)
    except (DataError, AccessError) as error:
        raise type(error)(_hidden(str(error), uri, resolved, secrets)) from None
    except ImportError as error:
        msg = f"source: reading {scheme} data needs {error.name}.\nHint: pip install 'polarreports[databases]'."
        raise DataError(msg) from None
    except Exception as error:  # the drivers' own errors, of many kinds: one line, secrets hidden
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        msg = f"source: cannot read {uri.split(':', 1)[0]} data: {_hidden(first, uri, resolved, secrets)}"
        raise DataError(msg) from None
    return rows
