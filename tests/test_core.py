"""The core API behaves as the CLI and the other front ends rely on."""
import os
import re
import signal
import stat
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from medwatch_tool.catalog import load_catalog
from medwatch_tool.coerce import ValueProblem, coerce_value, parse_partial_date
from medwatch_tool.draft import build_draft, draft_values, flatten, nest, read_draft, write_draft
from medwatch_tool.errors import InputError, OutputError
from medwatch_tool import safe_io
from medwatch_tool.safe_io import FolderWriter, atomic_write, parse_xml_bytes
from medwatch_tool.validate import validate_tree

from helpers import EXAMPLES, choice_names

EXAMPLE = EXAMPLES / "baclofen-pump-catheter-kink.xml"


def test_catalog_annotates_every_field():
    catalog = load_catalog()
    assert len(catalog.fields) > 80
    for f in catalog.fields:
        assert f.box and f.label, f.path
        if f.box != "—":  # a form box is asked; admin/* and the reaction's MedDRA coding are no box, not asked
            assert "?" in f.question or f.question.endswith("."), f.path
        else:
            assert not f.question and f.box_3500b == "—", f.path
    assert catalog.field("suspect_product[3]/route").box == "D2"
    assert catalog.field("device[2]/udi").box_3500b == "D7"
    assert {g.path for g in catalog.groups if g.repeat} == {"event/test", "suspect_product", "device", "concomitant"}
    # suggestions are spelt as the CSV template spells columns, keeping the entry given
    assert catalog.suggest("suspect_product/dosage") == "suspect_product[1]/dose"
    assert catalog.suggest("suspect_product[2]/dosage") == "suspect_product[2]/dose"
    assert catalog.suggest("patient[2]/agee") == "patient/age"


@pytest.mark.parametrize("raw, stored", [
    ("2026-11-03", "2026-11-03"), ("11/03/2026", "2026-11-03"), ("3 Nov 2026", "2026-11-03"),
    ("03-Nov-2026", "2026-11-03"), ("November 3, 2026", "2026-11-03"), ("Nov 2026", "2026-11"),
    ("11/2026", "2026-11"), ("2026", "2026"),
    # a time of day after a full date (exports, Excel date-time cells) is left out
    ("2026-11-03T14:30:00", "2026-11-03"), ("11/03/2026 2:30 PM", "2026-11-03"),
    ("2026-11-03 14:30:05.250+01:00", "2026-11-03"), ("3 Nov 2026 09:15 UTC", "2026-11-03"),
    # what other systems export: year first with slashes, E2B / HL7 digits, SAS's DATE9
    ("2026/11/03", "2026-11-03"), ("2026/11", "2026-11"), ("20261103", "2026-11-03"),
    ("03NOV2026", "2026-11-03"), ("03/Nov/2026", "2026-11-03"),
    # a day or month not known, as safety databases write it
    ("UNK-Nov-2026", "2026-11"), ("UN/NOV/2026", "2026-11"), ("UNK-UNK-2026", "2026"), ("unk 2026", "2026"),
    ("UNK-11-2026", "2026-11"), ("UN/03/2025", "2025-03"),  # the month in digits: it was "'UNK' is not a month name"
    ("Sept 2025", "2025-09"), ("Sept. 3, 2025", "2025-09-03"), ("june 2025", "2025-06"),
    # a slip in an English name, and names in the languages of exports from abroad
    ("Febuary 3, 2026", "2026-02-03"), ("Janurary 2026", "2026-01"), ("Novmber 2026", "2026-11"),
    ("Juni 2026", "2026-06"), ("janvier 2026", "2026-01"), ("mars 2026", "2026-03"), ("mayo 2026", "2026-05"),
    ("juillet 2026", "2026-07"), ("noviembre 2026", "2026-11"), ("UNK-juin-2026", "2026-06"),
    ("3 janv. 2026", "2026-01-03"), ("15-Noviem-2026", "2026-11-15"), ("Okt 2026", "2026-10"),  # short forms abroad
    ("3 Febbr. 2025", "2025-02-03"),
    # with their accents, and the day with a period as German writes it (all were "not a date")
    ("März 2026", "2026-03"), ("3 août 2026", "2026-08-03"), ("15. März 2026", "2026-03-15"),
    ("Févr. 2026", "2026-02"), ("2026 déc.", "2026-12"),
    # a day in words, as a patient types it
    ("Tuesday, November 3, 2026", "2026-11-03"), ("November 3rd, 2026", "2026-11-03"),
    ("21st of March 2026", "2026-03-21"), ("3RD NOV 2026", "2026-11-03"),
])
def test_dates_keep_their_precision(raw, stored):
    assert parse_partial_date(raw) == stored


