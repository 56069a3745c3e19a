#!/usr/bin/env python3
"""Benchmark the input readers of `medwatch batch`: rows read per second, and memory, by format.

Every row passes through the main process's reader, whatever --jobs is, so a reader
slower than the workers sets the pace of the whole run. For N synthetic rows (the same
seeded rows as bench/batch.py) written as CSV, JSON Lines and an Excel .xlsx sheet three
times: as openpyxl saves one (text in each cell, "xlsx"), as Excel saves one (text in the
workbook's shared string table, numbered in the order the rows first use it, "xlsx-sst"),
and the same with the table in a random order ("xlsx-sst-shuffled": a long table's texts
are then read back from the temporary file one by one, the reader's worst case, see
medwatch_tool/text_table.py), prints the main process's CPU time per row and rows/s for
reading each file to the end (best of --repeat runs): a ceiling on the reports/s of a
batch from that format; and the peak RSS of reading it (each format in a fresh process):
flat in N when the reader streams.

Usage: python bench/readers.py [--rows N] [--repeat K] [--dir DIR]
"""
import argparse
import csv
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import existing_folder, synthetic_header, synthetic_rows  # noqa: E402  (the same realistic rows as bench/batch.py)
from stream import peak_kb  # noqa: E402  (one reader of a process's peak RSS)


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
    files["xlsx-sst"] = folder / "rows-sst.xlsx"
    as_excel_saves(files["xlsx"], files["xlsx-sst"])
    files["xlsx-sst-shuffled"] = folder / "rows-sst-shuffled.xlsx"
    as_excel_saves(files["xlsx"], files["xlsx-sst-shuffled"], shuffled=True)
    return files


_SHEET = "xl/worksheets/sheet1.xml"
_SHARED = re.compile(r't="s"><v>([0-9]+)</v>')
_INLINE = re.compile(r'<c r="([A-Z]+[0-9]+)"( s="[0-9]+")? t="inlineStr"><is><t(?: [^>]*)?>(.*?)</t></is></c>', re.S)


def as_excel_saves(src: Path, dst: Path, shuffled: bool = False):
    """A copy of an openpyxl-saved workbook with its text in a shared string table, where
    Excel keeps it (openpyxl can only write text into the cells), numbered in the order the
    rows first use each text, or in a random (seeded) order when `shuffled`."""
    table, index = [], {}

    def shared(match):
        text = match.group(3)
        if text not in index:
            index[text] = len(table)
            table.append(text)
        return f'<c r="{match.group(1)}"{match.group(2) or ""} t="s"><v>{index[text]}</v></c>'

    def renumbered(sheet: str) -> str:
        order = list(range(len(table)))
        random.Random(20261127).shuffle(order)
        table[:] = [table[old] for old in order]
        new = {old: place for place, old in enumerate(order)}
        return _SHARED.sub(lambda match: f't="s"><v>{new[int(match.group(1))]}</v>', sheet)

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    with zipfile.ZipFile(src) as original, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in original.infolist():
            data = original.read(info.filename)
            if info.filename == _SHEET:
                sheet = _INLINE.sub(shared, data.decode("utf-8"))
                data = (renumbered(sheet) if shuffled else sheet).encode("utf-8")
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdSst" Target="sharedStrings.xml" Type='
                                    b'"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
                                    b"</Relationships>")
            copy.writestr(info, data)
        strings = "".join(f"<si><t xml:space=\"preserve\">{text}</t></si>" for text in table)
        copy.writestr("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst '
                      f'xmlns="{main}" count="{len(table)}" uniqueCount="{len(table)}">{strings}</sst>')


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


def _peak_rss_mb() -> float:
    """This process's peak RSS since it began. (ru_maxrss would count the RSS of the
    benchmark's own process as it forked this one: Linux carries it across exec.)"""
    kb = peak_kb(os.getpid())
    if kb:
        return kb / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # (not Linux: no fork of a big parent there)
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)  # (macOS counts bytes, others KB)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=None, type=existing_folder, help="where the input files are written (default: system temp folder)")
    parser.add_argument("--read", help=argparse.SUPPRESS)  # (internal: read one file in this fresh process)
    args = parser.parse_args()
    if args.read:
        runs = [read_all(Path(args.read)) for _ in range(args.repeat)]
        peak = _peak_rss_mb()
        print(json.dumps({"rows": [rows for rows, _ in runs], "cpu": min(cpu for _, cpu in runs), "rss_mb": peak}))
        return
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="medwatch-bench-readers-") as tmp:
        files = write_files(Path(tmp), args.rows)
        print(f"medwatch batch readers: {args.rows:,} synthetic rows, best of {args.repeat} runs, main process CPU")
        print(f"{'format':>17} {'file size':>10} {'us per row':>11} {'rows/s':>9} {'peak RSS':>9}")
        for fmt, path in files.items():
            done = subprocess.run([sys.executable, __file__, "--read", str(path), "--repeat", str(args.repeat)],
                                  capture_output=True, text=True, check=True)
            result = json.loads(done.stdout)
            assert result["rows"] == [args.rows] * args.repeat, (fmt, result)
            best = result["cpu"]
            print(f"{fmt:>17} {path.stat().st_size / 1e6:>7.1f} MB {best / args.rows * 1e6:>11,.0f} "
                  f"{args.rows / best:>9,.0f} {result['rss_mb']:>6,.0f} MB")
    print("Each row then costs the workers about 150-200 us of CPU on each of --jobs cores "
          "(bench/batch.py): a reader slower than that sets the pace of the run.")


if __name__ == "__main__":
    main()
