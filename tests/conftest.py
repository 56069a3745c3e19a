"""Shared fixtures: the real CLI, the example drafts and the shared reference folder."""
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
