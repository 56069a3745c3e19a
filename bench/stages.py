#!/usr/bin/env python3
"""Where a batch worker's time goes: microseconds per report for each stage of drafting.

Runs the worker's own code (drafting.draft_rows, chunks of drafting.CHUNK rows) in this one
process on N synthetic rows (the same seeded rows as bench/batch.py), with a timer around
each stage, and prints the time per report of each: converting the cells, writing the
draft text, parsing the chunk, the XSD, the rules' screen and the Schematron rules (for the
drafts the screen cannot pass), the HTML page and the two
atomic file writes. Main-process work (reading, journaling) and the worker pool are left
out: bench/batch.py measures the whole pipeline. Read it to see which stage to work on;
the figures move with the machine's load like any other timing.

Usage: python bench/stages.py [--rows N] [--dir DIR]
"""
import argparse
import collections
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import existing_folder, write_input  # noqa: E402  (the same rows as bench/batch.py)

from medwatch_tool import drafting, skeleton, validate  # noqa: E402
from medwatch_tool.readers import open_source  # noqa: E402

# (module, function, stage): each wrapped where the worker's code looks it up
STAGES = [
    (drafting, "coerce_values", "convert cells (coerce)"),
    (drafting, "draft_document", "draft text"),
    (validate, "parse_xml_bytes", "parse the chunk"),
    (drafting, "validate_many", "XSD + rules + parse"),
    (validate, "certainly_passing", "rules' screen (rule_screen)"),
    (validate, "rule_report", "rules (Schematron XSLT)"),
    (skeleton.SkeletonRenderer, "__call__", "HTML page"),
    (drafting.FolderWriter, "write", "2 atomic file writes"),
]


def timed(spent: collections.Counter, function, stage: str):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[stage] += time.perf_counter() - start
    return wrapper


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--dir", default=None, type=existing_folder, help="where the drafts are written (default: system temp folder)")
    args = parser.parse_args()
    spent = collections.Counter()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="medwatch-stages-") as tmp:
        write_input(Path(tmp) / "rows.csv", args.rows)
        source = open_source(str(Path(tmp) / "rows.csv"))
        items = [drafting.as_task(row, drafting.draft_name(row.values, row.number)) for row in source]
        source.close()
        chunks = [items[i:i + drafting.CHUNK] for i in range(0, len(items), drafting.CHUNK)]
        out = Path(tmp) / "drafts"
        out.mkdir()
        drafting.draft_rows(chunks[0], str(out), "html")  # load the schema, rules and templates
        shutil.rmtree(out)
        out.mkdir()
        for module, name, stage in STAGES:
            setattr(module, name, timed(spent, getattr(module, name), stage))
        start = time.perf_counter()
        for chunk in chunks:
            drafting.draft_rows(chunk, str(out), "html")
        total = time.perf_counter() - start
    per = {stage: spent[stage] / args.rows * 1e6 for _, _, stage in STAGES}
    print(f"one worker, {args.rows:,} reports in chunks of {drafting.CHUNK}, microseconds per report:")
    xsd = (per["XSD + rules + parse"] - per["rules (Schematron XSLT)"] - per["rules' screen (rule_screen)"]
           - per["parse the chunk"])
    rows = [(stage, per[stage]) for _, _, stage in STAGES if stage != "XSD + rules + parse"]
    rows.insert(3, ("XSD validation", xsd))
    for stage, us in rows:
        print(f"  {stage:28} {us:7.0f}")
    rest = total / args.rows * 1e6 - sum(us for _, us in rows)
    print(f"  {'everything else':28} {rest:7.0f}")
    print(f"  {'total per report':28} {total / args.rows * 1e6:7.0f}")


if __name__ == "__main__":
    main()
