"""The `medwatch` command line: parse options, call the core, print, set the exit code.

Exit codes: 0 all good (warnings allowed), 1 problems found in the input, 2 usage error.
Errors are printed as one line; set MEDWATCH_DEBUG=1 to see a traceback instead.
"""
import errno
import itertools
import json
import os
import signal
import stat
import sys
from pathlib import Path
from typing import Optional

import click
from click.core import ParameterSource

from . import __version__
from .errors import InputError, MedwatchError


# what a full disk, a size limit or a failing device raise on writing: the machine's state,
# not a bug to report (standard output on a full disk, the e2b export's warnings...)
_NOT_A_BUG = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO, errno.EROFS}


def _said_in_one_line(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"Error: {where}cannot write ({exc.strerror or exc})"


class MedwatchGroup(click.Group):
    """Turns the tool's own exceptions (and any surprise) into one-line messages."""

    def main(self, *args, **kwargs):
        """--help and --version printed to a full disk ended in a traceback: click lets it out."""
        try:
            return super().main(*args, **kwargs)
        except OSError as exc:
            if exc.errno not in _NOT_A_BUG:
                raise
            _say_error(_said_in_one_line(exc))
            sys.exit(1)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MedwatchError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:  # Ctrl-C where a command does not take it itself: click said
            _say_error("\ninterrupted")  # "Aborted!" and exit 1, which means bad input
            ctx.exit(130)
        except BrokenPipeError:  # `medwatch fields | head`: the reader left, nothing is wrong
            _reader_left(err=True)
            _reader_left()
            ctx.exit(0)
        except Exception as exc:  # never show a traceback to a reporter
            if isinstance(exc, OSError) and exc.errno in _NOT_A_BUG:
                _say_error(_said_in_one_line(exc))
                ctx.exit(1)
            if isinstance(exc, PermissionError) and not os.environ.get("MEDWATCH_DEBUG"):  # the system's answer, no bug
                _say_error(f"Error: {exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}")
                ctx.exit(1)
            if os.environ.get("MEDWATCH_DEBUG"):
                raise
            click.echo(f"Error: unexpected {type(exc).__name__}: {exc} "
                       "(set MEDWATCH_DEBUG=1 for details and please report it)", err=True)
            ctx.exit(1)


def _reader_left(err: bool = False) -> None:
    """Standard output (or error) from now on to nowhere: its reader left (`| head`), and
    Python would otherwise fail again flushing it at exit."""
    if err:
        sys.stderr = open(os.devnull, "w")
    else:
        sys.stdout = open(os.devnull, "w")


def _say_error(text: str) -> None:
    """A last message on standard error, if it can take one (it may be full or closed too)."""
    try:
        click.echo(text, err=True)
    except (OSError, ValueError):
        pass


@click.group(cls=MedwatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="medwatch")
def main():
    """Draft FDA MedWatch-style adverse event reports (Form 3500 / 3500B).

    \b
    A draft is one XML file checked against schemas/report.xsd and the rules in
    schemas/rules.sch. Nothing is ever sent over the network.

    \b
    Examples:
      medwatch validate examples/*.xml
      medwatch render examples/baclofen-overdose.xml --to html -o report.html
      medwatch fields
    """


def _read_input(file: str):
    """Parse a draft from a path or '-' (stdin)."""
    from .draft import parse_draft, read_draft

    if file == "-":
        return parse_draft(_standard_input(), "<stdin>")
    return read_draft(file)


def _standard_input() -> bytes:
    """All of standard input, for FILE '-'; said in one line when it was closed (`<&-`)."""
    if sys.stdin is None:
        raise InputError("is closed: send the draft in (< FILE), or name a file", "standard input")
    return sys.stdin.buffer.read()


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: one line per problem; json: a list of problem objects.")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only, not warnings.")
def validate(files, fmt, quiet):
    """Check drafts against the schema and FDA's business rules.

    \b
    Each problem names the file, line, form box, label and field path:
      draft.xml:12: error: B3 Date of event [event/event_date]: 2027-02-30 is not a date

    \b
    Examples:
      medwatch validate examples/*.xml
      medwatch validate --format json draft.xml
      cat draft.xml | medwatch validate -

    Exit status: 0 valid (warnings allowed), 1 errors found.
    """
    from .validate import validate_bytes, validate_file

    problems = []
    for file in files:
        found = validate_bytes(_standard_input(), "<stdin>") if file == "-" else validate_file(file)
        problems.extend(found)
        if fmt == "text" and not any(p.is_error for p in found) and not quiet:
            warnings = len(found)
            _to_reader(f"{file}: valid" + (f" ({warnings} warning{'s' * (warnings != 1)})" if warnings else ""))
    shown = [p for p in problems if p.is_error or not quiet]
    if fmt == "json":
        _to_reader(json.dumps([p.as_dict() for p in shown], indent=2))
    else:
        for p in shown:
            _to_reader(p.format(), err=p.is_error)
    sys.exit(1 if any(p.is_error for p in problems) else 0)


