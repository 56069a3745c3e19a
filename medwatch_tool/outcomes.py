"""What became of each row of a batch, and the counts the run ends with.

Shared by the workers (which fill in outcomes), the journal (which stores them and counts
what an earlier run already did) and the run itself (which prints the summary line).
"""
from collections import Counter
from dataclasses import dataclass, field
from typing import List, Optional

from .catalog import load_catalog
from .paths import without_indexes


@dataclass
class Outcome:
    """What became of one input row."""

    row: int
    file: Optional[str]          # the draft's file name, or None when not drafted
    report_id: str = ""
    problems: List[dict] = field(default_factory=list)
    name: str = ""               # the draft name the row claimed (also when it was not drafted)

    def __reduce__(self):  # pickled as its fields: each row's outcome comes back from a worker
        return Outcome, (self.row, self.file, self.report_id, self.problems, self.name)

    @property
    def drafted(self) -> bool:
        return self.file is not None

    def add_problem(self, severity, message, path=None, box="", label="", rule=""):
        """Note a problem of this row, as one line of problems.csv will show it."""
        self.problems.append({"row": self.row, "report_id": self.report_id, "path": path or "",
                              "box": box, "label": label, "severity": severity,
                              "message": message, "rule": rule})


@dataclass
class Summary:
    drafted: int = 0
    failed: int = 0
    warnings: int = 0
    skipped: int = 0
    interrupted: int = 0       # the signal that stopped it (Ctrl-C, SIGTERM, SIGHUP): what is done is kept
    cannot_write: str = ""     # stopped because the output folder cannot be written (disk full...)
    worker_lost: str = ""      # stopped because a worker process was killed (out of memory...)
    cannot_read: str = ""      # stopped because the input could not be read further (I/O error...)
    kept: int = 0              # rows the journal holds at the end: what --resume will not redo
    superseded: object = None  # --update's end: what it moved aside (update_run.Moved)
    cannot_move: str = ""      # stopped because those drafts could not be moved aside
    no_problems_file: str = ""  # why problems.csv could not be written at the end ("" when it was)
    # rows with an error, per field (its path without indexes; "" for a row as a whole): a
    # few hundred at most, however long the input; the form boxes each was seen at (3500,
    # 3500B), and the labels (each form names a box in its own words)
    errors_at: Counter = field(default_factory=Counter)
    boxes_of: dict = field(default_factory=dict)
    labels_of: dict = field(default_factory=dict)

    @property
    def stopped(self) -> str:
        """Why the run stopped before its end ("" when it did not): before the input's end, or
        (an update) before moving aside the drafts the input no longer gives."""
        return self.cannot_write or self.cannot_read or self.worker_lost or self.cannot_move

    def count(self, entry: dict):
        """Count a finished row (an outcome's journal entry: its file and problems)."""
        if entry["file"]:
            self.drafted += 1
        else:
            self.failed += 1
            fields = {}  # (in the problems' order: ties are told in the order first met, run after run)
            for p in entry["problems"]:
                if p["severity"] == "error":
                    # one column's problem, whichever entry (suspect_product[2]/dose: suspect_product/dose)
                    key = without_indexes(p["path"] or "") if p["label"] else ""
                    fields.setdefault(key, (p["box"], p["label"]))
            for key, (box, label) in fields.items():
                self.errors_at[key] += 1
                for seen, one in ((self.boxes_of.setdefault(key, []), box), (self.labels_of.setdefault(key, []), label)):
                    if one not in seen:
                        seen.append(one)
        self.warnings += sum(1 for p in entry["problems"] if p["severity"] == "warning")

    def line(self, unit: str = "row") -> str:
        """The summary line; `unit` is how the input names its rows (a JSON Lines file: line)."""
        text = (f"{self.drafted} drafted, {self.failed} with errors, "
                f"{self.warnings} warning{'s' * (self.warnings != 1)}")
        return text + (f" ({self.skipped} {unit}{'s' * (self.skipped != 1)} done by an earlier run, counted in)"
                       if self.skipped else "")

    def worst(self, shown: int = 3, unit: str = "row") -> str:
        """Where most failed rows fail ('D2 Dose unit (812 rows), B3 Date of event (40 rows)'):
        a column written wrongly throughout shows at once, before problems.csv is opened."""
        places = []
        for key, rows in self.errors_at.most_common(shown):
            box = "/".join(b for b in self.boxes_of.get(key, []) if b not in ("", "—"))  # A2/E3: both forms' rows
            labels = self.labels_of.get(key, [])
            label = labels[0] if len(labels) == 1 else load_catalog().describe(key)[1]  # (both: Form 3500's words)
            where = " ".join(x for x in (box, label) if x) or f"the {unit} as a whole"
            places.append(f"{where} ({rows:,} {unit}{'s' * (rows != 1)})")
        return ", ".join(places)
