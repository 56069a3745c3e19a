"""`medwatch batch` on CSV/TSV and JSON Lines text as exports really write it: quotes left
open, mixed encodings and line ends, files that are not what their name says."""
import csv
import json

import pytest

from medwatch_tool.cli import main
from medwatch_tool.draft import draft_values, nest, read_draft

from helpers import EXAMPLES
from test_batch import read_problems

HEADER = ("admin/report_id,admin/form,patient/age,patient/age_unit,patient/sex,event/problem_type,event/outcome,"
          "event/event_date,event/report_date,event/description,suspect_product[1]/name,reporter/last_name,"
          "reporter/first_name,reporter/country,reporter/phone")


def line(report_id, description="Spasms and itching", date="2026-11-02"):
    """One CSV line under HEADER (a consumer report that drafts cleanly)."""
    return (f"{report_id},3500B,44,year,female,adverse_event,hospitalization,{date},2026-11-10,"
            f"{description},Baclofen,Pereira,Daniel,US,218 555 0199")


def batch(runner, src, out):
    return runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1"])


def drafted(out):
    return sorted(p.stem for p in out.glob("*.xml"))


def description(out, name):
    return draft_values(read_draft(out / f"{name}.xml"))["event/description"]


# 1. a quote opened and never closed swallowed the rows after it

def test_a_quote_never_closed_is_a_problem_of_its_row_and_the_rows_it_swallowed_are_read(runner, tmp_path):
    """Before: Q3, Q4 and Q5 became part of Q2's description; "1 drafted, 1 with errors" and
    not a word about the three rows lost."""
    src = tmp_path / "open.csv"
    src.write_text("\n".join([HEADER, line("Q1"), line("Q2", '"Spasms and itching'), line("Q3"), line("Q4"),
                              line("Q5")]) + "\n")
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.exit_code == 1
    assert "4 drafted, 1 with errors" in result.output
    assert drafted(out) == ["Q1", "Q3", "Q4", "Q5"]
    [problem] = read_problems(out)
    assert (problem["row"], problem["report_id"]) == ("3", "Q2")
    assert problem["message"] == (
        "row 3 opens a quote in column 10 'event/description' (B5 Describe event, problem or product use error) "
        "that is never closed, so lines 4-6 of the file, which look like rows of their own, were read into that "
        "cell (they are read again as rows): close the quote where the cell's text ends, or double it (\"\") if "
        "it is part of the text; this row was not drafted")
    assert "note: " + str(src) + ": row 3 opens a quote that is never closed: lines 4-6" in result.output


def test_rows_swallowed_into_a_record_of_the_header_s_length_are_told_and_read(runner, tmp_path):
    """A quote closed rows below by a quote inside another row's text made a record with as
    many cells as the header: Q3 and Q4 vanished, and Q2 was drafted with Q5's reporter and
    a description holding the other patients' rows, exit 0."""
    src = tmp_path / "closed.csv"
    q5 = line("Q5", 'Said he felt "fine"').replace("Pereira,Daniel", "Jones,Bob")
    src.write_text("\n".join([HEADER, line("Q1"), line("Q2", '"Spasms and itching'), line("Q3"), line("Q4"), q5])
                   + "\n")
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.exit_code == 1, result.output
    assert drafted(out) == ["Q1", "Q3", "Q4", "Q5"]
    assert description(out, "Q5") == 'Said he felt "fine"'
    [problem] = read_problems(out)
    assert (problem["row"], problem["report_id"]) == ("3", "Q2")
    assert ("that is closed only on line 6, so lines 4-6 of the file, which look like rows of their own, were read "
            "into that cell (they are read again as rows)") in problem["message"]


def test_a_row_with_mistakes_among_the_rows_swallowed_is_read_again_too(runner, tmp_path):
    """Lines were put back from the first that looks like a row: Q3, a row whose date and
    outcome are refused, stayed inside Q2's cell, unsaid, while the message said the lines
    were read again; the rows after it took its row numbers."""
    src = tmp_path / "closed.csv"
    bad = (line("Q3", date="2026-11-31").replace("hospitalization", "dead").replace("female", "woman")
           .replace(",year,", ",years old,"))  # too many values refused to pass for a row
    src.write_text("\n".join([HEADER, line("Q1"), line("Q2", '"Spasms and itching'), bad,
                              line("Q4", '"Cramps"'), line("Q5")]) + "\n")
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.exit_code == 1, result.output
    assert drafted(out) == ["Q1", "Q4", "Q5"]
    problems = read_problems(out)
    assert [(p["row"], p["report_id"]) for p in problems if not p["path"]] == [("3", "Q2")]
    assert "so lines 4-5 of the file, rows of their own among them, were read into" in problems[0]["message"]
    assert {p["row"] for p in problems if p["report_id"] == "Q3"} == {"4"}  # its own row (and line) number
    assert {p["path"] for p in problems if p["report_id"] == "Q3"} >= {"event/event_date", "event/outcome"}