def _to_reader(text: str, err: bool = False) -> None:
    """A line of validate's; a reader that leaves early (`| head`) takes no more, and every
    file is still checked for the exit status (it ended the run with 0 after a valid first
    file, `validate good.xml bad.xml | head -1` telling a script all was valid)."""
    try:
        click.echo(text, err=err)
    except BrokenPipeError:
        _reader_left(err)


@main.command()
@click.argument("file", metavar="FILE")
@click.option("--to", "to", type=click.Choice(["text", "html"]), default="text", show_default=True,
              help="Output format.")
@click.option("--form", type=click.Choice(["3500", "3500B"], case_sensitive=False), default=None,
              metavar="[3500|3500B]", help="Which form's boxes and wording to use (default: the draft's admin/form, else 3500).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file (owner-only permissions) instead of standard output.")
def render(file, to, form, output):
    """Render a draft like the FDA form, grouped by section and box.

    \b
    Examples:
      medwatch render examples/baclofen-overdose.xml
      medwatch render examples/baclofen-pump-catheter-kink.xml --to html -o kink.html

    The draft is validated too; its problems are printed as warnings on stderr after the
    page, so an unfinished draft still renders (its empty boxes are shown as such).
    """
    from .render import render as render_draft
    from .safe_io import atomic_write
    from .validate import validate_tree

    root = _read_input(file)
    problems = validate_tree(root, file)
    text = render_draft(root, to=to, form=form.upper() if form else None)
    if output and output != "-":  # the page first: warnings that cannot be printed must not cost it
        atomic_write(output, text)
    else:
        _print_result(text)
    for p in problems:
        click.echo(p.format(), err=True)
    if output and output != "-":
        click.echo(f"wrote {output}", err=True)


@main.group()
def e2b():
    """ICH E2B(R3) electronic ICSRs: export drafts for FDA, import received messages.

    \b
    Examples:
      medwatch e2b export examples/baclofen-pump-catheter-kink.xml -o icsr.xml --sender-organisation "Acme Clinic"
      medwatch e2b import icsr.xml -o drafts/
    """


@e2b.command("export")
@click.argument("drafts", nargs=-1, required=True, metavar="DRAFT...")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The batch file to write.")
@click.option("--config", type=click.Path(dir_okay=False), help="INI file with an [e2b] section of the settings below.")
@click.option("--sender", help="Sender identifier (N.1.3, N.2.r.2; part of C.1.1). Default MEDWATCHTOOL.")
@click.option("--sender-organisation", help="C.3.2 sender's organisation (required unless the sender is a consumer).")
@click.option("--sender-type", type=click.Choice(["1", "2", "3", "4", "5", "6", "7"]),
              help="C.3.1 sender type (1 company ... 3 health professional ... 7 consumer), for every ICSR. "
                   "Default: each ICSR's from its own reporter (3 a health professional, 6 other staff, 7 a consumer).")
