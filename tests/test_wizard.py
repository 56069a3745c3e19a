"""`medwatch new`: the interview, driven through the real command.

The answers come from the example drafts: a small "person" reads each question the
command prints and answers it from the example's values the way a person would type
(US dates, choice numbers, yes/no). The input found that way is then replayed in one
straight run, and the resulting draft must hold exactly the example's values.
"""
import re

import click
import pytest

from medwatch_tool.catalog import load_catalog
from medwatch_tool.cli import main
from medwatch_tool.draft import draft_values, read_draft
from medwatch_tool.validate import validate_file

from helpers import EXAMPLES

CATALOG = load_catalog()


def typed(field, value):
    """How a person would type a stored value."""
    if field.choices:
        values = value if isinstance(value, list) else [value]
        return ", ".join(str(1 + [c.value for c in field.choices].index(v)) for v in values)
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
        fields = CATALOG.fields
        self.by_prompt = {}
        for f in fields:
            key = f.question if form == "3500B" else f"{f.box} {f.label}"
            self.by_prompt.setdefault(key, f)

    def instance(self, transcript, group):
        """The current repeat index of `group`, from the last '-- Title #i' line."""
        titles = {group.label, group.title_3500b}
        found = re.findall(r"^-- (.+) #(\d+)$", transcript, re.M)
        for title, number in reversed(found):
            if title in titles:
                return int(number)
        return 1

    def path_for(self, field, transcript):
        steps, node = [], field
        while node is not None and node.parent is not None:
            if getattr(node, "repeat", False):
                steps.append(f"{node.name}[{self.instance(transcript, node)}]")
            else:
                steps.append(node.name)
            node = node.parent
        return "/".join(reversed(steps))

    def answer(self, transcript):
        last = transcript.rstrip().splitlines()[-1]
        if last.endswith("(yes/no) [no]:") or last.endswith("(yes/no) [yes]:") or "(yes/no)" in last:
            return self.decide(last, transcript)
        text = re.sub(r" \((numbers separated by commas|separate several with ;)\)", "", last)
        text = re.sub(r" \[(Enter to skip, )?\? for help\].*$", "", text)
        field = self.by_prompt[text]
        path = self.path_for(field, transcript)
        value = self.values.get(path)
        return "" if value in (None, "", []) else typed(field, value)

    def decide(self, line, transcript):
        if line.startswith("Fix these now?"):
            return "no"
        m = re.match(r"Add another (.+)\? \(yes/no\)", line)
        groups = [g for g in CATALOG.groups if g.repeat]
        if m:
            group = next(g for g in groups if g.label.lower() == m.group(1))
            path = self.path_for(group, transcript)
            following = re.sub(r"\[(\d+)\]$", lambda x: f"[{int(x.group(1)) + 1}]", path)
        else:
            question = line.split(" (yes/no)")[0]
            group = next(g for g in groups if question in (g.question, f"Any {g.label.lower()} to add?",
                                                           f"Any {g.section_title(self.form).lower()} to add?"))
            following = self.path_for(group.parent, transcript) + "/" if group.parent.parent else ""
            following += f"{group.name}[1]"
        return "yes" if any(p.startswith(following + "/") for p in self.values) else "no"


def discover_input(runner, tmp_path, values, form):
    """Find the whole answer sequence, one question at a time (each run stops at EOF)."""
    person = Person(values, form)
    answers = []
    for _ in range(400):
        draft = tmp_path / "probe.xml"
        for f in tmp_path.glob("probe.xml*"):
            f.unlink()
        result = runner.invoke(main, ["new", "--form", form, "-o", str(draft)],
                               input="".join(a + "\n" for a in answers))
        if "Stopped. Every answer so far is saved" not in result.output:
            return answers, result
        answers.append(person.answer(result.stdout.split("\n\nStopped.")[0]))
    raise AssertionError("the interview did not end")


