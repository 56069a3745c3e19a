"""Find the schemas and templates shipped inside the package.

They live at the top of the repository (`schemas/`, `templates/`) and are installed as the
data packages `medwatch_tool.schemas` and `medwatch_tool.templates`; running from a source
checkout without installing falls back to the repository folders.
"""
import importlib.util
from functools import lru_cache
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=None)
def _package_dir(package: str, fallback: str) -> Path:
    # The data folders have no __init__.py (they are namespace packages), so ask the
    # import system where the folder is rather than importlib.resources (MultiplexedPath).
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if Path(location).is_dir():
                return Path(location)
    return _REPO_ROOT / fallback


def schema_path(name: str) -> Path:
    """Path of a file in the shipped `schemas/` folder, e.g. `report.xsd`."""
    return _package_dir("medwatch_tool.schemas", "schemas") / name


def template_dir() -> Path:
    """The shipped `templates/` folder."""
    return _package_dir("medwatch_tool.templates", "templates")
