"""Find the schemas and templates shipped inside the package.

They live at the top of the repository (`schemas/`, `templates/`) and are installed as the
data packages `medwatch_tool.schemas` and `medwatch_tool.templates`; running from a source
checkout without installing falls back to the repository folders.
"""
from functools import lru_cache
from importlib import resources
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=None)
def _package_dir(package: str, fallback: str) -> Path:
    try:
        return Path(str(resources.files(package)))
    except ModuleNotFoundError:
        return _REPO_ROOT / fallback


def schema_path(name: str) -> Path:
    """Path of a file in the shipped `schemas/` folder, e.g. `report.xsd`."""
    return _package_dir("medwatch_tool.schemas", "schemas") / name


def template_dir() -> Path:
    """The shipped `templates/` folder."""
    return _package_dir("medwatch_tool.templates", "templates")
