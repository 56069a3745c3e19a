"""The input's numbering of repeated groups, for problems found in a draft.

An input may skip entries of a repeated group (`suspect_product[1]` and `[3]`, or a JSON
array with an empty `{}` in the middle); the draft has no indexes, so its entries are
numbered 1..n and the validator names them so (`suspect_product[2]` for the input's [3]).
Problems must name the entry as the input does: the user looks there, and a problem of a
value refused at the input's [2] must not be taken for one of the draft's [2].
"""
from functools import lru_cache
from typing import Dict, Optional, Tuple

from .catalog import load_catalog
from .paths import PathSyntaxError, join_path, split_path

Numbering = Dict[str, Tuple[int, ...]]  # a repeated group, as the input spells its place -> its input indexes


@lru_cache(maxsize=256)
def input_numbering(paths: Tuple[str, ...]) -> Optional[Numbering]:
    """For the paths a draft was made from (in the input's numbering), each repeated group's
    input indexes in order (the draft's entry n is the n-th of them); None when they are
    1..n everywhere, as in most rows. Cached: it depends on the draft's shape only, and a
    batch's rows come in a few shapes."""
    repeating = load_catalog().repeating
    indexes: Dict[str, set] = {}
    for path in paths:
        try:
            steps = split_path(path)
        except PathSyntaxError:
            continue
        for depth, (name, index) in enumerate(steps[:-1]):
            if "/".join(n for n, _ in steps[:depth + 1]) in repeating:
                indexes.setdefault(_place(steps[:depth], name, repeating), set()).add(index)
    numbering = {group: tuple(sorted(found)) for group, found in indexes.items()}
    if all(found == tuple(range(1, len(found) + 1)) for found in numbering.values()):
        return None
    return numbering


def as_input(path: Optional[str], numbering: Optional[Numbering]) -> Optional[str]:
    """A draft's path (`suspect_product[2]/stop_date`) as the input numbers the entry it came
    from (`suspect_product[3]/stop_date` when the input has no [2])."""
    if not path or numbering is None:
        return path
    try:
        steps = split_path(path)
    except PathSyntaxError:
        return path
    repeating = load_catalog().repeating
    renumbered = []
    for name, index in steps:
        found = numbering.get(_place(renumbered, name, repeating))
        if found is not None and index <= len(found):
            index = found[index - 1]
        renumbered.append((name, index))
    return join_path(tuple(renumbered), repeating, stray=True)


def _place(above, name: str, repeating) -> str:
    """A repeated group's key in a Numbering: the entries above it, and its name without an
    index ('suspect_product', 'event/test')."""
    return f"{join_path(above, repeating, stray=True)}/{name}" if above else name
