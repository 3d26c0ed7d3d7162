"""A hostile-input campaign, larger than the tests' (issue 12), with the figures for the README.

    python benchmarks/hostile_campaign.py                    # about 3 minutes on 2 cores
    python benchmarks/hostile_campaign.py --mutations 300 --strings 600 --quick

1. **Mutated definitions**: each example YAML, mutated once per try by a seeded mutator over
   every field: a key deleted, a value of the wrong type, a huge number, NaN or infinity, an
   unknown key, deep nesting, a long string, control characters (U+2028, U+0085, NUL, ESC, RTL
   override), a typo, a path (traversal, absolute, a symlink out, ``/dev/zero``, a FIFO, an
   URL of a local listener, ``file://``), Markdown markup switched on with hostile Markdown.
   Each is loaded and rendered (``timeout=20``, a memory budget); one in ``--pdf-every`` is
   typeset to PDF too.
2. **Hostile strings** (Typst and HTML markup, Markdown, formulas, control characters, long
   words, URLs of the listener) as detail values (Markdown on), group keys, a string
   parameter shown in the title, and labels (Markdown on), typeset to PDF: every row's marker
   must be in the PDF's text (nothing swallowed by markup).
3. **Limits**: ``timeout``, ``cancel`` and ``memory_budget_mb`` on small and large renders, the
   data phase and the typesetting; SIGTERM to the command line mid-render.

Every outcome must be a rendered document or a polarreports error of one line (plus "Hint:"
lines); never another exception, a hang, a file opened outside the allowed folders (an audit
hook watches every ``open``) or a network connection (a listener on 127.0.0.1 counts them, the
audit hook sees every ``socket.connect``). Prints the figures and writes them to
``benchmarks/results/hostile-campaign.json``; exits 1 on any finding.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import polarreports as pr  # noqa: E402
from polarreports.control import own_rss_mb  # noqa: E402
from tests.heavy_queries import AT_ONCE, stepped, wide  # noqa: E402

SECRET = "SECRET-7f3a9c"
TIMEOUT = 20.0
LENGTH_KEYS = {"width", "height", "padding", "x", "y", "space_before", "space_after", "min_space", "column_gap", "size"}
PATH_KEYS = {"path", "logo", "source", "report", "image_dirs", "font_dirs", "data_dirs", "dirs", "url"}
TEXT_KEYS = {"text", "title", "format", "null_text", "name", "description", "filter", "expression", "continued_text"}
CONTROL = ["\u2028", "\u2029", "\u0085", "\x00", "\x1b[31m", "\u202e", "\x0b", "\r\n", "\ud7ff", "\ufeff"]


class Watch:
    """What the campaign must never see: a file opened outside the allowed folders, a network
    connection (audit hook, and a listener on 127.0.0.1 that counts the connections)."""

    def __init__(self, forbidden: list[Path]) -> None:
        self.forbidden = [str(path) for path in forbidden]
        self.opened: list[str] = []
        self.connects: list[str] = []
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(50)
        self.port = self.listener.getsockname()[1]
        self.arrived = 0
        self.armed = False
        """Set once the campaign's own files are written."""
        threading.Thread(target=self._accept, daemon=True).start()
        sys.addaudithook(self._audit)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.arrived += 1
            connection.close()

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.armed:
            return
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            name = os.fsdecode(args[0]) if not isinstance(args[0], int) else ""
            if any(name == bad or name.startswith(bad + "/") for bad in self.forbidden):
                self.opened.append(name)
        elif event == "socket.connect" and len(args) > 1 and isinstance(args[1], tuple):
            self.connects.append(repr(args[1]))


def one_line_problems(error: BaseException) -> list[str]:
    """Why an error is not a clean polarreports error: its type, or a message that is not one
    line per problem (plus "Hint:" lines), or that shows a traceback or internals."""
    if not isinstance(error, pr.PolarReportsError):
        return [f"{type(error).__name__}: {str(error)[:300]}"]
    message = str(error)
    found = [f"shows {word!r}" for word in ("Traceback", "pydantic", "Input should be", "__p__") if word in message]
    lines = error.issues if isinstance(error, pr.PlanError) else [message]
    if isinstance(error, pr.DefinitionError) and message.count("\n") and message.splitlines()[0].endswith(":"):
        lines = [line for line in message.splitlines()[1:] if not line.strip().startswith("...")]
    for line in lines:
        first, *more = line.splitlines() or [""]
        if not first.strip() or any(not hint.startswith(("Hint: ", "  ")) for hint in more):
            found.append(f"not one line: {line[:300]!r}")
    return found