@pytest.mark.parametrize("text", ['Pt felt dizzy.\nNurse noted "pale" skin.', 'Catheter 12"" long.\nKinked at 3" mark.'])
def test_a_stray_quote_in_a_cell_of_many_lines_is_no_swallowed_row(runner, tmp_path, text):
    """A quote inside a quoted description, as careless exporters leave one: the row was
    refused as opening a quote closed only below, and its last line made a row of errors."""
    src = tmp_path / "stray.csv"
    src.write_text("\n".join([HEADER, line("S1", '"' + text + '"'), line("S2")]) + "\n")
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.exit_code == 0 and drafted(out) == ["S1", "S2"], (result.output, read_problems(out))


def test_a_well_quoted_cell_of_many_lines_in_a_row_of_another_length_is_one_cell(runner, tmp_path):
    """A row pasted into a well-quoted description, its own row ending in an empty cell more
    than the header's: taken for swallowed rows, the row was refused and the pasted row
    drafted as a report of its own."""
    src = tmp_path / "longer.csv"
    text = "Earlier report, pasted:\n" + line("Q0") + "\nsame patient"
    longer = line("Q1", '"' + text + '"') + ","  # (a trailing comma: one cell more, empty)
    src.write_text("\n".join([HEADER, longer, line("Q2")]) + "\n")
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert drafted(out) == ["Q1", "Q2"], (result.output, read_problems(out))
    assert description(out, "Q1") == text


@pytest.mark.parametrize("text", [
    "Patient reported:\nnausea, vomiting, dizziness, headache, rash, fever, chills, cramps, itching, "
    "pain, fatigue, insomnia, anxiety, weakness, tremor\nresolved",
    "Timeline:\n2026-11-02, 3500B, 44, year, female, adverse_event\nall resolved",  # values, but not a row's many
    "Earlier report, pasted:\n" + line("Q0") + "\nsame patient",  # a row's cells and values, but well quoted
])
def test_a_quoted_cell_of_many_lines_with_commas_is_one_cell(runner, tmp_path, text):
    """A well-quoted description over several lines, one of them a list with as many commas
    as the header has columns, was taken for swallowed rows: its row was not drafted and its
    lines became rows of errors."""
    src = tmp_path / "lines.csv"
    quoted = '"' + text.replace('"', '""') + '"'
    src.write_text("\n".join([HEADER, line("Q1", quoted), line("Q2")]) + "\n")
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.exit_code == 0, (result.output, read_problems(out))
    assert drafted(out) == ["Q1", "Q2"] and description(out, "Q1") == text


def test_a_quote_closed_rows_below_by_another_cell_is_told_too(runner, tmp_path):
    """Before: the quote of Q4's cell closed Q2's, Q3 vanished and Q2 only got "has 16 cells"."""
    src = tmp_path / "closed.csv"
    src.write_text("\n".join([HEADER, line("Q1"), line("Q2", '"Spasms and itching'), line("Q3"),
                              line("Q4", '"Cramps, then itching"'), line("Q5"), line("Q6", date="2026-02-30")]) + "\n")
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert "4 drafted, 2 with errors" in result.output
    assert drafted(out) == ["Q1", "Q3", "Q4", "Q5"]
    assert description(out, "Q4") == "Cramps, then itching"
    problems = read_problems(out)
    assert [p["row"] for p in problems] == ["3", "7"]  # Q6 keeps its row number
    assert "that is closed only on line 5, so lines 4-5 of the file, which look like rows" in problems[0]["message"]
    assert problems[1]["path"] == "event/event_date"


def test_a_quote_open_to_the_end_of_a_narrow_file_names_the_lines_read_into_it(runner, tmp_path):
    """With few columns a line of prose could pass for a row: the lines are named, not re-read."""
    src = tmp_path / "narrow.csv"
    src.write_text('admin/report_id,event/description\nN1,"Felt dizzy\nN2,fell\nN3,slept\n')
    out = tmp_path / "o"
    result = batch(runner, src, out)
    [problem] = [p for p in read_problems(out) if p["row"] == "2" and not p["path"]]
    assert problem["message"].startswith("row 2 opens a quote in column 2 'event/description' (B5 Describe "
                                         "event, problem or product use error) that is never closed, so lines "
                                         "3-4 of the file, to its end, were read into that cell: close the quote")
    assert "row 2 opens a quote that is never closed: lines 3-4" in result.output


def test_a_quoted_description_over_many_lines_is_one_cell_without_complaint(runner, tmp_path):
    text = 'Spasms at night,\nitching, then a "rash"\n\n, fever, chills, nausea, sweats, 39 C, 2 days'
    src = tmp_path / "multi.csv"
    src.write_text("\n".join([HEADER, line("M1", '"' + text.replace('"', '""') + '"'), line("M2")]) + "\n")
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2 drafted, 0 with errors, 0 warnings"
    assert description(out, "M1") == text


# 2. a line mixing UTF-8 and Windows-1252

