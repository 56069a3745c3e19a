"""The rules' screen (rule_screen.py) lets a batch skip the rules' XSLT for a draft it finds
certainly passing: it must never pass a draft the XSLT finds a rule failing on, and it must
understand every rule of rules.sch (or batches lose its speed without a word)."""
import csv
import random
import sys
from pathlib import Path

import pytest
from lxml import etree

from medwatch_tool import rule_screen, rules
from medwatch_tool.catalog import load_catalog
from medwatch_tool.cli import main
from medwatch_tool.coerce import coerce_values
from medwatch_tool.draft import draft_document, draft_values, parse_draft, read_draft
from medwatch_tool.validate import _xsd, validate_many, validate_tree

from helpers import EXAMPLES

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from batch import synthetic_rows  # noqa: E402  (the benchmark's realistic rows)

SVRL_FAILED = "{http://purl.oclc.org/dsdl/svrl}failed-assert"

# Values a spreadsheet really holds, good and bad, for the boxes the rules read
_VALUES = {
    "date": ["2026", "2026-03", "2026-03-10", "2025-12-31", "2026-11-20", "2999-01-01", "1950-06-15",
             "2026-03-09", "2024-02-29", "2026-04"],
    "number": ["0", "1", "2", "7", "12", "45", "61", "100", "130", "300", "0.85", "2.5", "6520", "45650"],
    "text": ["N/A", "none", "None", "unknown", "-", "?", "Unk", "Jane Mary Doe", "123-45-6789", "JD",
             "2115", "02115", "2115.0", "0093714656", "93714656", "12345678", "A1B 2C3", "x" * 25,
             "Pt. developed hives", "Acme", "death", "other"],
}


def _mutated(values: dict, rnd: random.Random) -> dict:
    """A copy of a row's values with a few boxes given other values (of their kind, or codes
    of the schema's lists), or emptied."""
    catalog = load_catalog()
    out = dict(values)
    paths = list(values) + ["event/death_date", "patient/date_of_birth", "suspect_product[1]/stop_date",
                            "suspect_product[1]/ongoing", "device[1]/reprocessed", "device[1]/reprocessor",
                            "availability/returned_date", "event/meddra_code", "event/meddra_version",
                            "suspect_product[1]/strength", "suspect_product[1]/duration",
                            "reporter/postal_code", "reporter/country", "suspect_product[1]/ndc",
                            "concomitant[1]/name", "device[1]/implanted_date", "device[1]/explanted_date"]
    for _ in range(rnd.randint(1, 8)):
        path = rnd.choice(paths)
        field = catalog.field(path)
        choices = [c.value for c in field.choices] if field is not None else []
        kind = field.kind if field is not None else "text"
        pool = choices or _VALUES.get(kind, _VALUES["text"] + _VALUES["date"] + _VALUES["number"])
        out[path] = rnd.choice(pool + [""])
    return out


def _drafts(count: int, seed: int):
    """(draft bytes, leaves) of schema-valid drafts: the benchmark's rows and mutations of them."""
    rnd = random.Random(seed)
    rows = list(synthetic_rows(200, seed=seed))
    for path in sorted(EXAMPLES.glob("*.xml")):
        rows.append(draft_values(read_draft(path)))
    out = []
    while len(out) < count:
        values = _mutated(rnd.choice(rows), rnd) if rnd.random() < 0.8 else rnd.choice(rows)
        values = {k: v for k, v in values.items() if v not in (None, "")}
        try:
            coerced, _ = coerce_values(values, [])
            data, leaves = draft_document(coerced)
        except Exception:  # (a value the draft refuses: not a draft the rules ever see)
            continue
        if _xsd().validate(etree.fromstring(data)):
            out.append((data, leaves))
    return out


_translated = {}  # id(layout) -> (layout, its screen): one translation per shape


def _screen(leaves):
    layout, texts = leaves
    if _translated.get(id(layout), (None,))[0] is not layout:
        shape = rule_screen.Shape(rule_screen.skeleton_of(layout[0]))
        _translated[id(layout)] = (layout, rule_screen.translate_shape(rule_screen.screen_rules(), shape))
    return _translated[id(layout)][1](texts, float(rules.today()), rules.placeholders())


