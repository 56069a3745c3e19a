"""A parser for the part of XPath 1.0 that rules.sch writes, for rule_screen.py.

Parses an expression (or an XSLT match pattern, a union of paths) into a small tree of
tuples. Anything outside the subset (an axis, node test or construct not listed here)
raises Unsupported: the caller then leaves the rule to the XSLT engine, never guesses.
"""
import re
from typing import List, Tuple


class Unsupported(Exception):
    """An expression outside the subset this module understands."""


_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>'[^']*'|"[^"]*")
    | (?P<number>\d+(?:\.\d*)?|\.\d+)
    | (?P<op>!=|<=|>=|//|::|\.\.|[=<>()\[\],|/+\-*@.$])
    | (?P<name>[A-Za-z_][\w.\-]*(?::[A-Za-z_*][\w.\-]*)?|\*)
    )""", re.VERBOSE)

AXES = {"child", "parent", "self", "ancestor", "ancestor-or-self"}
OPERATOR_NAMES = {"and", "or", "div", "mod"}


def tokens(text: str) -> List[Tuple[str, str]]:
    out, at = [], 0
    text = text.rstrip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise Unsupported(f"cannot read {text[at:at + 20]!r}")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        at = match.end()
    return out


class _Parser:
    """Recursive descent over XPath 1.0's grammar (the spec's productions, in order of
    precedence: or, and, equality, relational, additive, multiplicative, unary, union, path)."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokens(text)
        self.at = 0

    def peek(self, offset: int = 0):
        at = self.at + offset
        return self.tokens[at] if at < len(self.tokens) else (None, None)

    def take(self, value=None):
        kind, text = self.peek()
        if kind is None or (value is not None and text != value):
            raise Unsupported(f"expected {value!r} in {self.text!r}")
        self.at += 1
        return kind, text

    def at_operator(self, *names) -> bool:
        """An operator name counts as one only where an operator can stand (XPath 3.7)."""
        kind, text = self.peek()
        if kind == "op":
            return text in names
        return kind == "name" and text in names and text in OPERATOR_NAMES

    def done(self):
        if self.at != len(self.tokens):
            raise Unsupported(f"unexpected {self.peek()[1]!r} in {self.text!r}")

    def binary(self, lower, *names):
        left = lower()
        while self.at_operator(*names):
            op = self.take()[1]
            left = ("binary", op, left, lower())
        return left

    def expr(self):
        return self.binary(self.and_expr, "or")

    def and_expr(self):
        return self.binary(self.equality, "and")

    def equality(self):
        return self.binary(self.relational, "=", "!=")

    def relational(self):
        return self.binary(self.additive, "<", "<=", ">", ">=")

    def additive(self):
        return self.binary(self.multiplicative, "+", "-")

    def multiplicative(self):
        return self.binary(self.unary, "*", "div", "mod")  # (`*` here is an operator: XPath 3.7)

    def unary(self):
        if self.peek() == ("op", "-"):
            self.take()
            return ("negate", self.unary())
        return self.union()

    def union(self):
        left = self.path_expr()
        while self.peek() == ("op", "|"):
            self.take()
            left = ("union", left, self.path_expr())
        return left

    def path_expr(self):
        kind, text = self.peek()
        if kind in ("string", "number") or (kind == "op" and text in ("(", "$")) or self._at_function():
            primary = self.primary()
            predicates = self.predicates()
            if predicates:
                raise Unsupported(f"a filter expression in {self.text!r}")
            if self.peek() in (("op", "/"), ("op", "//")):
                raise Unsupported(f"a path after an expression in {self.text!r}")
            return primary
        return self.location_path()

    def _at_function(self) -> bool:
        kind, text = self.peek()
        return (kind == "name" and self.peek(1) == ("op", "(")
                and text not in ("node", "text", "comment", "processing-instruction"))

    def primary(self):
        kind, text = self.take()
        if kind == "string":
            return ("literal", text[1:-1])
        if kind == "number":
            return ("number", float(text))
        if text == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if text == "$":
            return ("variable", self.take()[1])
        self.take("(")
        args = []
        if self.peek() != ("op", ")"):
            args.append(self.expr())
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.expr())
        self.take(")")
        return ("call", text, args)

    def location_path(self):
        kind, text = self.peek()
        if kind == "op" and text in ("/", "//"):
            raise Unsupported(f"an absolute path in {self.text!r} (a batch checks many drafts in one document)")
        steps = [self.step()]
        while self.peek() in (("op", "/"), ("op", "//")):
            if self.take()[1] == "//":
                raise Unsupported(f"'//' in {self.text!r}")
            steps.append(self.step())
        return ("path", steps)

    def step(self):
        kind, text = self.peek()
        if (kind, text) == ("op", "."):
            self.take()
            return ("self", "node()", [])
        if (kind, text) == ("op", ".."):
            self.take()
            return ("parent", "node()", [])
        axis = "child"
        if kind == "op" and text == "@":
            raise Unsupported(f"an attribute in {self.text!r}")
        if kind == "name" and self.peek(1) == ("op", "::"):
            axis = self.take()[1]
            self.take("::")
            if axis not in AXES:
                raise Unsupported(f"the {axis} axis in {self.text!r}")
        kind, text = self.take()
        if kind == "op" and text == "*":
            test = "*"
        elif kind != "name":
            raise Unsupported(f"a node test {text!r} in {self.text!r}")
        elif self.peek() == ("op", "("):
            self.take("(")
            self.take(")")
            if text != "node":
                raise Unsupported(f"{text}() in {self.text!r}")
            test = "node()"
        else:
            test = text
        return (axis, test, self.predicates())

    def predicates(self):
        found = []
        while self.peek() == ("op", "["):
            self.take()
            found.append(self.expr())
            self.take("]")
        return found


def parse_expression(text: str):
    parser = _Parser(text)
    tree = parser.expr()
    parser.done()
    return tree


def parse_pattern(text: str) -> list:
    """An XSLT match pattern as its alternatives, each a list of (axis, test, predicates)
    steps, each step the parent of the next (only the child axis: `a/b[p]`)."""
    tree = parse_expression(text)
    alternatives = []

    def collect(node):
        if node[0] == "union":
            collect(node[1])
            collect(node[2])
        elif node[0] == "path":
            alternatives.append(node[1])
        else:
            raise Unsupported(f"not a pattern: {text!r}")

    collect(tree)
    for steps in alternatives:
        for axis, test, _ in steps:
            if axis != "child" or test == "node()":
                raise Unsupported(f"the step {axis}::{test} in the pattern {text!r}")
    return alternatives
