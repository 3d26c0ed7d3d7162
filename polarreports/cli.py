"""The ``polarreports`` command line: render, validate, inspect, messages, schema, init, sample, preview, batch.

    $ polarreports render examples/sales_by_region.yaml --data out/sales.parquet -o out/sales.pdf
    $ polarreports render sales.yaml --data sales.parquet -o sales.pdf -o sales.png --pdf-standard a-3b --attach data
    $ polarreports preview examples/sales_by_region.yaml --data out/sales.parquet
    $ polarreports validate examples/sales_by_region.yaml --data out/sales.parquet
    $ polarreports inspect examples/sales_by_region.yaml --data out/sales.parquet
    $ polarreports init out/sales.parquet -o my_report.yaml
    $ polarreports messages letter.yaml -o messages.pot

``--quiet`` prints nothing but errors; ``--json`` prints one JSON object on standard output
(what was written, pages, seconds per phase; or the error and the exit status) for scripts.
Both, like ``--debug``, may be given before or after the command.

Every failure prints one line, ``error: ...``, and exits with a status that says what kind it
was: 2 bad input (the definition, the data, a parameter, a wrong option); 3 a limit (the time
limit, the memory budget); 4 the output could not be written (an unwritable folder, a full
disk part way); 1 an unexpected failure (a bug: ``--debug`` shows its traceback). A render stopped by
Ctrl-C (SIGINT) or SIGTERM ends its workers, removes its temporary files and exits with 128 +
the signal's number: 130 or 143.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from polarreports.api import Report, load
from polarreports.control import Progress
from polarreports.exceptions import Cancelled, DataError, OutputError, PolarReportsError, ResourceError, WriteError
from polarreports.output.pdf_options import PdfOptions, Protection
from polarreports.output.progress import counted

try:  # typer >= 0.22 carries its own copy of click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException, NoArgsIsHelpError  # type: ignore[assignment, import-not-found, unused-ignore]

INTERNAL_ERROR = 1
"""The exit status of an unexpected failure (a bug in polarreports): one line, ``--debug`` for more."""
BAD_INPUT = 2
"""The exit status of a polarreports error or a wrong command line."""
LIMIT = 3
"""The exit status of a render stopped by its time limit or memory budget (``Cancelled``,
``ResourceError``)."""
OUTPUT_FAILED = 4
"""The exit status of an output whose writing failed part way (``WriteError``: a full disk); a
destination found wrong before any work is bad input (2)."""


def exit_status(error: PolarReportsError) -> int:
    """The exit status of a polarreports error.

    >>> from polarreports.exceptions import OutputError, PlanError, ResourceError, WriteError
    >>> [exit_status(e) for e in (PlanError(["x"]), OutputError("x"), ResourceError("x"), WriteError("x"))]
    [2, 2, 3, 4]
    """
    if isinstance(error, Cancelled | ResourceError):
        return LIMIT
    if isinstance(error, WriteError):
        return OUTPUT_FAILED
    return BAD_INPUT


_state = {"debug": False, "quiet": False, "json": False}
GLOBAL_FLAGS = ("--debug", "--quiet", "-q", "--json")
"""Options of the program that may also be written after the command (``render ... --json``)."""


def _hoisted(args: Sequence[str]) -> list[str]:
    """``args`` with the program's own flags moved before the command, up to a ``--``.

    >>> _hoisted(["render", "r.yaml", "--json", "--", "--quiet"])
    ['--json', 'render', 'r.yaml', '--', '--quiet']
    """
    args = list(args)
    end = args.index("--") if "--" in args else len(args)
    flags = [a for a in args[:end] if a in GLOBAL_FLAGS]
    return flags + [a for a in args[:end] if a not in GLOBAL_FLAGS] + args[end:]


def _say(text: str, result: dict[str, Any]) -> None:
    """What a command reports when it succeeds: ``text`` for people (not with ``--quiet``),
    or ``result`` as one JSON object with ``--json``."""
    if _state["json"]:
        typer.echo(json.dumps({"ok": True, **result}, ensure_ascii=False, default=str))
    elif not _state["quiet"]:
        typer.echo(text)


def _fail(message: str, status: int) -> None:
    """Report a failure (always on standard error; with ``--json`` also as JSON on standard
    output) and exit with ``status``."""
    typer.echo(f"error: {message}", err=True)
    if _state["json"]:
        typer.echo(json.dumps({"ok": False, "error": message, "exit_status": status}, ensure_ascii=False))
    sys.exit(status)


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Commands(TyperGroup):
    """The command group; its ``main`` is the one place where a failure becomes an exit status:
    a polarreports error or a usage error -> 2 and ``error: ...``; anything else -> 1 and one
    line (its traceback only with ``--debug``). Runs the same under ``CliRunner``."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra)
        _state.update(debug=False, quiet=False, json=False)
        args = _hoisted(sys.argv[1:] if args is None else args)
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except NoArgsIsHelpError as error:
            typer.echo(error.format_message(), err=True)
            sys.exit(error.exit_code)
        except ClickException as error:  # a usage error: an unknown option, a value of the wrong type
            context = getattr(error, "ctx", None)
            hint = f" (see {context.command_path} --help)" if context is not None else ""
            _fail(f"{_one_line(error.format_message())}{hint}", error.exit_code)
        except typer.Abort:
            _fail("aborted", INTERNAL_ERROR)
        except PolarReportsError as error:
            if _state["debug"]:
                raise
            _fail(str(error), exit_status(error))
        except (SystemExit, KeyboardInterrupt, GeneratorExit):
            raise
        except BaseException as error:  # a bug (a Rust panic is a BaseException): one line, no traceback
            if _state["debug"]:
                raise
            first = _one_line(str(error))[:300]
            _fail(
                f"unexpected {type(error).__name__}{': ' + first if first else ''} "
                "(a bug in polarreports; --debug shows the traceback)",
                INTERNAL_ERROR,
            )
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="polarreports",
    cls=_Commands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rich's lists a flag's type as <bool>
)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so that it stops a render the same way."""


@contextlib.contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """Within this block, SIGTERM stops the work as Ctrl-C does (the workers are ended, the
    temporary files removed), once: a second SIGTERM during the clean-up is ignored."""

    def stop(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise _Terminated

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stopped(interrupt: KeyboardInterrupt) -> None:
    """Exit with 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM) and one line."""
    if _state["debug"]:
        raise interrupt
    number = signal.SIGTERM if isinstance(interrupt, _Terminated) else signal.SIGINT
    _fail(f"stopped by {number.name}", 128 + number.value)


def _check_outputs(*paths: Path) -> None:
    """Before any work: each path can be written (its folder is, or can be made, and is writable)."""
    from polarreports.output.document import check_writable

    for path in paths:
        check_writable(path)


def _checked_outputs(outputs: list[Path]) -> None:
    """Before any work: every output's suffix is known, no path is given twice, and each can be
    written."""
    from polarreports.output.document import output_format

    seen: set[Path] = set()
    for output in outputs:
        output_format(output)
        if output.resolve() in seen:
            msg = f"-o {output} is given twice"
            raise OutputError(msg)
        seen.add(output.resolve())
    _check_outputs(*outputs)


def _secret(variable: str, option: str) -> str:
    """The password in environment variable ``variable`` (never on the command line, where
    other users and the shell's history see it); its value never appears in an error."""
    if not variable or "=" in variable:
        msg = f"{option} takes the name of an environment variable, got {variable!r}"
        raise OutputError(msg)
    value = os.environ.get(variable)
    if value is None:
        msg = f"{option} {variable}: the environment variable {variable} is not set"
        raise OutputError(msg)
    if not value:
        msg = f"{option} {variable}: the environment variable {variable} is empty"
        raise OutputError(msg)
    return value


def _split(values: list[str] | None) -> list[str]:
    """Comma-separated values of a repeatable option, as one list: ``data,definition``."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def _pdf_options(
    outputs: list[Path],
    standard: str | None,
    attach: list[str] | None,
    password_env: str | None,
    owner_password_env: str | None,
    allow: list[str] | None,
) -> PdfOptions:
    """The PDF options of the command line, checked (with the passwords read) before any work."""
    protect = None
    if password_env is not None or owner_password_env is not None:
        protect = Protection(
            user_password=_secret(password_env, "--password-env") if password_env is not None else "",
            owner_password=(
                _secret(owner_password_env, "--owner-password-env") if owner_password_env is not None else None
            ),
            allow=tuple(_split(allow)),
        )
    elif allow:
        msg = "--allow sets what a protected PDF allows: give --password-env (or --owner-password-env) too"
        raise OutputError(msg)
    options = PdfOptions.checked(standard, _split(attach), protect)
    if not options.plain and not any(output.suffix.lower() == ".pdf" for output in outputs):
        msg = "--pdf-standard, --attach and --password-env apply to PDF outputs: give a -o with .pdf"
        raise OutputError(msg)
    return options


def _parse_params(values: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            msg = f"--param takes name=value, got {item!r}"
            raise DataError(msg)
        params[name.strip()] = value
    return params


def _parse_sources(values: list[str], report: Report) -> dict[str, Path]:
    """``--source NAME=PATH`` options as ``sources=``: each name one that a subreport reads
    (else an error with the closest), each path a file."""
    from polarreports.plan.expressions import closest
    from polarreports.plan.subreports import source_names

    sources: dict[str, Path] = {}
    named = sorted(source_names(report)) if values else []
    for item in values:
        name, sep, path = (part.strip() for part in item.partition("="))
        if not sep or not name or not path:
            msg = f"--source takes name=path, got {item!r}"
            raise DataError(msg)
        if name in sources:
            msg = f"--source {name}: given twice"
            raise DataError(msg)
        if name not in named:
            known = ", ".join(named) or "none: they read files or queries"
            hint = closest(name, named)
            msg = f"--source {name}: no subreport reads a source {name!r}{hint} (their sources: {known})"
            raise DataError(msg)
        if not Path(path).is_file():
            msg = f"--source {name}={path}: no such file"
            raise DataError(msg)
        sources[name] = Path(path)
    return sources


def _is_file(stream: Any) -> bool:
    """Whether ``stream`` is backed by a file descriptor (a terminal, a pipe, a file)."""
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return False
    return True


@contextlib.contextmanager
def _progress_bar(*, enabled: bool) -> Iterator[Callable[[Progress], None] | None]:
    """A rich progress bar on standard error, fed by the render's progress reports; when standard
    error is a pipe or a file (a scheduler's log), one line per phase instead; none when it is
    neither (an in-memory stream)."""
    if not enabled or not _is_file(sys.stderr):
        yield None
        return
    if not sys.stderr.isatty():
        from polarreports.output.progress import PhaseLines

        yield PhaseLines(sys.stderr)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        TimeElapsedColumn(),
        transient=True,
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task("planning", total=None, unit="")

        def update(event: Progress) -> None:
            unit = counted(event.total, event.unit).split(" ", 1)[1] if event.total else event.unit
            bar.update(task, description=event.phase, completed=event.done, total=event.total, unit=unit)

        yield update


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: a decimal as a number, a date as ISO text."""
    import decimal

    return float(value) if isinstance(value, decimal.Decimal) else value


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("polarreports")
        except PackageNotFoundError:  # pragma: no cover (run from a checkout that is not installed)
            number = "unknown"
        typer.echo(f"polarreports {number}")
        raise typer.Exit


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on standard output (for scripts).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Banded business reports from Polars data, typeset with Typst.

    Exit status: 0 done; 2 bad input (the definition, the data, a parameter, an option); 3 a
    limit (--timeout, --memory-mb); 4 the output could not be written; 130/143 stopped by
    Ctrl-C/SIGTERM; 1 a bug (--debug shows its traceback).
    """
    _state.update(debug=debug, quiet=quiet, json=as_json)


DefinitionArgument = Annotated[Path, typer.Argument(metavar="DEFINITION", help="Report definition (YAML or JSON).")]
DataOption = Annotated[
    str | None,
    typer.Option(
        "--data",
        "-d",
        metavar="PATH|URI",
        help="Parquet, CSV, IPC or NDJSON file, or a database URI (postgresql://..., sqlite:///..., duckdb:) "
        "that the definition's source.query runs at; default: the definition's source.",
    ),
]
ParamOption = Annotated[
    list[str] | None, typer.Option("--param", "-p", metavar="NAME=VALUE", help="A parameter (repeatable).")
]
SourceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--source",
        "-s",
        metavar="NAME=PATH",
        help="The data file of the subreports' source NAME (repeatable), as render(sources={NAME: ...}).",
    ),
]


@app.command()
def render(
    definition: DefinitionArgument,
    output: Annotated[
        list[Path],
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Output file (.pdf, .png, .svg, .html, .xlsx, .parquet, .csv, .json); repeat it for several.",
        ),
    ],
    data: DataOption = None,
    param: ParamOption = None,
    source: SourceOption = None,
    typst: Annotated[
        Path | None,
        typer.Option(
            "--typst", metavar="PATH", help="Also write the Typst source here (.typ), with its data and images."
        ),
    ] = None,
    timeout: Annotated[float | None, typer.Option(metavar="SECONDS", help="Stop after this many seconds.")] = None,
    memory: Annotated[
        float | None, typer.Option("--memory-mb", metavar="MB", help="Memory budget for all processes, MB.")
    ] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    locale: Annotated[
        str | None, typer.Option(help="Render in this locale (de_DE, fr_FR, ...): formats and translated texts.")
    ] = None,
    pdf_standard: Annotated[
        str | None, typer.Option("--pdf-standard", help="Write the PDF as PDF/A: a-2b, a-2u, a-3b or a-3u.")
    ] = None,
    attach: Annotated[
        list[str] | None,
        typer.Option(
            help="Attach to the PDF: data, definition, parameters (comma-separated; PDF/A-3 with a standard)."
        ),
    ] = None,
    password_env: Annotated[
        str | None,
        typer.Option(
            "--password-env",
            help="Encrypt the PDF (AES-256); the password that opens it is in this environment variable.",
        ),
    ] = None,
    owner_password_env: Annotated[
        str | None,
        typer.Option(
            "--owner-password-env",
            help="The password that lifts the PDF's restrictions, in this environment variable (default: none can).",
        ),
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option(help="What the encrypted PDF allows: print, copy, edit (comma-separated; default: nothing)."),
    ] = None,
) -> None:
    """Render a report to PDF, PNG, SVG, HTML, XLSX or data (Parquet, CSV, JSON): once, for every output."""
    from polarreports.api import render as render_report

    started = time.perf_counter()
    show_progress = progress and not _state["quiet"] and not _state["json"]
    with _sigterm_as_ctrl_c(), _progress_bar(enabled=show_progress) as on_progress:
        try:
            _checked_outputs(output)  # every output is checked before any work
            pdf = _pdf_options(output, pdf_standard, attach, password_env, owner_password_env, allow)
            if typst is not None and typst.suffix.lower() == ".json":
                msg = f"--typst {typst}: its data goes to the same path with .json; give a .typ path"
                raise OutputError(msg)
            _check_outputs(*([typst] if typst is not None else []))
            report = load(definition)
            document = render_report(
                report,
                data,
                progress=on_progress,
                timeout=timeout,
                memory_budget_mb=memory,
                locale=locale,
                sources=_parse_sources(source or [], report),
                **_parse_params(param or []),
            )
            sources = document.write_typst(typst) if typst is not None else []
            before_save = time.perf_counter()
            results = []
            for target in output:
                is_pdf = target.suffix.lower() == ".pdf"
                written = (
                    document.save(target, pdf_standard=pdf.standard, attach=pdf.attach, protect=pdf.protect)
                    if is_pdf
                    else document.save(target)
                )
                results.append((target, written))
            saved = time.perf_counter() - before_save
        except KeyboardInterrupt as interrupt:
            _stopped(interrupt)
            return
    stats = document.stats
    typeset = sum(stats.get(f"typst_{kind}_s") or 0.0 for kind in ("pdf", "png", "svg"))
    seconds = {
        "plan": stats["plan_s"],
        "data": stats["data_s"],
        "layout": stats["layout_s"],
        "typeset": round(typeset, 4),
        "write": round(max(saved - typeset, 0.0), 4),
        "total": round(time.perf_counter() - started, 4),
    }
    lines: list[str] = []
    outputs: list[str] = []
    pages: int | None = None
    for target, written in results:
        suffix = target.suffix.lower()
        if suffix in (".pdf", ".png", ".svg"):
            pages = document.page_count if suffix == ".pdf" else len(written)
        counted = f": {pages} pages" if suffix in (".pdf", ".png", ".svg") else ""
        more = f" (+{len(written) - 1} more)" if len(written) > 1 else ""
        lines.append(f"wrote {written[0]}{more}{counted}")
        outputs.extend(str(path) for path in written)
    _say(
        "\n".join(lines),
        {
            "outputs": outputs,
            "typst": [str(path) for path in sources],
            "pages": pages,
            "rows": stats["rows"],
            "seconds": seconds,
            "warnings": list(stats["warnings"]),
        },
    )


@app.command()
def validate(
    definition: DefinitionArgument,
    data: DataOption = None,
    param: ParamOption = None,
    source: SourceOption = None,
) -> None:
    """Check a definition: alone, or against a data file's schema (without reading rows)."""
    from polarreports.api import validate as validate_report

    report = load(definition)
    found = validate_report(report, data, sources=_parse_sources(source or [], report), **_parse_params(param or []))
    _say(
        f"{definition}: {found}",
        {
            "definition": str(definition),
            "report": found.report,
            "checked": "definition" if data is None else "definition and data",
            "groups": list(found.groups),
            "variables": found.variables,
            "parameters": found.parameters,
            **({"columns_read": list(found.columns_read)} if found.columns_read is not None else {}),
            "values": found.values,
        },
    )


@app.command()
def inspect(
    definition: DefinitionArgument,
    data: DataOption,
    param: ParamOption = None,
    depth: Annotated[int | None, typer.Option(min=1, metavar="LEVELS", help="Show this many group levels.")] = None,
    limit: Annotated[int, typer.Option(min=1, metavar="GROUPS", help="List at most this many groups.")] = 200,
) -> None:
    """Show the group tree with its subtotals as a table, without typesetting."""
    from polarreports.inspection import group_tree

    tree = group_tree(load(definition), data, params=_parse_params(param or []), depth=depth, limit=limit)
    if _state["json"]:
        _say(
            "",
            {
                "report": tree.report,
                "levels": list(tree.levels),
                "columns": ["level", "key", "rows", *tree.columns],
                "groups": [
                    [group.level, group.key, group.rows, *(_plain(value) for value in group.values)]
                    for group in tree.groups
                ],
                "more": tree.more,
            },
        )
    elif not _state["quiet"]:
        console = Console()
        if not console.is_terminal:  # a file or a pipe: as wide as the table, nothing cut
            console = Console(width=tree.width())
        console.print(tree.table())


@app.command()
def messages(
    definition: Annotated[Path, typer.Argument(help="Report definition (YAML or JSON).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The message template to write (.pot).")],
) -> None:
    """Write the texts of a definition to translate as a gettext template (.pot), for msginit
    or pybabel init."""
    import io

    from babel.messages.pofile import write_po

    from polarreports.output.document import write_atomically
    from polarreports.plan.translations import extract_messages

    _check_outputs(output)
    catalog = extract_messages(load(definition))
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, omit_header=False)
    write_atomically(output, buffer.getvalue())
    typer.echo(f"wrote {output}: {counted(len(catalog), 'messages')}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of report definitions (for editor completion)."""
    typer.echo(json.dumps(Report.json_schema(), indent=2, ensure_ascii=False))


@app.command()
def init(
    data: Annotated[Path, typer.Argument(help="A data file whose columns the report lists.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the definition (YAML).")],
) -> None:
    """Write a starting definition: a listing of the columns that fit the page (the others
    commented out), sized from the first rows, with a grouping to try."""
    import polars as pl

    from polarreports.compute.source import to_lazyframe
    from polarreports.output.document import write_atomically
    from polarreports.scaffold import scaffold_yaml

    _check_outputs(output)
    frame = to_lazyframe(data)
    schema = frame.collect_schema()
    try:
        sample = frame.head(10_000).collect()
    except (pl.exceptions.PolarsError, OSError, ValueError) as error:
        msg = f"cannot read the data {data}: {_one_line(str(error))[:300] or type(error).__name__}"
        raise DataError(msg) from None
    write_atomically(output, scaffold_yaml(schema, name=data.stem, sample=sample))
    _say(f"wrote {output}: {counted(len(schema), 'columns')}", {"outputs": [str(output)], "columns": len(schema)})


@app.command()
def sample(
    output: Annotated[Path, typer.Option("--output", "-o", help="Parquet, CSV or IPC file to write.")],
    rows: Annotated[int, typer.Option(help="Number of orders.")] = 2_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """Write the bundled sample sales data set."""
    from polarreports.control import temp_prefix
    from polarreports.output.document import write_atomically
    from polarreports.sample import write_sales_data

    _check_outputs(output)
    with tempfile.TemporaryDirectory(prefix=temp_prefix()) as folder:  # then moved in whole
        write_atomically(output, write_sales_data(Path(folder) / f"sample{output.suffix}", rows, seed=seed))
    _say(f"wrote {output}: {counted(rows, 'rows')}", {"outputs": [str(output)], "rows": rows})


@app.command()
def preview(
    definition: Annotated[Path, typer.Argument(help="Report definition (YAML or JSON).")],
    data: DataOption,
    param: ParamOption = None,
    source: SourceOption = None,
    port: Annotated[int, typer.Option(help="The port to serve on.")] = 8765,
    host: Annotated[
        str, typer.Option(help="The address to serve on: this machine only (127.0.0.1) unless you say otherwise.")
    ] = "127.0.0.1",
) -> None:
    """Serve a live preview page: pages, a form for the parameters, progress; re-renders when the
    definition or the data file changes. Ctrl-C stops it."""
    try:
        from polarreports.preview.server import serve
    except ImportError as error:
        msg = (
            "the live preview needs starlette, uvicorn and watchfiles: "
            f"pip install 'polarreports[preview]' ({error.name} is missing)"
        )
        raise DataError(msg) from None
    sources = _parse_sources(source or [], load(definition))  # a bad definition or source stops here
    if data is None or "://" in data or data.startswith("duckdb:"):
        found = data or "none"
        msg = f"preview: give the data as a file with --data PATH (found {found}): it renders again when that changes"
        raise DataError(msg)
    if host not in {"127.0.0.1", "localhost", "::1"}:
        typer.echo(f"warning: serving on {host}: other machines may reach this preview and its data", err=True)
    try:
        serve(definition, Path(data), params=_parse_params(param or []), sources=sources, host=host, port=port)
    except OSError as error:
        msg = f"cannot serve on {host}:{port}: {error.strerror or error}; choose another with --port"
        raise OutputError(msg) from None
    except KeyboardInterrupt:
        return


SOME_FAILED = 5
"""The exit status of a batch in which some documents failed (the others are written; the
manifest and the summary name each failure, and a re-run retries only those)."""


@contextlib.contextmanager
def _batch_bar(*, enabled: bool) -> Iterator[Callable[[Any], None] | None]:
    """A rich progress bar on standard error: documents done of all, failures, rate."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    with Bar(
        TextColumn("documents"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed  {task.fields[rate]:.1f}/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=True,
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task("batch", total=None, failed=0, rate=0.0)

        def update(event: Any) -> None:
            bar.update(task, completed=event.done, total=event.total, failed=event.failed, rate=event.rate)

        yield update


@app.command()
def batch(
    definition: Annotated[Path, typer.Argument(help="Report definition (YAML or JSON).")],
    data: Annotated[Path, typer.Option("--data", "-d", help="Parquet/CSV/IPC file, or a folder of Parquet files.")],
    by: Annotated[list[str], typer.Option("--by", help="The key column: one document per value (repeat for several).")],
    out: Annotated[Path, typer.Option("--out", help="The folder to write the documents and manifest.csv in.")],
    name: Annotated[
        str | None, typer.Option("--name", help="File name template over the key columns: '{region}/{customer}.pdf'.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Local worker processes (default: one per core).")
    ] = None,
    cluster: Annotated[
        str | None, typer.Option("--cluster", help="A Dask scheduler's address (tcp://host:8786) to render on.")
    ] = None,
    keys: Annotated[
        Path | None, typer.Option("--keys", help="A file of the keys to expect: those without rows are listed empty.")
    ] = None,
    render_empty: Annotated[
        bool, typer.Option("--render-empty", help="Render a key without rows (the no_data band) instead.")
    ] = False,
    param: ParamOption = None,
    source: SourceOption = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Render one document per key into a folder, with a manifest; a re-run resumes.

    Exits 0 when every document is written (or kept from an earlier run, or empty), 5 when some
    failed (each is named, and recorded in the manifest; a re-run retries only those).
    """
    from polarreports.batch import batch as run_batch
    from polarreports.compute.source import to_lazyframe

    with _sigterm_as_ctrl_c(), _batch_bar(enabled=progress and sys.stderr.isatty()) as on_progress:
        report = load(definition)
        try:
            result = run_batch(
                report,
                data,
                by=by,
                out=out,
                name=name,
                workers=workers,
                cluster=cluster,
                keys=to_lazyframe(keys).collect() if keys is not None else None,
                render_empty=render_empty,
                progress=on_progress,
                sources=_parse_sources(source or [], report),
                **_parse_params(param or []),
            )
        except KeyboardInterrupt as interrupt:
            _stopped(interrupt)
            return
    typer.echo(str(result))
    if not result.ok:
        raise typer.Exit(code=SOME_FAILED)


def run() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    run()