@pytest.mark.parametrize("raw", ["2026-02-30", "13/40/2026", "yesterday", "Smarch 2026", "2026-13",
                                 "Nov 2026 10:00", "2026-11-03 25:00", "2026-02-30T10:00",
                                 "20260230", "11032026",  # eight digits month or day first: month 20
                                 "2026-11/03", "UNK-03-Nov-2026", "UNK-UNK-Nov-2026", "UNK-Smarch-2026",
                                 "UNK-" * 10_000 + "2026", "UNK-13-2026",
                                 # words that only begin like a month's name: "Maybe 2025" was May 2025
                                 "Maybe 2025", "Junk 2025", "Julian 2025", "Decade 2025", "Marching 3 2025",
                                 "jui 2026",  # (juin or juillet?)
                                 # a slip of the first letters, or a word that begins a name abroad (a version
                                 # read them as December, February, March, October)
                                 "Deptember 3 2026", "Fever 2025", "Mary 2026", "Otto 2026",
                                 "Jungle 2025", "Marsh 2025", "Maya 2025"])  # (as May and March before this session)
def test_bad_dates_are_refused(raw):
    with pytest.raises(ValueProblem):
        parse_partial_date(raw)


@pytest.mark.parametrize("raw, rough, rest", [("about 70", "about", "70"), ("~70 kg", "~", "70 kg"),
                                              ("approx. 52", "approx.", "52")])
def test_an_estimate_is_refused_saying_to_write_the_number_alone(raw, rough, rest):
    with pytest.raises(ValueProblem, match=re.escape(f"'{raw}' is not a number: write it without '{rough}' ({rest}); "
                                                     "the box has no place for it")):
        coerce_value(load_catalog().field("patient/weight"), raw)


def test_a_date_written_day_first_is_refused_saying_how_to_write_it():
    """16/10/2026 can only be 16 October, but a file that writes it so also writes 08/10/2026,
    which reads as 10 August: not read, the message says why and how."""
    with pytest.raises(ValueProblem, match=re.escape(
            "16/10/2026 is not a date read month first, as on American forms: if the day comes first here, "
            "write dates as 2026-10-16 (08/10 would be read as 10 August)")):
        parse_partial_date("16/10/2026")


@pytest.mark.parametrize("raw, why", [("31/02/2026", "there is no month 31, and February 2026 has 28 days"),
                                      ("31/04/2026", "there is no month 31, and April 2026 has 30 days"),
                                      ("45/02/2026", "there is no month 45, and there is no day 45")])
def test_a_slashed_date_that_is_no_date_either_way_says_so_and_suggests_none(raw, why):
    """31/02/2026 was refused as written day first, with 'write dates as 2026-02-31': a date
    that does not exist either."""
    with pytest.raises(ValueProblem) as refused:
        parse_partial_date(raw)
    assert str(refused.value) == f"{raw} is not a date either way: {why}"


@pytest.mark.parametrize("raw", ["11/3/26", "11-03-26", "3 Nov 26", "03NOV26"])
def test_a_two_digit_year_is_refused_asking_for_the_century(raw):
    """An export's short date: 2026, or a date of birth in 1926? Not guessed."""
    with pytest.raises(ValueProblem, match=r"has a two-digit year: write the year in full \(2026 or 1926\?\)"):
        parse_partial_date(raw)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_date_parser_never_crashes(text):
    try:
        result = parse_partial_date(text)
    except ValueProblem:
        return
    assert len(result) in (4, 7, 10)


_READ_AS_PEOPLE_WRITE = ["suspect_product/dose_unit", "suspect_product/route", "event/outcome", "patient/race",
                         "reporter/country", "patient/weight", "suspect_product/dose"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_READ_AS_PEOPLE_WRITE),
       st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
       | st.from_regex(r"[0-9.,]{1,6} ?(mcg|µg|kg|lbs?|mg/kg|UNK|x)?", fullmatch=True))
