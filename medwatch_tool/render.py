"""Render a draft like the FDA form: sections, box numbers and labels from the catalog.

Templates never list fields themselves: they receive a read-only view built here by
walking the catalog alongside the draft, so a field added to the XSD shows up in every
output format without touching a template.
"""
from dataclasses import dataclass, field
from functools import lru_cache
from typing import List, Optional

from lxml import etree

from . import __version__
from .catalog import NS, Field, Group, load_catalog
from .dates import MONTH_NAMES
from .resources import template_dir

FORMATS = ("text", "html")


def form_date(value: str) -> str:
    """Partial ISO date in the form's dd-mmm-yyyy style: 2026-11-03 -> 03-Nov-2026, 2026-11 -> Nov-2026."""
    parts = value.split("-")
    try:
        if len(parts) == 3:
            return f"{parts[2]}-{MONTH_NAMES[int(parts[1]) - 1]}-{parts[0]}"
        if len(parts) == 2:
            return f"{MONTH_NAMES[int(parts[1]) - 1]}-{parts[0]}"
    except (ValueError, IndexError):
        pass
    return value


_FORMATTERS: dict = {}


def value_formatter(f: Field, form: str = "3500"):
    """One stored value -> how the form shows it (code label, Yes/No, form date); made once per box."""
    key = (f.path, form)
    if key not in _FORMATTERS:
        if f.kind == "code":
            labels = {c.value: c.text(form) for c in f.choices}
            _FORMATTERS[key] = lambda v: labels.get(v, v)
        elif f.kind == "boolean":
            words = {"true": "Yes", "1": "Yes", "false": "No", "0": "No"}
            _FORMATTERS[key] = lambda v: words.get(v, v)
        elif f.kind == "date":
            _FORMATTERS[key] = form_date
        else:
            _FORMATTERS[key] = str
    return _FORMATTERS[key]


def display(f: Field, values: List[str], form: str = "3500") -> str:
    """How stored values read on the form, several joined by '; '."""
    return "; ".join(map(value_formatter(f, form), values))


@dataclass
class Row:
    """One box of the form with its value as the form shows it."""

    kind = "row"
    box: str
    label: str
    path: str
    value: str
    help: str = ""
    head_html: str = ""  # the row's static HTML (box, label, help), escaped once per field

    @property
    def empty(self) -> bool:
        return not self.value


@dataclass
class Table:
    """A repeating group inside a section (B6 tests): one line per entry."""

    kind = "table"
    box: str
    label: str
    columns: List[str]
    lines: List[List[str]]


@dataclass
class Block:
    """One instance of a section or of a repeating section (suspect product #2)."""

    heading: str
    items: list = field(default_factory=list)  # Rows and Tables in form order
    present: bool = True


@dataclass
class Section:
    box: str
    title: str
    blocks: List[Block]


def _by_name(el: Optional[etree._Element]) -> dict:
    """Child elements grouped by local name, in one pass over the element."""
    out: dict = {}
    if el is not None:
        for child in el:
            if isinstance(child.tag, str):
                out.setdefault(child.tag.rpartition("}")[2], []).append(child)
    return out


_HEADS: dict = {}


def _row_head(f: Field, form: str):
    """`<th>` cells of a field's row: the same for every report, so escaped only once."""
    key = (f.path, form)
    if key not in _HEADS:
        from markupsafe import Markup

        box = f.box_for(form)
        _HEADS[key] = Markup('<th class="box">{}</th><th class="label" title="{}">{}</th>').format(
            "" if box == "—" else box, f.help, f.label_for(form))
    return _HEADS[key]


def _block(group: Group, el, heading: str, form: str, prefix: str) -> Block:
    block = Block(heading, present=el is not None)
    kids = _by_name(el)
    for child in group.children:
        if isinstance(child, Field):
            values = [v for v in ((c.text or "").strip() for c in kids.get(child.name, ())) if v]
            if not values and (not child.on_form(form) or (child.box == "—" and group.name != "admin")):
                continue  # an empty box the form does not have: the consumer form's lacks, the reaction's
                #           MedDRA code (no form's box); one that holds a value is shown, as are the admin rows
            block.items.append(Row(child.box_for(form), child.label_for(form), prefix + child.name,
                                   display(child, values, form), child.help, _row_head(child, form)))
        else:
            lines = []
            for inst in kids.get(child.name, ()):
                cells = _by_name(inst)
                lines.append([display(f, [(c.text or "").strip() for c in cells.get(f.name, ())], form)
                              for f in child.fields])
            block.items.append(Table(child.box_for(form), child.label_for(form),
                                     [f.label_for(form) for f in child.fields], lines))
    return block


def view(root: etree._Element, form: str = "3500") -> List[Section]:
    """The draft as the form shows it: every section and box, filled or empty."""
    sections = []
    top = _by_name(root)
    for group in load_catalog().sections_of(form):  # (3500B: its own order, A about the problem first)
        title = group.section_title(form)
        instances = top.get(group.name, [])
        if group.repeat:
            name = group.label_for(form)
            blocks = [_block(group, el, f"{name} #{i}", form, f"{group.name}[{i}]/") for i, el in enumerate(instances, 1)]
            if not blocks:
                blocks = [_block(group, None, f"{name} (none given)", form, f"{group.name}[1]/")]
        else:
            blocks = [_block(group, instances[0] if instances else None, title, form, f"{group.name}/")]
        sections.append(Section(group.box_for(form), title, blocks))
    return sections


def _wrap_after(text: str, indent: int, width: int = 78) -> str:
    """Wrap a long value for plain text output, continuing lines under the value.

    Only at spaces: a UDI, serial, lot number or web address longer than the line stays
    whole on a line of its own (cut, or split after a hyphen, it would be copied from the
    page with a line break and indentation inside it)."""
    import textwrap

    lines = []
    for paragraph in str(text).splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, width - indent, break_long_words=False,
                                   break_on_hyphens=False) or [""])
    return ("\n" + " " * indent).join(lines)


@lru_cache(maxsize=1)
def environment():
    """The one Jinja2 environment: autoescaping for HTML, strict about undefined names."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        autoescape=lambda name: bool(name) and (".html" in name or ".xml" in name),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["form_date"] = form_date
    env.filters["wrap_after"] = _wrap_after
    return env


def form_of(root: etree._Element) -> str:
    """Which form a draft is for (admin/form), 3500 when it does not say."""
    return (root.findtext(f"{{{NS}}}admin/{{{NS}}}form") or "3500").strip() or "3500"


def render(root: etree._Element, to: str = "text", form: Optional[str] = None) -> str:
    """Render a parsed draft as 'text' or 'html'."""
    if to not in FORMATS:
        raise ValueError(f"unknown output format {to!r}; choose one of {', '.join(FORMATS)}")
    if form is None:
        form = form_of(root)
    template = environment().get_template(f"report.{'txt' if to == 'text' else 'html'}.j2")
    report_id = (root.findtext(f"{{{NS}}}admin/{{{NS}}}report_id") or "").strip()
    follow_up = (root.findtext(f"{{{NS}}}admin/{{{NS}}}follow_up") or "").strip()
    return template.render(sections=view(root, form), form=form, report_id=report_id,
                           follow_up=follow_up, version=__version__)
