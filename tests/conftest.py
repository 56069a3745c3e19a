"""Shared fixtures: the real CLI, the example drafts and the shared reference folder."""
import signal
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(autouse=True)
def ctrl_c_as_it_was():
    """A batch command stopped by Ctrl-C ignores more of them as its process ends; run in this
    process, it left Ctrl-C ignored in every process a later test started (a terminal test's
    Ctrl-C then went unseen)."""
    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, handler)


@pytest.fixture
def examples():
    return EXAMPLES


@pytest.fixture
def reference():
    if not REFERENCE.is_dir():
        pytest.skip(f"shared reference folder not found at {REFERENCE}")
    return REFERENCE


@pytest.fixture
def console_script():
    """The installed `medwatch` console script of the running interpreter's environment."""
    script = Path(sys.executable).parent / "medwatch"
    if not script.exists():
        pytest.fail(f"console script not installed at {script}: run `pip install .` first")
    return script