@click.option("--country", help="Country prefix of the safety report id (C.1.1). Default US.")
@click.option("--batch-receiver", help="N.1.4, default ZZFDA (postmarket).")
@click.option("--message-receiver", help="N.2.r.3, default CDER.")
@click.option("--ich-xsd", type=click.Path(file_okay=False),
              help="Folder of the official ICH schema set (multicacheschemas/, coreschemas/) to validate against.")
def e2b_export(drafts, output, config, ich_xsd, **options):
    """Write one E2B(R3) batch (MCCI_IN200100UV01) with one ICSR per draft.

    Draft fields with no E2B element are listed as warnings; FDA rejection rules that the
    message breaks are errors (with FDA's rule id) and nothing is written.
    """
    from .e2b import export, load_settings, official_schema
    from .safe_io import atomic_write

    settings = load_settings(config, options)
    data, problems = export([Path(d) for d in drafts], settings)
    if ich_xsd:
        from lxml import etree

        schema = official_schema(ich_xsd)
        if not schema.validate(etree.fromstring(data)):
            for entry in schema.error_log:
                problems.append(_schema_problem(output, entry))
    failed = any(p.is_error for p in problems)
    if not failed:  # written before the warnings are printed: a reader of them that leaves early
        atomic_write(output, data)  # (`2>&1 | head`) or a full standard error must not cost the file
    for p in problems:
        click.echo(p.format(), err=True)
    if failed:
        click.echo("not written: fix the errors above first", err=True)
        sys.exit(1)
    click.echo(f"wrote {output}: {len(drafts)} ICSR(s)" + (f", {len(problems)} warning(s)" if problems else ""))


@e2b.command("mapping")
def e2b_mapping():
    """Print the draft <-> E2B(R3) mapping table (Markdown), generated from its data file."""
    from .e2b import mapping_markdown

    _print_result(mapping_markdown())


def _schema_problem(output, entry):
    from .validate import Problem

    return Problem("error", f"ICH schema: {entry.message}", None, "", "", entry.line, output, "ICH-XSD")


@e2b.command("import")
@click.argument("file", metavar="FILE")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the drafts (one per ICSR in the batch).")
def e2b_import(file, out_dir):
    """Turn each ICSR of an E2B(R3) batch into a draft; list every element not mapped."""
    from .e2b import import_file

    written, problems = import_file(file, Path(out_dir))
    for p in problems:
        click.echo(p.format(), err=True)
    click.echo(f"wrote {len(written)} draft(s) to {out_dir}" +
               (f"; {len(problems)} element(s) or value(s) not mapped or not valid, listed above" if problems else ""))


@main.command()
@click.option("--form", type=click.Choice(["3500B", "3500"], case_sensitive=False), default="3500B", show_default=True,
              metavar="[3500B|3500]",
              help="3500B: plain-language questions for patients; 3500: the health-professional form's boxes.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="medwatch-draft.xml", show_default=True,
              help="Where to save the draft (it is saved after every answer).")
@click.option("--resume", "resume", type=click.Path(dir_okay=False), default=None,
              help="Continue an unfinished draft at its first unanswered question.")
@click.option("--render", "render_to", type=click.Choice(["html", "text"]), default=None,
              help="Also render the finished draft next to it.")
