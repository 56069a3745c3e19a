"""The benchmark scripts run and print their figures (small N: the figures are not checked
against any aim here, only that each one is printed and makes sense)."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def run(script, *args, tmp_path):
    done = subprocess.run([sys.executable, str(BENCH / script), *args, "--dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert not list(tmp_path.iterdir())  # the drafts it wrote are removed
    return done.stdout


def test_batch_benchmark_prints_rates_ratio_memory_and_cpu(tmp_path):
    out = run("batch.py", "--sizes", "300", "--repeat", "1", "--jobs", "2", tmp_path=tmp_path)
    row = next(line for line in out.splitlines() if line.split()[:1] == ["300"])
    m = re.match(r"\s*300\s+([\d,]+) \(([\d,]+)\)\s+([\d,]+)\s+([\d.]+)x\s+(\d+) MB\s+(\d+) MB\s+"
                 r"([\d,]+) / ([\d,]+) \(([\d.]+)x\)", row)
    assert m, row
    pipeline, best, bare, ratio = (float(m.group(i).replace(",", "")) for i in range(1, 5))
    assert pipeline > 0 and best >= pipeline and bare > 0
    assert abs(ratio - bare / pipeline) < 0.1
    assert int(m.group(5)) > 0 and int(m.group(6)) > 0  # peak RSS of main and worker
    assert float(m.group(7).replace(",", "")) > 0 and float(m.group(8).replace(",", "")) > 0
    assert "main process's part of it" in out and "us per draft-sized file" in out
    sys.path.insert(0, str(BENCH))
    from batch import _in_memory

    if _in_memory(str(tmp_path)):  # a tmpfs: kept drafts would take memory, deleting them slows nothing
        assert "each run's drafts were removed after it (a folder in memory" in out
    else:  # a few hundred drafts: room enough
        assert "every run's drafts were kept until all were done" in out


def test_stage_benchmark_accounts_for_the_whole_time(tmp_path):
    out = run("stages.py", "--rows", "200", tmp_path=tmp_path)
    figures = dict((name.strip(), int(us)) for name, us in re.findall(r"^  (.+?)\s+(-?\d+)$", out, re.M))
    for stage in ("convert cells (coerce)", "draft text", "XSD validation", "rules (Schematron XSLT)",
                  "HTML page", "2 atomic file writes"):
        assert figures[stage] > 0, (stage, out)
    total = figures.pop("total per report")
    assert abs(sum(figures.values()) - total) <= len(figures)  # stages + the rest = total (rounding)


def test_reader_benchmark_reads_every_row_of_each_format(tmp_path):
    out = run("readers.py", "--rows", "150", "--repeat", "1", tmp_path=tmp_path)
    figures = {fmt: (float(us.replace(",", "")), float(rate.replace(",", "")), int(rss))
               for fmt, us, rate, rss in re.findall(r"^\s*(csv|jsonl|xlsx|xlsx-sst|xlsx-sst-shuffled)\s+[\d.]+ MB"
                                                    r"\s+([\d,]+)\s+([\d,]+)\s+(\d+) MB$", out, re.M)}
    assert set(figures) == {"csv", "jsonl", "xlsx", "xlsx-sst", "xlsx-sst-shuffled"}, out
    for us, rate, rss in figures.values():
        assert us >= 1 and rate > 0
        assert abs(1e6 / rate - us) <= 0.5 + 0.01 * us  # us per row (rounded) and rows/s agree
        assert rss > 0  # each format's peak RSS


def test_the_excel_style_workbook_of_the_reader_benchmark_holds_the_same_rows(tmp_path):
    """bench/readers.py times a workbook as Excel saves it (text in a shared string table),
    made from the one openpyxl saves: both must read to exactly the rows of the CSV."""
    import sys

    sys.path.insert(0, str(BENCH))
    try:
        import readers
    finally:
        sys.path.remove(str(BENCH))
    from medwatch_tool.readers import open_source

    files = readers.write_files(tmp_path, 40)
    assert b"sharedStrings.xml" in files["xlsx-sst"].read_bytes()

    def rows(path):
        source = open_source(str(path))
        try:
            return [(row.number, row.values) for row in source]
        finally:
            source.close()

    assert rows(files["xlsx-sst"]) == rows(files["xlsx-sst-shuffled"]) == rows(files["xlsx"]) == rows(files["csv"])


def test_disk_benchmark_prints_each_way_of_writing_a_draft(tmp_path):
    out = run("disk.py", "--files", "40", "--repeat", "1", tmp_path=tmp_path)
    figures = {label: tuple(float(x) for x in values)
               for label, *values in re.findall(r"^(.+?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", out, re.M)}
    assert set(figures) == {"nameless + link (best)", "named temp + rename (best)", "nameless, just after deleting"}, out
    for wall, user, system in figures.values():
        assert wall > 0 and user + system > 0


def test_every_bench_script_refuses_a_folder_that_does_not_exist(tmp_path):
    """A mistyped --dir ended each script in a FileNotFoundError traceback."""
    for script in ("batch.py", "stages.py", "readers.py", "disk.py", "stream.py"):
        done = subprocess.run([sys.executable, str(BENCH / script), "--dir", str(tmp_path / "nowhere")],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, (script, done.stderr)
        assert done.stderr.splitlines()[-1] == \
            f"{script}: error: argument --dir: '{tmp_path / 'nowhere'}' is not an existing folder", script


def test_update_benchmark_prints_both_runs_and_what_the_update_moved(tmp_path):
    out = run("update.py", "--sizes", "400", "--jobs", "2", tmp_path=tmp_path)
    m = re.search(r"^\s*400\s+([\d.]+) s\s+([\d,]+)/s\s+([\d.]+) s\s+([\d,]+)/s\s+(\d+)\s+(\d+) / (\d+) MB$", out, re.M)
    assert m, out
    assert int(m.group(5)) == 4  # rows 100 and 150 and 300 and 350 of 400: gone or failing now
    assert all(float(m.group(i).replace(",", "")) > 0 for i in (1, 2, 3, 4, 6, 7))


def test_each_stage_of_the_instruction_count_runs_the_real_code(tmp_path):
    """bench/instructions.py counts a stage by running it under valgrind; here each stage runs
    once as callgrind would run it (no valgrind: quick), on drafts and pages really written."""
    for stage in ("read", "coerce", "draft", "validate", "page", "write", "pipeline", "bare"):
        folder = tmp_path / stage
        folder.mkdir()
        done = subprocess.run([sys.executable, str(BENCH / "instructions.py"), "--run", stage, "1", "--rows", "40",
                               "--dir", str(folder)], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (stage, done.stderr)
    assert len(list((tmp_path / "pipeline" / "counted").glob("*.xml"))) == 40  # the counted run drafted every row
    assert len(list((tmp_path / "write").glob("*/d*.html"))) == 40


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_instruction_count_prints_a_stage_per_report(tmp_path):
    out = run("instructions.py", "--rows", "32", "--stages", "draft", tmp_path=tmp_path)
    figure = re.search(r"^  draft text\s+([\d,]+)$", out, re.M)
    assert figure, out
    assert 10_000 < int(figure.group(1).replace(",", "")) < 10_000_000  # a draft's text: thousands of instructions
