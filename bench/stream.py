#!/usr/bin/env python3
"""Benchmark `medwatch batch` on multi-GB input: memory must stay flat however big the file.

For each size (default 0.25 GB and 2 GB) a CSV is generated on the fly and piped into
`medwatch batch - --out DIR` (standard input, so nothing is stored but the drafts). Most
of its bytes are in rows whose event description (B5) is a megabyte long, far over the
box's 20,000 characters, so they end as problems; between them are ordinary rows (drafted)
and, now and then, a 17 MB line with no line break (skipped in pieces, reported at its row).
Prints input size, time, throughput, the summary line and the peak resident memory of the
main process and of the largest worker (read from /proc while the run goes on, Linux).

Usage: python bench/stream.py [--gb 0.25 2] [--jobs N] [--dir DIR]
"""
import argparse
import csv
import io
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import existing_folder, synthetic_header, synthetic_rows  # noqa: E402  (the same realistic rows as bench/batch.py)

MB = 1024 * 1024
SENTENCE = "Patient reports drowsiness and slow breathing after the pump refill; family called 911. "


def header_and_rows():
    return synthetic_header(), synthetic_rows(10 ** 9)


def generate(sink, gb: float, header, rows) -> dict:
    """Write about `gb` GB of CSV to `sink`; returns what was written. The megabyte texts
    are encoded once and spliced in, so the generator outpaces the tool it feeds."""
    long_text = (SENTENCE * (MB // len(SENTENCE) + 1))[:MB].encode("utf-8")  # no comma or quote
    long_line = b"x" * (17 * MB) + b"\n"
    counts = {"bytes": 0, "good": 0, "long_cell": 0, "long_line": 0}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    target = int(gb * 1024 * MB)
    block = 0
    while counts["bytes"] < target:
        writer.writerow(next(rows))
        counts["good"] += 1
        writer.writerow(dict(next(rows), **{"event/description": "@LONG@"}))
        counts["long_cell"] += 1
        data = buffer.getvalue().encode("utf-8").replace(b"@LONG@", long_text)
        if block % 100 == 99:  # a broken export: one line of 17 MB
            data += long_line
            counts["long_line"] += 1
        sink.write(data)
        counts["bytes"] += len(data)
        buffer.seek(0)
        buffer.truncate()
        block += 1
    return counts


def peak_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def watch_memory(pid: int, peaks: dict, stop: threading.Event):
    """Keep the high-water marks of the main process and each worker until `stop`."""
    while not stop.is_set():
        peaks["main"] = max(peaks["main"], peak_kb(pid))
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        for child in children:
            peaks["worker"] = max(peaks["worker"], peak_kb(int(child)))
        stop.wait(0.2)


def run(gb: float, jobs: int, folder) -> dict:
    header, rows = header_and_rows()
    with tempfile.TemporaryDirectory(dir=folder, prefix="medwatch-stream-") as tmp:
        out = Path(tmp) / "drafts"
        command = [sys.executable, "-m", "medwatch_tool", "batch", "-", "--out", str(out), "--jobs", str(jobs)]
        start = time.perf_counter()
        with open(Path(tmp) / "stdout", "w+") as stdout:
            proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=stdout, stderr=subprocess.STDOUT)
            peaks, stop = {"main": 0, "worker": 0}, threading.Event()
            watcher = threading.Thread(target=watch_memory, args=(proc.pid, peaks, stop), daemon=True)
            watcher.start()
            try:
                counts = generate(proc.stdin, gb, header, rows)
                proc.stdin.close()
            except BrokenPipeError:
                counts = {"bytes": 0}
            code = proc.wait()
            stop.set()
            watcher.join()
            stdout.seek(0)
            output = stdout.read().strip().splitlines()
        seconds = time.perf_counter() - start
        drafts = sum(1 for _ in out.glob("*.xml"))
    return {"gb": gb, "counts": counts, "seconds": seconds, "code": code, "summary": output[0] if output else "",
            "drafts": drafts, "peak_main_mb": peaks["main"] / 1024, "peak_worker_mb": peaks["worker"] / 1024}


def main():
    from medwatch_tool.workers import usable_cpus

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gb", type=float, nargs="+", default=[0.25, 2.0])
    parser.add_argument("--jobs", type=int, default=usable_cpus(), help="worker processes (default: as medwatch batch)")
    parser.add_argument("--dir", default=None, type=existing_folder, help="where the drafts are written (default: system temp folder)")
    args = parser.parse_args()
    print(f"medwatch batch on multi-GB standard input: {args.jobs} worker process(es), {os.cpu_count()} CPU(s)")
    print(f"{'input':>9} {'rows':>9} {'time':>7} {'MB/s':>6} {'peak RSS main':>14} {'peak RSS worker':>16}  summary line")
    for gb in args.gb:
        r = run(gb, args.jobs, args.dir)
        c = r["counts"]
        rows = c["good"] + c["long_cell"] + c["long_line"]
        assert r["code"] == 1 and r["drafts"] == c["good"], r
        print(f"{c['bytes'] / 1024 ** 3:>6.2f} GB {rows:>9,} {r['seconds']:>6.1f}s {c['bytes'] / MB / r['seconds']:>6.0f} "
              f"{r['peak_main_mb']:>11.0f} MB {r['peak_worker_mb']:>13.0f} MB  {r['summary']}", flush=True)
    print("rows: ordinary rows (drafted) + rows with a 1 MB description (B5 holds 20,000 characters: an error)")
    print("      + 17 MB lines without a line break (an error at their row; read past in 1 MB pieces).")


if __name__ == "__main__":
    main()