def new(form, output, resume, render_to):
    """Answer questions in the terminal and get a report draft.

    Type ? at any question for help; press Enter to skip an optional one. Your answers are
    saved after each one: if you stop (Ctrl-C), continue later with --resume.

    \b
    Examples:
      medwatch new                          # consumer form (3500B), plain language
      medwatch new --form 3500 -o kink.xml  # health-professional form, by box number
      medwatch new --resume kink.xml
    """
    import shlex

    from .wizard import Interrupted, Interview

    closed = [name for name, stream in (("input", sys.stdin), ("output", sys.stdout), ("error", sys.stderr))
              if stream is None]
    if closed:  # the questions, answers and help go there: Python's input() fails without them
        raise MedwatchError(f"standard {' and '.join(closed)} {'is' if len(closed) == 1 else 'are'} closed: the "
                            "wizard asks its questions there (run it in a terminal, or give it answers on "
                            "standard input)")
    if resume:
        interview = Interview.resume(Path(resume))
        click.echo(f"Continuing {resume} (form {interview.form}). Already filled:")
        click.echo(interview.summary() or "  (nothing yet)")
    else:
        if Path(output).exists():
            raise MedwatchError(f"{output} already exists: continue it with "
                                f"`medwatch new --resume {shlex.quote(output)}`, or choose another file with -o")
        interview = Interview(Path(output), form.upper())
    target = interview.draft
    try:
        interview.run()
        click.echo("\n== Summary\n" + interview.summary())
        click.echo("\n== Checking the draft")
        problems = interview.review()
    except (Interrupted, KeyboardInterrupt, BrokenPipeError) as exc:  # at a prompt, or between two (saving);
        if isinstance(exc, BrokenPipeError):  # or the questions' reader left (`| head`): not done, exit 1
            _reader_left()
        click.echo(f"\n\nStopped. Every answer so far is saved in {target}.", err=True)
        click.echo(f"To continue: medwatch new --resume {shlex.quote(str(target))}", err=True)
        sys.exit(1)
    errors = [p for p in problems if p.is_error]
    click.echo(f"\nDraft saved to {target}" + (f" with {len(errors)} problem(s) left to fix" if errors else ""))
    if errors:  # (--resume asks nothing answered again: it goes on to the check and its fixes)
        click.echo(f"To fix them later: medwatch new --resume {shlex.quote(str(target))}")
    if render_to:
        from .draft import read_draft
        from .render import render as render_draft
        from .safe_io import atomic_write

        out = target.with_suffix(".html" if render_to == "html" else ".txt")
        atomic_write(out, render_draft(read_draft(target), to=render_to))
        click.echo(f"Rendered to {out}")
    sys.exit(1 if errors else 0)


def _named_folder(ctx, param, value):
    """--out "" (a script's unset variable) would mean the current folder: drafts of health
    data scattered where the command happens to run."""
    if value is not None and not value.strip():
        raise click.BadParameter("is empty: name the folder for the drafts")
    return value


def _named_sheet(ctx, param, value):
    if value is not None and not value.strip():
        raise click.BadParameter("is empty: name the sheet to read, as its tab shows it")
    return value


# Each worker is a process of its own (about 30 MB); past the CPUs they only wait, and a
# mistyped --jobs 100000 would fork until the machine stalls.
MAX_JOBS = max(64, 4 * (os.cpu_count() or 1))


@main.command()
@click.argument("input_file", metavar="INPUT")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), callback=_named_folder,
              help="Folder for the drafts and problems.csv (created if missing).")
@click.option("--render", "render_to", type=click.Choice(["html", "text"], case_sensitive=False), default=None,
              help="Also render each draft next to it.")
@click.option("--jobs", type=click.IntRange(min=1, max=MAX_JOBS), default=None,
              help=f"Worker processes (default: the CPUs this process may use; at most {MAX_JOBS}).")
@click.option("--resume", is_flag=True,
              help="Finish an interrupted run in the same --out folder, on the same input file "
                   "(rows added at its end are drafted too; a file changed otherwise is refused).")
@click.option("--update", is_flag=True,
              help="Draft a corrected input again into the --out folder of an earlier run: every draft "
                   "is written anew, problems.csv lists this input's problems, and drafts it no longer "
                   "gives (a row that now fails, or was removed) are moved into a folder of "
                   "DIR/superseded/ named for when the update began.")
@click.option("--input-format", type=click.Choice(["csv", "tsv", "jsonl", "xlsx"]), default=None,
              help="Override detection from the file name (useful with '-').")
@click.option("--sheet", metavar="NAME", default=None, callback=_named_sheet,
              help="For an Excel workbook: the sheet to read, by the name on its tab (default: the first "
                   "visible sheet).")