def test_rules_sch_translates_whole():
    assert rule_screen.screen_rules() is not rule_screen._CANNOT
    for path in sorted(EXAMPLES.glob("*.xml")):
        data, leaves = draft_document(draft_values(read_draft(path)))
        assert rule_screen._translated(leaves[0][0]) is not rule_screen._CANNOT, path.name


def test_a_value_several_rules_read_is_computed_once_per_draft():
    """A date's number (compared by three rules) or an identifier's normalized text is one
    local at the screen's start; a value read once stays in place; no mark is left."""
    import re

    for path in sorted(EXAMPLES.glob("*.xml")):
        data, leaves = draft_document(draft_values(read_draft(path)))
        source = rule_screen._translated(leaves[0][0]).source
        assert "\x00" not in source, path.name
        shared = re.findall(r"^    (_r[0-9]+) = ", source, re.M)
        assert shared, path.name  # (every example's dates are compared by more than one rule)
        for local in shared:
            assert len(re.findall(rf"\b{local}\b", source)) >= 3, (local, path.name)  # set once, read twice or more


def test_screen_and_xslt_agree_on_every_draft():
    failing = set()
    for data, leaves in _drafts(1500, seed=11):
        report = rules.rule_report(etree.fromstring(data), schema_valid=True)
        found = {f.get("id") for f in report.getroot().iter(SVRL_FAILED)}
        failing |= found
        assert _screen(leaves) == bool(found), (sorted(found), data.decode())
    assert len(failing) >= 25  # most rules were seen failing, not only passing


@pytest.mark.parametrize("text", ["12", " 12 ", "\t7\n", "-0", "1.", ".5", "-.5", "1e3", "1E-2", "1e", "+1", "- 1",
                                  "", ".", "-", "0x10", "Infinity", "1 2", "\u00a012", "\u0661", "2115.0",
                                  "00012", "12345678901234567890", "0.1000000000000000000001", "3.14159",
                                  "1e400", "-3E999", "0e400", ".25E804 "])
def test_number_is_libxml2s(text):
    expected = etree.XPath("number($s)")(etree.Element("a"), s=text)
    got = rule_screen.number(text)
    assert (got != got and expected != expected) or got == expected


@pytest.mark.parametrize("text", ["", "  a  b ", "a\u00a0 b\u2003c", "\ta\r\nb", "\u3000x", "x"])
def test_normalize_space_is_xpaths(text):
    assert rule_screen.normalize_space(text) == etree.XPath("normalize-space($s)")(etree.Element("a"), s=text)


@pytest.mark.parametrize("args", [(1.5, 2.6), (0, 3), (-42, float("inf")), (float("nan"), 3),
                                  (float("-inf"), float("inf")), (2,), (0,), (7,), (3, -1), (2.5,),
                                  (1.5, 0.49999999999999994), (0.49999999999999994, 2), (float("-inf"),),
                                  (float("-inf"), 3), (1.5, 4503599627370497.0)])
def test_substring_is_xpaths(args):
    names = ["$a", "$b"][:len(args)]
    xpath = etree.XPath(f"substring('12345', {', '.join(names)})")
    expected = xpath(etree.Element("a"), **dict(zip("ab", args)))
    assert rule_screen.substring("12345", *args) == expected


@pytest.mark.parametrize("value", [0.49999999999999994, -0.5, -0.49999999999999994, 2.5, -2.5, 4503599627370497.0,
                                   -4503599627370497.0, 1e300, float("inf"), float("nan")])
def test_round_is_libxml2s(value):
    expected = etree.XPath("round($n)")(etree.Element("a"), n=value)
    got = rule_screen._round(value)
    assert (got != got and expected != expected) or (got == expected and str(got) == str(expected))


@pytest.mark.parametrize("value", [0.0, -0.0, 12.0, -5.0, 2147483646.0, 2147483647.0, -2147483648.0, 123456789012.0,
                                   float("nan"), float("inf"), float("-inf"), 0.5])
