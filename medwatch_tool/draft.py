"""Build, read and write report drafts: one XML document in the project's namespace.

Every way in (wizard answers, CSV rows, JSON, E2B import) ends as a mapping of field path
to value and comes through `build_draft`; every way out starts from the XML tree. Reading
goes through safe_io's hardened parser, writing through its atomic owner-only writer.
"""
from pathlib import Path
from typing import Dict, List, Mapping, Union

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


def _insert(tree: dict, catalog: Catalog, path: str, value) -> None:
    try:
        steps = split_path(path)
    except PathSyntaxError as exc:
        raise InputError(str(exc)) from None
    node, prefix = tree, []
    for depth, (name, index) in enumerate(steps):
        prefix.append(name)
        template = "/".join(prefix)
        known = catalog.node(template)
        if known is None:
            raise _unknown(catalog, path)
        last = depth == len(steps) - 1
        if index > 1 and not (isinstance(known, Group) and known.repeat):
            raise InputError(f"'{path}': {template} does not repeat, so it takes no [{index}]")
        if last:
            if isinstance(known, Group):
                raise InputError(f"'{path}' is a group of fields, not a field")
            node.setdefault(name, {})[index] = value
        else:
            if not isinstance(known, Group):
                raise _unknown(catalog, path)
            node = node.setdefault(name, {}).setdefault(index, {})


def _emit(parent: etree._Element, group: Group, tree: dict) -> None:
    for child in group.children:
        entries = tree.get(child.name)
        if not entries:
            continue
        for index in sorted(entries):
            content = entries[index]
            if isinstance(child, Group):
                if not isinstance(content, dict):
                    continue
                el = etree.SubElement(parent, q(child.name))
                _emit(el, child, content)
            else:
                items = content if isinstance(content, (list, tuple)) else [content]
                for item in items:
                    if item is None or str(item) == "":
                        continue
                    etree.SubElement(parent, q(child.name)).text = str(item)


def build_draft(values: Mapping[str, Value], catalog: Catalog = None) -> etree._Element:
    """A draft root element from path -> value, in schema order (empty values left out)."""
    catalog = catalog or load_catalog()
    tree: dict = {}
    for path, value in values.items():
        if value is None or value == "" or value == []:
            continue
        _insert(tree, catalog, path, value)
    root = etree.Element(q("report"), nsmap={None: NS})
    _emit(root, catalog.root, tree)
    return root


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


def flatten(nested: Mapping, prefix: str = "") -> Dict[str, Value]:
    """The nested JSON form -> flat indexed paths (inverse of `nest`)."""
    out: Dict[str, Value] = {}
    if not isinstance(nested, Mapping):
        raise InputError("expected a JSON object of sections and fields")
    for key, value in nested.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, path + "/"))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            for i, item in enumerate(value, 1):
                out.update(flatten(item, f"{path}[{i}]/"))
        elif isinstance(value, list):
            out[path] = ["" if v is None else str(v) for v in value]
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
    """Write a draft atomically, readable by its owner only."""
    return atomic_write(file, draft_bytes(root))