def batch(input_file, out_dir, render_to, jobs, resume, update, input_format, sheet):
    """Draft one report per row of a CSV, JSON Lines or Excel (.xlsx) file.

    Column names are field paths as `medwatch fields` lists them (start from
    `medwatch fields --csv-template`); JSON Lines use the nested form of the same paths
    (`medwatch fields --jsonl-template`).
    Every good row becomes DIR/<report id>.xml (or row-NNNNNN.xml); every problem goes to
    DIR/problems.csv with its row number, field path and form box. Rows with only warnings
    are drafted. INPUT '-' reads standard input.

    \b
    Examples:
      medwatch fields --csv-template > events.csv
      medwatch batch events.csv --out drafts/
      medwatch batch events.xlsx --out drafts/ --render html
      medwatch batch clinic.xlsx --sheet "Adverse events" --out drafts/
      medwatch batch events.csv --out drafts/ --resume   # after an interruption
      medwatch batch events.csv --out drafts/ --update   # rows corrected since

    Exit status: 0 all rows drafted, 1 some rows had errors (the others are drafted)
    or the run stopped (the output folder could not be written, the input could not be
    read further, a worker process was killed), 2 a usage error (an option wrong, such as
    --sheet for a CSV file, or not the run's in --out: --resume missing, another --render
    or --sheet than it began with; nothing is done), 130 stopped by Ctrl-C (143 by SIGTERM, 129 by
    a closed terminal); after a stop, the rows done are kept and --resume finishes the run.
    One run at a time writes into a folder.
    """
    from .batch import run_batch
    from .readers import FORMAT_NAMES, open_source
    from .workers import usable_cpus

    if resume and update:
        raise click.UsageError("--resume finishes a run on the same input, --update drafts a changed input "
                               "again: give one of them")

    if input_file == "-" and sys.stdin is None:
        raise InputError("standard input is closed: give the rows on it, or name a file", "-")
    try:  # (waiting on a named pipe, or on a terminal for typed rows: Ctrl-C is an interruption too)
        if input_file == "-" and sys.stdin.isatty():
            _say("reading rows from standard input: type or paste them, then Ctrl-D (Ctrl-Z, Enter on Windows)",
                 err=True)
        source = open_source(input_file, input_format, sheet)
    except KeyboardInterrupt:
        _say("\ninterrupted before any row was read", err=True)
        sys.exit(130)
    if sheet is not None and source.format != "xlsx":
        source.close()
        raise click.UsageError(f"--sheet chooses a sheet of an Excel workbook; {input_file} is read as "
                               f"{FORMAT_NAMES[source.format]}")
    render_to = render_to.lower() if render_to else None
    jobs = jobs or usable_cpus()
    show = sys.stderr is not None and sys.stderr.isatty()  # (closed, as a service may start it: no bar)
    begun = []  # an --update that began replacing the earlier run is finished by --resume
    try:
        if show:
            # by bytes read when the size is known; else (standard input) a count of rows
            with click.progressbar(itertools.repeat(None), length=source.size or None, label="Drafting",
                                   file=_UntilClosed(sys.stderr), show_pos=not source.size) as bar:
                state = {"pos": 0}

                def tick(outcome):
                    if source.size:
                        now = source.position
                        bar.update(max(0, now - state["pos"]))
                        state["pos"] = now
                    else:
                        bar.update(1)

                summary = run_batch(source, out_dir, render_to, jobs, resume, on_row=tick, update=update,
                                    began=lambda: begun.append(True))
                if source.size and not (summary.interrupted or summary.stopped):  # read to its end: a
                    bar.update(source.size - state["pos"])  # workbook's last bytes are not its rows'
        else:
            summary = run_batch(source, out_dir, render_to, jobs, resume, update=update,
                                began=lambda: begun.append(True))
    except KeyboardInterrupt:  # a second Ctrl-C: stopped at once, the journal still holds what is done
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the process ends: more of them would break into its end
        finish = _resume_command(input_file, out_dir, render_to, input_format, update and not begun, sheet)
        _say(f"\ninterrupted; to finish: {finish}", err=True)
        sys.exit(130)
    finally:
        source.close()
    unit = source.unit  # "line" for JSON Lines, as its problems name them
    _say(summary.line(unit))
    for note in source.notes:
        _say(f"note: {source.name}: {note}", err=True)
    if summary.superseded and (summary.superseded.count or summary.superseded.held or summary.superseded.before):
        _say(f"note: {_superseded(summary.superseded, source.name)}", err=True)
    if summary.no_problems_file and (summary.failed or summary.warnings):  # (not "see problems.csv")
        if summary.failed:
            _say(f"errors most often at: {summary.worst(unit=unit)}", err=True)
        _say(f"{os.path.join(out_dir, 'problems.csv')} could not be written, {summary.no_problems_file}: the problems "
             f"are recorded, and --resume writes it once the folder can be written", err=True)
    elif summary.failed:
        _say(f"errors most often at: {summary.worst(unit=unit)}", err=True)
        if summary.cannot_write:  # the rows after the failed write are not journaled: not in problems.csv either
            _say(f"{os.path.join(out_dir, 'problems.csv')} lists the problems of the {unit}s recorded; "
                       "--resume drafts the others again", err=True)
        else:
            _say(f"see {os.path.join(out_dir, 'problems.csv')} for the {unit}, field and box of each problem",
                       err=True)
    elif summary.warnings:  # drafted, but a warning may matter (an identifier that looks like a name)
        _say(f"see {os.path.join(out_dir, 'problems.csv')} for the {unit}, field and box of each warning", err=True)
    stopped = summary.stopped
    if stopped or summary.interrupted:
        finish = _resume_command(input_file, out_dir, render_to, input_format, update and not begun, sheet)
        if summary.cannot_move:
            _say(f"Error: {stopped}\nstopped: every {unit} is done and recorded; the end of the update (the drafts "
                 f"the input no longer gives moved aside) is left: fix that, then finish with: {finish}", err=True)
            sys.exit(1)
        if stopped:
            then = ("make room (or fix the folder), then finish with" if summary.cannot_write else
                    "once the input can be read again, finish with" if summary.cannot_read else "finish with")
            unrecorded = summary.drafted + summary.failed - summary.kept  # done, but the journal failed
            also = (f" (the other {unrecorded:,} counted above could not be recorded: --resume does them again)"
                    if unrecorded > 0 else "")
            kept = (f"{summary.kept:,} {unit}s recorded so far are" if summary.kept != 1
                    else f"1 {unit} recorded so far is")
            _say(f"Error: {stopped}\nstopped: the {kept} kept{also}; {then}: {finish}", err=True)
            sys.exit(1)
        _say(f"interrupted: the {summary.kept} {unit}s done so far are kept; to finish: {finish}", err=True)
        sys.exit(128 + summary.interrupted)  # as a shell reports a process a signal ended: 130 for Ctrl-C
    sys.exit(1 if summary.failed else 0)


