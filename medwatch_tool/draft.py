"""Build, read and write report drafts: one XML document in the project's namespace.

Every way in (wizard answers, CSV rows, JSON, E2B import) ends as a mapping of field path
to value and comes through `build_draft`; every way out starts from the XML tree. Reading
goes through safe_io's hardened parser, writing through its atomic owner-only writer.
"""
import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple, Union

from lxml import etree

from .catalog import NS, Catalog, Group, load_catalog
from .errors import InputError
from .paths import PathSyntaxError, split_path
from .safe_io import atomic_write, parse_xml_bytes, read_bytes

Value = Union[str, List[str]]


def q(name: str) -> str:
    """Clark name of a draft element: q('patient') -> '{urn:...}patient'."""
    return f"{{{NS}}}{name}"


def _unknown(catalog: Catalog, path: str) -> InputError:
    hint = catalog.suggest(path)
    return InputError(f"'{path}' is not a field" + (f"; did you mean '{hint}'?" if hint else ""))


@lru_cache(maxsize=8192)
def _placement(catalog: Catalog, path: str) -> Tuple[tuple, Tuple[str, ...]]:
    """Where a value goes: (schema-order sort key, element name per step).

    Cached: a batch run places the same few hundred column paths for every row.
    """
    try:
        steps = split_path(path)
    except PathSyntaxError as exc:
        raise InputError(str(exc)) from None
    group, key, names = catalog.root, [], []
    for depth, (name, index) in enumerate(steps):
        position = next((i for i, c in enumerate(group.children) if c.name == name), None)
        if position is None:
            raise _unknown(catalog, path)
        known = group.children[position]
        template = "/".join(n for n, _ in steps[:depth + 1])
        if index > 1 and not (isinstance(known, Group) and known.repeat):
            raise InputError(f"'{path}': {template} does not repeat, so it takes no [{index}]")
        last = depth == len(steps) - 1
        if last and isinstance(known, Group):
            raise InputError(f"'{path}' is a group of fields, not a field")
        if not last and not isinstance(known, Group):
            raise _unknown(catalog, path)
        key.append((position, index))
        names.append(name)
        group = known
    return tuple(key), tuple(names)


