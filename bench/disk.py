#!/usr/bin/env python3
"""Benchmark writing drafts to a folder: what one owner-only atomic file costs there.

A batch writes two files per report, and on a disk file system that kernel time is a large
part of a report's cost (bench/batch.py). For the folder given by --dir this prints, per
draft-sized file written by `safe_io.FolderWriter` from --jobs processes at once (N files
each, runs of the two ways alternated, best of --repeat), the wall time and the CPU time
(user + system) of:
  - the nameless way: an O_TMPFILE file linked to its name when complete (what Linux uses)
  - the named way: `.NAME.PID.tmp` created, written, renamed (elsewhere, or as a fallback)
and last, for the nameless way, the same files written again right after deleting as many
(the files of the other runs are kept until then): on an ext4 without a journal Linux
skips recently deleted inodes one by one when it allocates one, so a batch started
minutes after many files were deleted there pays more.

Usage: python bench/disk.py [--files N] [--jobs J] [--repeat K] [--dir DIR]
"""
import argparse
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import existing_folder  # noqa: E402  (one check of --dir for every bench script)

PAGE = b"<html>" + b"x" * 17_000 + b"</html>\n"  # about one HTML page; a draft is 1-2 KB
DRAFT = b"<report>" + b"x" * 1_200 + b"</report>\n"


def _write(args) -> tuple:
    """One process's share: N files (a draft and a page in turn) into `folder`."""
    folder, prefix, n, nameless = args
    from medwatch_tool import safe_io

    safe_io._NAMELESS = nameless and safe_io._NAMELESS
    before = resource.getrusage(resource.RUSAGE_SELF)
    with safe_io.FolderWriter(folder) as out:
        for i in range(n):
            out.write(f"{prefix}-{i:07d}.{'html' if i % 2 else 'xml'}", PAGE if i % 2 else DRAFT)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def measure(base: str, files: int, jobs: int, nameless: bool) -> tuple:
    """(wall us, user us, system us) per file, and the folder (left for the caller to delete)."""
    folder = tempfile.mkdtemp(dir=base, prefix="medwatch-bench-disk-")
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        start = time.perf_counter()
        spent = pool.map(_write, [(folder, f"w{j}", files, nameless) for j in range(jobs)])
        wall = time.perf_counter() - start
    total = files * jobs
    return (wall / total * 1e6, sum(u for u, _ in spent) / total * 1e6,
            sum(s for _, s in spent) / total * 1e6), folder


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10_000, help="files per process (default 10,000)")
    parser.add_argument("--jobs", type=int, default=2, help="processes writing at once (default 2)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=None, type=existing_folder,
                        help="where the files are written (default: system temp folder)")
    args = parser.parse_args()
    base = args.dir or tempfile.gettempdir()
    from medwatch_tool import safe_io

    print(f"{args.jobs} process(es) x {args.files:,} files (drafts of 1.2 KB and pages of 17 KB in turn) in {base}; "
          f"nameless temp files {'offered' if safe_io._NAMELESS else 'not offered'} here")
    best, folders = {}, []
    try:  # nothing is deleted until the last measure, which is of writing right after a deletion
        for _ in range(args.repeat):
            for way in ("nameless", "named"):
                figures, folder = measure(base, args.files, args.jobs, way == "nameless")
                folders.append(folder)
                if way not in best or figures[0] < best[way][0]:
                    best[way] = figures
        shutil.rmtree(folders.pop())  # as many files deleted as are written next
        best["after deleting"], folder = measure(base, args.files, args.jobs, True)
        folders.append(folder)
    finally:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"{'us per file':30} {'wall':>7} {'user':>7} {'system':>7}")
    for way, label in (("nameless", "nameless + link (best)"), ("named", "named temp + rename (best)"),
                       ("after deleting", "nameless, just after deleting")):
        wall, user, system = best[way]
        print(f"{label:30} {wall:7.1f} {user:7.1f} {system:7.1f}")
    print("wall = elapsed time / all files (processes write at once); user, system = CPU time per file")


if __name__ == "__main__":
    main()