def _superseded(moved, input_name: str) -> str:
    """What the end of --update moved aside, said where a reviewer of the folder looks for it."""
    earlier = (f"{moved.before:,} draft{'s' * (moved.before != 1)} moved into {moved.to} before the update was "
               "stopped stay there")
    if moved.held:
        return (f"no row of {input_name} was drafted: the earlier run's drafts are left where they were, none moved "
                f"aside for it{'; ' + earlier if moved.before else ''}; correct the rows (or the file given) and run "
                "--update again")
    if not moved.count:
        return earlier
    names = ", ".join(moved.first) + (f" and {moved.count - len(moved.first):,} more" if moved.count > len(moved.first)
                                      else "")
    drafts = "draft" if moved.count == 1 else "drafts"
    return (f"{moved.count:,} {drafts} of the earlier run that this input no longer gives (a row that now fails, "
            f"or was removed or renamed) moved into {moved.to}: {names}"
            f"{f'; {moved.before:,} moved there before the update was stopped' if moved.before else ''}")


class _UntilClosed:
    """A terminal stream that goes quiet once the terminal is gone (its window closed: the
    run gets SIGHUP, and writing fails with EIO). The progress bar then stops showing, and
    the run stops cleanly instead of failing on the bar."""

    def __init__(self, stream):
        self.stream, self.closed_under_us = stream, False

    def write(self, text):
        if not self.closed_under_us:
            try:
                return self.stream.write(text)
            except OSError:
                self.closed_under_us = True
        return 0

    def flush(self):
        if not self.closed_under_us:
            try:
                self.stream.flush()
            except OSError:
                self.closed_under_us = True

    def isatty(self):
        return not self.closed_under_us and self.stream.isatty()

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _say(text: str, err: bool = False):
    """click.echo, except that a terminal closed under the run (or a stream closed before it)
    is not an error: what the run did is kept all the same, and the exit status says how it
    ended (129 for SIGHUP)."""
    if (sys.stderr if err else sys.stdout) is None:
        return
    try:
        click.echo(text, err=err)
    except OSError:
        pass