def test_codes_countries_and_numbers_with_units_never_crash(path, text):
    """Whatever a cell holds, it is read as the box's value or refused with a message."""
    from medwatch_tool.coerce import coerce_values

    field = load_catalog().field(path)
    values, problems = coerce_values({path: text})
    for got in ([values[path]] if path in values else []):
        for value in (got if isinstance(got, list) else [got]):
            if field.kind == "code":
                assert value in {c.value for c in field.choices}
            elif field.type_name == "Country":
                assert len(value) == 2 and value.isupper()
    assert all(isinstance(message, str) and message for _, message in problems)


def test_a_number_with_its_unit_beside_an_empty_unit_placeholder_keeps_the_unit():
    """'70 kg' with 'N/A' in the unit column: the unit column says nothing, the cell does."""
    from medwatch_tool.coerce import coerce_values

    for values in ({"patient/weight": "70 kg", "patient/weight_unit": "N/A"},
                   {"patient/weight_unit": "-", "patient/weight": "70 kg"}):
        assert coerce_values(values) == ({"patient/weight": "70", "patient/weight_unit": "kg"}, [])


def test_coerce_by_field_kind():
    c = load_catalog()
    assert coerce_value(c.field("suspect_product/route"), "Intrathecal") == "intrathecal"
    assert coerce_value(c.field("suspect_product/dose_unit"), "mg") == "MG"
    assert coerce_value(c.field("reporter/country"), "United States") == "US"
    assert coerce_value(c.field("reporter/health_professional"), "Yes") == "true"
    assert coerce_value(c.field("event/outcome"), "death; hospitalization") == ["death", "hospitalization"]
    with pytest.raises(ValueProblem, match="not a number"):
        coerce_value(c.field("patient/age"), "forty")
    with pytest.raises(ValueProblem, match="not one of the allowed values"):
        coerce_value(c.field("patient/sex"), "robot")


@pytest.mark.parametrize("path, written", [
    ("patient/race", "native"),      # begins Native Hawaiian..., ends American Indian or Alaska Native
    ("patient/race", "American"),    # begins American Indian..., ends Black or African American
])
def test_a_start_of_a_choice_that_another_choice_holds_too_is_not_guessed(path, written):
    with pytest.raises(ValueProblem, match="is not one of the allowed values"):
        coerce_value(load_catalog().field(path), written)


def test_each_other_spelling_in_the_schema_names_one_choice_only():
    """An `also` name that another choice of its list also answers to would be read as
    whichever comes first: a test, not the reader, must catch it."""
    import unicodedata

    def key(text):
        return " ".join(unicodedata.normalize("NFKC", text).casefold().split())

    checked = 0
    for f in load_catalog().fields:
        owner = choice_names(f, key)
        for c in f.choices:
            for name in c.also:
                assert owner[key(name)] == {c.value}, (f.path, name, owner[key(name)])
                checked += 1
    assert checked > 50


@pytest.mark.parametrize("raw, stored", [
    ("72,5", "72.5"), ("0,125", "0.125"), ("-0,5", "-0.5"), ("1,2345", "1.2345"),  # decimal commas
    ("1,500.5", "1500.5"), ("1,000,000", "1000000"), ("1,00,000", "100000"),      # grouped thousands
    ("1.500,5", "1500.5"), ("72.5", "72.5"), (" 3 ", "3"),
    ("1.0", "1"), ("72.50", "72.5"),  # no trailing zeros: "1.0 mg" is misread as 10 mg
    ("0E-999999", "0"), ("2.5e2", "250"),
])
def test_numbers_with_commas_are_read_the_one_way_they_can_mean(raw, stored):
    assert coerce_value(load_catalog().field("suspect_product/dose"), raw) == stored