class NotStorable(InputError):
    """A value no XML document can hold (a control character), at the field `path`."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"'{path}' {reason}")
        self.path, self.reason = path, reason


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPECIAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff&<>\r]")  # the above, and markup
_SPECIAL_ASCII = bytes(c for c in range(128) if _SPECIAL.match(chr(c)))


def _holds_special(text: str) -> bool:
    """Whether `text` holds a character of _SPECIAL. ASCII text (nearly every row's) is looked
    at by deleting those bytes from its encoding: 3-4 times faster than the expression."""
    if text.isascii():
        data = text.encode("ascii")
        return len(data.translate(None, _SPECIAL_ASCII)) != len(data)
    return _SPECIAL.search(text) is not None


def _as_stored(path: str, text: str) -> str:
    """The text as the draft holds it: a vertical tab, FileMaker's line break inside a
    field, is a line break; another control character no XML can hold is NotStorable.
    The same text is the draft's leaf and the page's, so a page filled from it reads as
    the draft on disk renders."""
    if "\x0b" in text:
        text = text.replace("\x0b", "\n")
    why = unstorable(text)
    if why:
        raise NotStorable(path, why)
    return text


def unstorable(text: str) -> str:
    """Why no report can hold `text` (a character no XML can hold: a control character other
    than a line break or tab, a lone surrogate), or "" when one can."""
    bad = _NOT_XML.search(text)
    if bad is None:
        return ""
    return (f"contains the control character U+{ord(bad.group()):04X} (invisible, not text), which a report "
            "cannot hold: remove it")


def _markup(text: str) -> str:
    """A stored text as XML character data (a CR as a reference, which parsing keeps)."""
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return text


def draft_xml(values: Mapping[str, Value], catalog: Catalog = None) -> bytes:
    """The draft document for path -> value, as written to disk (indented UTF-8 XML)."""
    return draft_document(values, catalog)[0]


def draft_document(values: Mapping[str, Value], catalog: Catalog = None) -> Tuple[bytes, tuple]:
    """(document, leaves): the draft as written to disk, and what its leaf elements are:
    (layout, texts), the layout of its shape (see `_layout`: the same object for every
    draft of that shape) and the leaves' texts in document order, as the document holds
    them (a vertical tab as the line break it is written as, see `_as_stored`).

    Values are sorted by their place in the schema and written in one pass, opening and
    closing groups as the paths change; empty (or blank) values are left out. That markup
    depends only on which paths hold values (and how many items each), so it is laid out
    once per such shape (`_layout`) and each row only fills in its texts. The text is
    the same that `draft_bytes` writes for the equivalent tree, and `build_draft` parses it,
    so what is validated is exactly what will be on disk. The leaves tell a batch's HTML
    renderer the draft's shape without walking the tree again (see skeleton.py).
    """
    catalog = catalog or load_catalog()
    shape, texts = [], []  # texts: every item of every value, in the values' order
    for path, value in values.items():
        if value.__class__ is str:
            if value and not value.isspace():
                shape.append((path, 1))
                texts.append(value)
            continue
        items = [str(v) for v in (value if isinstance(value, (list, tuple)) else (value,))
                 if v is not None and str(v).strip()]
        if items:
            shape.append((path, len(items)))
            texts += items
    layout = _layout(catalog, tuple(shape))
    pieces, order, paths = layout
    filled = [texts[i] for i in order]  # in document order
    filled_xml = filled
    if _holds_special("".join(filled)):  # rare: one look at all texts first
        filled_xml = filled[:]
        for i, text in enumerate(filled):
            if _SPECIAL.search(text) is not None:
                filled[i] = _as_stored(paths[i], text)  # the leaf's text as the document holds it
                filled_xml[i] = _markup(filled[i])
    parts = [""] * (len(pieces) + len(filled))
    parts[0::2] = pieces
    parts[1::2] = filled_xml
    return "".join(parts).encode("utf-8"), (layout, filled)


@lru_cache(maxsize=1024)
def _layout(catalog: Catalog, shape: Tuple[Tuple[str, int], ...]) -> Tuple[tuple, tuple, tuple]:
    """The draft text of one shape of values ((path, number of items) in the values' order):
    the literal pieces between the value texts, and per text in document order: which item
    of the values' items goes there and its path.

    Cached: a batch's rows come in a few shapes, so each row only fills in its texts.
    """
    placed, first = {}, 0
    for path, count in shape:
        key, names = _placement(catalog, path)
        placed[key] = (first, path, names, count)  # 'patient/age' and 'patient[1]/age' are one box: last wins
        first += count
    if not placed:
        return (f"<?xml version='1.0' encoding='UTF-8'?>\n<report xmlns=\"{NS}\"/>\n",), (), ()
    pieces, order, paths = [], [], []
    text = f"<?xml version='1.0' encoding='UTF-8'?>\n<report xmlns=\"{NS}\">\n"
    open_keys: List[tuple] = []
    open_names: List[str] = []
    for key in sorted(placed):
        first, path, names, count = placed[key]
        depth = 0
        while depth < len(open_keys) and depth < len(key) - 1 and open_keys[depth] == key[depth]:
            depth += 1
        while len(open_names) > depth:
            text += f"{'  ' * len(open_names)}</{open_names.pop()}>\n"
        del open_keys[depth:]
        for step in range(depth, len(key) - 1):
            text += f"{'  ' * (step + 1)}<{names[step]}>\n"
            open_names.append(names[step])
            open_keys.append(key[step])
        indent, leaf = "  " * len(key), names[-1]
        for item in range(count):
            pieces.append(text + f"{indent}<{leaf}>")
            order.append(first + item)
            paths.append(path)
            text = f"</{leaf}>\n"
    while open_names:
        text += f"{'  ' * len(open_names)}</{open_names.pop()}>\n"
    pieces.append(text + "</report>\n")
    return tuple(pieces), tuple(order), tuple(paths)


def build_draft(values: Mapping[str, Value], catalog: Catalog = None) -> etree._Element:
    """A draft root element from path -> value, in schema order (empty values left out)."""
    return parse_draft(draft_xml(values, catalog), "<draft>")


def draft_values(root: etree._Element, catalog: Catalog = None) -> Dict[str, Value]:
    """Flatten a draft into indexed path -> value (lists for multi-valued fields)."""
    catalog = catalog or load_catalog()
    out: Dict[str, Value] = {}

    def walk(el, group: Group, prefix: str, template: str):
        counts: Dict[str, int] = {}
        by_name = {c.name: c for c in group.children}
        for child in el:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            node = by_name.get(name)
            if node is None:
                continue
            counts[name] = counts.get(name, 0) + 1
            if isinstance(node, Group):
                step = f"{name}[{counts[name]}]" if node.repeat else name
                walk(child, node, f"{prefix}{step}/", f"{template}{name}/")
            else:
                key = prefix + name
                text = (child.text or "").strip()
                if node.multiple:
                    out.setdefault(key, []).append(text)
                else:
                    out[key] = text

    walk(root, catalog.root, "", "")
    return out


def nest(values: Mapping[str, Value]) -> dict:
    """Flat paths -> the nested JSON form (repeating groups become lists)."""
    catalog = load_catalog()
    out: dict = {}
    for path, value in values.items():
        steps = split_path(path)
        node, prefix = out, []
        for depth, (name, index) in enumerate(steps):
            prefix.append(name)
            repeating = "/".join(prefix) in catalog.repeating
            if depth == len(steps) - 1:
                node[name] = value
            elif repeating:
                items = node.setdefault(name, [])
                while len(items) < index:
                    items.append({})
                node = items[index - 1]
            else:
                node = node.setdefault(name, {})
    return out


def flatten(nested: dict, prefix: str = "") -> Dict[str, Value]:
    """The nested JSON form -> flat indexed paths (inverse of `nest`). Objects are dicts, as
    json.loads makes them: a check against typing.Mapping cost 3 us per value, most of the
    time of reading a JSON Lines row. A path given twice (nested and as a path: `"patient":
    {"age": 44}` and `"patient/age": 50`) is refused: keeping the last would be a guess."""
    return _flatten_into({}, nested, prefix)


def _numbered_entries(value: dict) -> Optional[int]:
    """Whether an object holds a group's entries by their numbers ({"1": {...}, "2": {...}}),
    as PHP's json_encode writes an array that is not a list (numbered from 1, or from 0 with
    gaps): what to add to a key to make it the entry's number (0, or 1 from 0), else None."""
    if not value or not all(key.isascii() and key.isdigit() and len(key) <= 6 and (key == "0" or key[0] != "0")
                            and isinstance(item, dict) for key, item in value.items()):
        return None
    return 1 if "0" in value else 0


def _flatten_into(out: Dict[str, Value], nested: dict, prefix: str) -> Dict[str, Value]:
    if not isinstance(nested, dict):
        raise InputError("expected a JSON object of sections and fields")
    for key, value in nested.items():
        path = f"{prefix}{key}"
        shift = _numbered_entries(value) if isinstance(value, dict) else None
        if shift is not None:  # {"1": {...}, "2": {...}}: PHP's array
            for number, item in value.items():
                _flatten_into(out, item, f"{path}[{int(number) + shift}]/")
        elif isinstance(value, dict):
            _flatten_into(out, value, path + "/")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value, 1):
                _flatten_into(out, item, f"{path}[{i}]/")
        elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
            raise InputError(f"'{path}' holds a list mixing entries ({{...}}) with values, or lists in a list: "
                             "a group takes a list of entries, a field a list of values")
        elif path in out:
            raise InputError(f"gives '{path}' twice, nested and as a path: which value is meant?")
        elif isinstance(value, list):
            out[path] = ["" if v is None else "true" if v is True else "false" if v is False else str(v)
                         for v in value]  # JSON's spelling, not Python's ('True')
        else:
            out[path] = "" if value is None else value
    return out


def parse_draft(data: bytes, source: str = "<input>") -> etree._Element:
    """Parse draft bytes safely and check that the root is a draft in our namespace."""
    root = parse_xml_bytes(data, source)
    if root.tag != q("report"):
        qn = etree.QName(root)
        where = f"namespace '{qn.namespace}'" if qn.namespace else "no namespace"
        raise InputError(
            f"not a MedWatch draft: the root element is <{qn.localname}> in {where}; "
            f"expected <report> in '{NS}'", source, root.sourceline)
    return root


def read_draft(file: Union[str, Path]) -> etree._Element:
    """Read and parse a draft file; InputError (one line) on any problem."""
    return parse_draft(read_bytes(file), str(file))


def draft_bytes(root: etree._Element) -> bytes:
    """Serialise a draft as indented UTF-8 XML."""
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_draft(root: etree._Element, file: Union[str, Path]) -> Path:
    """Write a draft atomically, readable by its owner only; returns where."""
    atomic_write(file, draft_bytes(root))
    return Path(file)
