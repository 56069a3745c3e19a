"""How `medwatch batch` reads a cell: what a person meant is stored, or the cell is refused
at its box saying how to write it; never a value the person did not mean."""
import csv
import json

import pytest

from medwatch_tool.catalog import load_catalog
from medwatch_tool.cli import main
from medwatch_tool.coerce import ValueProblem, coerce_value, parse_partial_date
from medwatch_tool.draft import draft_values, read_draft

from helpers import choice_names
from test_batch import example_rows, read_problems, write_csv


def run_batch(runner, folder, changes, delimiter=","):
    """One row per dict of `changes` (made on the second example, its report id numbered),
    written as a CSV separated by `delimiter` and run through `medwatch batch`. Returns
    report id -> the draft's values, or the row's problems as (path, box, message)."""
    base = example_rows()[1]
    rows = [dict(base, **{"admin/report_id": f"CELL-{i}"}, **cells) for i, cells in enumerate(changes)]
    header = list(dict.fromkeys(k for row in rows for k in row))
    src = folder / "cells.csv"
    with open(src, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows([row.get(k, "") for k in header] for row in rows)
    out = folder / "out"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert "Traceback" not in result.output and result.exit_code in (0, 1), result.output
    outcome = {}
    for row in rows:
        draft = out / f"{row['admin/report_id']}.xml"
        outcome[row["admin/report_id"]] = draft_values(read_draft(draft)) if draft.exists() else []
    if (out / "problems.csv").exists():
        for problem in read_problems(out):
            if problem["severity"] == "error":
                outcome[problem["report_id"]].append((problem["path"], problem["box"], problem["message"]))
    return [outcome[row["admin/report_id"]] for row in rows]


def field(path):
    return load_catalog().field(path)


# ---- code lists -------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["mIU", "miu", "5 mIU"])
def test_milli_units_are_not_read_as_million_units(runner, tmp_path, written):
    """MIU is a million IU; mIU a thousandth of one. Matched in any case, 'mIU' was stored as
    MIU: a dose a thousand million times what was given."""
    box = "suspect_product[1]/dose" if written[0].isdigit() else "suspect_product[1]/dose_unit"
    [problems] = run_batch(runner, tmp_path, [{box: written}])
    [(path, where, message)] = problems
    assert (path, where) == (box, "D2")
    if box.endswith("dose_unit"):
        assert message == (f"'{written}' is not on this list: MIU means million international units, and a small m "
                           "means milli-: write the amount in a unit the list has")


@pytest.mark.parametrize("written, stored", [("MIU", "MIU"), ("MBq", "MBQ"), ("mL", "ML"), ("ml", "ML"),
                                             ("mg", "MG"), ("mCi", "MCI"), ("million units", "MIU")])
def test_units_in_their_own_letter_case_are_read(written, stored):
    assert coerce_value(field("suspect_product/dose_unit"), written) == stored


@pytest.mark.parametrize("written, stored", [("mg/m2", "MG/SQ M"), ("mg/m\u00b2", "MG/SQ M"), ("mcg/m2", "UGM/SQ M"),
                                             ("\u00b5g/m\u00b2", "UGM/SQ M")])
def test_doses_per_body_surface_are_read(runner, tmp_path, written, stored):
    """'mg/m2' was refused with "did you mean MG/ML or MG/MG?": a dose misread by a factor
    of the patient's size."""
    [values] = run_batch(runner, tmp_path, [{"suspect_product[1]/dose_unit": written}])
    assert values["suspect_product[1]/dose_unit"] == stored


@pytest.mark.parametrize("written, offered", [
    ("mcg/mL", None), ("ng/mL", None), ("g/L", None),  # (were offered MG/ML: 1,000 or a million times off)
    ("units/kg", "IU/KG"), ("mgs/kg", "MG/KG"),  # (units/kg was offered IU: the per-kg lost)
    # parts that are no unit of their own, as the list's units have them (a version of this change
    # said the list had no such unit, and offered mcg/hour UGM with a frequency: UGM/HR is a rate)
    ("mg/m^2", "MG/SQ M"), ("mcg/sqm", "UGM/SQ M"), ("mcg/hour", "UGM/HR"), ("mcg/hrs", "UGM/HR"),
    ("U/kg", "IU/KG"),
    # a part not read lets none through (a version offered UGM/HR for 'mgm/hr', MG/ML for 'mg/dL')
    ("mgm/hr", None), ("mg/dL", None), ("mg/lb", None),
    ("mg/5mL", None), ("mgc", None), ("cmg", None),  # (MG/ML for 5 mL; MG for a slip that may be mcg)
    ("mgs", "MG"),
    ("mcg/kg/min", "UGM/KG (per min: how often goes in the frequency box)"),
    ("mL/hr", "ML (per hr: how often goes in the frequency box)"), ("mg/dose", "MG")])
def test_a_unit_of_parts_is_offered_only_the_unit_its_parts_name(written, offered):
    """'mcg/mL' was refused with "did you mean MG/ML or UGM/SQ M?", 'ng/mL' with "MG/ML or NGM":
    a tired user following it writes a dose a thousand times too large."""
    with pytest.raises(ValueProblem) as refused:
        coerce_value(field("suspect_product/dose_unit"), written)
    message = str(refused.value)
    if offered:
        assert f"(did you mean {offered}? `medwatch fields` lists all 40)" in message, message
    else:
        assert "did you mean" not in message and ("/" not in written
                                                  or "the list has no such unit, nor one of the same size" in message
                                                  or "no unit of the list is written so" in message), message


@pytest.mark.parametrize("written", ["2 tabs", "1 pill", "2 puffs", "1 patch", "2 caps"])
def test_doses_counted_in_tablets_puffs_or_patches_are_dosage_form_units(runner, tmp_path, written):
    """'tabs', 'puffs' were refused with only the list of 40: FDA counts them as DF."""
    [values] = run_batch(runner, tmp_path, [{"suspect_product[1]/dose": written, "suspect_product[1]/dose_unit": ""}])
    assert (values["suspect_product[1]/dose"], values["suspect_product[1]/dose_unit"]) == (written.split()[0], "DF")


def test_outcomes_in_the_current_forms_own_words_are_read(runner, tmp_path):
    """B2 as FDA 3500 prints it; these three were refused."""
    [values] = run_batch(runner, tmp_path, [{"event/outcome": "Hospitalization (initial or prolonged); Congenital "
                                             "anomaly/birth defect(s); Other serious or important medical events"}])
    assert values["event/outcome"] == ["hospitalization", "congenital_anomaly", "other_serious"]


def test_every_mega_unit_of_the_list_refuses_its_milli_spelling():
    """MBq/mBq as MIU/mIU: each code whose label or plain words say mega- or million-."""
    unit = field("suspect_product/dose_unit")
    large = [c.value for c in unit.choices if "MEGA" in c.label or "million" in c.plain]
    assert sorted(large) == ["MBQ", "MIU"]
    for code in large:
        with pytest.raises(ValueProblem, match=f"{code} means"):
            coerce_value(unit, "m" + code[1:])


@pytest.mark.parametrize("path, written", [
    ("suspect_product[1]/route", "NA"),       # R's missing value, not nasal
    ("patient/race", "NA"),                   # not native_hawaiian_pacific_islander
])
def test_na_in_a_code_box_is_an_empty_cell_not_a_choice(runner, tmp_path, path, written):
    [values] = run_batch(runner, tmp_path, [{path: written}])
    assert isinstance(values, dict) and path not in values


def test_a_route_one_sense_apart_is_not_offered():
    """'intravitreal' (the eye) was offered "intratracheal or intrathecal or intracisternal"."""
    with pytest.raises(ValueProblem) as refused:
        coerce_value(field("suspect_product/route"), "intravitreal")
    assert "did you mean" not in str(refused.value)
    for slip, meant in (("intrathecl", "intrathecal"), ("mgs", "MG"), ("IUs", "IU"), ("(mcg)", "UGM")):  # slips still are
        path = "suspect_product/route" if slip.startswith("intra") else "suspect_product/dose_unit"
        with pytest.raises(ValueProblem, match=f"did you mean {meant}\\?"):
            coerce_value(field(path), slip)


@pytest.mark.parametrize("path, written", [
    ("suspect_product/route", "IO"),          # intraosseous, not iontophoresis
    ("suspect_product/route", "OT"),          # otic, not other
    ("suspect_product/dose_unit", "gr"),      # grain (64.8 mg), not gram
    ("suspect_product/frequency", "Q"),       # not QID
    ("patient/race", "A"),                    # Asian, or American Indian or Alaska Native?
    # whole words a choice goes on from: "Other" was drafted as other_health_professional (beside
    # "health professional: no") and as the outcome other_serious, a serious event by a guess
    ("reporter/occupation", "Other"), ("event/outcome", "Other"), ("event/outcome", "oth"),
    ("suspect_product/frequency", "twice"),
    ("patient/age_unit", "M"),  # "52 M" is how a 52-year-old man is written: it was drafted as 52 months
    ("suspect_product/route", "Intrav."), ("suspect_product/route", "intrave"),  # intravenous or intravesical?
    ("admin/form", "FDA 350"),
    ("suspect_product/dechallenge", "did not stop"),  # the problem did not stop: No, not "doesn't apply"
])
def test_one_or_two_letters_do_not_guess_a_choice(path, written):
    with pytest.raises(ValueProblem, match=f"'{written}' is not one of the allowed values"):
        coerce_value(field(path), written)


@pytest.mark.parametrize("path, written, stored", [
    ("suspect_product/route", "intrathec", "intrathecal"),   # a start of three letters or more is still read
    ("event/outcome", "hosp", ["hospitalization"]),
    ("patient/sex", "F", "female"), ("patient/sex", "m", "male"),
    ("suspect_product/dechallenge", "Y", "yes"), ("suspect_product/rechallenge", "n", "no"),
    ("patient/age_unit", "y", "year"), ("suspect_product/dose_unit", "L", "L"),
    # read before the three-letter rule, by a guess; now named by the schema (a review found them refused)
    ("patient/ethnicity", "no", "not_hispanic_latino"), ("patient/ethnicity", "Y", "hispanic_latino"),
    ("patient/race", "W", ["white"]), ("patient/race", "B", ["black_african_american"]),
    ("device/serviced_third_party", "U", "unknown"),
    # words that also say "no value", where the list has the answer they give: they emptied the box
    ("availability/available", "not available", "no"), ("availability/available", "Unavailable", "no"),
    ("suspect_product/route", "not known", "unknown"), ("suspect_product/dose_unit", "Not known", "UNK"),
    ("device/serviced_third_party", "not known", "unknown"),
    # the consumer form's own printed answer (3500B C16: Yes / No / Didn't restart) was refused
    ("suspect_product/rechallenge", "Didn't restart", "doesnt_apply"),
    ("suspect_product/rechallenge", "Didn\u2019t restart", "doesnt_apply"),  # (as the form prints it)
    ("suspect_product/route", "oth", "other"),  # (a list's own "other": a start of it, as before)
    # a first word of a label stays a start (a first version refused any label going on with more words)
    ("suspect_product/product_type", "Generic", ["generic_biosimilar"]),
    ("patient/race", "American Indian", ["american_indian_alaska_native"]),
    ("event/outcome", "Congenital", ["congenital_anomaly"]), ("reporter/occupation", "Non-Health", "non_health_professional"),
])
def test_short_answers_the_lists_name_are_read(path, written, stored):
    assert coerce_value(field(path), written) == stored


def test_country_na_is_namibia(runner, tmp_path):
    [values] = run_batch(runner, tmp_path, [{"reporter/country": "NA"}])
    assert values["reporter/country"] == "NA"


@pytest.mark.parametrize("written", ["N/A", "NA", "n.a.", "not applicable", "Not Applicable", "does not apply"])
def test_not_applicable_in_dechallenge_is_the_lists_doesnt_apply(runner, tmp_path, written):
    [values] = run_batch(runner, tmp_path, [{"suspect_product[1]/dechallenge": written,
                                             "suspect_product[1]/rechallenge": written}])
    assert values["suspect_product[1]/dechallenge"] == values["suspect_product[1]/rechallenge"] == "doesnt_apply"


@pytest.mark.parametrize("written, stored", [
    ("Hispanic", "hispanic_latino"), ("Latino", "hispanic_latino"), ("Latina", "hispanic_latino"),
    ("Non-Hispanic", "not_hispanic_latino"), ("not hispanic", "not_hispanic_latino"),
    ("Hispanic or Latino", "hispanic_latino"), ("Not Hispanic or Latino", "not_hispanic_latino"),
])
def test_ethnicity_as_people_write_it(runner, tmp_path, written, stored):
    [values] = run_batch(runner, tmp_path, [{"patient/ethnicity": written}])
    assert values["patient/ethnicity"] == stored


@pytest.mark.parametrize("path, written, stored", [
    ("patient/weight_unit", "lb.", "lb"), ("patient/weight_unit", "kg.", "kg"),
    ("patient/age_unit", "yr.", "year"), ("patient/age_unit", "yrs.", "year"), ("patient/age_unit", "mos.", "month"),
    ("suspect_product[1]/dechallenge", "Yes.", "yes"), ("suspect_product[1]/route", "p.o.", "oral"),
    ("suspect_product[1]/route", "i.v.", "intravenous_not_otherwise_specified"),
    ("suspect_product[1]/frequency", "q.h.s.", "HS"), ("suspect_product[1]/frequency", "b.i.d", "BID"),
])
def test_abbreviations_with_dots_are_read(runner, tmp_path, path, written, stored):
    [values] = run_batch(runner, tmp_path, [{path: written}])
    assert values[path] == stored


def test_without_their_dots_no_two_choices_share_a_name():
    """Dots are ignored in both the answer and the list's names: were two choices' names the
    same but for dots, an answer would be read as whichever came first."""
    from medwatch_tool.code_lists import _key

    checked = 0
    for f in load_catalog().fields:
        owner = choice_names(f, _key)
        checked += sum(len(values) for values in owner.values())
        shared = {name: values for name, values in owner.items() if len(values) > 1}
        assert not shared, (f.path, shared)
    assert checked > 300


@pytest.mark.parametrize("written", ["OD", "q8h", "TIW", "continuous"])  # (QD, QOD: the do-not-use message)
def test_a_refused_frequency_says_to_choose_other_and_write_it_beside(runner, tmp_path, written):
    [problems] = run_batch(runner, tmp_path, [{"suspect_product[1]/frequency": written,
                                               "suspect_product[1]/frequency_other": ""}])
    [(path, box, message)] = problems
    assert (path, box) == ("suspect_product[1]/frequency", "D2")
    assert message.endswith("; if none of them fits, choose other and write it in 'Other frequency'"), message


def test_only_a_list_with_a_box_beside_it_says_to_write_there():
    beside = {f.when.split("=")[0] for f in load_catalog().fields if f.when.endswith("=other")}
    for f in load_catalog().fields:
        if f.kind == "code":
            try:
                coerce_value(f, "zzqx")
            except ValueProblem as exc:
                assert ("choose other and write it in" in str(exc)) == (f.path in beside), f.path
    assert beside == {"suspect_product/frequency", "suspect_product/route"}


# ---- numbers of a semicolon-separated file ----------------------------------------------

@pytest.mark.parametrize("cells, stored", [
    ({"suspect_product[1]/dose": "0.125", "suspect_product[1]/dose_unit": "mg"}, {"suspect_product[1]/dose": "0.125"}),
    ({"suspect_product[1]/dose": "0.125 mg", "suspect_product[1]/dose_unit": ""},
     {"suspect_product[1]/dose": "0.125", "suspect_product[1]/dose_unit": "MG"}),
    ({"patient/weight": "0.500"}, {"patient/weight": "0.5"}),
    # the forms that read one way only stay as they were read
    ({"suspect_product[1]/dose": "1.500,5"}, {"suspect_product[1]/dose": "1500.5"}),
    ({"suspect_product[1]/dose": "1.500.000"}, {"suspect_product[1]/dose": "1500000"}),
    ({"patient/weight": "72,5"}, {"patient/weight": "72.5"}),
    ({"suspect_product[1]/dose": "2.5"}, {"suspect_product[1]/dose": "2.5"}),
    ({"suspect_product[1]/dose": "12.50"}, {"suspect_product[1]/dose": "12.5"}),
])
def test_a_decimal_point_after_zero_is_a_decimal_point_in_a_semicolon_file(runner, tmp_path, cells, stored):
    """0.125 mg was stored as 125 mg: a group of thousands never begins with 0."""
    [values] = run_batch(runner, tmp_path, [cells], delimiter=";")
    assert {path: values.get(path) for path in stored} == stored


@pytest.mark.parametrize("path, written, box, readings", [
    ("suspect_product[1]/dose", "2.500", "D2", "write 2500 (without a thousands separator) or 2,5 (with a decimal comma)"),
    ("suspect_product[1]/dose", "1.500 mg", "D2", "write 1500 (without a thousands separator) or 1,5"),
    ("patient/weight", "72.500", "A4", "write 72500 (without a thousands separator) or 72,5 (with a decimal comma)"),
    ("suspect_product[1]/dose", "125.000", "D2", "write 125000 (without a thousands separator) or 125 (with"),
])
def test_one_group_after_a_point_in_a_semicolon_file_is_refused_with_both_readings(runner, tmp_path, path, written,
                                                                                   box, readings):
    """2.500 was stored as 2500: where the file comes from the point groups thousands, but
    the same cell elsewhere is two and a half. Either reading is a thousandfold error."""
    [problems] = run_batch(runner, tmp_path, [{path: written}], delimiter=";")
    [(where, shown_box, message)] = problems
    assert (where, shown_box) == (path, box)
    assert message.startswith(f"'{written}' is ambiguous (this file, separated by semicolons, may group thousands "
                              f"with a point): {readings}"), message


@pytest.mark.parametrize("written, readings", [
    ("1,500", "write 1500 (without a thousands separator) or 1,5 (with a decimal comma)"),
    ("2,250 mg", "write 2250 (without a thousands separator) or 2,25 (with a decimal comma)"),
])
def test_one_group_after_a_comma_in_a_semicolon_file_is_refused_with_both_readings(runner, tmp_path, written,
                                                                                   readings):
    """1,500 was drafted as 1.5: a decimal comma where the file comes from, but a US export
    saved with semicolons (its dates month first, 10/16/2026) means fifteen hundred by it."""
    [problems] = run_batch(runner, tmp_path, [{"suspect_product[1]/dose": written,
                                               "event/event_date": "10/16/2026"}], delimiter=";")
    [(where, _, message)] = [p for p in problems if p[0] == "suspect_product[1]/dose"]
    assert message.startswith(f"'{written}' is ambiguous (a comma before three digits is a decimal comma in a file "
                              "separated by semicolons, and groups thousands where the decimal mark is a point): "
                              f"{readings}"), message


def test_the_same_numbers_in_a_comma_separated_file_have_a_decimal_point(runner, tmp_path):
    [values] = run_batch(runner, tmp_path, [{"suspect_product[1]/dose": "2.500", "patient/weight": "72.500"}])
    assert (values["suspect_product[1]/dose"], values["patient/weight"]) == ("2.5", "72.5")


@pytest.mark.parametrize("written", ["0,125.5", "0.125,5"])
def test_a_group_of_thousands_beginning_with_zero_is_no_number(written):
    with pytest.raises(ValueProblem, match="is not a number"):
        coerce_value(field("suspect_product/dose"), written)


# ---- countries --------------------------------------------------------------------------

@pytest.mark.parametrize("written, offered", [
    ("Congo", "Republic of the Congo (CG) or DR Congo (CD)"),
    ("the Congo", "Republic of the Congo (CG) or DR Congo (CD)"),
    ("Virgin Islands", "US Virgin Islands (VI) or British Virgin Islands (VG)"),
])
def test_a_name_two_countries_go_by_is_refused_offering_both(runner, tmp_path, written, offered):
    """'Congo' was stored as CG, the Republic of the Congo: ISO's name for it, but to many
    the Democratic Republic of the Congo (CD)."""
    [problems] = run_batch(runner, tmp_path, [{"reporter/country": written}])
    assert problems == [("reporter/country", "G1", f"'{written}' is not a country name or two-letter country code; "
                                                   f"did you mean {offered}?")]


@pytest.mark.parametrize("written, code", [
    ("Republic of the Congo", "CG"), ("Congo-Brazzaville", "CG"), ("Democratic Republic of the Congo", "CD"),
    ("Congo-Kinshasa", "CD"), ("US Virgin Islands", "VI"), ("British Virgin Islands", "VG"),
    ("Guinea", "GN"), ("Niger", "NE"), ("Nigeria", "NG"), ("Sudan", "SD"), ("South Sudan", "SS"),
])
def test_each_of_a_pair_named_in_full_is_read(written, code):
    assert coerce_value(field("reporter/country"), written) == code


@pytest.mark.parametrize("written, code", [
    ("America", "US"), ("Macedonia", "MK"), ("Bosnia", "BA"), ("St Kitts", "KN"), ("St. Kitts", "KN"),
    ("Eire", "IE"), ("U.S.A", "US"), ("\u201cUSA\u201d", "US"), ('"Canada"', "CA"), ("St Vincent", "VC"),
    ("U.S. Virgin Islands", "VI"),
])
def test_countries_as_people_write_them_in_a_batch(runner, tmp_path, written, code):
    [values] = run_batch(runner, tmp_path, [{"reporter/country": written}])
    assert values["reporter/country"] == code


# ---- dates ------------------------------------------------------------------------------

@pytest.mark.parametrize("written, stored", [
    ("2026.11.03", "2026-11-03"),               # year first with dots
    ("Nov-3-2026", "2026-11-03"), ("Nov/3/2026", "2026-11-03"),
    ("2026 Nov", "2026-11"), ("2026-Nov-03", "2026-11-03"),
    ("03NOV2026:00:00:00", "2026-11-03"),       # SAS datetime
    ("20261103T1430", "2026-11-03"), ("20261103T143000Z", "2026-11-03"), ("202611031430", "2026-11-03"),
    ("2026-11-03 14:30 EST", "2026-11-03"), ("11/03/2026 2:30 PM PDT", "2026-11-03"),
    ("10-16-2026", "2026-10-16"), ("16-10-2026", "2026-10-16"),  # dashes: either order, when only one reads
    ("16.10.2026", "2026-10-16"), ("03.03.2026", "2026-03-03"),  # dots (day first): when only one reading
    ("２０２６", "2026"), ("٢٠٢٦-١١", "2026-11"),  # digits as a Japanese or Arabic keyboard types them
])
def test_dates_that_read_one_way_are_read(runner, tmp_path, written, stored):
    [values] = run_batch(runner, tmp_path, [{"event/event_date": written, "event/report_date": "2026-11-20"}])
    assert values["event/event_date"] == stored


def test_a_dashed_date_that_reads_both_ways_is_refused_with_both(runner, tmp_path):
    """Dashes are month first in the US and day first in India or the Netherlands: 03-11-2026
    was read as 3 November... or 11 March, depending on the reader."""
    [problems] = run_batch(runner, tmp_path, [{"event/event_date": "03-11-2026"}])
    assert problems == [("event/event_date", "B3", "'03-11-2026' could be 3 Nov or 11 Mar 2026 (dates with dashes "
                         "are written month first in some places, day first in others): write 2026-11-03 or "
                         "2026-03-11")]


def test_a_dashed_date_written_day_first_is_read_as_a_slashed_one_is(runner, tmp_path):
    """Only 16 October: a file that writes it so writes its dates day first (its dates that
    read both ways are refused, see test_problem_messages.py)."""
    [values] = run_batch(runner, tmp_path, [{"event/event_date": "16-10-2026", "event/report_date": "2026-11-20"}])
    assert values["event/event_date"] == "2026-10-16"


def test_a_dashed_date_in_a_semicolon_file_that_reads_two_ways_is_refused(runner, tmp_path):
    """There the day comes first: 11-03-2026 read US-style would be 3 November, silently."""
    first, second = run_batch(runner, tmp_path, [{"event/event_date": "11-03-2026"},
                                                 {"event/event_date": "16-10-2026", "event/report_date": "2026-11-20"}],
                              delimiter=";")
    assert first == [("event/event_date", "B3", "'11-03-2026' could be 11 Mar or 3 Nov 2026 (this file, separated "
                      "by semicolons, may write the day first): write 2026-03-11 or 2026-11-03")]
    assert second["event/event_date"] == "2026-10-16"


@pytest.mark.parametrize("written, message", [
    ("04.03.2026", "'04.03.2026' has dots, as dates written day first do: if it is 4 March 2026, write 2026-03-04"),
    ("2026-02-30", "2026-02-30 is not a date: February 2026 has 28 days"),
    ("2/30/2024", "2/30/2024 is not a date: February 2024 has 29 days"),
    ("2026-13-01", "2026-13-01 is not a date: there is no month 13"),
    ("00.05.2026", "00.05.2026 is not a date: there is no day 0"),  # (not "if it is 0 May 2026, write 2026-05-00")
    ("05.00.2026", "05.00.2026 is not a date: there is no month 0"),
    ("0000-01-01", "0000-01-01 is not a date: the year 0000 is out of range (the form's dates begin in 1850; write "
                   "the year in full)"),
    ("46085", "'46085' is not a date but looks like a spreadsheet's number for one (2026-03-04), its date format "
              "lost: format the column as dates, or write 2026-03-04 if that is the date"),
])
def test_a_date_refused_says_why(runner, tmp_path, written, message):
    """'04.03.2026' got "is not a date; write e.g. 2026-11-03, ..." (it is one, written day
    first), '2026-02-30' a bare "is not a date"."""
    [problems] = run_batch(runner, tmp_path, [{"event/event_date": written}])
    assert problems == [("event/event_date", "B3", message)]


@pytest.mark.parametrize("written", ["2026.11", "2026.5"])
def test_a_year_and_month_with_a_point_could_be_a_number_and_is_refused(written):
    with pytest.raises(ValueProblem, match="is not a date; write e.g."):
        parse_partial_date(written)


# ---- messages ---------------------------------------------------------------------------

@pytest.mark.parametrize("written, message", [
    ("0026", "0026 is not a date: the year 0026 is out of range (the form's dates begin in 1850; write the year "
             "in full)"),
    ("0026-11-03", "0026-11-03 is not a date: the year 0026 is out of range (the form's dates begin in 1850; "
                   "write the year in full)"),
    ("1849", "1849 is not a date: the year 1849 is out of range (the form's dates begin in 1850)"),
])
def test_a_year_before_the_forms_first_says_it_is_out_of_range(runner, tmp_path, written, message):
    """It said '0026 is not a date (write YYYY-MM-DD, YYYY-MM or YYYY)': the form it was written in."""
    [problems] = run_batch(runner, tmp_path, [{"event/event_date": written}])
    assert problems == [("event/event_date", "B3", message)]


def test_the_first_year_is_the_schemas():
    from medwatch_tool.dates import earliest_year

    assert parse_partial_date(str(earliest_year())) == str(earliest_year())
    with pytest.raises(ValueProblem, match="out of range"):
        parse_partial_date(f"{earliest_year() - 1}-12-31")


# ---- a number with its unit, and the unit box -------------------------------------------

@pytest.mark.parametrize("dose_first", [True, False])
def test_a_unit_in_the_dose_and_unknown_in_the_unit_box_is_refused_in_either_column_order(runner, tmp_path,
                                                                                         dose_first):
    """'5 mg' with 'unknown' (the unit list's own UNK) in D2 dose unit: mg was stored when the
    unit column came first and UNK when it came after: the same cells, two drafts."""
    base = {k: v for k, v in example_rows()[1].items() if not k.startswith("suspect_product[1]/dose")}
    cells = [("suspect_product[1]/dose", "5 mg"), ("suspect_product[1]/dose_unit", "unknown")]
    rows = [dict(base, **{"admin/report_id": "UNIT"}, **dict(cells if dose_first else cells[::-1])),
            dict(base, **{"admin/report_id": "NOUNIT"}, **dict(cells[:1], **{"suspect_product[1]/dose_unit": "N/A"}))]
    out = tmp_path / "o"
    result = runner.invoke(main, ["batch", str(write_csv(tmp_path / "e.csv", rows)), "--out", str(out)])
    assert "1 drafted, 1 with errors" in result.output, result.output
    [clash] = read_problems(out)
    assert (clash["report_id"], clash["path"], clash["box"]) == ("UNIT", "suspect_product[1]/dose", "D2")
    assert clash["message"] == ("'5 mg' gives the unit as MG, but D2 dose unit says UNK: "
                                "leave the unit to one of them")
    drafted = draft_values(read_draft(out / "NOUNIT.xml"))  # "N/A" there: no unit given, the dose's is taken
    assert (drafted["suspect_product[1]/dose"], drafted["suspect_product[1]/dose_unit"]) == ("5", "MG")


# ---- yes/no answers in code lists that hold yes and no ----------------------------------

@pytest.mark.parametrize("written, stored", [("true", "yes"), ("x", "yes"), ("1", "yes"), ("false", "no"),
                                             ("0", "no"), ("Y", "yes")])
def test_yes_no_spellings_are_read_in_lists_that_hold_yes_and_no(runner, tmp_path, written, stored):
    """C1 (yes, no, returned) and D7 (yes, no, doesn't apply) refused 'true' and '1', which
    the yes/no boxes take: a boolean column of an export failed every row there."""
    [values] = run_batch(runner, tmp_path, [{"availability/available": written,
                                             "suspect_product[1]/dechallenge": written}])
    assert values["availability/available"] == values["suspect_product[1]/dechallenge"] == stored


def test_json_true_and_false_are_yes_and_no_in_those_lists(runner, tmp_path):
    from medwatch_tool.draft import nest

    row = nest(dict(example_rows()[1], **{"admin/report_id": "JSONYES"}))
    row["availability"] = {"available": True}
    row["suspect_product"][0]["dechallenge"] = False
    src = tmp_path / "e.jsonl"
    src.write_text(json.dumps(row) + "\n", encoding="utf-8")
    result = runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    values = draft_values(read_draft(tmp_path / "o" / "JSONYES.xml"))
    assert (values["availability/available"], values["suspect_product[1]/dechallenge"]) == ("yes", "no")


def test_a_list_without_yes_and_no_does_not_take_them(runner, tmp_path):
    [problems] = run_batch(runner, tmp_path, [{"patient/sex": "true"}])
    assert [(path, box) for path, box, _ in problems] == [("patient/sex", "A3")]


# ---- boxes of a fixed form --------------------------------------------------------------

def test_a_report_id_refused_says_what_an_id_may_hold(runner, tmp_path):
    src = write_csv(tmp_path / "e.csv", [dict(example_rows()[1], **{"admin/report_id": "R 1"})])
    assert runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o")]).exit_code == 1
    [problem] = read_problems(tmp_path / "o")
    assert (problem["path"], problem["message"]) == (
        "admin/report_id", "'R 1' does not look like a valid report ID: a stable identifier for this case, reused by "
        "every follow-up report (letters A-Z without accents, digits, '.', '_', '-')")  # (José: é is a letter too)


def test_a_number_with_a_huge_exponent_is_not_read_as_a_number_and_a_unit(runner, tmp_path):
    """'1e400' in A2 age: "the unit is not one that A2 age unit takes: 'e400' ..."."""
    [problems] = run_batch(runner, tmp_path, [{"patient/age": "1e400", "patient/age_unit": ""}])
    assert problems == [("patient/age", "A2", "'1e400' is far outside any value this box can hold")]


def test_a_refused_phone_number_says_in_full_what_the_box_takes(runner, tmp_path):
    """The help "Digits, spaces, +, -, ( ) and . are allowed." was cut at its ". " (a dot
    allowed, not a full stop): "... digits, spaces, +, -, ( ) and"."""
    src = write_csv(tmp_path / "e.csv", [dict(example_rows()[1], **{"reporter/phone": "555-123-4567 (pager)"})])
    runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o")])
    [message] = [p["message"] for p in read_problems(tmp_path / "o") if p["path"] == "reporter/phone"]
    assert message == ("'555-123-4567 (pager)' does not look like a valid phone #: at least 4 of: digits, spaces, "
                       "+, -, ( ) and ., then an extension if any (e.g. 614-555-0142 or 614-555-0142 x22)")


def test_a_control_character_in_a_number_is_named_not_read_as_a_unit(runner, tmp_path):
    """A NUL inside a dose ("1<NUL>500") was refused as the number 1 with the unit ' 500'.
    (A NUL in the first 4 KB is looked at to tell binary data: a stray one is read so too.)"""
    good = [dict(example_rows()[1], **{"admin/report_id": f"G{n}"}) for n in range(40)]
    src = write_csv(tmp_path / "e.csv", good + [dict(example_rows()[1], **{"suspect_product[1]/dose": "1\x00500"})])
    assert src.read_bytes().index(b"\x00") > 4096
    assert runner.invoke(main, ["batch", str(src), "--out", str(tmp_path / "o")]).exit_code == 1
    [problem] = [p for p in read_problems(tmp_path / "o") if p["path"] == "suspect_product[1]/dose"]
    assert problem["message"] == ("contains the control character U+0000 (invisible, not text), which a report "
                                  "cannot hold: remove it")


def test_device_problem_codes_listed_with_commas_are_read(runner, tmp_path):
    """'2889, 1234' was refused as one code, "not a valid device problem code (fda/imdrf)"."""
    listed, wrong = run_batch(runner, tmp_path, [{"device[1]/brand_name": "Pump", "device[1]/problem_code": "2889, 1234"},
                                                 {"device[1]/brand_name": "Pump", "device[1]/problem_code": "2889, 12"}])
    assert listed["device[1]/problem_code"] == ["2889", "1234"]
    [(path, box, message)] = wrong
    assert path == "device[1]/problem_code"
    assert message.startswith("'12' does not look like a valid device problem code (FDA/IMDRF): a 4-digit FDA CDRH code")
    assert message.endswith("or an IMDRF code (e.g. A040601)")  # (not cut at "e.g. A")


def test_a_cell_written_as_excel_s_text_formula_is_read_as_excel_shows_it(runner, tmp_path):
    """Exports write ="00123" so that Excel keeps a code's leading zeros when it opens the
    file: it was drafted as the lot '="00123"', quotes and all, and refused in a number box."""
    src = tmp_path / "export.csv"
    src.write_text('admin/report_id,admin/form,patient/identifier,patient/weight,patient/weight_unit,'
                   'event/problem_type,event/description,suspect_product[1]/name,suspect_product[1]/lot,'
                   'reporter/last_name,reporter/phone,reporter/postal_code\n'
                   '="X-1",3500,AB,="70",kg,adverse_event,"Said ""=x"" twice",Baclofen,="00123",Okafor,'
                   '555-0100, ="02134"\n'
                   '"=""X-2""",3500,AB,70,kg,adverse_event,"=""Nausea"" then",Baclofen,"=""0A""""1""",Okafor,'
                   '555-0100,02134\n', encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, (result.output, read_problems(out))
    first, second = (draft_values(read_draft(out / f"X-{n}.xml")) for n in (1, 2))
    assert (first["suspect_product[1]/lot"], first["reporter/postal_code"], first["patient/weight"],
            first["event/description"]) == ("00123", "02134", "70", 'Said "=x" twice')
    assert (second["suspect_product[1]/lot"], second["event/description"]) == ('0A"1', '="Nausea" then')


@pytest.mark.parametrize("path, written, told", [
    # an answer of the box beside: it got only this box's list
    ("patient/race", "Hispanic", "'Hispanic' is not one of the allowed values: it is an answer of ethnicity "
                                 "(patient/ethnicity), a box of its own: put it there"),
    ("patient/ethnicity", "White", "it is an answer of race (patient/race)"),
    # only a list of the same box (A5 both): 'W' in sex was sent to the age unit (weeks), a route
    # 'patch' to the strength unit, 'no' in race to ethnicity; they keep the list's own words
    ("patient/sex", "W", "'W' is not one of the allowed values (male, female)"),
    # a question about who the person is, whose list may not fit them: the box may be left empty
    ("patient/sex", "X", "'X' is not one of the allowed values (male, female); if neither applies, leave the box empty"),
    ("patient/race", "Martian", "if none of them applies, leave the box empty"),
    ("suspect_product/route", "patch", "if none of them fits, choose other and write it in 'Other route'"),
    ("suspect_product/frequency", "day", "if none of them fits, choose other and write it in 'Other frequency'"),
    ("patient/race", "no", "'no' is not one of the allowed values (american_indian_alaska_native, asian"),
    # abbreviations on the do-not-use lists: not read, and said why (they got the list alone)
    ("suspect_product/frequency", "q.d.", "'q.d.' is on the do-not-use lists of abbreviations (it is misread as QID, "
                                          "four times a day): write daily"),
    ("suspect_product/frequency", "QOD", "'QOD' is on the do-not-use lists of abbreviations (it is misread as QD or "
                                        "QID): write every other day (choose other, and write it in the other "
                                        "frequency's box)"),
    ("suspect_product/dose_unit", "U", "'U' is on the do-not-use lists of abbreviations (it is misread as 0 or 4, or "
                                       "as cc): write units (IU)"),
    # a kitchen measure, as a syrup's label gives the dose: in mL (it got "not one of the allowed values")
    ("suspect_product/dose_unit", "teaspoons", "'teaspoons' is a kitchen measure, which the list of units does not "
                                               "have: a teaspoon is 5 mL, so give the amount in mL"),
    ("suspect_product/dose_unit", "Tbsp", "a tablespoon is 15 mL"),
    # a two-digit year as Excel writes d-mmm-yy and mmm-yy dates into a CSV (was "is not a date")
    ("event/event_date", "4-Mar-26", "'4-Mar-26' has a two-digit year: write the year in full (2026 or 1926?)"),
    ("event/event_date", "Mar-26", "'Mar-26' could be Mar 2026 (a two-digit year) or Mar 26 without its year: write "
                                   "the date in full (2026-03, or the day with its year)"),
    ("event/event_date", "Mar-45", "'Mar-45' has a two-digit year: write the year in full (2045 or 1945?)"),
    ("event/event_date", "4 Mrz 26", "'4 Mrz 26' has a two-digit year"),  # (a month name not read: as before)
    # a season or a part of a year: what to write instead (was "'early' is not a month name" alone)
    ("event/event_date", "early 2025", "'early' is not a month name: give the month (Nov 2026, 2026-11), or the year "
                                       "alone (2026) if the month is not known"),
    # a text too long says which one (was "is 25 characters long" alone)
    ("patient/identifier", "Jane Q. Public-Smithsonian", "'Jane Q. Public-Smithsonian' is 26 characters long; at most "
                                                         "20 fit in this box"),
])
def test_a_refusal_says_what_to_write_instead(path, written, told):
    with pytest.raises(ValueProblem) as refused:
        coerce_value(field(path), written)
    assert told in str(refused.value), str(refused.value)


@pytest.mark.parametrize("path, written, stored", [
    ("suspect_product/dose_unit", "UI", "IU"),  # (French and Spanish for IU; was offered UCI, microcuries)
    ("event/problem_type", "AE", ["adverse_event"]), ("event/problem_type", "ADR", ["adverse_event"]),
    ("device/operator", "nurse", "health_professional"), ("device/operator", "Physician", "health_professional"),
])
def test_what_clinicians_write_for_common_answers_is_read(path, written, stored):
    """'AE' in B1 and 'nurse' in E5 operator were refused with the list alone."""
    assert coerce_value(field(path), written) == stored


def test_a_several_answer_cell_repeated_row_after_row_reads_the_same_each_time(runner, tmp_path):
    """The same cell of a several-answer box, in row after row (remembered once converted),
    gives each row its own answers; the same refused cell is refused on every row."""
    died = {"event/death_date": "2026-10-20"}
    cells = [dict(died, **{"event/outcome": "death; hospitalization"})] * 3 + [{"event/outcome": "death; sleepy"}] * 2
    cells.append(dict(died, **{"event/outcome": "Hospitalization;death"}))
    found = run_batch(runner, tmp_path, cells)
    for i in range(3):
        assert found[i]["event/outcome"] == ["death", "hospitalization"], found[i]
    for i in (3, 4):
        assert any(path == "event/outcome" and "sleepy" in message for path, _, message in found[i]), found[i]
    assert found[5]["event/outcome"] == ["hospitalization", "death"], found[5]


def test_a_remembered_list_is_each_callers_own():
    from medwatch_tool.coerce import coerce_values

    first, _ = coerce_values({"event/outcome": "death; hospitalization"})
    first["event/outcome"].append("changed by its caller")
    again, _ = coerce_values({"event/outcome": "death; hospitalization"})
    assert again["event/outcome"] == ["death", "hospitalization"]