def test_a_line_mixing_utf8_and_windows_1252_keeps_both(runner, tmp_path):
    """Before: the whole line was read as Windows-1252, "José" stored as "JosÃ©"."""
    src = tmp_path / "mixed.csv"
    data = "\n".join([HEADER, line("E1", "José Muñoz 3 mg"), line("E2", "Crème")]) + "\n"
    src.write_bytes(data.encode().replace("Muñoz".encode(), "Muñoz".encode("cp1252"))
                    .replace("Crème".encode(), "Crème".encode("cp1252")))
    out = tmp_path / "o"
    assert batch(runner, src, out).exit_code == 0
    assert description(out, "E1") == "José Muñoz 3 mg"
    assert description(out, "E2") == "Crème"


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_a_character_written_as_two_utf16_halves_cesu8_is_read_as_that_character(runner, tmp_path, suffix):
    """Oracle's "UTF8" and Java's modified UTF-8 write an emoji as its two UTF-16 halves, three
    bytes each: the draft held "pain í ½í¸€ 8/10", without a word."""
    halves = "\ud83d\ude00".encode("utf-8", "surrogatepass")  # 😀 (U+1F600) in CESU-8
    assert halves == b"\xed\xa0\xbd\xed\xb8\x80"
    src = tmp_path / f"oracle.{suffix}"
    if suffix == "csv":
        data = "\n".join([HEADER, line("E1", "pain @@ 8/10")]) + "\n"
    else:
        record = {k: v for k, v in zip(HEADER.split(","), line("E1", "pain @@ 8/10").split(","))}
        data = json.dumps(nest(record)) + "\n"
    src.write_bytes(data.encode().replace(b"@@", halves))
    out = tmp_path / "o"
    assert batch(runner, src, out).exit_code == 0
    assert description(out, "E1") == "pain 😀 8/10"


@pytest.mark.parametrize("text", ["Reported by JOSÉ\u00a0GARCÍA; señor", "Visit to CAFÉ” then rash",
                                  "Refill at JOSÉ’s pharmacy",  # "JOSɒs": a capital word, not a letter in one
                                  "ŒDÈME° at the site", "Ωmega lot; été"])
def test_windows_1252_pairs_that_look_like_utf8_stay_windows_1252(runner, tmp_path, text):
    """A capital É then a no-break space, or É then a closing quote, are also a UTF-8 character
    ("ɠ", "ɔ"): read byte run by byte run, a Windows-1252 file garbled them. (The last keeps
    its Greek in UTF-8 beside Windows-1252 accents.)"""
    src = tmp_path / "cp.csv"
    body = "\n".join([HEADER, line("C1", text)]) + "\n"
    if text.startswith("Ωmega"):
        data = body.encode().replace("été".encode(), "été".encode("cp1252"))
    else:
        data = body.encode("cp1252")
    src.write_bytes(data)
    out = tmp_path / "o"
    assert batch(runner, src, out).exit_code == 0
    assert description(out, "C1") == text


@pytest.mark.parametrize("form", ["csv", "csv with a BOM", "UTF-16 text", "jsonl"])
@pytest.mark.parametrize("text", ["HbA1c ˃ 6.5% and BP ˂ 90", "Temp 39˚ C", "Say ˈbaklofen; the a ː long"])
def test_utf8_signs_a_windows_1252_pair_could_make_are_kept(runner, tmp_path, form, text):
    """A lab result pasted from a record: "HbA1c Ëƒ 6.5% and BP Ë‚ 90", "Temp 39Ëš C", "the a
    Ë\ufffd long" (90 is no Windows-1252 character: the sign was lost), without a word. Such a
    sign after no letter is no capital Ê or Ë alone; UTF-16 is recoded by the tool."""
    out = tmp_path / "o"
    if form == "jsonl":
        src = tmp_path / "e.jsonl"
        src.write_text(json.dumps(nest(dict(zip(HEADER.split(","), line("U1", text).split(","))))) + "\n")
    else:
        body = "\n".join([HEADER, line("U1", text)]) + "\n"
        src = tmp_path / ("e.txt" if form == "UTF-16 text" else "e.csv")
        src.write_bytes(body.replace(",", "\t").encode("utf-16") if form == "UTF-16 text"
                        else ("\ufeff" if "BOM" in form else "").encode() + body.encode())
    assert batch(runner, src, out).exit_code == 0
    assert description(out, "U1") == text


@pytest.mark.parametrize("form", ["jsonl", "csv with a BOM, rows appended"])
def test_windows_1252_in_a_file_that_looks_unicode_stays_windows_1252(runner, tmp_path, form):
    """Windows PowerShell 5.1 writes JSON in the ANSI code page, and Windows-1252 rows get
    appended to a CSV that began with a BOM: read as UTF-8 because of what the file is, they
    were "RENɒS CLINIC" and "JOSɠand nurse"."""
    texts = {"W1": "RENÉ’S CLINIC called", "W2": "Seen by JOSÉ\u00a0and nurse"}
    if form == "jsonl":
        src = tmp_path / "ps.jsonl"
        src.write_bytes(b"".join(json.dumps(nest(dict(zip(HEADER.split(","), line(rid, text).split(",")))),
                                            ensure_ascii=False).encode("cp1252") + b"\n" for rid, text in texts.items()))
    else:
        src = tmp_path / "appended.csv"
        src.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\n" + line("W0") + "\n").encode()
                        + "".join(line(rid, text) + "\n" for rid, text in texts.items()).encode("cp1252"))
    out = tmp_path / "o"
    assert batch(runner, src, out).exit_code == 0
    assert {rid: description(out, rid) for rid in texts} == texts


