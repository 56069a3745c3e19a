#!/usr/bin/env python3
"""Instructions per report for each stage of `medwatch batch`, counted by valgrind's callgrind.

Timings on a shared VM move by 20-30% from run to run with the neighbours' load, so a change
that saves 1-5% cannot be seen in bench/batch.py or bench/stages.py. The count of
instructions a stage executes does not move with the load: it is the same from run to run
within about half a percent. It is not time (a cache miss costs more than an add, and the
kernel's work, such as creating files, is not counted): read it beside bench/batch.py, to
tell whether a change made a stage do less, not how fast a batch goes.

Each stage is run in a process of its own under callgrind twice: once prepared and warm
(everything loaded, every shape's page and rules' screen learnt) without running the stage,
once running it over --rows rows (the benchmark's seeded rows, bench/batch.py); the
difference divided by the rows is printed. Stages: the CSV reader (main process), cells
converted, draft text, validate_many (chunk parsed, XSD, rules' screen, XSLT for what the
screen leaves), the HTML page, the two file writes (their user-space part), the whole
pipeline in one process (run_batch with one job: all of the above and journal, name index,
problems.csv; no worker pipes), and the bare step of bench/batch.py (read a draft, parse it,
XSD) with the ratio of the two.

Usage: python bench/instructions.py [--rows N] [--stages STAGE ...] [--dir DIR]
Needs valgrind (Debian: apt install valgrind); takes about ten minutes on two cores for every
stage at 2,048 rows (callgrind runs Python about 50 times slower).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import existing_folder, write_input  # noqa: E402  (the same rows as bench/batch.py)

STAGES = {"read": "CSV reader (main process)", "coerce": "convert cells (coerce)", "draft": "draft text",
          "validate": "validate_many (parse, XSD, screen)", "page": "HTML page",
          "write": "2 file writes (user space)", "pipeline": "whole pipeline, one process",
          "bare": "bare lxml: read, parse, XSD"}


def prepared(rows: int, folder: Path) -> dict:
    """What every stage starts from, made and warmed up before counting begins."""
    from medwatch_tool import drafting
    from medwatch_tool.batch import run_batch
    from medwatch_tool.coerce import coerce_values
    from medwatch_tool.draft import draft_document
    from medwatch_tool.readers import open_source

    source = folder / "rows.csv"
    write_input(source, rows)
    drafting.load_shared("html")
    with closing(open_source(str(source))) as rows_read:  # (every shape's page and screen learnt, as a run does)
        run_batch(rows_read, folder / "warm", render_to="html", jobs=1)
    with closing(open_source(str(source))) as rows_read:
        values = [coerce_values(row.values)[0] for row in rows_read]
    with closing(open_source(str(source))) as rows_read:  # (read again: cells not converted yet, as a run's are)
        cells = [row.values for row in rows_read]
    documents = [draft_document(v) for v in values]
    return {"source": source, "cells": cells, "values": values, "documents": documents,
            "drafts": sorted((folder / "warm").glob("*.xml"))}


def run_stage(stage: str, times: int, rows: int, folder: Path) -> None:
    """`stage` run `times` times (0 or 1) after the preparation (the process counted)."""
    from lxml import etree

    from medwatch_tool import drafting
    from medwatch_tool.batch import run_batch
    from medwatch_tool.coerce import coerce_values
    from medwatch_tool.draft import draft_document
    from medwatch_tool.readers import open_source
    from medwatch_tool.safe_io import FolderWriter
    from medwatch_tool.validate import _xsd, validate_many

    ready = prepared(rows, folder)
    documents = ready["documents"]
    chunks = [documents[i:i + drafting.CHUNK] for i in range(0, len(documents), drafting.CHUNK)]
    checked = [validate_many([d for d, _ in c], ["x"] * len(c), [leaves for _, leaves in c]) for c in chunks]
    render = drafting._renderer("html")
    roots = [(root, leaves) for c, results in zip(chunks, checked) for (_, leaves), (root, _) in zip(c, results)]
    pages = [render(root, leaves) for root, leaves in roots]
    schema, parser = _xsd(), etree.XMLParser(resolve_entities=False, no_network=True)
    for _ in range(times):
        if stage == "read":
            with closing(open_source(str(ready["source"]))) as source:
                for _row in source:
                    pass
        elif stage == "coerce":
            for cells in ready["cells"]:
                coerce_values(cells)
        elif stage == "draft":
            for values in ready["values"]:
                draft_document(values)
        elif stage == "validate":
            for c in chunks:
                validate_many([d for d, _ in c], ["x"] * len(c), [leaves for _, leaves in c])
        elif stage == "page":
            for root, leaves in roots:
                render(root, leaves)
        elif stage == "write":
            with FolderWriter(tempfile.mkdtemp(dir=folder)) as out:
                for i, ((data, _), page) in enumerate(zip(documents, pages)):
                    out.write(f"d{i}.xml", data)
                    out.write(f"d{i}.html", page)
        elif stage == "pipeline":
            with closing(open_source(str(ready["source"]))) as source:
                run_batch(source, folder / "counted", render_to="html", jobs=1)
        elif stage == "bare":  # as bench/batch.py's bare step
            for path in ready["drafts"]:
                schema.validate(etree.fromstring(Path(path).read_bytes(), parser))


def counted(stage: str, times: int, rows: int, where: str) -> int:
    """Instructions callgrind counts in a process running `stage` `times` times."""
    folder = tempfile.mkdtemp(dir=where, prefix="medwatch-instructions-")
    try:
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
                   "--run", stage, str(times), "--rows", str(rows), "--dir", folder]
        env = dict(os.environ, PYTHONHASHSEED="0")  # (the same dict and set orders in every count)
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        found = re.search(r"Collected : (\d+)", done.stderr)
        if done.returncode != 0 or not found:
            sys.exit(f"stage {stage} failed under valgrind:\n{done.stderr[-3000:]}")
        return int(found.group(1))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2048)
    parser.add_argument("--stages", nargs="+", choices=list(STAGES), default=list(STAGES))
    parser.add_argument("--dir", default=None, type=existing_folder,
                        help="where the drafts are written (default: system temp folder)")
    parser.add_argument("--run", nargs=2, metavar=("STAGE", "TIMES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_stage(args.run[0], int(args.run[1]), args.rows, Path(args.dir))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt install valgrind)")
    where = args.dir or tempfile.gettempdir()
    jobs = [(stage, times) for stage in args.stages for times in (0, 1)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # (each count is the same however loaded)
        counts = dict(zip(jobs, pool.map(lambda job: counted(*job, args.rows, where), jobs)))
    print(f"instructions a report (callgrind), {args.rows:,} benchmark rows, each stage warm:")
    per_report = {}
    for stage in args.stages:
        per_report[stage] = (counts[stage, 1] - counts[stage, 0]) / args.rows
        print(f"  {STAGES[stage]:<38} {per_report[stage]:>12,.0f}")
    if "pipeline" in per_report and "bare" in per_report:
        print(f"  pipeline / bare {per_report['pipeline'] / per_report['bare']:.1f}x in instructions "
              "(user space only: the kernel's file work and the workers' pipes are not in it)")


if __name__ == "__main__":
    main()
