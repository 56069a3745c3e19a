#!/usr/bin/env python3
"""Benchmark the input readers of `medwatch batch`: rows read per second by format.

Every row passes through the main process's reader, whatever --jobs is, so a reader
slower than the workers sets the pace of the whole run. For N synthetic rows (the same
seeded rows as bench/batch.py) written as CSV, JSON Lines and an Excel .xlsx sheet (as
openpyxl saves one, text in the cells; Excel keeps text in a shared table, which read at
about the same speed when tried), prints the main process's CPU time per row and rows/s
for reading each file to the end (best of --repeat runs): a ceiling on the reports/s of a
batch from that format.

Usage: python bench/readers.py [--rows N] [--repeat K] [--dir DIR]
"""
import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import synthetic_header, synthetic_rows  # noqa: E402  (the same realistic rows as bench/batch.py)


def write_files(folder: Path, n: int) -> dict:
    from medwatch_tool.draft import nest

    import openpyxl

    header = synthetic_header()
    files = {"csv": folder / "rows.csv", "jsonl": folder / "rows.jsonl", "xlsx": folder / "rows.xlsx"}
    book = openpyxl.Workbook()  # not write_only: that mode leaves out the sheet's dimension
    sheet = book.active
    sheet.append(header)
    with files["csv"].open("w", newline="", encoding="utf-8") as c, files["jsonl"].open("w", encoding="utf-8") as j:
        writer = csv.DictWriter(c, fieldnames=header)
        writer.writeheader()
        for row in synthetic_rows(n):
            writer.writerow(row)
            j.write(json.dumps(nest(row)) + "\n")
            sheet.append([row.get(h) for h in header])
    book.save(files["xlsx"])
    return files


def read_all(path: Path) -> (int, float):
    """Rows read and CPU seconds to read them, as `medwatch batch` reads them."""
    from medwatch_tool.readers import open_source

    start = time.process_time()
    source = open_source(str(path))
    try:
        rows = sum(1 for _ in source)
    finally:
        source.close()
    return rows, time.process_time() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=None, help="where the input files are written (default: system temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="medwatch-bench-readers-") as tmp:
        files = write_files(Path(tmp), args.rows)
        print(f"medwatch batch readers: {args.rows:,} synthetic rows, best of {args.repeat} runs, main process CPU")
        print(f"{'format':>7} {'file size':>10} {'us per row':>11} {'rows/s':>9}")
        for fmt, path in files.items():
            runs = [read_all(path) for _ in range(args.repeat)]
            assert all(rows == args.rows for rows, _ in runs), runs
            best = min(cpu for _, cpu in runs)
            print(f"{fmt:>7} {path.stat().st_size / 1e6:>7.1f} MB {best / args.rows * 1e6:>11,.0f} "
                  f"{args.rows / best:>9,.0f}")
    print("Each row then costs the workers about 150-200 us of CPU on each of --jobs cores "
          "(bench/batch.py): a reader slower than that sets the pace of the run.")


if __name__ == "__main__":
    main()