def test_a_line_mixing_windows_1252_and_utf8_keeps_both_whatever_the_utf8(runner, tmp_path):
    """Łódź in UTF-8 was taken as proof the whole line was UTF-8: JOSÉ’S beside it in
    Windows-1252 was drafted "JOSɒS"."""
    src = tmp_path / "mixed.csv"
    src.write_bytes((HEADER + ",reporter/city\n").encode() + line("M1", "Refill at JOSÉ’S PHARMACY").encode("cp1252")
                    + ",Łódź\n".encode())
    out = tmp_path / "o"
    assert batch(runner, src, out).exit_code == 0
    assert (description(out, "M1"), draft_values(read_draft(out / "M1.xml"))["reporter/city"]) == (
        "Refill at JOSÉ’S PHARMACY", "Łódź")


NAMES = {"reporter/city": "Kāneʻohe", "reporter/last_name": "Məmmədov", "reporter/first_name": "Kwabɛna",
         "reporter/address": "ʻAiea Heights Dr, Hawaiʻi Kai"}


def test_utf8_phonetic_and_modifier_letters_are_kept_in_json_lines(runner, tmp_path):
    """Before: stored as "KāneÊ»ohe", "MÉ™mmÉ™dov", "KwabÉ›na", without a word."""
    reporter = {path.split("/")[1]: text for path, text in NAMES.items()}
    values = record("K1")
    values["reporter"].update(reporter)
    src = tmp_path / "names.jsonl"
    src.write_text(json.dumps(values, ensure_ascii=False) + "\n", encoding="utf-8")  # as UTF-8, not \u02bb
    out = tmp_path / "o"
    assert batch(runner, src, out).exit_code == 0
    drafted = draft_values(read_draft(out / "K1.xml"))
    assert {path: drafted[path] for path in NAMES} == NAMES


def test_utf8_phonetic_and_modifier_letters_are_kept_in_csv(runner, tmp_path):
    """Before: "KaÊ»ahumanu", "KwabÉ›na", "HawaiÊ»i Kai" in a CSV saved as UTF-8."""
    src = tmp_path / "names.csv"
    columns = HEADER.split(",")
    cells = line("K1").split(",")
    for path, text in NAMES.items():
        if path in columns:
            cells[columns.index(path)] = text
        else:
            columns.append(path)
            cells.append(f'"{text}"')
    src.write_bytes((",".join(columns) + "\n" + ",".join(cells) + "\n").encode())
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.exit_code == 0, result.output
    drafted = draft_values(read_draft(out / "K1.xml"))
    assert {path: drafted[path] for path in NAMES} == NAMES


def test_a_letter_in_its_word_is_kept_on_a_line_that_mixes_utf8_and_windows_1252(runner, tmp_path):
    """Before: "KāneÊ»ohe" beside a Windows-1252 "Muñoz" on one line."""
    src = tmp_path / "mixed.csv"
    data = (HEADER + ",reporter/city\n" + line("K1", "Muñoz") + ",Kāneʻohe\n").encode()
    src.write_bytes(data.replace("Muñoz".encode(), "Muñoz".encode("cp1252")))
    out = tmp_path / "o"
    assert batch(runner, src, out).exit_code == 0
    assert (description(out, "K1"), draft_values(read_draft(out / "K1.xml"))["reporter/city"]) == ("Muñoz", "Kāneʻohe")


def test_utf8_with_accents_as_separate_marks_is_kept(runner, tmp_path):
    """Text from macOS file names writes é as e and a combining accent (NFD): UTF-8, kept."""
    import unicodedata

    text = unicodedata.normalize("NFD", "José Crème; ŒDÈME")
    src = tmp_path / "nfd.csv"
    src.write_bytes(("\n".join([HEADER, line("N1", text)]) + "\n").encode())
    out = tmp_path / "o"
    assert batch(runner, src, out).exit_code == 0
    assert description(out, "N1") == text


# 3. a CR alone inside a file of CRLF lines

def test_a_mac_csv_whose_cells_hold_more_line_breaks_than_it_has_rows_is_read_by_its_crs(runner, tmp_path):
    """Excel for Mac ends rows with CR and writes a line break in a cell as LF: how lines end
    is told by the header's line, not by which of the two is more common."""
    cell = chr(34) + "Spasms\nitching\nfever\nrash" + chr(34)
    src = tmp_path / "mac.csv"
    src.write_bytes("\r".join([HEADER, line("K1", cell), line("K2", cell)]).encode() + b"\r")
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.exit_code == 0 and "2 drafted, 0 with errors" in result.output, result.output
    assert description(out, "K2") == "Spasms\nitching\nfever\nrash"


