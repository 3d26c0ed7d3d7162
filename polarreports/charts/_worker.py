"""A chart worker process: draws Vega-Lite charts to SVG with vl-convert, one batch after another,
with vl-convert (its V8 engine) and the fonts loaded once.

Run as a script, never imported by the package's users: it loads only the standard library and
vl_convert::

    python -S -I _worker.py FONTS_DIR PARENT_PID VL_CONVERT_PATH

It ends when its parent ends (its job pipe closes, or, while it draws, a forked guard process
sees its parent change). At its start it draws one small chart, so that V8 has reserved its address space
(about 34 GB of it, most never used; 66 GB at the peak of its start): the cap below is set on top
of what is then mapped, so that what a batch may newly map is bounded.

Each job is one JSON line on stdin: ``{"charts": [[spec, config], ...], "memory_mb": m}``. The
worker answers ``+`` as it takes the job, then one JSON line per chart, in order: ``{"svg": ...}``
or ``{"error": Vega's message}``, then ``{"done": true, "rss_mb": r}``. While it draws, its
address space is capped at what it had mapped plus ``memory_mb``: a chart that makes Vega build a
huge dataset ends this process (V8's "Fatal JavaScript out of memory", SIGTRAP), and the parent,
which counted the answers, knows which chart it was. A ``MemoryError`` or any other failure of
this script is answered ``{"memory": ...}`` / ``{"crash": ...}`` before it ends itself.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO

vlc: Any = None
"""vl_convert, imported by ``main`` once the guard is forked."""

if __name__ == "__main__":  # started with -S: find vl_convert where the parent found it
    sys.path.insert(0, sys.argv[-1])

WARM_UP = {"mark": "bar", "data": {"values": [{"a": 1}]}, "encoding": {"x": {"field": "a", "type": "quantitative"}}}


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmSize: mapped, VmRSS: resident)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover (no /proc)
        pass
    return 0.0  # pragma: no cover


def _parent_of(pid: int) -> int:
    """The parent process id of ``pid`` (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def _guard(parent: int) -> None:
    """Fork a guard that kills this process as soon as its parent is gone, even in the middle of
    a chart: vl-convert holds the GIL while it draws, so a thread here could not run then. The
    guard ends when this process ends."""
    worker = os.getpid()
    if os.fork() != 0:
        return
    os.closerange(0, 3)  # the pipes are the worker's: its end must be seen when it ends
    try:
        while True:
            time.sleep(0.2)
            if os.getppid() != worker:  # the worker ended
                break
            if _parent_of(worker) != parent:
                os.kill(worker, 9)
                break
    finally:
        os._exit(0)


def _draw(spec: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    try:
        # allowed_base_urls=[]: vl-convert fetches nothing, even from a spec the plan failed to clean
        return {"svg": str(vlc.vegalite_to_svg(spec, config=config, allowed_base_urls=[]))}
    except (ValueError, RuntimeError) as error:  # Vega's own message
        return {"error": str(error)[:4000]}


def serve(out: BinaryIO) -> int:
    """Answer the jobs on stdin until it closes (0) or a job leaves this process unusable (1)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    for line in sys.stdin.buffer:
        out.write(b"+")  # taken: a worker that dies before this never saw the job
        out.flush()
        request = json.loads(line)
        cap = int((_status_mb("VmSize") + float(request["memory_mb"])) * 2**20)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        try:
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
            for spec, config in request["charts"]:
                out.write(json.dumps(_draw(spec, config)).encode() + b"\n")
                out.flush()
        except MemoryError:
            out.write(json.dumps({"memory": "MemoryError"}).encode() + b"\n")
            out.flush()
            return 1
        except BaseException as error:  # this process ends
            out.write(json.dumps({"crash": f"{type(error).__name__}: {error}"[:2000]}).encode() + b"\n")
            out.flush()
            return 1
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        out.write(json.dumps({"done": True, "rss_mb": _status_mb("VmRSS")}).encode() + b"\n")
        out.flush()
    return 0


def main(argv: list[str]) -> int:
    fonts_dir, parent, _ = argv
    _guard(int(parent))  # before vl_convert starts its threads
    global vlc  # noqa: PLW0603
    import vl_convert as vlc

    out = os.fdopen(os.dup(1), "wb")  # the answers; anything else printed goes to stderr
    os.dup2(2, 1)
    vlc.register_font_directory(fonts_dir)
    vlc.vegalite_to_svg(WARM_UP, allowed_base_urls=[])
    return serve(out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
