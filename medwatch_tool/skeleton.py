"""Render a batch's drafts fast: the template runs once per draft *shape*, not once per draft.

A batch of thousands of drafts has few shapes (which boxes are filled, how many products,
which form). For a new shape the real template renders a copy of the draft whose texts are
numbered placeholders; the output, cut at the placeholders, is that shape's skeleton. Any
later draft of the shape is rendered by putting its own texts, formatted as the form shows
them and escaped, into the gaps: a few microseconds per filled box instead of a walk of
every box of the form.

The template stays the only description of the page. The first draft of every shape is
also rendered in full and compared with the filled skeleton; a shape whose output the
placeholders cannot reproduce (a template that compares or transforms a value) always
takes the full path. Values the template does compare today (the form, the follow-up
number) are part of the shape.
"""
import re
from copy import deepcopy
from operator import itemgetter
from typing import Callable, Dict, List, Optional, Tuple

from lxml import etree
from markupsafe import escape

from .catalog import NS, load_catalog
from .render import form_of, render, value_formatter
from .validate import element_path

_UNSEEN = object()
_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use characters: valid XML, never in a form's text
_PLACEHOLDER = re.compile(f"{_OPEN}([0-9]+){_CLOSE}")
_LITERAL_PATHS = frozenset({"admin/form", "admin/follow_up"})  # admin boxes the template compares
_ADMIN = f"{{{NS}}}admin"
_LITERAL = frozenset(f"{{{NS}}}{path.split('/')[1]}" for path in _LITERAL_PATHS)


def _escape(text: str) -> str:
    """As the template escapes (markupsafe), without making a Markup object for plain text."""
    if "&" in text or "<" in text or ">" in text or "'" in text or '"' in text:
        return str(escape(text))
    return text


def _walk(root: etree._Element) -> Tuple[tuple, List[str], List[etree._Element]]:
    """(shape, texts, leaves): the draft's element structure with filled/empty marks, and the
    stripped texts of its filled leaves in document order (the placeholders' order)."""
    shape: list = []
    texts: List[str] = []
    leaves: List[etree._Element] = []

    def walk(el, in_admin: bool):
        for child in el:
            tag = child.tag
            if not isinstance(tag, str):
                continue  # comments and processing instructions are not shown
            if len(child):
                shape.append(tag)
                walk(child, tag == _ADMIN)
                shape.append(None)
                continue
            text = (child.text or "").strip()
            if not text:
                shape.append((tag,))
            elif in_admin and tag in _LITERAL:
                shape.append((tag, text))
            else:
                shape.append(tag)
                texts.append(text)
                leaves.append(child)

    walk(root, False)
    return tuple(shape), texts, leaves


def _picker(indices: List[int]) -> Callable[[list], tuple]:
    """The items at `indices` of a list, in that order, picked in C (itemgetter; it returns a
    lone item, not a tuple, for one index, hence the plain comprehension for 0 or 1)."""
    return itemgetter(*indices) if len(indices) > 1 else (lambda items: [items[i] for i in indices])


class _Layouts:
    """Per draft layout (draft._layout: one object per shape of values, which fixes the
    element structure), a small number standing for it and which of its texts are the
    compared admin boxes: a draft's shape is then (that number, those boxes' texts), found
    without going through its leaves one by one. Bounded; a layout met again after being
    dropped gets a new number (one more skeleton is built, never a wrong one)."""

    def __init__(self, size: int = 1024):
        self.size, self.known, self.numbers = size, {}, 0

    def shape_of(self, leaves: tuple) -> Tuple[tuple, List[str]]:
        layout, filled = leaves
        known = self.known.get(id(layout))
        if known is None or known[0] is not layout:
            paths = layout[2]
            literal = [i for i, path in enumerate(paths) if path in _LITERAL_PATHS]
            shown = [i for i, path in enumerate(paths) if path not in _LITERAL_PATHS]
            pick = _picker(shown)
            self.numbers += 1
            known = (layout, self.numbers, literal, pick)  # holds the layout: its id is not reused
            self.known[id(layout)] = known
            if len(self.known) > self.size:
                del self.known[next(iter(self.known))]
        _, number, literal, pick = known
        return ("leaves", number, *[filled[i].strip() for i in literal]), [t.strip() for t in pick(filled)]


class Skeleton:
    """One shape's rendered page, cut into static pieces and numbered gaps."""

    def __init__(self, pieces: List[str], formatters: List[Callable[[str], str]]):
        self.statics = pieces[0::2]
        self.gaps = [int(i) for i in pieces[1::2]]
        self.formatters = formatters
        self.in_gap_order = _picker(self.gaps)  # the texts in the page's order, not the draft's

    def fill(self, texts: List[str]) -> str:
        shown = [f(t) for f, t in zip(self.formatters, texts)]
        every = "".join(shown)
        if "&" in every or "<" in every or ">" in every or "'" in every or '"' in every:
            shown = [_escape(t) for t in shown]  # only then is each text escaped (rare)
        out = [""] * (len(self.statics) + len(self.gaps))
        out[0::2] = self.statics
        out[1::2] = self.in_gap_order(shown)
        return "".join(out)


def _formatter(el: etree._Element, form: str) -> Callable[[str], str]:
    field = load_catalog().field(element_path(el))
    if field is None:
        return str  # not a box of the form: the view leaves it out, so no gap refers to it
    return value_formatter(field, form)


class SkeletonRenderer:
    """Renders drafts to HTML through per-shape skeletons (one renderer per process)."""

    def __init__(self, to: str = "html", size: int = 512):
        self.to = to
        self.size = size
        self.cache: Dict[tuple, Optional[Skeleton]] = {}
        self.layouts = _Layouts()
        self.hits = self.misses = 0

    def __call__(self, root: etree._Element, leaves: Optional[tuple] = None) -> str:
        """The page of `root`. `leaves` (from draft.draft_document, when the draft was just
        written from values) gives the shape and texts without walking the tree."""
        if leaves is None:
            shape, texts, _ = _walk(root)
        else:
            shape, texts = self.layouts.shape_of(leaves)
        skeleton = self.cache.get(shape, _UNSEEN)  # one lookup: a shape's hash is not kept
        if skeleton is not _UNSEEN:
            self.hits += 1
            return skeleton.fill(texts) if skeleton is not None else render(root, to=self.to)
        self.misses += 1
        full = render(root, to=self.to)
        _, walked_texts, found = _walk(root)
        skeleton = self._build(root, found)
        if skeleton is not None and (walked_texts != texts or skeleton.fill(texts) != full):
            skeleton = None  # the template uses values in a way placeholders cannot follow
            #                  (or the leaves given do not describe this tree): render in full
        self.cache[shape] = skeleton
        if len(self.cache) > self.size:
            del self.cache[next(iter(self.cache))]  # the oldest shape (a batch has few)
        return full

    def _build(self, root: etree._Element, leaves: List[etree._Element]) -> Optional[Skeleton]:
        form = form_of(root)
        formatters = [_formatter(el, form) for el in leaves]
        copy = deepcopy(root)
        _, _, copied = _walk(copy)
        for number, el in enumerate(copied):
            el.text = f"{_OPEN}{number}{_CLOSE}"
        page = render(copy, to=self.to)
        rest = _PLACEHOLDER.sub("", page)
        if _OPEN in rest or _CLOSE in rest:
            return None  # a placeholder was cut or changed by the template
        return Skeleton(_PLACEHOLDER.split(page), formatters)