def _resume_command(input_file: str, out_dir: str, render_to, input_format, update: bool = False,
                    sheet: Optional[str] = None) -> str:
    """The command that finishes an interrupted batch run (the same input and options), as
    it can be pasted: a name beginning with '-' is no option, the file standard input was
    read from is named, and a pipe of this run only (`<(gunzip -c ...)`) is said to be one."""
    import shlex

    if input_file in ("/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"):
        input_file = "-"  # (read as standard input is)
    piped = input_file.startswith(("/dev/fd/", "/proc/self/fd/"))
    shown = input_file
    if input_file.startswith("-") and input_file != "-":
        shown = os.path.join(".", input_file)
    options = ["--out", out_dir] + (["--render", render_to] if render_to else [])
    options += ["--input-format", input_format] if input_format else []
    options += ["--sheet", sheet] if sheet is not None else []
    rest = " ".join(shlex.quote(w) for w in options) + (" --update" if update else " --resume")
    if piped:
        return f"medwatch batch <(...) {rest}, giving it the same rows again ({input_file} was this run's pipe)"
    command = f"medwatch batch {shlex.quote(shown)} {rest}"
    if input_file == "-":
        stdin = _stdin_file()
        return f"{command} < {shlex.quote(stdin)}" if stdin else f"{command}, giving it the same rows on standard input"
    return command


def _stdin_file() -> Optional[str]:
    """The file standard input is read from (`< rows.csv`), when the system tells it; None
    for a pipe or a terminal."""
    try:
        if not stat.S_ISREG(os.fstat(0).st_mode):
            return None
        name = os.readlink("/proc/self/fd/0")
    except OSError:
        return None
    return name if os.path.isfile(name) else None  # not one deleted since ("... (deleted)")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="table: aligned text; csv: one row per field; json: full catalog entries.")
@click.option("--csv-template", is_flag=True,
              help="Print only an empty CSV header row of field paths, to start a batch file.")
@click.option("--jsonl-template", is_flag=True,
              help="Print one JSON Lines record with every field empty (the nested form of the same "
                   "paths), to start a JSON Lines batch file.")
@click.option("--form", type=click.Choice(["3500", "3500B"], case_sensitive=False), default="3500", show_default=True,
              metavar="[3500|3500B]", help="Show this form's box numbers and words.")
