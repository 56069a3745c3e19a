"""`medwatch new`: the interview that turns a person's answers into a draft.

The questions are the catalog's: the consumer form (3500B) asks each field's plain
question in the consumer form's section order and leaves out boxes it does not have; the
health-professional form (3500) asks by box number and label. Nothing is lost: the draft
is written atomically after every answer, and a small progress file beside it remembers
which questions were already asked (answered or skipped), so `--resume` continues at the
first question not yet asked.
"""
import importlib
import json
import re
import shlex
from datetime import date
from pathlib import Path
from typing import Callable, Dict, List

import click

from .catalog import Choice, Field, Group, load_catalog
from .code_lists import none_may_apply
from .coerce import ValueProblem, coerce_value, invisible_problem, number_and_unit, only_unseen, unit_refusal
from .draft import build_draft, draft_values, read_draft, write_draft
from .paths import split_path
from .safe_io import atomic_write


class Interrupted(Exception):
    """The person stopped (Ctrl-C or end of input); everything answered is saved."""


def progress_path(draft: Path) -> Path:
    return draft.with_name(draft.name + ".progress.json")


def section_order(form: str) -> List[Group]:
    """Sections as the chosen form orders them (3500B: by its own section letters)."""
    return [g for g in load_catalog().sections_of(form) if g.name != "admin"]


def shown_choices(field: Field, form: str) -> List[Choice]:
    """A code list in the order the interview lists it. The consumer form (3500B) lists first
    the choices that have words of their own for patients (micrograms (mcg), by mouth): in a
    list of forty units or sixty-seven routes the common ones come first, the rest follow in
    the form's order."""
    if form.upper() != "3500B":
        return list(field.choices)
    return sorted(field.choices, key=lambda choice: choice.plain == choice.label)


def _line_editing():
    """Arrow keys and history at the prompts, where the platform has readline: without it an
    arrow key types ESC [ D into the answer (refused, and the answer typed again)."""
    try:
        importlib.import_module("readline")
    except ImportError:
        pass


