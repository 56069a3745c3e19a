#!/usr/bin/env python3
"""Benchmark the input readers of `medwatch batch`: rows read per second by format.

Every row passes through the main process's reader, whatever --jobs is, so a reader
slower than the workers sets the pace of the whole run. For N synthetic rows (the same
seeded rows as bench/batch.py) written as CSV, JSON Lines and an Excel .xlsx sheet twice:
as openpyxl saves one (text in each cell, "xlsx") and as Excel saves one (text in the
workbook's shared string table, "xlsx-sst"), prints the main process's CPU time per row and
rows/s for reading each file to the end (best of --repeat runs): a ceiling on the
reports/s of a batch from that format.

Usage: python bench/readers.py [--rows N] [--repeat K] [--dir DIR]
"""
import argparse
import csv
import json
import re
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import existing_folder, synthetic_header, synthetic_rows  # noqa: E402  (the same realistic rows as bench/batch.py)


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
    return files


_SHEET = "xl/worksheets/sheet1.xml"
_INLINE = re.compile(r'<c r="([A-Z]+[0-9]+)"( s="[0-9]+")? t="inlineStr"><is><t(?: [^>]*)?>(.*?)</t></is></c>', re.S)


def as_excel_saves(src: Path, dst: Path):
    """A copy of an openpyxl-saved workbook with its text in a shared string table, where
    Excel keeps it (openpyxl can only write text into the cells)."""
    table, index = [], {}

    def shared(match):
        text = match.group(3)
        if text not in index:
            index[text] = len(table)
            table.append(text)
        return f'<c r="{match.group(1)}"{match.group(2) or ""} t="s"><v>{index[text]}</v></c>'

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    with zipfile.ZipFile(src) as original, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in original.infolist():
            data = original.read(info.filename)
            if info.filename == _SHEET:
                data = _INLINE.sub(shared, data.decode("utf-8")).encode("utf-8")
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=None, type=existing_folder, help="where the input files are written (default: system temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="medwatch-bench-readers-") as tmp:
        files = write_files(Path(tmp), args.rows)
        print(f"medwatch batch readers: {args.rows:,} synthetic rows, best of {args.repeat} runs, main process CPU")
        print(f"{'format':>8} {'file size':>10} {'us per row':>11} {'rows/s':>9}")
        for fmt, path in files.items():
            runs = [read_all(path) for _ in range(args.repeat)]
            assert all(rows == args.rows for rows, _ in runs), runs
            best = min(cpu for _, cpu in runs)
            print(f"{fmt:>8} {path.stat().st_size / 1e6:>7.1f} MB {best / args.rows * 1e6:>11,.0f} "
                  f"{args.rows / best:>9,.0f}")
    print("Each row then costs the workers about 150-200 us of CPU on each of --jobs cores "
          "(bench/batch.py): a reader slower than that sets the pace of the run.")


if __name__ == "__main__":
    main()
