#!/usr/bin/env python3
"""Benchmark `medwatch batch`: reports per second and peak memory.

Prints, for each N (default 10,000 and 100,000 synthetic rows, seeded):
  - pipeline reports/s: row -> draft -> XSD + rules -> draft XML and HTML written
  - bare lxml reports/s: parse + XSD validation of the same drafts (same worker count)
  - their ratio, and peak RSS of the main process and of the largest worker
  - CPU time per report (all processes, user + system) of both, and their ratio: steadier
    than reports/s when neighbours on a shared VM come and go; and the main process's part.

Each N is run --repeat times (default 3), each run in a fresh process so its peak RSS is
its own; the median and the best run are printed (shared VMs vary by 30% from run to run).
Drafts are written under --dir (default: the system's temporary folder) and removed when
all runs are done, where the folder has room for them besides the largest run (else after
each run, and always on tmpfs): on an ext4 without a journal, creating files costs several
times more for minutes after many were deleted (see bench/disk.py), so each run's cleanup
would slow the next run.

Usage: python bench/batch.py [--sizes 10000 100000] [--jobs N] [--repeat K] [--dir DIR]
"""
import argparse
import csv
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DRUGS = [("Lioresal Intrathecal (baclofen injection)", "intrathecal", "Severe spasticity"),
         ("Gablofen (baclofen injection)", "intrathecal", "Spasticity, cerebral palsy"),
         ("Morphine sulfate intrathecal", "intrathecal", "Chronic cancer pain"),
         ("Ziconotide intrathecal infusion", "intrathecal", "Severe chronic pain"),
         ("Baclofen 10 mg tablets", "oral", "Multiple sclerosis spasticity")]
DEVICES = [("SynchroMed II programmable infusion pump", "Implanted programmable infusion pump", "LKK"),
           ("Prometra II programmable pump", "Implanted drug pump", "LKK"),
           ("Ascenda intrathecal catheter", "Intrathecal catheter", None)]
EVENTS = ["Drowsiness, hypotonia and slow breathing two days after a dose increase.",
          "Return of spasticity, itching and fever; catheter kink found on dye study.",
          "Pump low-reservoir alarm, missed refill, withdrawal symptoms.",
          "Nausea and dizziness after refill; pump interrogation normal."]


def synthetic_rows(n: int, seed: int = 20261124):
    """Realistic rows: a third drugs only, a third devices only, a third both."""
    rnd = random.Random(seed)
    for i in range(n):
        kind = i % 3
        year, month, day = 2026, rnd.randint(1, 9), rnd.randint(1, 28)
        row = {
            "admin/report_id": f"BENCH-{i:07d}", "patient/identifier": "".join(rnd.choice("ABCDEFGHJKLMNPRSTW") for _ in range(3)),
            "patient/age": str(rnd.randint(8, 85)), "patient/age_unit": "year", "patient/sex": rnd.choice(["male", "female"]),
            "patient/weight": str(rnd.randint(30, 120)), "patient/weight_unit": "kg",
            "event/problem_type": "adverse_event" if kind == 0 else "adverse_event; product_problem",
            "event/outcome": rnd.choice(["hospitalization", "required_intervention", "other_serious", ""]),
            "event/event_date": f"{month:02d}/{day:02d}/{year}", "event/report_date": f"{year}-10-{rnd.randint(1, 28):02d}",
            "event/description": rnd.choice(EVENTS) + f" Case {i}.",
            "reporter/last_name": rnd.choice(["Okafor", "Lindqvist", "Nguyen", "Garcia"]), "reporter/first_name": "Sam",
            "reporter/phone": f"555-{rnd.randint(1000, 9999)}", "reporter/country": "US",
            "reporter/health_professional": "yes", "reporter/occupation": rnd.choice(["Physician", "Nurse", "Pharmacist"]),
        }
        if kind in (0, 2):
            name, route, indication = rnd.choice(DRUGS)
            row.update({"suspect_product[1]/name": name, "suspect_product[1]/route": route, "suspect_product[1]/dose": str(rnd.randint(50, 800)),
                        "suspect_product[1]/dose_unit": "UGM", "suspect_product[1]/frequency": "daily",
                        "suspect_product[1]/start_date": f"{rnd.randint(2015, 2025)}", "suspect_product[1]/indication": indication,
                        "suspect_product[1]/lot": f"L{rnd.randint(10000, 99999)}"})
        if kind in (1, 2):
            brand, common, procode = rnd.choice(DEVICES)
            row.update({"device[1]/brand_name": brand, "device[1]/common_name": common, "device[1]/manufacturer": "Medtronic",
                        "device[1]/udi": f"(01)00643169{rnd.randint(100000, 999999)}(21)SN{i}",
                        "device[1]/implanted_date": f"{rnd.randint(2015, 2025)}-{rnd.randint(1, 12):02d}",
                        "device[1]/operator": "health_professional"})
            if procode:
                row["device[1]/procode"] = procode
        yield row


