#!/usr/bin/env python3
"""What `medwatch batch --update` costs beside a first run of the same rows.

For each N (default 10,000 and 100,000 synthetic rows, the seeded rows of bench/batch.py):
a first run into a new folder, then `--update` with a corrected file (1 row in 200 now
failing, 1 in 200 removed: their drafts are moved aside), each the installed command in a
process of its own. Prints the wall time and reports/s of each, how many drafts the update
moved aside, and the peak RSS of each run's largest process (measured in a process between,
so that each figure is its run's own): the update's end looks at every draft in the folder
and compares names in an SQLite table, so memory should not grow with N.

Usage: python bench/update.py [--sizes 10000 100000] [--jobs N] [--dir DIR]
"""
import argparse
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import existing_folder, write_input  # noqa: E402  (the same rows as bench/batch.py)

from medwatch_tool.workers import usable_cpus  # noqa: E402


def corrected(source: Path, target: Path) -> int:
    """The rows of `source` as a clinic's next export: 1 in 200 given a sex no form has (the
    row now fails), 1 in 200 left out. Returns how many drafts the update should move aside."""
    gone = 0
    with source.open(newline="", encoding="utf-8") as rows, target.open("w", newline="", encoding="utf-8") as out:
        reader = csv.DictReader(rows)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
        writer.writeheader()
        for i, row in enumerate(reader):
            if i % 200 == 100:
                gone += 1
                continue
            if i % 200 == 150:
                row["patient/sex"] = "moon"
                gone += 1
            writer.writerow(row)
    return gone


def one(command: list) -> None:
    """Run `command`; print its wall time and peak RSS (main, largest worker) as JSON."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    print(json.dumps({"wall": wall, "rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr[-2000:],
                      "rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))


def measured(command: list) -> dict:
    """`one` in a process of its own: its RUSAGE_CHILDREN peak is this run's largest process."""
    out = subprocess.run([sys.executable, __file__, "--one", json.dumps(command)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--jobs", type=int, default=usable_cpus())
    parser.add_argument("--dir", default=None, type=existing_folder)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(json.loads(args.one))
        return
    medwatch = shutil.which("medwatch", path=os.path.dirname(sys.executable)) or shutil.which("medwatch")
    if not medwatch:
        sys.exit("the medwatch command is not installed: pip install -e . first")
    print(f"{args.jobs} workers; drafts in {args.dir or tempfile.gettempdir()}")
    print(f"{'rows':>8}  {'first run':>22}  {'--update':>22}  {'moved aside':>11}  {'peak RSS first / update':>24}")
    for n in args.sizes:
        work = Path(tempfile.mkdtemp(prefix="medwatch-update-bench-", dir=args.dir))
        try:
            rows, fixed, out = work / "rows.csv", work / "fixed.csv", work / "drafts"
            write_input(rows, n)
            expected = corrected(rows, fixed)
            common = ["--out", str(out), "--jobs", str(args.jobs)]
            first = measured([medwatch, "batch", str(rows)] + common)
            update = measured([medwatch, "batch", str(fixed), "--update"] + common)
            if first["rc"] != 0 or update["rc"] != 1:  # (the corrected file has failing rows: exit 1)
                sys.exit(f"unexpected exit: first {first['rc']}, update {update['rc']}\n{update['stderr']}")
            moved = re.search(r"([\d,]+) drafts? of the earlier run", update["stderr"])
            moved = int(moved.group(1).replace(",", "")) if moved else 0
            if moved != expected:
                sys.exit(f"the update moved {moved} drafts aside, {expected} expected")
            rate = lambda run, count: f"{run['wall']:6.1f} s {count / run['wall']:>7,.0f}/s"  # noqa: E731
            print(f"{n:>8,}  {rate(first, n):>22}  {rate(update, n - expected // 2):>22}  {moved:>11,}  "
                  f"{first['rss']:>10.0f} / {update['rss']:.0f} MB")
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
