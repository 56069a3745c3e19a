"""A batch worker's job: turn a chunk of rows into validated drafts on disk.

Runs in worker processes (or in the main one with --jobs 1). Each row is converted,
drafted and checked with the rest of its chunk, exactly as it will be on disk, and its
draft (and page) written atomically; what became of it comes back as an `Outcome`.
"""
import json
import re
import signal
from functools import lru_cache
from typing import Callable, List, Optional, Union

from .catalog import NS, load_catalog
from .coerce import coerce_value, coerce_values
from .draft import NotStorable, draft_document
from .errors import InputError, OutputError, ValueProblem
from .numbering import as_input, input_numbering
from .out_folder import PAGE
from .outcomes import Outcome
from .readers import Row
from .rules import rule_reads
from .safe_io import FolderWriter, parse_xml_bytes
# (the worker's own imports, once per process, not per row)
from .validate import reads_refused, rules_failing, validate_many


@lru_cache(maxsize=1)
def _report_id_check() -> Callable[[str], bool]:
    """Whether a report id may name a file: the schema's own pattern and length keep names safe."""
    id_field = load_catalog().field("admin/report_id")
    pattern = re.compile(id_field.pattern)
    return lambda report_id: len(report_id) <= id_field.max_length and pattern.fullmatch(report_id) is not None


def draft_name(values: dict, row: int) -> str:
    """`ID.xml`, `ID-followup-N.xml`, or `row-000042.xml` without a usable report id (`_ID.xml`
    for an id that would take such a name, or one Windows keeps for a device).
    `values` are keyed as the readers key them, one spelling per box (header.field_name), so
    the id is found however the input spelt its key."""
    report_id = _report_id(values)
    if not (report_id and _report_id_check()(report_id)):
        return f"row-{row:06d}.xml"  # no id, or one the schema will reject anyway
    follow_up = _follow_up(values.get("admin/follow_up"))
    if follow_up is None:
        return f"row-{row:06d}.xml"  # a follow-up number its box refuses: the row is refused there
    if report_id[:4].lower() == "row-" or report_id.split(".")[0].upper() in _WINDOWS_DEVICES:
        report_id = "_" + report_id  # no report id begins with '_': no other row's name
    return report_id + (f"-followup-{follow_up}" if follow_up not in ("", "0") else "") + ".xml"


# names Windows keeps for devices, whatever follows a dot (CON.xml is the console): a report
# ROW-7 (the names given by row number) or CON is drafted as _ROW-7.xml, _CON.xml
_WINDOWS_DEVICES = frozenset(["CON", "PRN", "AUX", "NUL"]
                             + [f"{port}{n}" for port in ("COM", "LPT") for n in range(10)])


def _report_id(values: dict) -> str:
    """The report id as its box reads it: text (a JSON number is its text too); JSON true,
    or a value its reader refused, names no file (its box refuses it: not "True.xml")."""
    report_id = values.get("admin/report_id", "")
    return report_id.strip() if report_id.__class__ is str else ""


def _follow_up(cell) -> Optional[str]:
    """The follow-up number as its box stores it ('01', '1.0', '+1' -> '1'; 'N/A' -> ''), so
    one case's follow-up 1 has one file name however it is written; None when refused."""
    if cell is None or cell == "":
        return ""
    converted, refused = coerce_values({"admin/follow_up": cell})
    return None if refused else str(converted.get("admin/follow_up", ""))


# Rows a worker drafts together: the rules run once per chunk (validate_many), and each
# chunk costs a round trip between processes (a wake-up on each side). 128 rows took 4-11%
# less CPU per report than 32 on a 2-core VM (bench/batch.py's rows, runs alternated);
# with batch.WINDOW halved, up to 512 rows per worker are in flight instead of 256.
CHUNK = 128
CHUNK_TEXT = 1 << 20  # characters of cell text after which a chunk is sent even if short of CHUNK rows