@pytest.mark.parametrize("raw, message", [
    ("1,500", r"'1,500' is ambiguous: write 1500 \(without a thousands separator\) or 1\.5 \(with a decimal point\)"),
    ("0,5,0", "'0,5,0' is not a number"),
    ("1e999999", "far outside any value this box can hold"),   # a million digits
    ("1e99999999", "far outside any value this box can hold"),  # an overflow, not a traceback
    ("12,34,5", "'12,34,5' is not a number"),
])
def test_a_number_that_cannot_be_read_safely_is_refused(raw, message):
    """Read the wrong way, 1,500 mg is a thousandfold error either way: the person says which.
    An exponent far out of range is a clear refusal, not a million digits or a traceback."""
    with pytest.raises(ValueProblem, match=message):
        coerce_value(load_catalog().field("suspect_product/dose"), raw)


def test_country_table_finds_what_pycountry_finds():
    """The country table is read from pycountry's data file (importing pycountry is slow):
    every name, code and number of every country, in any case, gives pycountry's answer."""
    import pycountry

    from medwatch_tool.countries import SHARED_NAMES, _from_file

    assert _from_file() is not None  # read from the file, not through the slow import
    field = load_catalog().field("reporter/country")
    checked = 0
    for c in pycountry.countries:
        for key in ("alpha_2", "alpha_3", "name", "numeric", "official_name", "common_name"):
            value = getattr(c, key, None)
            if value and value.casefold() not in SHARED_NAMES:  # "Congo": two countries' name, refused
                for text in (value, value.upper(), value.lower()):
                    assert coerce_value(field, text) == pycountry.countries.lookup(text).alpha_2, text
                    checked += 1
    assert checked > 1500
    with pytest.raises(ValueProblem, match="'Atlantis' is not a country name"):
        coerce_value(field, "Atlantis")
    with pytest.raises(ValueProblem):
        coerce_value(field, "ZZ")


@pytest.mark.parametrize("written, code", [
    ("Russia", "RU"), ("Turkey", "TR"), ("England", "GB"), ("Scotland", "GB"), ("Great Britain", "GB"),
    ("Cote d'Ivoire", "CI"), ("Ivory Coast", "CI"), ("The Netherlands", "NL"), ("Holland", "NL"),
    ("The Gambia", "GM"), ("St. Lucia", "LC"), ("St Kitts and Nevis", "KN"), ("Republic of Korea", "KR"),
    ("Palestine", "PS"), ("Vatican", "VA"), ("Holy See", "VA"), ("Brunei", "BN"), ("Burma", "MM"),
    ("Cape Verde", "CV"), ("Swaziland", "SZ"), ("UAE", "AE"), ("DR Congo", "CD"), ("Congo-Brazzaville", "CG"),
    ("Micronesia", "FM"), ("Macau", "MO"), ("Czech Republic", "CZ"), ("Democratic Republic of the Congo", "CD"),
])
def test_countries_as_people_write_them(written, code):
    assert coerce_value(load_catalog().field("reporter/country"), written) == code


def test_a_country_name_two_countries_share_is_refused_with_both():
    with pytest.raises(ValueProblem, match=r"'Korea' is not a country name or two-letter country code; "
                                           r"did you mean North Korea \(KP\) or South Korea \(KR\)\?"):
        coerce_value(load_catalog().field("reporter/country"), "Korea")


def test_country_table_without_the_data_file_comes_from_pycountry():
    from medwatch_tool.countries import _from_api, _from_file, table_of

    from_file, from_api = table_of(_from_file()), table_of(_from_api())
    assert set(from_api.values()) == set(from_file.values()) and len(set(from_api.values())) > 240
    for text in ("germany", "deu", "276", "bolivia", "plurinational state of bolivia", "united kingdom", "russia"):
        assert from_api[text] == from_file[text]


def test_paths_round_trip_through_xml_and_json(tmp_path, examples):
    root = read_draft(examples / "baclofen-pump-catheter-kink.xml")
    values = draft_values(root)
    assert values["device[2]/udi"].startswith("(01)")
    assert values["event/outcome"] == ["hospitalization", "required_intervention"]
    assert flatten(nest(values)) == values
    rebuilt = build_draft(values)
    assert draft_values(rebuilt) == values
    assert validate_tree(rebuilt) == []
    target = write_draft(rebuilt, tmp_path / "sub" / "copy.xml")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert draft_values(read_draft(target)) == values