def hostile_paths(work: Path, port: int) -> list[str]:
    return [
        "../secret/secret.svg",
        str(work / "secret" / "secret.svg"),
        "link.svg",
        "/dev/zero",
        "fifo.svg",
        "/etc/hostname",
        f"http://127.0.0.1:{port}/a.svg",
        "file:///etc/hostname",
        "a\x00b.svg",
        "",
        ".",
        "/",
        "x" * 5000,
    ]


def hostile_markdown(port: int) -> list[str]:
    return [
        f"[x](http://127.0.0.1:{port}/m) **b** _i_",
        f"![i](http://127.0.0.1:{port}/i.png)",
        "# head\n- a\n- b\n1. c",
        "<script>alert(1)</script> <img src=x onerror=alert(1)>",
        '`#panic("md")` $x^2$ #import "x.typ" @ref <lbl>',
        "*" * 5000 + "_" * 5000,
        "\\" * 1000 + "]" * 1000,
    ]


def value_pool(rng: random.Random, work: Path, port: int) -> list[Any]:
    """Wrong types, huge numbers, NaN and infinities, deep nesting, long strings, control characters."""
    deep_list: Any = 1
    deep_dict: Any = "x"
    for _ in range(150):
        deep_list, deep_dict = [deep_list], {"a": deep_dict}
    return [
        *(None, True, False, 0, -1, 1e308, -1e308, 10**40, 2**63, float("nan"), float("inf"), float("-inf")),
        *([], {}, [1, "a"], {"x": 1}, deep_list, deep_dict),
        *("", "x" * 100_000, "0" * 100_000, "yyyy" * 50_000, '"' + "0" * 100_000 + '"', "#", "{{", "1e308mm"),
        *("-5pt", "nan", "inf", "-inf", "1e999pt", "100000%", "0pt", *CONTROL, "a" + "\u0301" * 5000),
        *hostile_paths(work, port),
        *hostile_markdown(port),
    ]