def _prepare(number: int, values: dict, row_problems: List[str], name: Optional[str],
             duplicate_of: Optional[str]):
    """A row's outcome so far and its draft document (None when it cannot be drafted). Its
    problems name their boxes as the row's form numbers them (validate_many does the same
    for what it finds): a consumer filling in 3500B looks for E3 age, not Form 3500's A2."""
    name = name or draft_name(values, number)
    catalog, raw = load_catalog(), values

    def described(path: str):  # (the form is looked at only for a row with a problem)
        return catalog.describe(path, _form(raw))

    report_id = values.get("admin/report_id", "")
    # as JSON spells it (a list was shown as Python writes one: ['R10'])
    shown = json.dumps(report_id, ensure_ascii=False) if isinstance(report_id, (bool, list, dict)) else report_id
    outcome = Outcome(number, None, str(shown).strip(), name=name)
    for message in row_problems:
        outcome.add_problem("error", message)
    if duplicate_of is not None:
        outcome.add_problem("error", f"{duplicate_of} has the same draft name {name} (their report ids and "
                            "follow-up numbers give one file name, in any letter case): one report, one row; "
                            "this row was not drafted",
                            "admin/report_id", *described("admin/report_id"))
    if outcome.problems:
        return outcome, None
    notes = []
    values, value_problems = coerce_values(values, notes)
    for path, message in value_problems:
        outcome.add_problem("error", message, path, *described(path))
    for path, message in notes:
        outcome.add_problem("warning", message, path, *described(path))
    if values.get("admin/form") == "3500B":
        for path, implied, asked_after in _consumer_defaults():
            if path not in values and not any(box in values for box in asked_after):
                values[path] = implied
    try:
        return outcome, draft_document(values)
    except NotStorable as exc:
        outcome.add_problem("error", exc.reason, exc.path, *described(exc.path))
        return outcome, None
    except InputError as exc:
        outcome.add_problem("error", exc.reason)
        return outcome, None


def draft_rows(items: List[tuple], out_dir: str, render_to: Optional[str] = None) -> List[Outcome]:
    """Coerce, build, validate and (if no errors) write the drafts of a chunk of rows.

    `items` are `as_task(row, draft name, the row ('row 7', 'line 7') whose draft already has
    that name, or None)`.
    Runs in a worker; the chunk's drafts are validated together, exactly as they will be on
    disk.
    """
    outcomes, drafted, given = [], [], []
    for item in items:
        outcome, document = _prepare(*item)
        outcomes.append(outcome)
        if document is not None:
            drafted.append((outcome, document))
            given.append(item[1])  # the row's values as read
    checked = validate_many([data for _, (data, _) in drafted], [o.name for o, _ in drafted],
                            [leaves for _, (_, leaves) in drafted])
    with FolderWriter(out_dir) as folder:  # not fsynced: --resume re-checks every draft
        for (outcome, (data, leaves)), (root, problems), raw in zip(drafted, checked, given):
            refused = {problem["path"] for problem in outcome.problems  # a value its box could not take
                       if problem["severity"] == "error"}
            numbering = input_numbering(leaves[0][2]) if problems else None  # the draft closes gaps in groups
            failing = None  # the rules failing with the refused values put back as written, once asked
            for p in problems:
                path = as_input(p.path, numbering)  # as the input numbers the entry, like `refused`
                if path in refused:  # the draft misses the value refused above: "required but missing",
                    continue  # "no event: describe the adverse event" (MW-MIN-4) would say the same mistake again
                if refused and p.rule and reads_refused(p.rule, path, refused):
                    if "/" in path:  # a rule on a field and a refused box of its entry: "age 300 outside
                        continue  # the human range" after the unit 'moons' was refused
                    if failing is None:
                        failing = _failing_as_written(raw, refused)
                    if p.rule not in failing:  # a value the row gave would have passed it: "no identifiable
                        continue  # patient: give ... A3 sex" after the sex given was refused
                outcome.add_problem(p.severity, p.message, path, p.box, p.label, p.rule)
            if outcome.problems and any(p["severity"] == "error" for p in outcome.problems):
                continue
            folder.write(outcome.name, data)
            if render_to:
                page = outcome.name[:-4] + PAGE[render_to]
                folder.write(page, _renderer(render_to)(root, leaves))
            outcome.file = outcome.name
    return outcomes


def _failing_as_written(raw: dict, refused: set) -> set:
    """The rules failing on a what-if draft of the row: its refused values put back as
    written, as text (the XSD would refuse them; a rule reads whether a box holds something).
    A rule about a whole group that fails only without them (FDA's minimum criteria) failed
    for want of a value the row gave; one that still fails (a reporter with a phone refused
    and no name) fails for another reason, and speaks. Every rule when no such draft can be made."""
    values, _ = coerce_values({path: value for path, value in raw.items() if path not in refused})
    for path in refused:
        written = raw.get(path)
        if written.__class__ is str and written.strip():
            values[path] = written.strip()
    try:
        root = parse_xml_bytes(draft_document(values)[0], "<what-if>")
    except InputError:  # (a character no XML holds, in a refused value)
        return set(rule_reads())
    return rules_failing(root)


