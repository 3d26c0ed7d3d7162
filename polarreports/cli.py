"""The ``polarreports`` command line: render, validate, inspect, schema, init, sample.

    $ polarreports render examples/sales_by_region.yaml --data out/sales.parquet -o out/sales.pdf
    $ polarreports validate examples/sales_by_region.yaml --data out/sales.parquet
    $ polarreports inspect examples/sales_by_region.yaml --data out/sales.parquet
    $ polarreports init out/sales.parquet -o my_report.yaml

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


def _parse_params(values: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            msg = f"--param takes name=value, got {item!r}"
            raise DataError(msg)
        params[name.strip()] = value
    return params


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
            bar.update(task, description=event.phase, completed=event.done, total=event.total, unit=event.unit)

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
DataOption = Annotated[Path, typer.Option("--data", "-d", metavar="PATH", help="Parquet, CSV, IPC or NDJSON file.")]
ParamOption = Annotated[
    list[str] | None, typer.Option("--param", "-p", metavar="NAME=VALUE", help="A parameter (repeatable).")
]


@app.command()
def render(
    definition: DefinitionArgument,
    data: DataOption,
    output: Annotated[Path, typer.Option("--output", "-o", metavar="PATH", help="Output file: .pdf, .png or .svg.")],
    param: ParamOption = None,
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
) -> None:
    """Render a report to PDF, PNG or SVG."""
    from polarreports.api import render as render_report
    from polarreports.output.document import output_format

    started = time.perf_counter()
    show_progress = progress and not _state["quiet"] and not _state["json"]
    with _sigterm_as_ctrl_c(), _progress_bar(enabled=show_progress) as on_progress:
        try:
            output_format(output)  # the output is checked before any work
            if typst is not None and typst.suffix.lower() == ".json":
                msg = f"--typst {typst}: its data goes to the same path with .json; give a .typ path"
                raise OutputError(msg)
            _check_outputs(output, *([typst] if typst is not None else []))
            report = load(definition)
            document = render_report(
                report,
                data,
                progress=on_progress,
                timeout=timeout,
                memory_budget_mb=memory,
                **_parse_params(param or []),
            )
            sources = document.write_typst(typst) if typst is not None else []
            before_save = time.perf_counter()
            written = document.save(output)
            saved = time.perf_counter() - before_save
        except KeyboardInterrupt as interrupt:
            _stopped(interrupt)
            return
    pages = document.page_count if output.suffix.lower() == ".pdf" else len(written)
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
    _say(
        f"wrote {written[0]}" + (f" (+{len(written) - 1} more)" if len(written) > 1 else "") + f": {pages} pages",
        {
            "outputs": [str(path) for path in written],
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
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", "-d", metavar="PATH", help="Check against this data's columns and types too (reads no rows)."
        ),
    ] = None,
    param: ParamOption = None,
) -> None:
    """Check a definition: alone, or against a data file's schema (without reading rows)."""
    from polarreports.api import validate as validate_report

    found = validate_report(load(definition), data, **_parse_params(param or []))
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

    tree = group_tree(load(definition), data, depth=depth, limit=limit, **_parse_params(param or []))
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
    _say(f"wrote {output}: {len(schema)} columns", {"outputs": [str(output)], "columns": len(schema)})


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
    _say(f"wrote {output}: {rows} rows", {"outputs": [str(output)], "rows": rows})


def run() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    run()