def synthetic_header() -> list:
    """The columns the synthetic rows use, in the catalog's order (`medwatch fields`)."""
    from medwatch_tool.catalog import load_catalog

    used = set()
    for row in synthetic_rows(300):
        used.update(row)
    return [c for c in load_catalog().column_names() if c in used]


def write_input(path: Path, n: int):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=synthetic_header())
        writer.writeheader()
        for row in synthetic_rows(n):
            writer.writerow(row)


def _bare(paths):
    from lxml import etree

    from medwatch_tool.validate import _xsd

    schema = _xsd()
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    ok = 0
    for p in paths:
        ok += schema.validate(etree.fromstring(Path(p).read_bytes(), parser))
    return ok


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the pools' workers, once joined).

    Per report it is steadier than wall time on a shared VM, whose neighbours change the
    reports/s from run to run; both are printed.
    """
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def existing_folder(text: str) -> str:
    """--dir of every bench script: a folder that exists (said as a usage error, not a traceback)."""
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an existing folder")
    return text


# what a report leaves on disk: its row, a 1.2 KB draft and a 17 KB page (in 4 KB blocks)
DISK_PER_REPORT = 32 * 1024


def _in_memory(folder: str) -> bool:
    """Whether `folder` is on a file system held in memory (tmpfs): kept drafts would take
    memory there, and deleting them slows nothing. From /proc/mounts (Linux); else no."""
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            points = [line.split()[1:3] for line in mounts]
    except OSError:
        return False
    real = os.path.realpath(folder)
    inside = [(point, kind) for point, kind in points if real == point or real.startswith(point.rstrip("/") + "/")]
    return bool(inside) and max(inside, key=lambda m: len(m[0]))[1] in ("tmpfs", "ramfs")


def _room_to_keep(folder: str, reports: int) -> bool:
    """Whether `folder` has room for `reports` more reports' files, twice over (space and
    inodes), besides what is kept already."""
    stats = os.statvfs(folder)
    room = stats.f_bavail * stats.f_frsize > 2 * reports * DISK_PER_REPORT
    return room and (stats.f_files == 0 or stats.f_favail > 2 * 2 * reports)  # no inode limit: f_files 0


def measure(n: int, jobs: int, folder, keep: bool = False) -> dict:
    """Runs inside a fresh process: one N, pipeline then bare lxml. Its files are left in
    `folder` when `keep` (the caller removes them when all runs are done)."""
    from multiprocessing import get_context

    from medwatch_tool.batch import run_batch
    from medwatch_tool.readers import open_source

    tmp = tempfile.mkdtemp(dir=folder, prefix="medwatch-bench-")
    try:
        src, out = Path(tmp) / "rows.csv", Path(tmp) / "drafts"
        write_input(src, n)
        source = open_source(str(src))
        start, cpu, main_start = time.perf_counter(), _cpu_seconds(), time.process_time()
        summary = run_batch(source, out, render_to="html", jobs=jobs)
        pipeline, pipeline_cpu = time.perf_counter() - start, _cpu_seconds() - cpu
        main_cpu = time.process_time() - main_start
        source.close()
        # peak RSS of the pipeline alone, before this script lists the drafts for the bare run
        rss_main = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rss_worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        drafts = sorted(str(p) for p in out.glob("*.xml"))
        chunks = [drafts[i::jobs] for i in range(jobs)]
        start, cpu = time.perf_counter(), _cpu_seconds()
        with get_context("fork").Pool(jobs) as pool:
            valid = sum(pool.map(_bare, chunks))
        bare, bare_cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    finally:
        if not keep:
            shutil.rmtree(tmp)
    why = summary.stopped or (f"stopped by signal {summary.interrupted}" if summary.interrupted else "")
    return {"n": n, "drafted": summary.drafted, "failed": summary.failed, "valid": valid, "stopped": why,
            "pipeline_s": pipeline, "bare_s": bare, "pipeline_cpu_s": pipeline_cpu, "bare_cpu_s": bare_cpu,
            "main_cpu_s": main_cpu,
            "rss_main_mb": rss_main, "rss_worker_mb": rss_worker}


def file_write_cost(folder) -> float:
    """Microseconds per atomic owner-only write of a draft-sized file in `folder`.

    The pipeline writes two files per report; on a disk whose file creation is slow (a
    shared VM's ext4 after heavy create/delete churn, seen here at 300-1,200 us a file
    against 25 us fresh) that, not the tool, sets the pace. Printed so figures can be read.
    """
    from medwatch_tool.safe_io import FolderWriter

    with FolderWriter(tempfile.mkdtemp(dir=folder, prefix="medwatch-bench-io-")) as out:  # removed with `folder`
        data = b"x" * 18_000  # about one HTML page
        start = time.perf_counter()
        for i in range(500):
            out.write(f"f{i}.html", data)
        return (time.perf_counter() - start) / 500 * 1e6


def main():
    from medwatch_tool.workers import usable_cpus

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--jobs", type=int, default=usable_cpus(), help="worker processes (default: as medwatch batch)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=None, type=existing_folder,
                        help="where the drafts are written (default: system temp folder)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.jobs, args.dir, args.keep)))
        return
    where = args.dir or tempfile.gettempdir()
    with tempfile.TemporaryDirectory(dir=where, prefix="medwatch-bench-runs-") as folder:
        run_all(args, where, folder)


def run_all(args, where: str, folder: str):
    """Every N, --repeat runs each, in fresh processes writing under `folder`."""
    print(f"medwatch batch benchmark: {args.jobs} worker process(es), {os.cpu_count()} CPU(s), "
          f"drafts written under {where}, {args.repeat} run(s) per N")
    print(f"file writes in that folder: {file_write_cost(folder):,.0f} us per draft-sized file "
          "(the pipeline writes 2 per report)")
    print(f"{'N':>8} {'pipeline rep/s':>21} {'bare lxml rep/s':>16} {'ratio':>6} {'peak RSS main':>14} "
          f"{'peak RSS worker':>16} {'CPU us/report':>22}")
    print(f"{'':>8} {'median (best)':>21} {'median':>16} {'':>6} {'':>14} {'':>16} {'pipeline / bare':>22}")
    main_share, kept = [], []
    largest = max(args.sizes)
    for n in args.sizes:
        runs = []
        for _ in range(args.repeat):
            # kept if, with them, the largest run still fits (a full folder would fail the run)
            keep = not _in_memory(folder) and _room_to_keep(folder, n + largest)
            command = [sys.executable, __file__, "--one", str(n), "--jobs", str(args.jobs), "--dir", folder]
            done = subprocess.run(command + (["--keep"] if keep else []), capture_output=True, text=True, check=True)
            kept.append(keep)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            if r["drafted"] != n or r["valid"] != n:
                why = r["stopped"] or f"is {where} full?"
                sys.exit(f"a run of {n:,} rows drafted {r['drafted']:,} ({r['valid']:,} valid): {why}\n{done.stderr[-3000:]}")
            runs.append(r)
        pipe = sorted(n / r["pipeline_s"] for r in runs)
        bare = statistics.median(n / r["bare_s"] for r in runs)
        median = statistics.median(pipe)
        rss_main = max(r["rss_main_mb"] for r in runs)
        rss_worker = max(r["rss_worker_mb"] for r in runs)
        cpu_pipe = statistics.median(r["pipeline_cpu_s"] / n * 1e6 for r in runs)
        cpu_bare = statistics.median(r["bare_cpu_s"] / n * 1e6 for r in runs)
        cpu = f"{cpu_pipe:,.0f} / {cpu_bare:,.0f} ({cpu_pipe / cpu_bare:.1f}x)"
        main_share.append(f"{statistics.median(r['main_cpu_s'] / n * 1e6 for r in runs):,.0f} us at N={n:,}")
        print(f"{n:>8} {f'{median:,.0f} ({pipe[-1]:,.0f})':>21} {bare:>16,.0f} {bare / median:>5.1f}x "
              f"{rss_main:>11.0f} MB {rss_worker:>13.0f} MB {cpu:>22}", flush=True)
    print("pipeline = CSV row -> draft -> XSD + Schematron rules -> draft XML and HTML written (atomic, 0600);")
    print("bare = lxml parse + XSD validation of the same drafts; ratio = bare / pipeline (medians).")
    print("CPU us/report = CPU time of all processes (user + system) per report, median of the runs;")
    print(f"the main process's part of it (reading rows, journal, feeding the workers): {', '.join(main_share)}.")
    if all(kept):
        print("every run's drafts were kept until all were done: no run began right after drafts were deleted")
    elif _in_memory(folder):
        print("each run's drafts were removed after it (a folder in memory: keeping them would take memory, "
              "and deleting slows nothing there)")
    else:
        print(f"the drafts of {len(kept) - sum(kept)} of {len(kept)} runs were removed after their run for want of room "
              "(on an ext4 without a journal that slows the run after it; see bench/disk.py)")


if __name__ == "__main__":
    main()