@lru_cache(maxsize=1)
def _consumer_defaults() -> tuple:
    """(path, value, boxes asked only after it) of the boxes the consumer form (3500B) does
    not have, with the value its reports imply (a 3500B reporter is no health professional),
    as the schema gives them: a consumer's draft from a batch holds them as one from `medwatch
    new` does (E2B export needs the reporter's qualification). Not where the row gives a box
    asked only after that one (an occupation, asked of health professionals): the row says
    otherwise, and a value nobody typed would contradict it."""
    catalog = load_catalog()
    once = [f for f in catalog.fields if f.default_3500b and not any(  # (a repeated group's box has no one path)
        getattr(catalog.group(step), "repeat", False) for step in f.path.split("/")[:-1])]
    return tuple((f.path, f.default_3500b, tuple(other.path for other in catalog.fields
                                                 if other.when.split("=")[0] == f.path)) for f in once)


def _form(values: dict) -> str:
    """The form a row is for (admin/form as its box stores it), "" when not given or refused."""
    try:
        return str(coerce_value(load_catalog().field("admin/form"), values.get("admin/form")) or "")
    except ValueProblem:
        return ""


def as_task(row: Row, name: Optional[str] = None, duplicate_of: Optional[str] = None) -> tuple:
    """A row as a worker gets it: a plain tuple, which pickles and unpickles at about three
    quarters of the cost of a Row (every row crosses to a worker)."""
    return row.number, row.values, row.problems, name, duplicate_of


_RENDERERS: dict = {}


def _renderer(to: str):
    """This process's renderer: HTML through per-shape skeletons (see skeleton.py), text in full."""
    if to not in _RENDERERS:
        if to == "html":
            from .skeleton import SkeletonRenderer

            _RENDERERS[to] = SkeletonRenderer(to)
        else:
            from .render import render

            _RENDERERS[to] = lambda root, leaves=None: render(root, to=to)
    return _RENDERERS[to]


def worker(chunk: tuple) -> Union[List[Outcome], OutputError]:
    """Draft a chunk of rows; a bug must not lose a row, so on one the chunk is redone row by
    row and the row it is about gets the error as a problem. When the output folder cannot
    be written (disk full...) no row is to blame: the error is returned and the run stops."""
    out_dir, render_to, items = chunk
    try:
        return draft_rows(items, out_dir, render_to)
    except OutputError as exc:
        return exc
    except Exception:
        pass  # a bug: the chunk is redone row by row below
    try:
        return [_alone(item, out_dir, render_to) for item in items]
    except OutputError as exc:
        return exc


def _alone(item: tuple, out_dir: str, render_to: Optional[str]) -> Outcome:
    number, name = item[0], item[3]
    try:
        return draft_rows([item], out_dir, render_to)[0]
    except OutputError:
        raise
    except Exception as exc:
        outcome = Outcome(number, None, name=name or "")
        outcome.add_problem("error", f"internal error: {type(exc).__name__}: {exc}")
        return outcome


def load_shared(render_to: Optional[str] = None):
    """Load the catalog, schema, rules (and the rules' screen), country table and page template
    in the main process, just before the workers are forked: they inherit them instead of each
    building its own (0.15 s of CPU in all for two workers). Each call after the first finds
    them loaded."""
    from lxml import etree

    from .coerce import _country
    from .rule_screen import screen_rules
    from .validate import _group_xsd, _xsd, rule_report

    load_catalog(), _xsd(), _group_xsd()
    for schema_valid in (True, False):  # the rules as a chunk runs them, and as a lone draft does
        rule_report(etree.Element("warm-up"), schema_valid=schema_valid)
    screen_rules()  # rules.sch parsed for the rules' screen (each worker translates its own shapes)
    _country("US")  # reads the country table (G1 reporter's country)
    if render_to:
        from .render import render

        _renderer(render_to)
        render(etree.Element(f"{{{NS}}}report"), to=render_to)  # compiles the template


def warm_up():
    """A worker's start. Ctrl-C, a closed terminal and SIGTERM reach the whole process group;
    they are for the main process to handle (a worker ended by one would leave its chunk
    unanswered): it stops the run and then its workers, which end by themselves too if it
    is killed (their pipe closes). Loads what it did not inherit (none, when forked)."""
    for number in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, number):
            signal.signal(getattr(signal, number), signal.SIG_IGN)
    load_shared()