def test_build_draft_names_unknown_paths():
    with pytest.raises(InputError, match=r"'patient/agee' is not a field; did you mean 'patient/age'\?"):
        build_draft({"patient/agee": "3"})
    with pytest.raises(InputError, match="does not repeat"):
        build_draft({"patient[2]/age": "3"})


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "draft.xml"
    target.write_text("old")
    os.chmod(target, 0o644)
    atomic_write(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["draft.xml"]


def test_atomic_write_is_owner_only_whatever_the_umask(tmp_path):
    previous = os.umask(0)  # the most permissive: nothing taken away from the mode asked for
    try:
        atomic_write(tmp_path / "a.xml", "x")
        atomic_write(tmp_path / "b.xml", "x", durable=False)
        with FolderWriter(str(tmp_path)) as folder:
            folder.write("c.xml", "x")
    finally:
        os.umask(previous)
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()} == \
        {"a.xml": 0o600, "b.xml": 0o600, "c.xml": 0o600}


# Both ways a batch's drafts are written: nameless and linked (Linux), and through a named
# temp file (elsewhere, or where the file system has no nameless files)
both_ways = pytest.mark.parametrize("nameless", [True, False], ids=["nameless", "named"])


def _nameless(monkeypatch, nameless: bool) -> None:
    if nameless:
        assert safe_io._NAMELESS or not sys.platform.startswith("linux")
    monkeypatch.setattr(safe_io, "_NAMELESS", nameless and safe_io._NAMELESS)


@both_ways
def test_folder_writer_replaces_whole_files_and_leaves_no_temp_file(tmp_path, monkeypatch, nameless):
    _nameless(monkeypatch, nameless)
    assert safe_io._BY_FOLDER or os.name != "posix"  # files written through the open folder
    (tmp_path / "R1.xml").write_text("old, longer than the new text")
    (tmp_path / f".R1.xml.{os.getpid()}.tmp").write_text("left by a killed run")
    os.chmod(tmp_path / "R1.xml", 0o644)
    with FolderWriter(str(tmp_path)) as folder:
        folder.write("R1.xml", "new")
        folder.write("R2.xml", "é".encode("utf-8"))
    assert (tmp_path / "R1.xml").read_text() == "new"
    assert (tmp_path / "R2.xml").read_text(encoding="utf-8") == "é"
    assert stat.S_IMODE(os.stat(tmp_path / "R1.xml").st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["R1.xml", "R2.xml"]


@both_ways
def test_folder_writer_replaces_a_link_planted_at_a_draft_s_name_not_its_target(tmp_path, monkeypatch, nameless):
    """A symbolic link where a draft goes must not make the draft land in (or leak to) the
    file it points at."""
    _nameless(monkeypatch, nameless)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("someone's file")
    out = tmp_path / "out"
    out.mkdir()
    (out / "R1.xml").symlink_to(elsewhere)
    with FolderWriter(str(out)) as folder:
        folder.write("R1.xml", "<report/>")
    assert elsewhere.read_text() == "someone's file"
    assert not (out / "R1.xml").is_symlink() and (out / "R1.xml").read_text() == "<report/>"
    assert stat.S_IMODE(os.stat(out / "R1.xml").st_mode) == 0o600


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nameless temp files are a Linux offer")
@pytest.mark.parametrize("refusal", ["no nameless files", "no hard links"])
def test_folder_writer_writes_where_the_file_system_offers_no_nameless_file(tmp_path, monkeypatch, refusal):
    """Old kernels answer O_TMPFILE with EISDIR, some file systems with EOPNOTSUPP or a
    refused link: the named temp file writes the draft then."""
    links = []
    if refusal == "no nameless files":  # as a kernel before 3.11 does: O_TMPFILE holds O_DIRECTORY
        monkeypatch.setattr(safe_io, "_NAMELESS_FLAGS", os.O_WRONLY | os.O_DIRECTORY)
    else:
        def refused(*args, **kwargs):
            links.append(args)
            raise PermissionError(1, "Operation not permitted")
        monkeypatch.setattr(safe_io.os, "link", refused)
    with FolderWriter(str(tmp_path)) as folder:
        folder.write("R1.xml", "<report/>")
        folder.write("R1.xml", "<report>2</report>")
        folder.write("R2.xml", "<report>3</report>")
    assert sorted((p.name, p.read_text()) for p in tmp_path.iterdir()) == \
        [("R1.xml", "<report>2</report>"), ("R2.xml", "<report>3</report>")]
    assert stat.S_IMODE(os.stat(tmp_path / "R1.xml").st_mode) == 0o600
    # refused once, the nameless way is not tried again in that folder: no file written twice
    assert len(links) == (1 if refusal == "no hard links" else 0)


@both_ways
def test_a_draft_killed_while_being_written_leaves_nothing_readable_behind(tmp_path, nameless):
    """Killed in the middle of a draft: no half draft under its name, and no temp file of
    health data either where the nameless way is offered (the named way leaves one for the
    next batch run into the folder to remove)."""
    if nameless and not sys.platform.startswith("linux"):
        pytest.skip("nameless temp files are a Linux offer")
    script = (
        "import sys, time\n"
        "from medwatch_tool import safe_io\n"
        f"safe_io._NAMELESS = {nameless}\n"
        "def half_then_stall(fd, data):\n"
        "    safe_io.os.write(fd, data[:len(data) // 2])\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
        "safe_io.write_all = half_then_stall\n"
        "with safe_io.FolderWriter(sys.argv[1]) as folder:\n"
        "    folder.write('R1.xml', '<report>' + 'x' * 10000 + '</report>')\n")
    child = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "writing\n"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    left = [p.name for p in tmp_path.iterdir()]
    assert "R1.xml" not in left
    assert left == ([] if nameless else [f".R1.xml.{child.pid}.tmp"])


def test_folder_writer_says_which_file_it_cannot_write(tmp_path):
    (tmp_path / "drafts").mkdir()
    folder = FolderWriter(str(tmp_path / "drafts"))
    (tmp_path / "drafts" / "R1.xml").mkdir()  # a folder where the file should go: rename fails
    with pytest.raises(OutputError, match=r"drafts/R1\.xml: cannot write \(Is a directory\)"):
        folder.write("R1.xml", "x")
    folder.close()
    assert [p.name for p in (tmp_path / "drafts").iterdir()] == ["R1.xml"]  # no temp file left


def test_parser_refuses_entities_and_never_reads_files():
    with pytest.raises(InputError, match="DOCTYPE/ENTITY"):
        parse_xml_bytes(b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/hostname">]><r>&e;</r>')
    # even a DOCTYPE hidden beyond the first 64 KiB is refused by the parse result check
    padded = b"<?xml version='1.0'?>" + b" " * 70000 + b'<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>'
    with pytest.raises(InputError, match="DOCTYPE"):
        parse_xml_bytes(padded)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_problems_not_exceptions(data):
    from medwatch_tool.validate import validate_bytes

    problems = validate_bytes(b"<report xmlns='urn:x-medwatch-tool:report:1'>" + data, "fuzz.xml")
    assert all(p.severity in ("error", "warning") and p.message for p in problems)


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from([f.path for f in load_catalog().fields if not f.path.startswith("event/test")]),
       text=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30))