SCENARIOS = {
    "drug (3500)": ("baclofen-overdose.xml", "3500", None),
    "device only (3500)": ("baclofen-pump-catheter-kink.xml", "3500", "suspect_product"),
    "drug through pump (3500)": ("baclofen-pump-catheter-kink.xml", "3500", None),
    "consumer (3500B)": ("baclofen-missed-refill-consumer.xml", "3500B", None),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_interview_produces_the_example_draft(runner, tmp_path, scenario):
    name, form, drop = SCENARIOS[scenario]
    values = {k: v for k, v in draft_values(read_draft(EXAMPLES / name)).items()
              if not k.startswith("admin/") and not (drop and k.startswith(drop))}
    answers, _ = discover_input(runner, tmp_path, values, form)
    out = tmp_path / "final.xml"
    result = runner.invoke(main, ["new", "--form", form, "-o", str(out), "--render", "html"],
                           input="".join(a + "\n" for a in answers))
    assert result.exit_code == 0, result.output[-2000:]
    assert f"Draft saved to {out}" in result.output
    got = {k: v for k, v in draft_values(read_draft(out)).items() if not k.startswith("admin/")}
    assert got == values
    assert draft_values(read_draft(out))["admin/form"] == form
    assert not [p for p in validate_file(out) if p.is_error]
    assert out.with_suffix(".html").exists()
    assert (out.stat().st_mode & 0o777) == 0o600


def start(runner, tmp_path, answers, form="3500B", extra=()):
    draft = tmp_path / "d.xml"
    return draft, runner.invoke(main, ["new", "--form", form, "-o", str(draft), *extra],
                                input="".join(a + "\n" for a in answers))


def test_bad_date_is_asked_again_and_help_and_skip(runner, tmp_path):
    # 3500B order: A1 problem type, A2 outcomes, A3 date of event
    draft, result = start(runner, tmp_path, ["1", "", "?", "2026-02-30", "3 Nov 2025"])
    assert "Help: The date the problem started or was first noticed" in result.output
    assert "Sorry, 2026-02-30 is not a date. Please try again" in result.output
    values = draft_values(read_draft(draft))
    assert values["event/problem_type"] == ["adverse_event"]
    assert "event/outcome" not in values  # skipped with Enter
    assert values["event/event_date"] == "2025-11-03"


def test_death_date_only_asked_for_death(runner, tmp_path):
    _, result = start(runner, tmp_path, ["1", "3"])
    assert "On what date did the person die?" not in result.output
    _, result = start(runner, tmp_path / "x", ["1", "1"])
    assert result.output.rstrip().endswith("On what date did the person die? [Enter to skip, ? for help]")


def test_eof_keeps_answers_and_resume_finishes(runner, tmp_path):
    values = {k: v for k, v in draft_values(read_draft(EXAMPLES / "baclofen-missed-refill-consumer.xml")).items()
              if not k.startswith("admin/")}
    answers, _ = discover_input(runner, tmp_path, values, "3500B")
    draft, first = start(runner, tmp_path, answers[:7])
    assert first.exit_code == 1
    assert f"To continue: medwatch new --resume {draft}" in first.output
    saved = draft_values(read_draft(draft))
    assert saved["event/event_date"] == "2026-11-02"
    second = runner.invoke(main, ["new", "--resume", str(draft)], input="".join(a + "\n" for a in answers[7:]))
    assert second.exit_code == 0, second.output[-1500:]
    assert "Already filled:" in second.output and "Date of event: 02-Nov-2026" in second.output
    assert {k: v for k, v in draft_values(read_draft(draft)).items() if not k.startswith("admin/")} == values


def test_ctrl_c_keeps_answers(runner, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = click.termui.visible_prompt_func

    def interrupting(prompt=""):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(prompt)

    monkeypatch.setattr(click.termui, "visible_prompt_func", interrupting)
    draft, result = start(runner, tmp_path, ["1, 3", "3", "11/02/2026"])
    assert result.exit_code == 1
    assert "To continue: medwatch new --resume" in result.output
    values = draft_values(read_draft(draft))
    assert values["event/problem_type"] == ["adverse_event", "product_problem"]
    assert values["event/outcome"] == ["hospitalization"]
    assert values["event/event_date"] == "2026-11-02"


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
    child.sendline("3")
    child.expect(r"When did the problem happen or start\?")
    child.sendintr()
    child.expect(r"To continue: medwatch new --resume " + re.escape(str(draft)))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    values = draft_values(read_draft(draft))
    assert values["event/problem_type"] == ["adverse_event"] and values["event/outcome"] == ["hospitalization"]


def test_consumer_form_asks_boxes_in_its_own_sections(runner, tmp_path):
    """3500B keeps today's date (F9) with the reporter and history (E7) with the person."""
    values = {k: v for k, v in draft_values(read_draft(EXAMPLES / "baclofen-missed-refill-consumer.xml")).items()
              if not k.startswith("admin/")}
    answers, _ = discover_input(runner, tmp_path, values, "3500B")
    result = runner.invoke(main, ["new", "-o", str(tmp_path / "c.xml")], input="".join(a + "\n" for a in answers))
    out = result.output
    assert out.index("What is your email address?") < out.index("What is today's date?")
    assert out.index("== Section E") < out.index("Does the person have other medical conditions") < out.index("== Section F")