class Interview:
    """Asks the catalog's questions, saving after each answer."""

    def __init__(self, draft: Path, form: str = "3500B", prompt: Callable = click.prompt,
                 echo: Callable = click.echo):
        self.draft, self.form = Path(draft), form
        self.prompt, self.echo = prompt, echo
        self.values: Dict[str, object] = {"admin/form": form}
        self.asked: Dict[str, str] = {}  # question key -> "answered" | "skipped" | decision
        self.catalog = load_catalog()

    # ---- state ---------------------------------------------------------------------------
    @classmethod
    def resume(cls, draft: Path, **kwargs) -> "Interview":
        root = read_draft(draft)
        values = draft_values(root)
        form = str(values.get("admin/form") or "3500B")
        interview = cls(draft, form, **kwargs)
        interview.values.update(values)
        side = progress_path(Path(draft))
        if side.exists():
            try:
                interview.asked = json.loads(side.read_text(encoding="utf-8")).get("asked", {})
            except (ValueError, OSError):
                interview.asked = {}
        else:  # a draft from elsewhere: what it holds counts as answered
            interview.asked = {path: "answered" for path in values}
            interview.asked.update(_decisions_implied(values))
        return interview

    def save(self) -> None:
        """Write the draft and the progress file, each atomically and owner-only."""
        write_draft(build_draft(self.values), self.draft)
        atomic_write(progress_path(self.draft), json.dumps({"form": self.form, "asked": self.asked}, indent=1))

    # ---- asking --------------------------------------------------------------------------
    def _text(self, node) -> str:
        if self.form == "3500B" and node.question:
            return node.question
        box = node.box_for(self.form)
        return f"{box} {node.label}" if box and box != "—" else node.label

    def _ask_raw(self, text: str, default: str = "") -> str:
        try:
            return self.prompt(text, default=default, show_default=bool(default), prompt_suffix=" ")
        except click.Abort:
            raise Interrupted() from None

    def ask_field(self, field: Field, path: str, force: bool = False) -> None:
        """Ask one field until the answer fits; '?' shows help, Enter skips if allowed."""
        if not force and path in self.asked:
            return
        if field.choices:
            self.echo("")
            for number, choice in enumerate(shown_choices(field, self.form), 1):
                self.echo(f"  {number:>2}. {choice.text(self.form)}")
        hint = ""
        if field.multiple:
            hint = " (numbers separated by commas)" if field.choices else " (separate several with ;)"
        elif field.kind == "boolean":
            hint = " (yes/no)"
        optional = not field.required
        tail = " [Enter to skip, ? for help]" if optional else " [? for help]"
        current = self.values.get(path)
        default = "; ".join(current) if isinstance(current, list) else (current or "")
        if not default and field.path == "event/report_date":
            default = date.today().isoformat()
        while True:
            raw = self._ask_raw(self._text(field) + hint + tail, default=str(default)).strip()
            if only_unseen(raw):  # (a zero-width space alone, pasted: no answer, as in a batch)
                raw = ""
            refused = invisible_problem(field, raw)
            if refused:  # an arrow key where line editing is off types ESC [ D: said, asked again
                said = refused if refused.startswith("'") else "that answer " + refused
                self.echo(f"  Sorry, {said}. Please type the answer again (an arrow or other special key can put "
                          "such a character in).")
                continue
            if raw == "?":
                self.echo(f"  Help: {field.help or 'No further help for this question.'}")
                continue
            if not raw:
                if optional:
                    self.values.pop(path, None)
                    break
                self.echo("  This one is needed for the report; please give an answer.")
                continue
            with_unit = number_and_unit(field, raw)  # '70 kg': the unit's question then offers kg
            try:
                answer = with_unit.number if with_unit else self._numbers_to_values(field, raw, self.form)
                value = coerce_value(field, answer)
                self.check(field, path, value)
            except ValueProblem as exc:
                self.echo(f"  Sorry, {unit_refusal(field, raw, self.form) or self._in_words(field, exc)}. "
                          "Please try again (? for help).")
                continue
            self.values[path] = value
            if with_unit:
                self.values[with_unit.unit_path(path)] = with_unit.code
            break
        self.asked[path] = "answered" if path in self.values else "skipped"
        self.save()

    def _in_words(self, field: Field, refused: ValueProblem) -> str:
        """Why an answer to a list is refused, in the words of the list shown above it: a code
        list's own refusal shows its codes (adverse_event, doesnt_apply) and points to
        `medwatch fields`, a command no one at this question needs."""
        message = str(refused)
        if not field.choices or " is not one of the allowed values" not in message:
            return message
        said = message.split(" is not one of the allowed values")[0]  # ('foo' of "1, foo")
        shown = shown_choices(field, self.form)
        other = next((n for n, c in enumerate(shown, 1) if c.value == "other"), None)
        return (f"{said} is none of the answers listed: type the number of one (1-{len(shown)}), or its words"
                + (f"; if none fits, choose {other} and say it in your words next" if other else
                   "; if none fits, press Enter to skip the question" if none_may_apply(field) else ""))

    def check(self, field: Field, path: str, value) -> None:
        """What coerce cannot see: the XSD facets (ranges; coerce counts the answers), checked
        on the draft with this answer. Cross-field rules wait for the review at the end: mid-way
        they would refuse a weight only because its unit is the next question."""
        from .validate import validate_tree

        trial = dict(self.values)
        trial[path] = value
        here = split_path(path)
        for p in validate_tree(build_draft(trial)):
            if p.is_error and not p.rule and p.path and split_path(p.path) == here:
                message = re.sub(r"^\[facet '\w+'\] ", "", p.message)
                raise ValueProblem(message[:1].lower() + message[1:] if message.startswith("The ") else message)

    @staticmethod
    def _numbers_to_values(field: Field, raw: str, form: str = "3500"):
        """'1, 3' picks choices by number (as listed for `form`); anything else is read as text."""
        if not field.choices:
            return raw
        choices = shown_choices(field, form)
        parts = [p.strip() for p in raw.replace(",", ";").split(";") if p.strip()]
        picked = []
        for part in parts:
            if part.isdigit() and 1 <= int(part) <= len(choices):
                picked.append(choices[int(part) - 1].value)
            elif part.isdigit():
                raise ValueProblem(f"{part} is not one of the numbers shown (1-{len(field.choices)})")
            else:
                picked.append(part)
        if not field.multiple and len(picked) > 1:
            raise ValueProblem("choose only one")
        return picked if field.multiple else picked[0]

    def decide(self, key: str, text: str, default: bool = False, help_text: str = "") -> bool:
        """A yes/no question about the interview itself (add a device? another?)."""
        if key in self.asked:
            return self.asked[key] == "yes"
        self.asked[key] = "yes" if self.confirm(text, default, help_text) else "no"
        self.save()
        return self.asked[key] == "yes"

    # ---- flow ----------------------------------------------------------------------------
    def relevant(self, field: Field, prefix: str) -> bool:
        """Fields not on this form, or whose `when` condition is unmet, are skipped. A field
        that is no box of either form ("—": the reaction's MedDRA code, which the sender's
        safety staff code) is not asked of a patient nor of a reporting clinician."""
        if field.box in ("", "—") or (self.form == "3500B" and field.box_3500b in ("", "—")):
            return False
        if not field.when:
            return True
        cond_path, _, expected = field.when.partition("=")
        group_path = field.parent.path if field.parent else ""
        if group_path and cond_path.startswith(group_path + "/"):
            cond_path = prefix + cond_path[len(group_path) + 1:]
        value = self.values.get(cond_path)
        if not expected:
            if self.catalog.group(cond_path) is not None:  # a group: at least one entry given
                return any(k.startswith(cond_path + "[") or k.startswith(cond_path + "/") for k in self.values)
            return bool(value)
        return expected in value if isinstance(value, list) else value == expected

    def _moved(self, field: Field, section: Group) -> bool:
        """On 3500B a few boxes sit in another section than in the schema (F9 today's date
        is asked with the reporter, E7 history with the person): follow the box letter."""
        return (self.form == "3500B" and not section.repeat and field.box_3500b[:1] != section.box_3500b[:1]
                and field.box_3500b[:1].isalpha())

    def ask_group(self, group: Group, prefix: str) -> None:
        for child in group.children:
            if isinstance(child, Field):
                if self.relevant(child, prefix) and not (group.parent and group.parent.parent is None
                                                         and self._moved(child, group)):
                    self.ask_field(child, prefix + child.name)
            else:
                self.ask_repeating(child, prefix)
        if self.form == "3500B" and group.parent is not None and group.parent.parent is None and not group.repeat:
            for other in section_order(self.form):  # boxes of this section kept elsewhere in the schema
                if other is group or other.repeat:
                    continue
                for child in other.fields:
                    if (child.box_3500b[:1] == group.box_3500b[:1] and self._moved(child, other)
                            and self.relevant(child, f"{other.name}/")):
                        self.ask_field(child, f"{other.name}/{child.name}")

    def ask_repeating(self, group: Group, prefix: str = "") -> None:
        name = group.section_title(self.form) if self.form == "3500B" else group.label
        question = group.question if self.form == "3500B" and group.question else f"Any {name.lower()} to add?"
        if not self.decide(f"{prefix}{group.name}#any", question,
                           help_text=f"{group.help} Yes: its questions come next. No: the questions go on "
                                     "to the next part.".strip()):
            return
        index = 1
        while True:
            self.echo(f"\n-- {name} #{index}")
            self.ask_group(group, f"{prefix}{group.name}[{index}]/")
            another = group.another_3500b if self.form == "3500B" and group.another_3500b \
                else f"Add another {group.label.lower()}?"
            if not self.decide(f"{prefix}{group.name}[{index}]#another", another,
                               help_text="Yes: the same questions again, for one more. No: the questions go "
                                         "on to the next part." + (f" ({group.help})" if group.help else "")):
                return
            index += 1

    def run(self) -> None:
        """The whole interview; raises Interrupted when the person stops."""
        _line_editing()
        if self.form == "3500B":  # boxes the consumer form does not have, with their implied value
            for field in self.catalog.fields:
                if field.default_3500b and field.path not in self.values:
                    self.values[field.path] = field.default_3500b
        self.save()
        for section in section_order(self.form):
            title = section.section_title(self.form)
            box = section.box_for(self.form)
            self.echo(f"\n== {'Section ' + box + ': ' if box else ''}{title}")
            if section.help:
                self.echo(section.help)
            if section.repeat:
                self.ask_repeating(section)
            else:
                self.ask_group(section, f"{section.name}/")

    def summary(self) -> str:
        """The answers per section, in the form's words."""
        from .render import display

        lines = []
        for section in section_order(self.form):
            rows = []
            for path, value in self.values.items():
                field = self.catalog.field(path)
                if field is None or not path.startswith(section.name):
                    continue
                if self.form == "3500B" and field.box_3500b in ("", "—"):
                    continue  # implied by the consumer form (not a health professional)
                shown = display(field, value if isinstance(value, list) else [value], self.form)
                rows.append(f"  {self._text(field) if self.form == '3500' else field.label_for(self.form)}: {shown}")
            if rows:
                lines.append(f"{section.section_title(self.form)}:")
                lines.extend(rows)
        return "\n".join(lines)

    def where(self, problem) -> str:
        """Where a problem is, in the words of the form being filled in."""
        node = self.catalog.node(problem.path) if problem.path else None
        if node is None:
            return problem.where()
        return node.title(self.form)

    def confirm(self, text: str, default: bool = True, help_text: str = "") -> bool:
        """A yes/no question; '?' tells what each answer leads to (help on every question)."""
        while True:
            raw = self._ask_raw(f"{text} (yes/no) [? for help]", default="yes" if default else "no").strip().lower()
            if raw in ("y", "yes", "n", "no"):
                return raw.startswith("y")
            if raw == "?":
                self.echo(f"  Help: {help_text or 'Answer yes or no.'}")
                continue
            self.echo("  Please answer yes or no (? for help).")

    def fix(self, path: str) -> None:
        """Ask again what a problem points at: one field, or the empty fields of a group."""
        field = self.catalog.field(path)
        if field is not None:
            self.ask_field(field, path, force=True)
            return
        group = self.catalog.group(path)
        if group.repeat and not path.endswith("]"):  # e.g. no suspect product: offer the section again
            parent = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
            for key in [k for k in self.asked if k.startswith(parent + group.name) and "#" in k]:
                del self.asked[key]
            self.ask_repeating(group, parent)
            return
        prefix = path + "/"
        for child in group.fields:
            if self.relevant(child, prefix) and not self.values.get(prefix + child.name):
                self.ask_field(child, prefix + child.name, force=True)

    def review(self) -> list:
        """Show the rules' problems and offer to fix each error; returns what is left.

        Ends when everything is fixed or when a round changes nothing (the person declined
        or skipped every fix), so pressing Enter can never loop forever. A fix declined is not
        offered again in a later round (fixing one problem can show another).
        """
        from .validate import validate_tree

        declined = set()
        while True:
            problems = validate_tree(build_draft(self.values))
            if not problems:
                self.echo("  No problems found.")
                return problems
            for p in problems:
                where = self.where(p)
                self.echo(("  ! " if p.is_error else "  ~ ") + (where + ": " if where else "") + p.message)
            fixable = []  # one offer a box, however many rules hit it
            for p in problems:
                if (p.is_error and p.path and self.catalog.node(p.path) is not None and p.path not in declined
                        and all(p.path != q.path for q in fixable)):
                    fixable.append(p)
            before = dict(self.values)
            for p in fixable:
                if not self.confirm(f"Fix {self.where(p)} now?", help_text=(
                        "Yes: the question(s) this problem is about are asked again now. No: it stays as it "
                        f"is; your draft is kept, and `medwatch new --resume {shlex.quote(str(self.draft))}` "
                        "offers to fix it later.")):
                    declined.add(p.path)
                    continue
                self.fix(p.path)
            if not fixable or self.values == before:
                return problems


def _decisions_implied(values) -> Dict[str, str]:
    """For a draft without a progress file: its repeating blocks imply the yes answers
    to "Was a device involved?" / "Add another device?" that must have led to them."""
    catalog = load_catalog()
    decisions: Dict[str, str] = {}
    for path in values:
        prefix, template = "", ""
        for name, index in split_path(path):
            template = f"{template}/{name}" if template else name
            if template in catalog.repeating:
                decisions[f"{prefix}{name}#any"] = "yes"
                for earlier in range(1, index):
                    decisions[f"{prefix}{name}[{earlier}]#another"] = "yes"
                prefix += f"{name}[{index}]/"
            else:
                prefix += f"{name}/"
    return decisions
