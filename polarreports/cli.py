"""The ``polarreports`` command line: render, validate, messages, schema, init, sample, preview.

    $ polarreports render examples/sales_by_region.yaml --data out/sales.parquet -o out/sales.pdf
    $ polarreports render sales.yaml --data sales.parquet -o sales.pdf -o sales.png --pdf-standard a-3b --attach data
    $ polarreports preview examples/sales_by_region.yaml --data out/sales.parquet
    $ polarreports validate examples/sales_by_region.yaml --data out/sales.parquet
    $ polarreports init out/sales.parquet -o my_report.yaml
    $ polarreports messages letter.yaml -o messages.pot

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


_state = {"debug": False}


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
        _state["debug"] = False
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except NoArgsIsHelpError as error:
            typer.echo(error.format_message(), err=True)
            sys.exit(error.exit_code)
        except ClickException as error:  # a usage error: an unknown option, a value of the wrong type
            context = getattr(error, "ctx", None)
            hint = f" (see {context.command_path} --help)" if context is not None else ""
            typer.echo(f"error: {_one_line(error.format_message())}{hint}", err=True)
            sys.exit(error.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            sys.exit(INTERNAL_ERROR)
        except PolarReportsError as error:
            if _state["debug"]:
                raise
            typer.echo(f"error: {error}", err=True)
            sys.exit(exit_status(error))
        except (SystemExit, KeyboardInterrupt, GeneratorExit):
            raise
        except BaseException as error:  # a bug (a Rust panic is a BaseException): one line, no traceback
            if _state["debug"]:
                raise
            first = _one_line(str(error))[:300]
            typer.echo(
                f"error: unexpected {type(error).__name__}{': ' + first if first else ''} "
                "(a bug in polarreports; --debug shows the traceback)",
                err=True,
            )
            sys.exit(INTERNAL_ERROR)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="polarreports",
    cls=_Commands,
    help="Banded business reports from Polars data, typeset with Typst.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
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
    typer.echo(f"error: stopped by {number.name}", err=True)
    raise typer.Exit(code=128 + number.value)


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


@contextlib.contextmanager
def _progress_bar(*, enabled: bool) -> Iterator[Callable[[Progress], None] | None]:
    """A rich progress bar on standard error, fed by the render's progress reports."""
    if not enabled:
        yield None
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


@app.callback()
def main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False) -> None:
    _state["debug"] = debug


DataOption = Annotated[
    str | None,
    typer.Option(
        "--data",
        "-d",
        help="Parquet, CSV, IPC or NDJSON file, or a database URI (postgresql://..., sqlite:///..., duckdb:) "
        "that the definition's source.query runs at; default: the definition's source.",
    ),
]
ParamOption = Annotated[list[str] | None, typer.Option("--param", "-p", help="A parameter: name=value.")]


@app.command()
def render(
    definition: Annotated[Path, typer.Argument(help="Report definition (YAML or JSON).")],
    output: Annotated[
        list[Path],
        typer.Option(
            "--output",
            "-o",
            help="Output file (.pdf, .png, .svg, .html, ...); repeat it for several outputs of one render.",
        ),
    ],
    data: DataOption = None,
    param: ParamOption = None,
    typst: Annotated[Path | None, typer.Option("--typst", help="Also write the generated Typst source here.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    memory: Annotated[float | None, typer.Option("--memory-mb", help="Memory budget for all processes, MB.")] = None,
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
    """Render a report to PDF, PNG or SVG: once, whatever the number of outputs."""
    from polarreports.api import render as render_report
    from polarreports.output.document import write_atomically

    with _sigterm_as_ctrl_c(), _progress_bar(enabled=progress and sys.stderr.isatty()) as on_progress:
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
                **_parse_params(param or []),
            )
            if typst is not None:
                write_atomically(typst, document.to_typst())
                write_atomically(typst.with_suffix(".json"), document.data_json)
            results = []
            for target in output:
                is_pdf = target.suffix.lower() == ".pdf"
                written = (
                    document.save(target, pdf_standard=pdf.standard, attach=pdf.attach, protect=pdf.protect)
                    if is_pdf
                    else document.save(target)
                )
                results.append((target, written))
        except KeyboardInterrupt as interrupt:
            _stopped(interrupt)
            return
    for target, written in results:
        suffix = target.suffix.lower()
        pages = document.page_count if suffix == ".pdf" else len(written)
        counted = f": {pages} pages" if suffix in (".pdf", ".png", ".svg") else ""
        more = f" (+{len(written) - 1} more)" if len(written) > 1 else ""
        typer.echo(f"wrote {written[0]}{more}{counted}")


@app.command()
def validate(definition: Annotated[Path, typer.Argument()], data: DataOption = None, param: ParamOption = None) -> None:
    """Check a definition against the data's schema, without reading rows."""
    from polarreports.api import validate as validate_report

    found = validate_report(load(definition), data, **_parse_params(param or []))
    typer.echo(f"{definition}: {found}")


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
    typer.echo(f"wrote {output}: {len(catalog)} messages")


@app.command()
def schema() -> None:
    """Print the JSON Schema of report definitions (for editor completion)."""
    typer.echo(json.dumps(Report.json_schema(), indent=2, ensure_ascii=False))


@app.command()
def init(
    data: Annotated[Path, typer.Argument(help="A data file whose columns the report lists.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the definition (YAML).")],
) -> None:
    """Write a starting definition that lists every column of a data file, ready to render."""
    from polarreports.compute.source import to_lazyframe
    from polarreports.output.document import write_atomically
    from polarreports.scaffold import scaffold

    _check_outputs(output)
    schema = to_lazyframe(data).collect_schema()
    report = scaffold(schema, name=data.stem)
    write_atomically(output, report.to_yaml())
    typer.echo(f"wrote {output}: {len(schema)} columns")


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
    typer.echo(f"wrote {output}: {rows} rows")


@app.command()
def preview(
    definition: Annotated[Path, typer.Argument(help="Report definition (YAML or JSON).")],
    data: DataOption,
    param: ParamOption = None,
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
    load(definition)  # a definition that cannot be read stops here, before serving
    if data is None or "://" in data or data.startswith("duckdb:"):
        found = data or "none"
        msg = f"preview: give the data as a file with --data PATH (found {found}): it renders again when that changes"
        raise DataError(msg)
    if host not in {"127.0.0.1", "localhost", "::1"}:
        typer.echo(f"warning: serving on {host}: other machines may reach this preview and its data", err=True)
    try:
        serve(definition, Path(data), params=_parse_params(param or []), host=host, port=port)
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
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Render one document per key into a folder, with a manifest; a re-run resumes.

    Exits 0 when every document is written (or kept from an earlier run, or empty), 5 when some
    failed (each is named, and recorded in the manifest; a re-run retries only those).
    """
    from polarreports.batch import batch as run_batch
    from polarreports.compute.source import to_lazyframe

    with _sigterm_as_ctrl_c(), _batch_bar(enabled=progress and sys.stderr.isatty()) as on_progress:
        try:
            result = run_batch(
                load(definition),
                data,
                by=by,
                out=out,
                name=name,
                workers=workers,
                cluster=cluster,
                keys=to_lazyframe(keys).collect() if keys is not None else None,
                render_empty=render_empty,
                progress=on_progress,
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
