"""The installed console script works from any folder: schemas and templates ship inside."""
import os
import subprocess
import sys


def test_console_script_from_another_folder(console_script, examples, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    drafts = sorted(str(p) for p in examples.glob("*.xml"))
    done = subprocess.run([str(console_script), "validate", *drafts], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": valid") == len(drafts)
    out = tmp_path / "kink.html"
    done = subprocess.run([str(console_script), "render", drafts[0], "--to", "html", "-o", str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "<th class=\"box\">A1</th>" in out.read_text()


def test_python_dash_m_and_version(tmp_path):
    done = subprocess.run([sys.executable, "-m", "medwatch_tool", "--version"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("medwatch, version ")


def test_bad_input_has_no_traceback_in_a_real_process(console_script, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00garbage")
    done = subprocess.run([str(console_script), "render", str(bad)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == f"Error: {bad}: this is not an XML file (binary data)"