def test_a_lone_cr_ends_a_line_wherever_it_is(runner, tmp_path):
    """Before: "row 3 cannot be read as CSV: new-line character seen in unquoted field - do you
    need to open the file in universal-newline mode?", three rows read as one, and the row
    numbers after them off by two."""
    src = tmp_path / "endings.csv"
    src.write_bytes(f"{HEADER}\r\n{line('M1')}\r\n{line('M2')}\r{line('M3')}\r{line('M4')}\r\n"
                    f"{line('M5', date='2026-02-30')}\r\n{line('M6', chr(34) + 'Spasms' + chr(13) + 'itching' + chr(34))}"
                    "\r\n".encode())
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert "5 drafted, 1 with errors" in result.output
    assert drafted(out) == ["M1", "M2", "M3", "M4", "M6"]
    [problem] = read_problems(out)
    assert (problem["row"], problem["report_id"], problem["path"]) == ("6", "M5", "event/event_date")
    assert description(out, "M6") == "Spasms\ritching"  # inside a quoted cell it is the cell's text


def test_a_lone_cr_inside_an_unquoted_cell_is_a_problem_of_its_row(runner, tmp_path):
    """A line break typed in a cell that the exporting program did not quote: the row's two
    halves were read as two rows of shifted cells ('Baclofen' is not one of the allowed values
    (3500, 3500B)...). The CSV reader's own refusal is kept, at that row, in words."""
    src = tmp_path / "cell.csv"
    src.write_bytes(("\r\n".join([HEADER, line("C1"), line("C2", "line one\rline two"), line("C3")]) + "\r\n")
                    .encode())
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert "2 drafted, 1 with errors" in result.output and drafted(out) == ["C1", "C3"]
    [problem] = read_problems(out)
    assert (problem["row"], problem["message"]) == ("3", "row 3 has a line break inside a cell that is not in "
                                                    "double quotes (a CR alone): put that cell in double quotes, "
                                                    "or remove the line break")


# 5(e). UTF-16 without its byte order mark

def test_utf16_without_a_byte_order_mark_is_read(runner, tmp_path):
    """Before: "this is binary data, not CSV or JSON Lines text"."""
    text = "\r\n".join([HEADER, line("U1", "Douleur à l'épaule"), line("U2")]) + "\r\n"
    for encoding in ("utf-16-le", "utf-16-be"):
        src = tmp_path / f"{encoding}.csv"
        src.write_bytes(text.encode(encoding))
        out = tmp_path / encoding
        result = batch(runner, src, out)
        assert result.exit_code == 0, result.output
        assert drafted(out) == ["U1", "U2"]
        assert description(out, "U1") == "Douleur à l'épaule"


# 6. no rows at all

def test_a_file_of_only_a_header_says_so(runner, tmp_path):
    """Before: "0 drafted, 0 with errors, 0 warnings" and exit 0, no word why."""
    src = tmp_path / "header.csv"
    src.write_text(HEADER + "\n\n,,\n")
    result = batch(runner, src, tmp_path / "o")
    assert result.output.startswith("0 drafted, 0 with errors, 0 warnings\n")
    assert f"note: {src}: the file holds no rows below its header (row 1): nothing was drafted" in result.output
    src.write_text(HEADER + "\n" + line("R1", date="2026-02-30") + "\n")
    result = batch(runner, src, tmp_path / "o2")
    assert result.output.startswith("0 drafted, 1 with errors") and "holds no rows" not in result.output


# 4. JSON Lines read as a CSV header is

def jsonl(tmp_path, *records):
    """A JSON Lines file of a good report (J1) and the given records, one per line."""
    src = tmp_path / "reports.jsonl"
    good = json.dumps(nest(dict(zip(HEADER.split(","), next(csv.reader([line("J1")]))))))
    src.write_text("\n".join([good] + [r if isinstance(r, str) else json.dumps(r) for r in records]) + "\n")
    return src


def record(report_id, **changes):
    """J1's record as nested JSON, under another report id, sections replaced by `changes`."""
    values = nest(dict(zip(HEADER.split(","), next(csv.reader([line(report_id)])))))
    values.update(changes)
    return values


def test_a_json_field_given_twice_nested_and_as_a_path_is_refused(runner, tmp_path):
    """Before: the last of the two values was kept, unsaid."""
    age_twice = record("J2")
    age_twice["patient/age"] = 50
    product_twice = record("J3")
    product_twice["suspect_product[1]/name"] = "Gablofen"
    unindexed = record("J4")
    unindexed["suspect_product/name"] = "Gablofen"
    cases = record("J5")
    cases["Patient"] = {"age": 50}
    src = jsonl(tmp_path, age_twice, product_twice, unindexed, cases)
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert "1 drafted, 4 with errors" in result.output
    messages = {p["row"]: p["message"] for p in read_problems(out)}
    assert messages == {
        "2": "line 2 gives 'patient/age' twice, nested and as a path: which value is meant?",
        "3": "line 3 gives 'suspect_product[1]/name' twice, nested and as a path: which value is meant?",
        "4": "line 4 gives one field twice, as 'suspect_product[1]/name' and 'suspect_product/name': "
             "which value is meant?",
        "5": "line 5 gives one field twice, as 'patient/age' and 'Patient/age': which value is meant?"}
    assert [p["report_id"] for p in read_problems(out)] == ["J2", "J3", "J4", "J5"]  # which report each line is


