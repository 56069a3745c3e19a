"""`medwatch new`: the interview, driven through the real command.

The answers come from the example drafts: a small "person" reads each question the
interview asks and answers it from the example's values the way a person would type
(US dates, choice numbers, yes/no). That answer sequence is found once in-process (fast),
then replayed through the real command in one straight run, and the resulting draft must
hold exactly the example's values.
"""
import io
import re
import shutil

import pytest

from medwatch_tool.catalog import load_catalog
from medwatch_tool.cli import main
from medwatch_tool.draft import draft_values, read_draft
from medwatch_tool.validate import validate_file
from medwatch_tool.wizard import Interview, progress_path, shown_choices

from helpers import EXAMPLES

CATALOG = load_catalog()


def typed(field, value, form):
    """How a person would type a stored value (a choice by the number the interview lists)."""
    if field.choices:
        values = value if isinstance(value, list) else [value]
        listed = [c.value for c in shown_choices(field, form)]
        return ", ".join(str(1 + listed.index(v)) for v in values)
    if isinstance(value, list):
        return "; ".join(value)
    if field.kind == "boolean":
        return "yes" if value == "true" else "no"
    if field.kind == "date" and len(value) == 10:
        y, m, d = value.split("-")
        return f"{m}/{d}/{y}"
    return value


class Person:
    """Answers the interview's questions from a draft's values."""

    def __init__(self, values, form):
        self.values, self.form = values, form
        self.by_prompt = {}
        for f in CATALOG.fields:
            key = f.question if form == "3500B" else f.title("3500")
            self.by_prompt.setdefault(key, f)

    def instance(self, transcript, group):
        """The current repeat index of `group`, from the last '-- Title #i' line."""
        titles = {group.label, group.title_3500b}
        for title, number in reversed(re.findall(r"^-- (.+) #(\d+)$", transcript, re.M)):
            if title in titles:
                return int(number)
        return 1

    def path_for(self, node, transcript):
        steps = []
        while node is not None and node.parent is not None:
            steps.append(f"{node.name}[{self.instance(transcript, node)}]" if getattr(node, "repeat", False)
                         else node.name)
            node = node.parent
        return "/".join(reversed(steps))

    def answer(self, transcript):
        last = transcript.rstrip().splitlines()[-1]
        text = re.sub(r" \[(Enter to skip, )?\? for help\].*$", "", last)
        text = re.sub(r" \((numbers separated by commas|separate several with ;|yes/no)\)$", "", text)
        if text not in self.by_prompt:  # a question about the interview itself (another? fix?)
            return self.decide(last, transcript)
        field = self.by_prompt[text]
        value = self.values.get(self.path_for(field, transcript))
        return "" if value in (None, "", []) else typed(field, value, self.form)

    def decide(self, line, transcript):
        if line.startswith("Fix "):
            return "no"
        groups = [g for g in CATALOG.groups if g.repeat]
        m = re.match(r"(Add another .+\?) \(yes/no\)", line)
        if m:
            group = next(g for g in groups if m.group(1) in (g.another_3500b, f"Add another {g.label.lower()}?"))
            path = self.path_for(group, transcript)
            following = re.sub(r"\[(\d+)\]$", lambda x: f"[{int(x.group(1)) + 1}]", path)
        else:
            question = line.split(" (yes/no)")[0]
            group = next(g for g in groups if question in (g.question, f"Any {g.label.lower()} to add?",
                                                           f"Any {g.section_title(self.form).lower()} to add?"))
            following = self.path_for(group.parent, transcript) + "/" if group.parent.parent else ""
            following += f"{group.name}[1]"
        return "yes" if any(p.startswith(following + "/") for p in self.values) else "no"


def discover_input(tmp_path, values, form):
    """The whole answer sequence, found by running the interview in-process once."""
    person, transcript, answers = Person(values, form), [], []

    def prompt(text, default="", **_):
        transcript.append(f"{text} [{default}]" if default else text)
        if len(answers) > 1000:
            raise AssertionError("the interview did not end")
        answers.append(person.answer("\n".join(transcript)))
        return answers[-1] or default

    interview = Interview(tmp_path / "probe.xml", form, prompt=prompt, echo=transcript.append)
    interview.run()
    interview.review()
    return answers


