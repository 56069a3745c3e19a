"""Field paths: `suspect_product[2]/dose` names one leaf of one draft.

The wizard stores answers by path, CSV headers are paths, JSON input is their nested form,
and problems point at paths; this module is the one place that spells the syntax.
"""
import re
from functools import lru_cache
from typing import Tuple

_STEP = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d{1,6})\])?$")  # (no list has a million entries)


class PathSyntaxError(ValueError):
    """A path that does not follow `name[index]/name...`."""


@lru_cache(maxsize=8192)
def split_path(path: str) -> Tuple[Tuple[str, int], ...]:
    """`'device[2]/udi'` -> `(('device', 2), ('udi', 1))` (indexes are 1-based).

    Cached: a batch run parses the same few hundred column paths for every row.
    """
    steps = []
    for raw in path.strip().strip("/").split("/"):
        m = _STEP.match(raw.strip())
        if not m or (m.group(2) is not None and int(m.group(2)) < 1):
            raise PathSyntaxError(f"'{path}' is not a field path (expected e.g. suspect_product[2]/dose)")
        steps.append((m.group(1), int(m.group(2) or 1)))
    return tuple(steps)


def join_path(steps, repeating=frozenset(), stray: bool = False) -> str:
    """Inverse of split_path; indexes are written for steps whose template is in `repeating`
    (`suspect_product[1]/dose`, `patient/age`). With `stray`, also an index other than 1 on
    a step that does not repeat (`patient[2]/age`), kept so that it is refused where it is
    placed: the one spelling rows are keyed by (header.field_name)."""
    out, prefix = [], []
    for name, index in steps:
        prefix.append(name)
        out.append(f"{name}[{index}]" if (stray and index != 1) or "/".join(prefix) in repeating else name)
    return "/".join(out)


_INDEX = re.compile(r"\[\d+\]")


def without_indexes(text: str) -> str:
    """`suspect_product[2]/dose` -> `suspect_product/dose`: `template_of` for any text (a key
    that is no path too, as problems may name one), never refusing it."""
    return _INDEX.sub("", text) if "[" in text else text


@lru_cache(maxsize=8192)
def template_of(path: str) -> str:
    """The path with its indexes removed: the catalog key of the field."""
    return "/".join(name for name, _ in split_path(path))
