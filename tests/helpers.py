"""Small builders for test drafts, made from the example files so tests stay realistic."""
from pathlib import Path

from lxml import etree

from medwatch_tool.draft import q

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example_tree(name: str = "baclofen-overdose.xml") -> etree._Element:
    parser = etree.XMLParser(remove_blank_text=True)
    return etree.parse(str(EXAMPLES / name), parser).getroot()


def set_text(root, path: str, value: str) -> None:
    """Set the text of the first element at a slash path of local names (must exist)."""
    el = root.find("/".join(q(step) for step in path.split("/")))
    assert el is not None, path
    el.text = value


def remove(root, path: str) -> None:
    el = root.find("/".join(q(step) for step in path.split("/")))
    assert el is not None, path
    el.getparent().remove(el)


def write(root, folder: Path, name: str = "draft.xml") -> Path:
    target = folder / name
    target.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
    return target


def choice_names(field, key) -> dict:
    """Each name a code list's choices go by (value, label, plain words, the label's part
    after " - ", `also`), as `key` reads it -> the values of the choices that name it."""
    owner = {}
    for c in field.choices:
        for name in {key(n) for n in (c.value, c.label, c.plain, c.label.split(" - ")[-1], *c.also)}:
            owner.setdefault(name, set()).add(c.value)
    return owner