def test_number_as_text_is_libxml2s_or_left_to_the_xslt(value):
    expected = etree.XPath("string($n)")(etree.Element("a"), n=value)
    try:
        got = rule_screen.number_as_text(value)
    except rule_screen.Unsupported:
        return
    assert got == expected


def test_an_expression_outside_the_subset_leaves_the_rules_to_the_xslt():
    schema = etree.fromstring(
        b'<schema xmlns="http://purl.oclc.org/dsdl/schematron"><ns prefix="mw" uri="urn:x-medwatch-tool:report:1"/>'
        b'<pattern><rule context="mw:report"><assert id="X" test="@version">no version</assert></rule>'
        b'</pattern></schema>')
    with pytest.raises(rule_screen.Unsupported):
        rule_screen.Rules(schema, {})


def test_a_batch_still_reports_every_rule_failing_once_a_shape_is_screened(runner, tmp_path):
    """Rows of one shape, the later ones (screened) with an event after the report's date
    (MW-DATE-3, an error) or a placeholder for a name (MW-MIN-6, a warning)."""
    base = {k: v for k, v in next(synthetic_rows(1, seed=3)).items() if v}
    rows = []
    for i in range(rule_screen.SEEN_BEFORE_TRANSLATED * 2 + 10):
        row = dict(base, **{"admin/report_id": f"R{i}"})
        if i % 7 == 6:
            row["event/event_date"], row["event/report_date"] = "2026-10-02", "2026-10-01"
        if i % 5 == 4:
            row["patient/identifier"] = "N/A"
        rows.append(row)
    source = tmp_path / "rows.csv"
    with source.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=sorted({k for row in rows for k in row}))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "out"
    result = runner.invoke(main, ["batch", str(source), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    with (out / "problems.csv").open(newline="", encoding="utf-8-sig") as f:
        problems = list(csv.DictReader(f))
    dates = {int(p["row"]) for p in problems if p["rule"] == "MW-DATE-3" and p["severity"] == "error"}
    names = {int(p["row"]) for p in problems if p["rule"] == "MW-MIN-6" and p["path"] == "patient/identifier"}
    assert dates == {i + 2 for i in range(len(rows)) if i % 7 == 6}, problems
    assert names == {i + 2 for i in range(len(rows)) if i % 5 == 4}
    drafted = {p.name for p in out.glob("R*.xml")}
    assert len(drafted) == len(rows) - len(dates)


def test_validate_many_with_the_screen_finds_what_validate_finds_alone(monkeypatch):
    monkeypatch.setattr(rule_screen, "SEEN_BEFORE_TRANSLATED", 1)
    drafts = _drafts(300, seed=5)
    names = [f"d{i}.xml" for i in range(len(drafts))]
    together = validate_many([d for d, _ in drafts], names, [leaves for _, leaves in drafts])
    for (data, _), name, (root, problems) in zip(drafts, names, together):
        alone = validate_tree(parse_draft(data, name), name)
        assert [p.as_dict() for p in problems] == [p.as_dict() for p in alone], name


def test_a_translation_that_fails_leaves_the_shape_to_the_xslt(monkeypatch):
    """Not only Unsupported: any failure to translate a shape (Python refusing an expression
    nested too deep, say) must leave its drafts to the XSLT, not fail their rows."""
    def refused(rules, shape):
        raise SyntaxError("too many nested parentheses")

    monkeypatch.setattr(rule_screen, "translate_shape", refused)
    monkeypatch.setattr(rule_screen, "SEEN_BEFORE_TRANSLATED", 1)
    monkeypatch.setattr(rule_screen, "_shapes", {})  # (no shape translated by an earlier test)
    drafts = _drafts(20, seed=9)
    assert rule_screen.certainly_passing([leaves for _, leaves in drafts], rules.today(), rules.placeholders()) \
        == [False] * len(drafts)
    names = [f"d{i}.xml" for i in range(len(drafts))]
    together = validate_many([d for d, _ in drafts], names, [leaves for _, leaves in drafts])
    for (data, _), name, (root, problems) in zip(drafts, names, together):
        assert [p.as_dict() for p in problems] == [p.as_dict() for p in validate_tree(parse_draft(data, name), name)]
