"""Write one benchmark's figures into its own section of benchmarks/RESULTS.md."""

from __future__ import annotations

import os
import platform
import re
import resource
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = "# Benchmark results\n\nFigures from runs on this project's machines; each section says the command that made it.\n"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_section(name: str, command: str, body: str) -> None:
    """Replace (or add) the section called ``name`` and print it."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"<!-- {name}:start -->\n## {name}\n\n"
        f"Command: `{command}` — run {stamp} on {machine()}.\n\n{body.strip()}\n"
        f"<!-- {name}:end -->\n"
    )
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    pattern = re.compile(
        rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->\n", re.S
    )
    text = (
        pattern.sub(lambda _: section, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + section
    )
    RESULTS.write_text(text)
    sys.stdout.write(section)


def section_rows(name: str) -> list[str]:
    """The table rows (``| ... |`` lines past the header) of section ``name`` so far."""
    text = RESULTS.read_text() if RESULTS.exists() else ""
    match = re.search(
        rf"<!-- {re.escape(name)}:start -->(.*?)<!-- {re.escape(name)}:end -->",
        text,
        re.S,
    )
    if match is None:
        return []
    lines = [line for line in match.group(1).splitlines() if line.startswith("|")]
    return lines[2:]  # past the header and its |---| line


def log_run(
    name: str, command: str, intro: str, header: str, row: str, keep: int = 30
) -> None:
    """Add ``row`` on top of section ``name``'s table of runs (the newest ``keep`` kept).

    Why: a figure that moves from run to run on a shared machine is judged by its spread,
    which one run's section cannot show.
    """
    columns = header.count("|") - 1
    rule = "|" + "---|" * columns
    rows = [row, *section_rows(name)][:keep]
    write_section(name, command, "\n".join([intro.strip(), "", header, rule, *rows]))