def fields(fmt, form, csv_template, jsonl_template):
    """List every field of a draft: path, form box, label, type and allowed values.

    The paths are the CSV column names for `medwatch batch` (use [2], [3] ... for more
    products, concomitant products, devices or lab tests) and the keys of JSON input.

    \b
    Examples:
      medwatch fields
      medwatch fields --form 3500B
      medwatch fields --format csv > fields.csv
      medwatch fields --csv-template > events.csv
      medwatch fields --jsonl-template > events.jsonl
    """
    from .catalog import load_catalog

    catalog = load_catalog()
    if csv_template and jsonl_template:
        raise click.UsageError("--csv-template and --jsonl-template: give one of them")
    template = ("--csv-template prints a CSV header row of field paths" if csv_template else
                "--jsonl-template prints a JSON Lines record of the same fields" if jsonl_template else None)
    if template and click.get_current_context().get_parameter_source("fmt") != ParameterSource.DEFAULT:
        # a template's format is its own: a --format json asked for is not silently another
        raise click.UsageError(f"{template}: leave out --format")
    if csv_template:
        _print_result(_csv_text([catalog.column_names()]))
        return
    if jsonl_template:  # lists where a field takes several values, as JSON Lines input gives them
        from .draft import nest

        empty = {path: [] if f.multiple else "" for path, f in zip(catalog.column_names(), catalog.fields)}
        _print_result(json.dumps(nest(empty), ensure_ascii=False) + "\n")
        return
    form = form.upper()
    header = ["path", "box", "label", "type", "allowed values"]
    rows = []
    for path, f in zip(catalog.column_names(), catalog.fields):
        kind = f.kind + (" (several)" if f.multiple else "")
        if f.max_length and f.kind == "text":
            kind += f" <= {f.max_length}"
        allowed = " | ".join(c.value for c in f.choices)
        rows.append([path, f.box_for(form), f.label_for(form), kind, allowed])
    if fmt == "json":
        _print_result(json.dumps([
            {"path": path, "box": f.box_for(form), "box_3500": f.box, "box_3500B": f.box_3500b,
             "label": f.label_for(form), "label_3500": f.label, "label_3500B": f.label_3500b or (f.label if f.on_form("3500B") else ""),
             "question": f.question, "help": f.help, "type": f.kind,
             "multiple": f.multiple, "required": f.required, "max_length": f.max_length,
             "choices": [{"value": c.value, "label": c.label, "plain": c.plain, "also": list(c.also)}
                         for c in f.choices]}
            for path, f in zip(catalog.column_names(), catalog.fields)], indent=2) + "\n")
    elif fmt == "csv":
        _print_result(_csv_text([header] + rows))
    else:
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(4)]
        _print_result("".join(("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4]).rstrip() + "\n"
                              for r in [header] + rows))


def _csv_text(rows: list) -> str:
    """Rows as CSV text, to be printed in one piece (one write that can fail, said once)."""
    import csv
    import io

    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    return text.getvalue()


def _print_result(text: str) -> None:
    """A command's result on standard output. A full disk or a closed output is said in one
    line (exit 1), not met as a surprise; a reader that left (`| head`) is no error.

    Written to the file descriptor until all of it is written: Python's own stream took a
    short write on a nearly full disk (8 KB of 13 written) as done, and the command
    reported success with its result cut short."""
    from .errors import OutputError
    from .safe_io import write_all

    out = sys.stdout
    if out is None:  # started with it closed (`>&-`): the result would vanish unseen
        raise OutputError("is closed, so the result cannot be shown: send it to a file (> FILE)", "standard output")
    try:
        fd = out.fileno() if os.name == "posix" else None  # Windows consoles: click's own way
    except (AttributeError, ValueError, OSError):  # not a file (a test's capture)
        fd = None
    try:
        if fd is None:
            click.echo(text, nl=False)
            return
        data = text.encode(out.encoding or "utf-8")
        out.flush()
        write_all(fd, data)
    except UnicodeEncodeError as exc:
        bad = text[exc.start]
        raise OutputError(f"cannot be written: its encoding, {out.encoding}, has no {bad!r} (U+{ord(bad):04X}): "
                          "set PYTHONIOENCODING=utf-8, or send it to a file (> FILE)", "standard output") from None
    except BrokenPipeError:
        raise
    except OSError as exc:  # the disk it goes to is full (ENOSPC), a file size limit (EFBIG), EIO
        raise OutputError(f"cannot be written ({exc.strerror or exc})", "standard output") from None


if __name__ == "__main__":  # pragma: no cover
    main()