def test_a_json_group_given_as_null_or_an_empty_list_is_none(runner, tmp_path):
    """Before: "'concomitant' is not a field; did you mean ...?" and the row not drafted."""
    none = record("J2", concomitant=[], device=None, patient={"age": 44, "age_unit": "year", "weight": None})
    misspelt = record("J3", concomitent=[])  # a misspelt key stays a problem, empty or not
    src = jsonl(tmp_path, none, misspelt)
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert "2 drafted, 1 with errors" in result.output
    assert drafted(out) == ["J1", "J2"]
    [problem] = read_problems(out)
    assert (problem["row"], problem["path"]) == ("3", "concomitent")


def test_json_lines_problems_say_line(runner, tmp_path):
    """Before: "row 2 is not valid JSON", though a JSON Lines file has lines, not rows."""
    src = jsonl(tmp_path, "{not json", '{"patient": {"age": 52, "age": 25}}', {"patient": {"agee": 3}})
    out = tmp_path / "o"
    batch(runner, src, out)
    messages = [(p["row"], p["message"]) for p in read_problems(out)]
    assert messages[:3] == [("2", "line 2 is not valid JSON (Expecting property name enclosed in double quotes "
                                "at column 2)"),
                        ("3", "line 3 names 'age' twice in one object: which value is meant?"),
                        ("4", "'patient/agee' is not a field; did you mean 'patient/age'?")]


def test_json_keys_in_capitals_are_read_as_a_csv_header_is(runner, tmp_path):
    """Before: "'Patient/Age' is not a field", though a CSV header 'Patient/Age' was read."""
    capitals = record("J2")
    capitals["Patient"] = capitals.pop("patient")
    capitals["Patient"]["Age"] = capitals["Patient"].pop("age")
    flat = record("J3")
    flat.pop("reporter")
    flat.update({"Reporter/Last_Name": "Pereira", "REPORTER/first_name": "Daniel", "reporter/Country": "US",
                 "Reporter/Phone": "218 555 0199"})
    src = jsonl(tmp_path, capitals, flat)
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.exit_code == 0, result.output
    assert draft_values(read_draft(out / "J2.xml"))["patient/age"] == "44"
    assert draft_values(read_draft(out / "J3.xml"))["reporter/first_name"] == "Daniel"


def test_a_report_pretty_printed_over_many_lines_is_one_problem_with_its_id(runner, tmp_path):
    """A report written over many lines (`jq .`, `json.dumps(..., indent=2)`; files joined with
    `cat`) is one problem at its first line, naming the report and where it ends. Before: one
    problem per line of it ("line 3 is not valid JSON ..."), none naming the report."""
    pretty = json.dumps(record("J2"), indent=2)
    last = 2 + pretty.count("\n")
    src = jsonl(tmp_path, pretty, record("J3"), {"patient": {"agee": 3}})
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert result.exit_code == 1, result.output
    assert "2 drafted, 2 with errors" in result.output
    assert drafted(out) == ["J1", "J3"]
    problems = [(p["row"], p["report_id"], p["path"], p["message"]) for p in read_problems(out)]
    assert problems[0] == ("2", "J2", "", f"line 2 opens a JSON object that ends on line {last} (one report written "
                                          f"over {last - 1} lines; JSON Lines takes each report on one line): write "
                                          "it on one line, e.g. with `jq -c . in.json > out.jsonl`; it was not "
                                          "drafted")
    assert {p[0] for p in problems[1:]} == {str(last + 2)}  # the lines after it: as the file numbers them
    assert problems[1][2] == "patient/agee"
    again = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert again.exit_code == 1 and "(4 lines done by an earlier run, counted in)" in again.output, again.output
    assert [(p["row"], p["report_id"], p["path"]) for p in read_problems(out)] == [p[:3] for p in problems]


def test_a_record_cut_short_does_not_take_the_records_after_it(runner, tmp_path):
    """A line that opens a record and does not finish it is a problem of its own when the
    lines after it do not finish it: records of their own, or the end of the file."""
    cut = '{"admin": {"report_id": "J2"},'
    src = jsonl(tmp_path, cut, record("J3"), record("J4"), cut, '  "patient": {"age": 3}')
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert "3 drafted, 3 with errors" in result.output, result.output
    assert drafted(out) == ["J1", "J3", "J4"]
    cut_short = ("is not valid JSON (Expecting property name enclosed in double quotes at column 31, the end of "
                 "the line: is the record cut short?)")
    assert [(p["row"], p["message"]) for p in read_problems(out)] == [
        ("2", f"line 2 {cut_short}"), ("5", f"line 5 {cut_short}"),
        ("6", "line 6 is not valid JSON (more text after the object ends, at column 12)")]