def test_any_field_value_gives_located_problems(field, text):
    """Whatever text lands in a field, validation names that field or passes."""
    from medwatch_tool.draft import parse_draft, draft_bytes
    from medwatch_tool.validate import validate_tree

    root = read_draft(EXAMPLE)
    values = draft_values(root)
    values[field.replace("suspect_product/", "suspect_product[1]/").replace("device/", "device[1]/")
           .replace("concomitant/", "concomitant[1]/")] = text if text.strip() else "x"
    try:
        rebuilt = build_draft(values)
    except InputError:
        return
    problems = validate_tree(parse_draft(draft_bytes(rebuilt), "fuzz.xml"), "fuzz.xml")
    for p in problems:
        assert p.message and p.format().startswith("fuzz.xml:")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60)
       | st.text(alphabet=st.characters(blacklist_categories=()), max_size=60))
def test_the_quick_look_for_markup_and_control_characters_finds_what_the_expression_finds(text):
    """A draft's texts are looked at for markup (& < >) and characters a draft cannot hold
    before being written: ASCII text by deleting those bytes, any other by the expression."""
    from medwatch_tool.draft import _SPECIAL, _holds_special

    assert _holds_special(text) == (_SPECIAL.search(text) is not None)
    assert _holds_special(text + "<") and _holds_special("\x0b" + text) and _holds_special(text + "\r")