def _nodes(tree: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    found = []
    todo = [(path, tree)]
    while todo:
        here, node = todo.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            found.append(((*here, key), value))
            todo.append(((*here, key), value))
    return found


def _parent(tree: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        tree = tree[part]
    return tree


def mutate(tree: Any, rng: random.Random, pool: list[Any], work: Path, port: int) -> str:
    """Change ``tree`` in place once, at a random field; say what was done."""
    nodes = _nodes(tree)
    path, value = rng.choice(nodes)
    parent = _parent(tree, path)
    kind = rng.choice(["delete", "value", "value", "unknown key", "control", "path", "markdown", "typo", "length"])
    if kind == "delete":
        del parent[path[-1]]
        return f"delete {path}"
    if kind == "unknown key":
        dicts = [(p, v) for p, v in nodes if isinstance(v, dict)] or [((), tree)]
        where, target = rng.choice(dicts)
        target[rng.choice(["colour", "widht", "x" * 300, "\u2028", "__class__"])] = rng.choice(pool[:20])
        return f"unknown key in {where}"
    if kind == "control" and isinstance(value, str):
        i = rng.randrange(len(value) + 1)
        parent[path[-1]] = changed = value[:i] + rng.choice(CONTROL) + value[i:]
        return f"{path}: control character -> {changed[:40]!r}"
    if kind == "path":
        keyed = [(p, v) for p, v in nodes if p[-1] in PATH_KEYS] or [(path, value)]
        where, _ = rng.choice(keyed)
        bad = rng.choice(hostile_paths(work, port))
        _parent(tree, where)[where[-1]] = [bad] if str(where[-1]).endswith("dirs") and rng.random() < 0.7 else bad
        return f"{where} = {bad[:60]!r}"
    if kind == "markdown":
        elements = [v for p, v in nodes if isinstance(v, dict) and v.get("type") in ("label", "field", "text")]
        if elements:
            element = rng.choice(elements)
            element["markup"] = "markdown"
            if element.get("type") == "label":
                element["text"] = rng.choice(hostile_markdown(port))
            return "markdown on an element"
    if kind == "typo" and isinstance(value, str) and value:
        i = rng.randrange(len(value))
        parent[path[-1]] = value[:i] + value[i + 1 :] + rng.choice("xz")
        return f"{path}: typo"
    if kind == "length":
        lengths = [(p, v) for p, v in nodes if p[-1] in LENGTH_KEYS] or [(path, value)]
        where, _ = rng.choice(lengths)
        bad = rng.choice([float("nan"), float("inf"), 1e308, -1, "1e308mm", "-3mm", "nan", "inf", 10**30, ".inf"])
        _parent(tree, where)[where[-1]] = bad
        return f"{where} = {bad!r}"
    wrong = rng.choice(pool)
    parent[path[-1]] = copy.deepcopy(wrong)
    return f"{path} = {repr(wrong)[:60]}"


def gallery(work: Path) -> Path:
    """A copy of the examples, with files to be refused planted beside them."""
    folder = work / "gallery"
    shutil.copytree(ROOT / "examples", folder)
    secret = work / "secret"
    secret.mkdir()
    (secret / "secret.svg").write_text(f'<svg xmlns="http://www.w3.org/2000/svg"><text>{SECRET}</text></svg>')
    (secret / "secret.txt").write_text(SECRET)
    (folder / "link.svg").symlink_to(secret / "secret.svg")
    os.mkfifo(folder / "fifo.svg")
    return folder


SAMPLES = {"invoice": pr.sample.invoice_data, "customer_statement": pr.sample.statement_data}


def campaign_mutations(count: int, pdf_every: int, folder: Path, watch: Watch, seed: int) -> dict[str, Any]:
    work = folder.parent
    rng = random.Random(seed)
    pool = value_pool(rng, work, watch.port)
    examples = sorted(folder.glob("*.yaml"))
    originals = {path: yaml.safe_load(path.read_text(encoding="utf-8")) for path in examples}
    data = {path: SAMPLES.get(path.stem, lambda: pr.sample.sales_data(60))() for path in examples}
    outcomes: Counter[str] = Counter()
    findings: list[str] = []
    slowest, slowest_what = 0.0, ""
    for n in range(count):
        source = examples[n % len(examples)]
        tree = copy.deepcopy(originals[source])
        what = mutate(tree, rng, pool, work, watch.port)
        target = folder / f"mutated_{source.stem}.yaml"
        try:
            text = yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)
        except (yaml.YAMLError, RecursionError, UnicodeEncodeError):
            text = json.dumps(tree, ensure_ascii=False)
        target.write_text(text, encoding="utf-8", errors="surrogatepass")
        begin = time.monotonic()
        try:
            doc = pr.load(target).render(data[source], timeout=TIMEOUT, memory_budget_mb=own_rss_mb() + 2_000)
            if n % pdf_every == 0:
                assert doc.pdf.startswith(b"%PDF")
                outcomes["rendered to PDF"] += 1
            else:
                outcomes["rendered"] += 1
        except BaseException as error:  # a Rust panic is a BaseException
            if isinstance(error, KeyboardInterrupt):
                raise
            problems = one_line_problems(error)
            outcomes["polarreports error" if not problems else "finding"] += 1
            findings += [f"{source.name}: {what}: {problem}" for problem in problems]
        took = time.monotonic() - begin
        if took > slowest:
            slowest, slowest_what = took, f"{source.name}: {what}"
        if took > TIMEOUT + 2:
            findings.append(f"{source.name}: {what}: took {took:.1f} s (timeout {TIMEOUT:.0f} s)")
    return {
        "tried": count,
        "outcomes": dict(outcomes),
        "findings": findings,
        "slowest_s": round(slowest, 2),
        "slowest": slowest_what,
    }


ATOMS = [
    *("#", "$", "*", "_", "`", "[", "]", "<", ">", "@", "\\", "//", "/*", "*/", "{", "}", '"', "'", "=", "~", "^"),
    *('#import "x.typ"', "#set page(width: 1pt)", '#panic("typst")', "$ x^2 $", '#read("/etc/hostname")'),
    *('#image("/etc/hostname")', '#include "x.typ"', "#{1/0}", "#let x = 1", ")]}", "\\#", "\\u{41}"),
    *("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "&lt;", "&#x3C;", "{{x}}", "${x}", "%s"),
    *("=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "# heading", "- item", "1. item", "> quote", "**b**", "~~s~~"),
    *(*CONTROL, "\t", "😀", "ﷺ", "𝔘", "\u0301", " ", "a" * 300, "W" * 3000, "x\n" * 50, "中文字符"),
]


def hostile_strings(count: int, rng: random.Random, port: int) -> list[str]:
    urls = [f"[l](http://127.0.0.1:{port}/s)", f"![i](http://127.0.0.1:{port}/i.png)", f"http://127.0.0.1:{port}/"]
    atoms = [*ATOMS, *urls]
    return ["".join(rng.choice(atoms) for _ in range(rng.randint(1, 6))) for _ in range(count)]


def _visible(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def campaign_strings(count: int, watch: Watch, seed: int) -> dict[str, Any]:
    """Hostile strings as detail values (Markdown on), group keys, parameters and labels (Markdown
    on), typeset: every row's marker must be in the PDF text."""
    rng = random.Random(seed)
    strings = hostile_strings(count, rng, watch.port)
    findings: list[str] = []
    per_document = 150
    documents = 0
    for start in range(0, count, per_document):
        chunk = strings[start : start + per_document]
        labels = chunk[:8]
        report = pr.Report(
            name="hostile",
            parameters=[pr.Parameter(name="who", type="string")],
            groups=[
                pr.Group(
                    name="key",
                    header=pr.Band(elements=[pr.Field(column="key", width="60%"), pr.Field(column="mark")]),
                )
            ],
            bands=pr.Bands(
                title=pr.Band(
                    elements=[
                        pr.Field(column="who"),  # the parameter
                        *(pr.Label(text=label, markup="markdown") for label in labels),
                    ]
                ),
                detail=pr.Band(
                    elements=[
                        pr.Field(column="mark", width="15%"),
                        pr.Field(column="value", markup="markdown", width="85%"),
                    ]
                ),
            ),
        )
        frame = pl.DataFrame(
            {
                "mark": [f"ROW{start + i}Q" for i in range(len(chunk))],
                "key": chunk[::-1],
                "value": chunk,
            }
        )
        try:
            doc = report.render(frame, params={"who": chunk[-1]}, timeout=120)
            pdf = doc.pdf
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt):
                raise
            findings += [f"strings {start}..: {problem}" for problem in one_line_problems(error)]
            continue
        documents += 1
        text = _pdf_text(pdf)
        missing = [f"ROW{start + i}Q" for i in range(len(chunk)) if f"ROW{start + i}Q" not in text]
        if missing:
            findings.append(f"strings {start}..: {len(missing)} row markers missing from the PDF, e.g. {missing[:3]}")
        if "typst" in text.lower() and "panic" in text.lower() and "#panic" not in text:
            findings.append(f"strings {start}..: Typst code ran")
    return {"strings": count, "uses": 4, "documents": documents, "findings": findings}


def _pdf_text(pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        done = subprocess.run(["pdftotext", "-q", file.name, "-"], capture_output=True, check=False)
    return done.stdout.decode("utf-8", "replace").replace("\n", " ")


def _data_thread_gone(limit: float = 60.0) -> float:
    begin = time.monotonic()
    while any(thread.name == "polarreports-data" for thread in threading.enumerate()):
        if time.monotonic() - begin > limit:
            break
        time.sleep(0.01)
    return time.monotonic() - begin


class Peak:
    """The highest resident memory of this process while in the block (sampled every 5 ms)."""

    def __enter__(self) -> Peak:
        self.peak = own_rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, own_rss_mb())
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def campaign_limits(quick: bool) -> dict[str, Any]:
    """Each limit on small and large renders: seconds past the deadline (until the render
    raised, and until its data thread ended) and MB past the budget."""
    cases: list[dict[str, Any]] = []
    findings: list[str] = []
    small = pr.load(ROOT / "examples" / "sales_by_region.yaml")
    small_rows = pr.sample.sales_data(150)
    large_rows = pr.sample.sales_data(30_000 if quick else 100_000)

    def timed(name: str, deadline: float, run: Any, expect: type[BaseException]) -> None:
        begin = time.monotonic()
        outcome = "no error"
        try:
            run()
        except expect as error:
            outcome = type(error).__name__
        except BaseException as error:
            outcome = f"{type(error).__name__}: {str(error)[:100]}"
            findings.append(f"{name}: {outcome}")
        raised = time.monotonic() - begin
        gone = raised + _data_thread_gone()
        if outcome == "no error":
            findings.append(f"{name}: the limit did not stop the render")
        cases.append(
            {
                "case": name,
                "outcome": outcome,
                "past_deadline_s": round(max(0.0, raised - deadline), 3),
                "query_ended_past_deadline_s": round(max(0.0, gone - deadline), 3),
            }
        )

    def cancel_after(seconds: float) -> pr.CancelToken:
        token = pr.CancelToken()
        threading.Timer(seconds, token.cancel).start()
        return token

    timed("small render, timeout 0.01 s", 0.01, lambda: small.render(small_rows, timeout=0.01).pdf, pr.Cancelled)
    timed(
        "small render, cancel at 0.05 s",
        0.05,
        lambda: small.render(small_rows, cancel=cancel_after(0.05)).pdf,
        pr.Cancelled,
    )
    for at in (0.3, 1.0, 3.0):
        timed(
            f"large render ({len(large_rows):,} rows), timeout {at} s (data or typesetting)",
            at,
            lambda at=at: small.render(large_rows, timeout=at).pdf,
            pr.Cancelled,
        )
        timed(
            f"large render, cancel at {at} s",
            at,
            lambda at=at: small.render(large_rows, cancel=cancel_after(at)).pdf,
            pr.Cancelled,
        )
    timed(
        "150-step query, timeout 1 s", 1.0, lambda: AT_ONCE.render(stepped(1_000_000, 150), timeout=1.0), pr.Cancelled
    )
    timed(
        "report sorted at once (2M rows), timeout 1 s",
        1.0,
        lambda: AT_ONCE.render(wide(2_000_000), timeout=1.0),
        pr.Cancelled,
    )
    memory: list[dict[str, Any]] = []
    for name, run in [
        (
            "report sorted at once, 1M rows of 300 characters",
            lambda budget: AT_ONCE.render(wide(1_000_000), memory_budget_mb=budget),
        ),
        (
            "report sorted in parts, 1M rows",
            lambda budget: small.render(pr.sample.sales_data(1_000_000), memory_budget_mb=budget),
        ),
    ]:
        before = own_rss_mb()
        budget = before + 150
        with Peak() as peak:
            try:
                run(budget)
                outcome = "rendered"
            except pr.ResourceError:
                outcome = "ResourceError"
            except BaseException as error:
                outcome = f"{type(error).__name__}"
                findings.append(f"{name}: {outcome}")
            _data_thread_gone()
        memory.append(
            {"case": name, "outcome": outcome, "budget_over_start_mb": 150, "past_budget_mb": round(peak.peak - budget)}
        )
    sigterm = _sigterm_case(quick)
    if sigterm.get("finding"):
        findings.append(sigterm["finding"])
    return {"deadlines": cases, "memory": memory, "sigterm": sigterm, "findings": findings}


def _sigterm_case(quick: bool) -> dict[str, Any]:
    """SIGTERM to ``polarreports render`` one second in: seconds to its exit, its status, what it left."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "sales.parquet"
        pr.sample.sales_data(30_000 if quick else 100_000).write_parquet(data)
        temp = Path(folder) / "tmp"
        temp.mkdir()
        env = {**os.environ, "TMPDIR": str(temp), "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "polarreports.cli", "render", str(ROOT / "examples" / "sales_by_region.yaml")]
        command += ["--data", str(data), "-o", str(Path(folder) / "out.pdf")]
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(3.0)
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            return {"finding": "SIGTERM: the command line did not exit within 30 s"}
        took = time.monotonic() - sent
        left = sorted(path.name for path in temp.iterdir())
        result = {"exit_s": round(took, 2), "status": process.returncode, "left_in_temp": left}
        if left or took > 2 or process.returncode in (0, 1):
            result["finding"] = f"SIGTERM: {result}, stderr {stderr.decode()[-300:]!r}"
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutations", type=int, default=1_100)
    parser.add_argument("--strings", type=int, default=3_000)
    parser.add_argument("--pdf-every", type=int, default=25)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--quick", action="store_true", help="smaller large renders")
    parser.add_argument("--skip-limits", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "hostile-campaign.json")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hostile-campaign-"))
    watch = Watch([work / "secret", Path("/etc/hostname"), Path("/dev/zero")])
    folder = gallery(work)
    watch.armed = True
    logging.getLogger("polarreports").setLevel(logging.ERROR)  # the warnings of cut texts: thousands
    begin = time.monotonic()
    results: dict[str, Any] = {"command": " ".join(["python", "benchmarks/hostile_campaign.py", *sys.argv[1:]])}
    try:
        results["mutations"] = campaign_mutations(options.mutations, options.pdf_every, folder, watch, options.seed)
        results["strings"] = campaign_strings(options.strings, watch, options.seed)
        if not options.skip_limits:
            results["limits"] = campaign_limits(options.quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["files_opened_outside"] = sorted(set(watch.opened))
    results["network"] = {"connections_arrived": watch.arrived, "inet_connects": watch.connects}
    results["seconds"] = round(time.monotonic() - begin, 1)
    findings = [
        *results["mutations"]["findings"],
        *results["strings"]["findings"],
        *results.get("limits", {}).get("findings", []),
        *(f"opened {name}" for name in results["files_opened_outside"]),
        *([f"{watch.arrived} connections arrived at the listener"] if watch.arrived else []),
        *(f"connect {address}" for address in watch.connects),
    ]
    results["findings"] = findings
    out: Path = options.out
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(json.dumps({k: v for k, v in results.items() if k != "findings"}, indent=1, ensure_ascii=False)[:6000])
    print(f"{len(findings)} findings" + "".join(f"\n  {finding[:400]}" for finding in findings[:40]))
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