def test_a_record_cut_short_before_a_pretty_printed_report_leaves_that_report_one_problem(runner, tmp_path):
    """The search from the record cut short goes wrong where the next report begins; from
    there that report is one problem of its own (with its id), and the line after it a row."""
    pretty = json.dumps(record("J3"), indent=2)
    last = 3 + pretty.count("\n")
    src = jsonl(tmp_path, '{"admin": {"report_id": "J2"},', pretty, record("J4"))
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert "2 drafted, 2 with errors" in result.output, result.output
    assert drafted(out) == ["J1", "J4"]
    problems = read_problems(out)
    assert [(p["row"], p["report_id"]) for p in problems] == [("2", ""), ("3", "J3")]
    assert problems[0]["message"].startswith("line 2 is not valid JSON (Expecting property name")
    assert problems[1]["message"].startswith(f"line 3 opens a JSON object that ends on line {last} (one report")

def test_a_line_too_long_after_a_record_cut_short_keeps_its_place(runner, tmp_path):
    """The lines read to finish a record are read again as lines of their own when they do
    not, and a line too long to read among them is still told at its own line."""
    src = jsonl(tmp_path, '{"admin": {"report_id": "J2"},', '  "patient": {"age": 3},', "x" * (17 * 1024 * 1024),
                record("J3"))
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert "2 drafted, 3 with errors" in result.output, result.output
    assert drafted(out) == ["J1", "J3"]
    problems = {p["row"]: p["message"] for p in read_problems(out)}
    assert sorted(problems) == ["2", "3", "4"]
    assert problems["3"].startswith("line 3 is not valid JSON")
    assert problems["4"] == "line 4 is longer than 16 MB on one line; it was not read"


def test_a_slip_in_a_pretty_printed_report_is_one_problem_saying_where(runner, tmp_path):
    """A pretty-printed report with a comma missing is one problem from its `{` to its `}`
    at the margin, naming the line where the JSON goes wrong; an object inside it is never
    taken for a report. The report after it is read (with its own repeated key said)."""
    broken = json.dumps(record("J2"), indent=2).replace('"3500B"\n  },', '"3500B"\n  }', 1)  # no comma
    last = 1 + broken.count("\n") + 1
    twice = json.dumps(record("J3"), indent=2)[:-2] + ',\n  "admin": {"form": "3500"}\n}'
    src = jsonl(tmp_path, broken, twice, record("J4"))
    out = tmp_path / "o"
    result = batch(runner, src, out)
    assert "2 drafted, 2 with errors" in result.output, result.output
    problems = read_problems(out)
    assert [p["row"] for p in problems] == ["2", str(last + 1)]
    assert problems[0]["message"].startswith(f"line 2 opens a JSON object that ends on line {last} (one report "
                                             f"written over {last - 1} lines; JSON Lines takes each report on one "
                                             "line), and line 7 is not valid JSON (Expecting ',' delimiter at "
                                             "column 3): write it on one line")
    assert problems[1]["message"].endswith("it was not drafted; it also names 'admin' twice in one object: which "
                                           "value is meant?")


def test_a_repeated_key_in_a_record_still_names_its_report(runner, tmp_path):
    """Unless the key repeated is the report id (or its section): then which id is meant is
    the question, and the record names none (it claims no draft name either)."""
    src = jsonl(tmp_path, '{"admin": {"report_id": "J2"}, "patient": {"age": "44", "age": "45"}}',
                '{"admin": {"report_id": "J1", "report_id": "J3"}}')
    out = tmp_path / "o"
    batch(runner, src, out)
    assert [(p["row"], p["report_id"], p["message"]) for p in read_problems(out)] == [
        ("2", "J2", "line 2 names 'age' twice in one object: which value is meant?"),
        ("3", "", "line 3 names 'report_id' twice in one object: which value is meant?")]


def test_resume_after_the_rest_of_a_record_was_added_loses_no_line(runner, tmp_path):
    """A file that ended inside a record (a first run read its lines one by one), then got
    the rest of it and more: --resume reads the lines added as a fresh run reads lines after
    the ones done, never drafting or reporting a line twice, nor leaving one out."""
    pretty = json.dumps(record("J2"), indent=2).split("\n")
    src = jsonl(tmp_path, "\n".join(pretty[:6]))
    out = tmp_path / "o"
    batch(runner, src, out)
    with src.open("a") as handle:
        handle.write("\n".join(pretty[6:]) + "\n" + json.dumps(record("J3")) + "\n")
    total = 1 + len(pretty) + 1
    result = runner.invoke(main, ["batch", str(src), "--out", str(out), "--jobs", "1", "--resume"])
    assert "2 drafted" in result.output and "(7 lines done by an earlier run, counted in)" in result.output, result.output
    assert drafted(out) == ["J1", "J3"]
    assert [int(p["row"]) for p in read_problems(out)] == list(range(2, total))  # each line of J2's record once
    # a record opened on the first line, its first lines done and the rest added since: one problem
    first = tmp_path / "first.jsonl"
    first.write_text('{"admin": {"report_id": "J5"},\n  "patient": {"age": 5}\n')
    out = tmp_path / "o2"
    batch(runner, first, out)
    with first.open("a") as handle:
        handle.write("}\n")
    result = runner.invoke(main, ["batch", str(first), "--out", str(out), "--jobs", "1", "--resume"])
    assert [(p["row"], p["message"][:60]) for p in read_problems(out)] == [
        ("1", "line 1 is not valid JSON (Expecting property name enclosed i"),
        ("2", "line 2 is not valid JSON (more text after the object ends, a"),
        ("3", "line 3 continues the JSON object that line 1 opens, whose fi")]