def example_values(name, drop=None):
    return {k: v for k, v in draft_values(read_draft(EXAMPLES / name)).items()
            if not k.startswith("admin/") and not (drop and k.startswith(drop))}


def lines(answers):
    return "".join(a + "\n" for a in answers)


SCENARIOS = {
    "drug (3500)": ("baclofen-overdose.xml", "3500", None),
    "device only (3500)": ("baclofen-pump-catheter-kink.xml", "3500", "suspect_product"),
    "drug through pump (3500)": ("baclofen-pump-catheter-kink.xml", "3500", None),
    "consumer (3500B)": ("baclofen-missed-refill-consumer.xml", "3500B", None),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_interview_produces_the_example_draft(runner, tmp_path, scenario):
    name, form, drop = SCENARIOS[scenario]
    values = example_values(name, drop)
    answers = discover_input(tmp_path, values, form)
    out = tmp_path / "final.xml"
    result = runner.invoke(main, ["new", "--form", form, "-o", str(out), "--render", "html"], input=lines(answers))
    assert result.exit_code == 0, result.output[-2000:]
    assert f"Draft saved to {out}" in result.output
    got = draft_values(read_draft(out))
    assert {k: v for k, v in got.items() if not k.startswith("admin/")} == values
    assert got["admin/form"] == form
    assert validate_file(out) == []
    assert "<html" in out.with_suffix(".html").read_text()
    assert (out.stat().st_mode & 0o777) == 0o600
    assert (progress_path(out).stat().st_mode & 0o777) == 0o600


def start(runner, tmp_path, answers, form="3500B", extra=(), name="d.xml"):
    draft = tmp_path / name
    return draft, runner.invoke(main, ["new", "--form", form, "-o", str(draft), *extra],
                                input=answers if isinstance(answers, io.IOBase) else lines(answers))


def test_bad_date_is_asked_again_and_help_and_skip(runner, tmp_path):
    # 3500B order: A1 problem type, A2 outcomes, A3 date of event
    draft, result = start(runner, tmp_path, ["1", "", "?", "2026-02-30", "3 Nov 2025"])
    assert "Help: The date the problem started or was first noticed" in result.output
    assert "Sorry, 2026-02-30 is not a date: February 2026 has 28 days. Please try again" in result.output
    assert result.output.count("When did the problem happen or start?") == 3
    values = draft_values(read_draft(draft))
    assert values["event/problem_type"] == ["adverse_event"]
    assert "event/outcome" not in values  # skipped with Enter
    assert values["event/event_date"] == "2025-11-03"


def test_dates_keep_their_precision(runner, tmp_path):
    draft, _ = start(runner, tmp_path, ["1", "", "Nov 2025"])
    assert draft_values(read_draft(draft))["event/event_date"] == "2025-11"
    draft, _ = start(runner, tmp_path / "y", ["1", "", "2025"])
    assert draft_values(read_draft(draft))["event/event_date"] == "2025"


def test_schema_facets_are_checked_at_once(runner, tmp_path):
    # 3500 order: A1 identifier, A2 age (its unit only if given), A2 birth date, A3 sex, A4 weight
    draft, result = start(runner, tmp_path, ["", "", "", "", "-3", "70", "1"], form="3500")
    assert "A4 Weight [Enter to skip, ? for help] -3\n  Sorry, '-3' is too small: this box takes only numbers above 0." \
        in result.output
    values = draft_values(read_draft(draft))
    assert values["patient/weight"] == "70" and values["patient/weight_unit"] == "kg"


def test_a_choice_can_be_typed_as_people_write_it(runner, tmp_path):
    # 3500 order: A1 identifier, A2 age, its unit, A2 birth date, A3 sex, A4 weight, its unit
    draft, result = start(runner, tmp_path, ["", "52", "yrs", "", "F", "154", "lbs"], form="3500")
    assert "Sorry" not in result.output
    values = draft_values(read_draft(draft))
    assert (values["patient/age_unit"], values["patient/sex"], values["patient/weight_unit"]) == \
        ("year", "female", "lb")


def test_an_answer_to_a_list_that_is_none_of_it_is_told_in_the_lists_words(runner, tmp_path):
    """'Other' at "What kind of problem" was told the codes, "(adverse_event, use_error,
    product_problem, different_manufacturer)"; a route the list lacks "`medwatch fields`
    lists all 67", a command no patient at that question needs."""
    draft, result = start(runner, tmp_path, ["Other", "1", "", "2025"])  # 3500B: A1 kind of problem first
    assert ("Sorry, 'Other' is none of the answers listed: type the number of one (1-4), or its words. Please try "
            "again (? for help).") in result.output, result.output
    assert "adverse_event" not in result.output
    assert draft_values(read_draft(draft))["event/problem_type"] == ["adverse_event"]


def test_a_sex_the_list_lacks_is_told_it_may_be_skipped(runner, tmp_path):
    """'X' at A3 sex (male, female only on the form) was told to type a number of the list,
    as if one had to fit; the question may be skipped, and the answer is then not drafted."""
    draft, result = start(runner, tmp_path, ["", "52", "yrs", "", "X", "", "154", "lbs"], form="3500")
    assert ("Sorry, 'X' is none of the answers listed: type the number of one (1-2), or its words; if none fits, "
            "press Enter to skip the question.") in result.output, result.output
    assert "patient/sex" not in draft_values(read_draft(draft))
    draft, result = start(runner, tmp_path / "again", ["Other", "1", "", "2025"])  # a list one must answer: no skip
    assert "'Other' is none of the answers listed: type the number of one (1-4), or its words. Please" in result.output


def test_a_number_with_its_unit_offers_that_unit_next(runner, tmp_path):
    # 3500 order: A1 identifier, A2 age, its unit, A2 birth date, A3 sex, A4 weight, its unit
    draft, result = start(runner, tmp_path, ["", "52 years", "", "", "F", "70 kg", ""], form="3500")
    assert "Sorry" not in result.output
    assert "A2 Age unit [Enter to skip, ? for help] [year]" in result.output
    values = draft_values(read_draft(draft))
    assert (values["patient/age"], values["patient/age_unit"]) == ("52", "year")
    assert (values["patient/weight"], values["patient/weight_unit"]) == ("70", "kg")


def test_a_number_with_a_unit_its_list_lacks_is_told_why(runner, tmp_path):
    """'70 stone' was "'70 stone' is not a number": the number was fine, the unit was not."""
    draft, result = start(runner, tmp_path, ["", "52 years", "", "", "F", "70 stone", "70", "kg"], form="3500")
    assert ("Sorry, '70 stone': the unit is not one that A4 weight unit takes: 'stone' is not one of the allowed "
            "values (kg, lb)") in result.output
    assert draft_values(read_draft(draft))["patient/weight"] == "70"


def test_the_consumer_form_lists_the_choices_with_plain_words_first(runner, tmp_path):
    """Forty dose units, sixty-seven routes: a patient finds micrograms (mcg) and 'by mouth'
    at the top, the rest in the form's order; the numbers typed pick what is shown."""
    field = CATALOG.field("suspect_product/dose_unit")
    consumer = [c.value for c in shown_choices(field, "3500B")]
    assert consumer[:3] == ["DF", "GTT", "GM"] and consumer.index("UGM") < consumer.index("BQ")
    assert [c.value for c in shown_choices(field, "3500")] == [c.value for c in field.choices]
    interview = Interview(tmp_path / "d.xml", "3500B", prompt=lambda *a, **k: "", echo=lambda *a: None)
    assert interview._numbers_to_values(field, str(1 + consumer.index("UGM")), "3500B") == "UGM"


def test_death_date_only_asked_for_death(runner, tmp_path):
    _, result = start(runner, tmp_path, ["1", "3"])
    assert "On what date did the person die?" not in result.output
    _, result = start(runner, tmp_path / "x", ["1", "1"])
    assert result.output.rstrip().endswith("On what date did the person die? [Enter to skip, ? for help]")


def test_eof_keeps_answers_and_resume_finishes(runner, tmp_path):
    values = example_values("baclofen-missed-refill-consumer.xml")
    answers = discover_input(tmp_path, values, "3500B")
    draft, first = start(runner, tmp_path, answers[:7])
    assert first.exit_code == 1
    assert f"To continue: medwatch new --resume {draft}" in first.output
    saved = draft_values(read_draft(draft))
    assert saved["event/event_date"] == "2026-11-02"
    second = runner.invoke(main, ["new", "--resume", str(draft)], input=lines(answers[7:]))
    assert second.exit_code == 0, second.output[-1500:]
    assert "Already filled:" in second.output and "Date the problem happened: 02-Nov-2026" in second.output
    assert "What kind of problem was it?" not in second.output  # answered before: not asked again
    assert {k: v for k, v in draft_values(read_draft(draft)).items() if not k.startswith("admin/")} == values


class CtrlCAfterInput(io.BytesIO):
    """Standard input that delivers its lines, then the person presses Ctrl-C."""

    pressed = False

    def read1(self, size=-1):
        data = super().read1(size)
        if not data and size != 0:
            CtrlCAfterInput.pressed = True
            raise KeyboardInterrupt
        return data

    read = read1


def test_ctrl_c_keeps_answers(runner, tmp_path):
    CtrlCAfterInput.pressed = False
    draft, result = start(runner, tmp_path, CtrlCAfterInput(b"1, 3\n3\n11/02/2026\n"), name="my draft.xml")
    assert CtrlCAfterInput.pressed
    assert result.exit_code == 1
    assert f"Every answer so far is saved in {draft}" in result.output
    assert f"To continue: medwatch new --resume '{draft}'" in result.output  # quoted: ready to paste
    values = draft_values(read_draft(draft))
    assert values["event/problem_type"] == ["adverse_event", "product_problem"]
    assert values["event/outcome"] == ["hospitalization"]
    assert values["event/event_date"] == "2026-11-02"


def test_review_offers_each_fix_and_the_fix_makes_the_draft_valid(runner, tmp_path):
    values = example_values("baclofen-missed-refill-consumer.xml", drop="event/description")
    answers = discover_input(tmp_path, values, "3500B")
    assert answers[-1] == "no"  # the only problem left: no description
    draft, result = start(runner, tmp_path, answers[:-1] + ["yes", "The pump alarm went off; refill was missed."])
    # (in the consumer form's words: "A4 Describe event, problem or product use error" was Form 3500's)
    assert "! A4 What happened, how and why: FDA needs to know what happened: tell it in A4 'What happened, how and why'" \
        in result.output  # (Form 3500's words were "no event: describe the adverse event or product problem")
    assert "Fix A4 What happened, how and why now? (yes/no)" in result.output
    assert result.exit_code == 0, result.output[-1500:]
    assert draft_values(read_draft(draft))["event/description"] == "The pump alarm went off; refill was missed."
    assert validate_file(draft) == []


def test_a_yes_no_question_has_help_too(runner, tmp_path):
    """'?' at "Was a medical device involved?" or "Fix ... now?" only got "Please answer yes or
    no": every question has help, these say what each answer leads to."""
    values = example_values("baclofen-missed-refill-consumer.xml", drop="event/description")
    answers = discover_input(tmp_path, values, "3500B")
    device = CATALOG.group("device")
    asked = [i for i, a in enumerate(answers) if a == "yes"]  # the first yes: a product was involved
    answers[asked[0]:asked[0]] = ["?", "maybe"]
    answers[-1:-1] = ["?"]  # at "Fix A4 What happened, how and why now?"
    draft, result = start(runner, tmp_path, answers)
    product = CATALOG.group("suspect_product")
    assert f"{product.question} (yes/no) [? for help]" in result.output
    assert f"  Help: {product.help} Yes: its questions come next." in result.output
    assert "  Please answer yes or no (? for help)." in result.output
    assert f"`medwatch new --resume {draft}` offers to fix it later." in result.output
    assert result.exit_code == 1 and f"{device.another_3500b} (yes/no)" in result.output
    assert draft_values(read_draft(draft))["suspect_product[1]/name"] == values["suspect_product[1]/name"]


def test_a_fix_declined_is_not_offered_again(runner, tmp_path):
    """Fixing one problem runs the check again; a fix the person declined was offered again
    in each later round (and at the end of the answers typed, the interview stopped there)."""
    values = example_values("baclofen-missed-refill-consumer.xml", drop="patient/")
    del values["event/description"]  # two problems: no patient details (first), no description
    answers = discover_input(tmp_path, values, "3500B")
    fixes = [a for a in answers if a == "no"][-2:]
    assert answers[-2:] == fixes == ["no", "no"]
    draft, result = start(runner, tmp_path, answers[:-2] + ["no", "yes", "Pump alarm; refill missed."])
    assert "Stopped." not in result.output, result.output[-2000:]
    fix = re.findall(r"Fix (.+?) now\?", result.output)
    assert len(fix) == 2 and len(set(fix)) == 2, fix
    assert result.exit_code == 1


def test_review_ends_when_nothing_is_fixed(runner, tmp_path):
    draft, result = start(runner, tmp_path, [""] * 400)  # Enter everywhere, also at "Fix ...?" (default yes)
    assert "Stopped." not in result.output  # the interview ended by itself, not at end of input
    assert result.exit_code == 1
    assert f"Draft saved to {draft} with 5 problem(s) left to fix\nTo fix them later: medwatch new --resume {draft}" \
        in result.output
    assert len([p for p in validate_file(draft) if p.is_error]) == 5


def test_resume_a_draft_without_progress_file(runner, tmp_path):
    """A finished example, its description removed: resume asks for that and little else."""
    values = example_values("baclofen-missed-refill-consumer.xml")
    draft = tmp_path / "copy.xml"
    shutil.copy(EXAMPLES / "baclofen-missed-refill-consumer.xml", draft)
    text = draft.read_text()
    draft.write_text(re.sub(r"<description>.*?</description>", "", text, flags=re.S))
    result = runner.invoke(main, ["new", "--resume", str(draft)], input=lines([values["event/description"]] + [""] * 40))
    assert "Was a medical device involved" not in result.output  # implied by the device blocks
    assert f"{CATALOG.group('device').another_3500b} (yes/no)" in result.output  # after the last one
    assert "What kind of problem was it?" not in result.output  # filled in the draft: not asked
    assert result.exit_code == 0, result.output[-1500:]
    assert draft_values(read_draft(draft))["event/description"] == values["event/description"]


def test_consumer_form_asks_boxes_in_its_own_sections(runner, tmp_path):
    """3500B keeps today's date (F9) with the reporter and history (E7) with the person."""
    answers = discover_input(tmp_path, example_values("baclofen-missed-refill-consumer.xml"), "3500B")
    result = runner.invoke(main, ["new", "-o", str(tmp_path / "c.xml")], input=lines(answers))
    out = result.output
    assert out.index("What is your email address?") < out.index("What is today's date?")
    assert out.index("== Section E") < out.index("Does the person have other medical conditions") < out.index("== Section F")


def test_existing_draft_is_not_overwritten(runner, tmp_path):
    draft = tmp_path / "d.xml"
    draft.write_text("keep me")
    result = runner.invoke(main, ["new", "-o", str(draft)], input="1\n")
    assert result.exit_code == 1 and "already exists" in result.output
    assert draft.read_text() == "keep me"


def test_installed_command_in_a_real_terminal(console_script, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    draft = tmp_path / "pty.xml"
    child = pexpect.spawn(str(console_script), ["new", "-o", str(draft)], cwd=str(tmp_path),
                          encoding="utf-8", timeout=30, dimensions=(40, 200))
    child.expect(r"What kind of problem was it\?")
    child.sendline("1")
    child.expect(r"Did any of these happen")
    child.sendline("?")
    child.expect(r"Help: ")
    child.sendline("3")
    child.expect(r"When did the problem happen or start\?")
    child.sendintr()
    child.expect(r"To continue: medwatch new --resume " + re.escape(str(draft)))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    values = draft_values(read_draft(draft))
    assert values["event/problem_type"] == ["adverse_event"] and values["event/outcome"] == ["hospitalization"]


def test_consumer_repeat_questions_and_group_conditions(runner, tmp_path):
    """3500B says "Add another device?" and skips test comments when there are no tests."""
    values = example_values("baclofen-missed-refill-consumer.xml")
    answers = discover_input(tmp_path, values, "3500B")
    result = runner.invoke(main, ["new", "-o", str(tmp_path / "c.xml")], input=lines(answers))
    assert "Add another device? (yes/no)" in result.output
    assert "Add another suspect medical device?" not in result.output
    assert "Anything else about the tests?" not in result.output  # the example has no tests


def test_a_control_character_in_an_answer_is_asked_again_not_the_end(runner, tmp_path):
    """An arrow key where line editing is off types ESC [ D into the answer: the interview
    ended with "Error: 'event/description' contains the control character U+001B", the
    answer typed lost; and a zero-width space alone was taken as a product's name."""
    values = example_values("baclofen-missed-refill-consumer.xml", drop="event/description")
    answers = discover_input(tmp_path, values, "3500B")
    at = len(answers) - 1  # (the review's "fix it?": asked for the description then)
    draft, result = start(runner, tmp_path, answers[:at] + ["yes", "rahs\x1b[D\x1b[D", "rash on the arm"])
    assert result.exit_code == 0, result.output[-1500:]
    assert ("Sorry, that answer contains the control character U+001B (invisible, not text), which a report cannot "
            "hold: remove it. Please type the answer again") in result.output
    assert draft_values(read_draft(draft))["event/description"] == "rash on the arm"



def test_a_box_two_rules_hit_is_offered_once(runner, tmp_path):
    """A date of death before the event and without death among the outcomes breaks two rules
    at one box: "Fix A2 Date of death now?" was asked twice in a row."""
    draft = tmp_path / "copy.xml"
    text = (EXAMPLES / "baclofen-missed-refill-consumer.xml").read_text(encoding="utf-8")
    draft.write_text(text.replace("<event_date>", "<death_date>2020-01-01</death_date><event_date>", 1),
                     encoding="utf-8")
    result = runner.invoke(main, ["new", "--resume", str(draft)], input="\n" * 300)  # Enter: yes to a fix
    assert result.output.count("! A2 Date of death: ") == 2, result.output[-2500:]  # two problems, one box
    assert result.output.count("Fix A2 Date of death now?") == 1, result.output[-2500:]
    assert "Stopped." not in result.output and result.exit_code == 1


def test_a_help_that_names_an_answer_names_it_as_the_consumer_form_lists_it():
    """D7/D8's help said "choose 'doesn't apply'", an answer the consumer form lists as "it was
    not stopped, reduced or restarted": a patient looked for words that were not there."""
    for path in ("suspect_product/dechallenge", "suspect_product/rechallenge"):
        field = CATALOG.field(path)
        named = re.findall(r"'([^']+)'", field.help.replace("doesn't", "does\u2019t"))
        shown = {choice.text("3500B").replace("doesn't", "does\u2019t") for choice in field.choices}
        assert shown & set(named), (path, field.help)


@pytest.mark.parametrize("scenario", ["drug (3500)", "consumer (3500B)"])
def test_neither_interview_asks_for_a_meddra_code(runner, tmp_path, scenario):
    """The reaction's MedDRA code and version are no box of either form: the sender's safety
    staff code them (batch, import, the draft itself). Neither a patient (3500B) nor a
    reporting clinician (3500) is asked for them."""
    name, form, drop = SCENARIOS[scenario]
    values = dict(example_values(name, drop), **{"event/meddra_code": "10033295", "event/meddra_version": "27.1"})
    answers = discover_input(tmp_path, values, form)
    out = tmp_path / "final.xml"
    result = runner.invoke(main, ["new", "--form", form, "-o", str(out)], input=lines(answers))
    assert result.exit_code == 0, result.output[-2000:]
    assert "MedDRA" not in result.output
    assert not [k for k in draft_values(read_draft(out)) if "meddra" in k]