# 5. files that are not what their name says

def refused(runner, src, *options):
    result = runner.invoke(main, ["batch", str(src), "--out", str(src.parent / "o"), *options])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert not (src.parent / "o").exists() or not list((src.parent / "o").glob("*.xml"))
    return result.output.strip()


def test_a_json_array_is_refused_with_how_to_make_json_lines(runner, tmp_path):
    """Before: pretty-printed, each of its lines a row "not valid JSON"; on one line,
    "expected a JSON object of sections and fields"."""
    reports = [record("A1"), record("A2")]
    how = ("is a JSON array, not JSON Lines (one object per line): write one report per line, e.g. with "
           "`jq -c '.[]' in.json > out.jsonl`")
    for name, text in (("pretty.json", json.dumps(reports, indent=2)), ("one.json", json.dumps(reports))):
        src = tmp_path / name
        src.write_text(text)
        assert refused(runner, src) == f"Error: {src}: {how}"
    src = tmp_path / "report.json"
    src.write_text(json.dumps(reports[0], indent=2))
    assert refused(runner, src) == (f"Error: {src}: is one JSON object written over many lines, not JSON Lines "
                                    "(one object per line): write one report per line, e.g. with "
                                    "`jq -c . in.json > out.jsonl`")


def test_an_html_excel_export_or_an_excel_2003_xml_file_says_what_it_is(runner, tmp_path):
    """Before: read as CSV, its first line (169 KB) quoted whole as a column name."""
    page = tmp_path / "export.xls"
    page.write_text('<html xmlns:x="urn:schemas-microsoft-com:office:excel">\n<head><meta charset="utf-8"></head>'
                    "<body><table>" + "<tr><td>ITB-1</td><td>Baclofen</td></tr>" * 5000 + "</table></body></html>")
    assert refused(runner, page) == (f'Error: {page}: is a web page (HTML; some systems write their "Excel export" '
                                     "as one), not CSV text: open it in Excel and save it as an Excel workbook "
                                     "(.xlsx) or as CSV")
    book = tmp_path / "export.xml"
    book.write_text('<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
                    '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet/></Workbook>\n')
    assert refused(runner, book) == (f"Error: {book}: is an Excel 2003 XML spreadsheet (SpreadsheetML), not CSV "
                                     "text: open it in Excel and save it as an Excel workbook (.xlsx) or as CSV")


def test_a_header_error_quotes_at_most_60_characters_of_a_column_name(runner, tmp_path):
    src = tmp_path / "notes.csv"
    src.write_text("Clinic notes: " + "spasms and itching " * 5000 + "\n" + line("Q1") + "\n")
    output = refused(runner, src)
    assert output == (f"Error: {src}: row 1 (header): column 1 'Clinic notes: spasms and itching spasms and itching "
                      "spasms a…' is not a field (delete a column of your own, or head it with the field path it "
                      "holds; `medwatch fields --csv-template` writes a correct header)")


def test_csv_named_xlsx_and_a_workbook_named_csv_name_their_real_format(runner, tmp_path):
    """Before: "not a readable Excel .xlsx workbook (File is not a zip file)" and "this is
    binary data, not CSV or JSON Lines text"."""
    text = tmp_path / "events.xlsx"
    text.write_text(HEADER + "\n" + line("X1") + "\n")
    assert refused(runner, text) == (f"Error: {text}: is CSV text, not an .xlsx workbook: rename it to .csv, or "
                                     "give --input-format csv")
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(HEADER.split(","))
    workbook = tmp_path / "events.csv"
    book.save(workbook)
    assert refused(runner, workbook) == (f"Error: {workbook}: is an Excel .xlsx workbook, not CSV text: rename it "
                                         "to .xlsx, or give --input-format xlsx")
    result = runner.invoke(main, ["batch", str(workbook), "--out", str(tmp_path / "o2"), "--input-format", "xlsx"])
    assert result.exit_code == 0 and "not CSV text" not in result.output, result.output  # read as the workbook


def test_a_draft_given_to_batch_points_to_validate(runner, tmp_path):
    src = tmp_path / "draft.xml"
    src.write_bytes((EXAMPLES / "baclofen-overdose.xml").read_bytes())
    assert refused(runner, src) == (f"Error: {src}: is a MedWatch draft (XML), not CSV text of reports to draft: "
                                    "`medwatch validate` checks a draft")
