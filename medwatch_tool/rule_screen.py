"""A fast first look at a batch draft: does it certainly pass every business rule?

The rules (schemas/rules.sch) run as compiled Schematron XSLT, and in a batch that was a
third of a report's time, though nearly every draft passes every rule. A batch's drafts
come in few *shapes* (which boxes hold values, how many products: see draft._layout), and
a shape fixes everything the rules' paths lead to; only the texts differ. So, once a
shape has been seen often enough, every rule test of rules.sch is translated, for that
shape, into one Python function over the draft's texts (XPath 1.0's own conversions and
comparisons, written out in xpath_subset's subset). A draft it passes has no finding;
any other draft (a rule fails, or the function cannot tell) goes through the XSLT, which
alone words the messages.

rules.sch stays the only list of rules: nothing here knows a rule. A test or context the
translation does not understand raises Unsupported, and the rules then run as before for
every draft (tests/test_rule_screen.py checks rules.sch translates whole, and that the
screen and the XSLT agree on many drafts).
"""
import ast
import itertools
import math
import re
from collections import Counter, OrderedDict
from functools import lru_cache
from typing import Callable, Dict, List, Optional

from lxml import etree

from .catalog import NS
from .rules import SCH, rules_document
from .safe_io import parse_xml_bytes
from .xpath_subset import Unsupported, parse_expression, parse_pattern

_MARK = re.compile("\ue000([0-9]+)\ue001")  # a leaf's text in a shape's skeleton: its index
SEEN_BEFORE_TRANSLATED = 32  # drafts of a shape that go through the XSLT before its screen is built


# --- XPath 1.0's functions and conversions, as libxml2 computes them ------------------------

_NUMBER = re.compile(r"[ \t\r\n]*(-?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?)([0-9]*))?[ \t\r\n]*\Z")


def number(text: str) -> float:
    """XPath number(string), as libxml2's xmlXPathStringEvalNumber reads it (digits summed
    left to right, at most 20 fraction digits after leading zeros, an exponent allowed)."""
    if text.isdigit() and text.isascii() and len(text) < 16:
        return float(int(text))  # (exact below 2**53, as the sum is)
    match = _NUMBER.match(text)
    if match is None:
        return math.nan
    sign, whole, fraction, exponent_sign, exponent = match.groups()
    if not whole and not fraction:
        return math.nan  # '', '-', '.', '-.' and 'e5'
    value = 0.0
    for digit in whole:
        value = value * 10 + (ord(digit) - 48)
    if fraction:
        zeros = len(fraction) - len(fraction.lstrip("0"))
        digits = fraction[zeros:zeros + 20]
        part = 0.0
        for digit in digits:
            part = part * 10 + (ord(digit) - 48)
        value += part / math.pow(10.0, zeros + len(digits))
    if sign:
        value = -value
    if exponent is not None and (exponent or exponent_sign is not None):
        power = min(int(exponent or "0"), 1000000)
        try:
            scale = math.pow(10.0, -power if exponent_sign == "-" else power)
        except OverflowError:  # (C's pow gives infinity: 1e400 is Infinity, 0e400 NaN)
            scale = math.inf
        value *= scale
    return value


def normalize_space(text: str) -> str:
    if text.isascii():  # (the ASCII whitespace Python splits on and XML holds is XPath's)
        return " ".join(text.split())
    return " ".join(part for part in re.split("[ \t\r\n]+", text) if part)


def _round(value: float) -> float:
    """XPath round(), as libxml2 computes it (not floor(x + 0.5), which rounds
    0.49999999999999994 and odd numbers above 2**52 up)."""
    if value != value or math.isinf(value):
        return value
    if -0.5 <= value < 0.5:
        return value * 0.0  # (-0 for a negative number)
    rounded = float(math.floor(value))
    return rounded + 1.0 if value - rounded >= 0.5 else rounded


def substring(text: str, start: float, length: Optional[float] = None) -> str:
    """XPath substring(): the characters at positions p with round(start) <= p <
    round(start) + round(length), counted from 1 (libxml2's xmlXPathSubstringFunction)."""
    first = _round(start)
    if length is None:
        if first != first or first == math.inf:
            return ""
        return text[int(max(first, 1.0)) - 1:]
    end = first + _round(length)
    if first != first or end != end:
        return ""
    low = max(first, 1.0)
    high = min(end, len(text) + 1.0)
    if high <= low:
        return ""
    return text[int(low) - 1:int(high) - 1]


def translate(text: str, source: str, target: str) -> str:
    return text.translate(_table(source, target))


@lru_cache(maxsize=64)
def _table_name(source: str, target: str) -> str:
    """A name the screens' code can use for translate()'s table from `source` to `target`."""
    name = f"_T{len(_TABLES)}"
    _TABLES[name] = _RUNTIME[name] = _CONSTANTS[name] = _table(source, target)
    return name


_TABLES: Dict[str, dict] = {}


@lru_cache(maxsize=64)
def _table(source: str, target: str) -> dict:
    table = {}
    for i, ch in enumerate(source):
        table.setdefault(ord(ch), target[i] if i < len(target) else None)
    return table


def number_as_text(value: float) -> str:
    """XPath string(number), for the numbers that print the same in every processor."""
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == int(value) and -2147483648 < value < 2147483647:  # (libxml2 prints 2**31 - 1 as 2.147483647e+09)
        return str(int(value))
    raise Unsupported("a fractional or large number turned into text")  # (the XSLT decides)


def divide(a: float, b: float) -> float:
    if b == 0:
        if a != a or a == 0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def modulo(a: float, b: float) -> float:
    if b == 0 or a != a or b != b or math.isinf(a):
        return math.nan
    return math.fmod(a, b)


def truth(value: float) -> bool:
    return value == value and value != 0


def _whole(rounding: Callable) -> Callable:
    return lambda value: value if value != value or math.isinf(value) else float(rounding(value))


def _before(a: str, b: str) -> str:
    at = a.find(b)
    return a[:at] if at >= 0 else ""


def _after(a: str, b: str) -> str:
    at = a.find(b)
    return a[at + len(b):] if at >= 0 else ""


_RUNTIME = {"_num": number, "_nsp": normalize_space, "_sub": substring, "_tr": translate,
            "_numtext": number_as_text, "_div": divide, "_mod": modulo, "_truth": truth,
            "_round": _round, "_floor": _whole(math.floor), "_ceil": _whole(math.ceil), "_before": _before,
            "_after": _after, "_float": float}


_CONSTANTS = dict(_RUNTIME)


# --- a shape: the elements of a draft whose texts are not known yet -------------------------

class Shape:
    """The elements of one draft shape in document order: names, parents, children, and
    where each one's string value comes from (a leaf's index in the draft's texts)."""

    def __init__(self, skeleton: bytes):
        root = parse_xml_bytes(skeleton, "<shape>")
        self.names: List[str] = []
        self.parent: List[Optional[int]] = []
        self.children: List[List[int]] = []
        self.value: List[str] = []  # Python source of each element's string value
        ids = {}
        for el in root.iter():
            if not isinstance(el.tag, str) or not el.tag.startswith(f"{{{NS}}}"):
                raise Unsupported("a node other than the report's elements")
            ids[el] = len(self.names)
            parent = el.getparent()
            self.parent.append(ids[parent] if parent is not None else None)
            if parent is not None:
                self.children[ids[parent]].append(ids[el])
            self.names.append(el.tag[len(NS) + 2:])
            self.children.append([])
            self.value.append(_joined("".join(el.itertext())))


def _joined(text: str) -> str:
    parts = []
    at = 0
    for mark in _MARK.finditer(text):
        if mark.start() > at:
            parts.append(repr(text[at:mark.start()]))
        parts.append(f"t[{mark.group(1)}]")
        at = mark.end()
    if at < len(text):
        parts.append(repr(text[at:]))
    return "(" + " + ".join(parts) + ")" if len(parts) > 1 else (parts[0] if parts else "''")


def skeleton_of(pieces: tuple) -> bytes:
    """A draft of the shape whose texts are their own indexes between two marks."""
    out = [pieces[0]]
    for i, piece in enumerate(pieces[1:]):
        out.append(f"\ue000{i}\ue001{piece}")
    return "".join(out).encode("utf-8")


# --- translating a rule's XPath for one shape ----------------------------------------------

class NodeSet:
    """Elements a path can reach, each with the Python condition under which it is in the set
    (None: always). The shape fixes the elements; only the predicates depend on the texts."""

    def __init__(self, members: Dict[int, Optional[str]]):
        self.members = OrderedDict(sorted((node, None if condition == "True" else condition)
                                          for node, condition in members.items() if condition != "False"))


class Scalar:
    """A string, number or boolean as Python source. `spaced`: for normalize-space(x), the
    source of x (its tests can be written without normalizing: see Translator)."""

    def __init__(self, kind: str, source: str, spaced: Optional[str] = None):
        self.kind, self.source, self.spaced = kind, _folded(source), spaced

    def literal(self) -> Optional[str]:
        """The string this is, when it is known now."""
        if self.kind == "string" and self.source[:1] in ("'", '"'):
            return _string_literal(self.source)
        return None

    def whole_number(self) -> Optional[int]:
        """The whole number this is, when it is known now."""
        if self.kind == "number" and _WHOLE.fullmatch(self.source):
            return int(float(self.source))
        return None


@lru_cache(maxsize=4096)
def _string_literal(source: str) -> Optional[str]:
    """The string a Python literal's source is (None if it is another value): read once per
    source, as _constant folds it (a shape's translation reads the same literals again)."""
    value = ast.literal_eval(source)
    return value if isinstance(value, str) else None


_WHOLE = re.compile(r"-?[0-9]+(?:\.0)?")
_XML_SPACE = " \t\r\n"  # XPath's whitespace (XML's)


def _folded(source: str) -> str:
    """An expression that reads no text of the draft, computed now (most of a shape's tests
    read boxes the shape does not have: `normalize-space('') != ''`)."""
    if source in ("True", "False") or "t[" in source or "today" in source or "placeholders" in source \
            or "let_" in source or "\x00" in source:  # (read at run time, or a mark of `reused`; `in`: fast)
        return source
    return _constant(source)


@lru_cache(maxsize=4096)
def _constant(source: str) -> str:
    try:
        value = eval(source, _CONSTANTS)  # (our own source: literals and the helpers above)
    except Exception:
        return source  # (the draft's run will meet it again and let the XSLT decide)
    if isinstance(value, float) and (value != value or math.isinf(value)):
        return f"float({str(value)!r})"
    return repr(value)


def _either(a: Optional[str], b: Optional[str]) -> Optional[str]:
    """Conditions (None: always) joined by or."""
    if a is None or b is None or a == "True" or b == "True":
        return None
    return b if a == "False" else a if b == "False" else f"({a} or {b})"


def _both(a: Optional[str], b: Optional[str]) -> Optional[str]:
    """Conditions (None: always) joined by and."""
    if a is None or a == "True":
        return b
    if b is None or b == "True":
        return a
    return "False" if "False" in (a, b) else f"({a} and {b})"


_PYTHON_OPERATOR = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class Translator:
    """Turns the XPath of rules.sch into Python source for one shape, with each expression's
    context element known (a rule fires on a given element of the shape)."""

    def __init__(self, shape: Shape, prefixes: Dict[str, str], variables: Dict[str, object],
                 reusable: Optional[Dict[str, str]] = None):
        self.shape = shape
        self.prefixes = prefixes
        self.variables = variables  # name -> Scalar or NodeSet
        self.tests: Dict[str, str] = {}  # a name test -> the local name it matches ("*": any)
        self.reusable = {} if reusable is None else reusable  # source -> its mark (see `reused`)

    def reused(self, source: str) -> str:
        """A conversion of the draft's texts (number(), normalize-space(), a text stripped) as
        a mark, which translate_shape writes out as one local computed at the screen's start
        where the screen uses it more than once (a date's number is compared by three rules),
        else in place. (A mark holds a NUL, which no literal's repr does.)"""
        if "t[" not in source or "let_" in source:
            return source  # (a constant is folded now; a let's value is computed where it is set)
        mark = self.reusable.get(source)
        if mark is None:
            mark = self.reusable[source] = f"\x00{len(self.reusable)}\x00"
        return mark

    # conversions (XPath 1.0 section 4)
    def boolean(self, value) -> str:
        if isinstance(value, NodeSet):
            if not value.members:
                return "False"
            if any(c is None for c in value.members.values()):
                return "True"
            return "(" + " or ".join(value.members.values()) + ")"
        if value.kind == "boolean":
            return value.source
        if value.kind == "number":
            return _folded(f"_truth({value.source})")
        if value.spaced is not None:  # normalize-space(x) is not empty where x has a non-space
            return _folded(f"({self.reused(f'{value.spaced}.strip({_XML_SPACE!r})')} != '')")
        return _folded(f"({value.source} != '')")

    def string(self, value) -> str:
        if isinstance(value, NodeSet):  # the first element in document order
            source = "''"
            for node, condition in reversed(value.members.items()):
                own = self.shape.value[node]
                source = own if condition is None else f"({own} if {condition} else {source})"
            return source
        if value.kind == "string":
            return value.source
        if value.kind == "number":
            return f"_numtext({value.source})"
        return f"('true' if {value.source} else 'false')"

    def number(self, value) -> str:
        if isinstance(value, NodeSet) or value.kind == "string":
            return self.reused(f"_num({self.string(value)})")
        if value.kind == "boolean":
            return f"(1.0 if {value.source} else 0.0)"
        return value.source

    # expressions
    def expression(self, tree, context: int):
        kind = tree[0]
        if kind == "literal":
            return Scalar("string", repr(tree[1]))
        if kind == "number":
            return Scalar("number", repr(tree[1]))
        if kind == "variable":
            if tree[1] not in self.variables:
                raise Unsupported(f"the variable ${tree[1]}")
            return self.variables[tree[1]]
        if kind == "negate":
            return Scalar("number", f"(-{self.number(self.expression(tree[1], context))})")
        if kind == "binary":
            return self.binary(tree[1], self.expression(tree[2], context), self.expression(tree[3], context))
        if kind == "union":
            a, b = self.expression(tree[1], context), self.expression(tree[2], context)
            if not (isinstance(a, NodeSet) and isinstance(b, NodeSet)):
                raise Unsupported("a union of values that are not node-sets")
            members = dict(a.members)
            for node, condition in b.members.items():
                members[node] = _either(members[node], condition) if node in members else condition
            return NodeSet(members)
        if kind == "path":
            return self.path(tree[1], context)
        if kind == "call":
            return self.call(tree[1], tree[2], context)
        raise Unsupported(kind)

    def binary(self, op: str, a, b):
        if op in ("and", "or"):
            left, right = self.boolean(a), self.boolean(b)
            decided, neutral = ("False", "True") if op == "and" else ("True", "False")
            if decided in (left, right):  # (no test has an effect: `x and false()` is false)
                return Scalar("boolean", decided)
            if left == neutral:
                return Scalar("boolean", right)
            if right == neutral:
                return Scalar("boolean", left)
            return Scalar("boolean", f"({left} {op} {right})")
        if op in ("+", "-", "*"):
            return Scalar("number", f"({self.number(a)} {op} {self.number(b)})")
        if op in ("div", "mod"):
            return Scalar("number", f"{'_div' if op == 'div' else '_mod'}({self.number(a)}, {self.number(b)})")
        return Scalar("boolean", self.compare(op, a, b))

    def compare(self, op: str, a, b) -> str:
        """XPath 1.0 section 3.4: a node-set compares as any of its elements would."""
        python = _PYTHON_OPERATOR[op]
        equality = op in ("=", "!=")
        if isinstance(a, NodeSet) and isinstance(b, NodeSet):
            tests = []
            for x, cx in a.members.items():
                for y, cy in b.members.items():
                    left, right = self.shape.value[x], self.shape.value[y]
                    if not equality:
                        left, right = self.reused(f"_num({left})"), self.reused(f"_num({right})")
                    tests.append(_both(_both(cx, cy), f"({left} {python} {right})"))
            return "(" + " or ".join(tests) + ")" if tests else "False"
        if isinstance(a, NodeSet) or isinstance(b, NodeSet):
            nodes, other = (a, b) if isinstance(a, NodeSet) else (b, a)
            if other.kind == "boolean":
                left, right = self.boolean(nodes), other.source
                if not equality:
                    left, right = f"(1.0 if {left} else 0.0)", f"(1.0 if {right} else 0.0)"
                pair = (left, right) if nodes is a else (right, left)
                return f"({pair[0]} {python} {pair[1]})"
            tests = []
            for x, cx in nodes.members.items():
                mine = self.shape.value[x]
                if other.kind == "number" or not equality:
                    mine, theirs = self.reused(f"_num({mine})"), self.number(other)
                else:
                    theirs = other.source
                pair = (mine, theirs) if nodes is a else (theirs, mine)
                tests.append(_both(cx, f"({pair[0]} {python} {pair[1]})"))
            return "(" + " or ".join(tests) + ")" if tests else "False"
        if equality and a.kind == b.kind == "string":
            for spaced, other in ((a, b), (b, a)):
                word = other.literal()
                if spaced.spaced is not None and word is not None and not any(c in word for c in _XML_SPACE):
                    # (normalize-space(x) = 'death' where x is 'death' between spaces, nothing else)
                    return f"({self.reused(f'{spaced.spaced}.strip({_XML_SPACE!r})')} {python} {other.source})"
        if equality:
            if "boolean" in (a.kind, b.kind):
                return f"({self.boolean(a)} {python} {self.boolean(b)})"
            if "number" in (a.kind, b.kind):
                return f"({self.number(a)} {python} {self.number(b)})"
            return f"({self.string(a)} {python} {self.string(b)})"
        return f"({self.number(a)} {python} {self.number(b)})"

    def path(self, steps, context: int) -> NodeSet:
        current: Dict[int, Optional[str]] = {context: None}
        for axis, test, predicates in steps:
            reached: Dict[int, Optional[str]] = {}
            for node, condition in NodeSet(current).members.items():
                for other in self.axis(axis, node, test):
                    if not self.matches(test, other):
                        continue
                    keep = condition
                    for predicate in predicates:
                        value = self.expression(predicate, other)
                        if isinstance(value, Scalar) and value.kind == "number":
                            raise Unsupported("a predicate by position")
                        keep = _both(keep, self.boolean(value))
                    reached[other] = _either(reached[other], keep) if other in reached else keep
            current = reached
        return NodeSet(current)

    def axis(self, axis: str, node: int, test: str) -> List[int]:
        shape = self.shape
        if axis == "child":
            if test == "node()":
                raise Unsupported("child::node() (texts are nodes too)")
            return shape.children[node]
        if axis == "self":
            return [node]
        found = [node] if axis == "ancestor-or-self" else []
        up = shape.parent[node]
        while up is not None:
            found.append(up)
            if axis == "parent":
                break
            up = shape.parent[up]
        else:  # above the draft: the batch's group, which no name in the drafts' namespace matches
            if test in ("*", "node()"):
                raise Unsupported("a path leaving the draft (a batch checks many in one document)")
        return found

    def matches(self, test: str, node: int) -> bool:
        name = self.tests.get(test)
        if name is None:
            prefix, _, name = test.rpartition(":")
            if test not in ("node()", "*") and self.prefixes.get(prefix) != NS:
                raise Unsupported(f"the name test {test}")
            name = self.tests[test] = "*" if test in ("node()", "*") else name
        return name == "*" or self.shape.names[node] == name

    def call(self, name: str, args: list, context: int):
        def arg(i):
            return self.expression(args[i], context)

        here = NodeSet({context: None})
        count = len(args)
        if name in ("true", "false") and count == 0:
            return Scalar("boolean", "True" if name == "true" else "False")
        if name == "not" and count == 1:
            inner = self.boolean(arg(0))
            return Scalar("boolean", {"True": "False", "False": "True"}.get(inner, f"(not {inner})"))
        if name == "boolean" and count == 1:
            return Scalar("boolean", self.boolean(arg(0)))
        if name in ("string", "normalize-space", "string-length", "number") and count <= 1:
            value = arg(0) if count else here
            if name == "number":
                return Scalar("number", self.number(value))
            text = self.string(value)
            if name == "string":
                return Scalar("string", text)
            if name == "normalize-space":
                return Scalar("string", self.reused(f"_nsp({text})"), spaced=text)
            return Scalar("number", f"_float(len({text}))")
        if name == "concat" and count >= 2:
            return Scalar("string", "(" + " + ".join(self.string(arg(i)) for i in range(count)) + ")")
        if name in ("contains", "starts-with", "substring-before", "substring-after") and count == 2:
            a, b = self.string(arg(0)), self.string(arg(1))
            form = {"contains": f"({b} in {a})", "starts-with": f"{a}.startswith({b})",
                    "substring-before": f"_before({a}, {b})", "substring-after": f"_after({a}, {b})"}[name]
            return Scalar("boolean" if name in ("contains", "starts-with") else "string", form)
        if name == "substring" and count in (2, 3):
            text, numbers = self.string(arg(0)), [arg(i) for i in range(1, count)]
            start = numbers[0].whole_number() if isinstance(numbers[0], Scalar) else None
            length = numbers[1].whole_number() if count == 3 and isinstance(numbers[1], Scalar) else None
            if start is not None and start >= 1 and (count == 2 or (length is not None and length >= 0)):
                end = "" if count == 2 else start - 1 + length
                return Scalar("string", f"{text}[{start - 1}:{end}]")  # (positions start .. start+length-1)
            rest = ", ".join(self.number(n) for n in numbers)
            return Scalar("string", f"_sub({text}, {rest})")
        if name == "translate" and count == 3:
            text, source, target = self.string(arg(0)), arg(1), arg(2)
            source_text = source.literal() if isinstance(source, Scalar) else None
            target_text = target.literal() if isinstance(target, Scalar) else None
            if source_text is not None and target_text is not None:
                if len(source_text) == 1 and not target_text:
                    return Scalar("string", f"{text}.replace({source_text!r}, '')")
                return Scalar("string", f"{text}.translate({_table_name(source_text, target_text)})")
            return Scalar("string", f"_tr({text}, {self.string(source)}, {self.string(target)})")
        if name in ("local-name", "name") and count <= 1:
            value = arg(0) if count else here
            if not isinstance(value, NodeSet):
                raise Unsupported(f"{name}() of a value that is not a node-set")
            source = "''"
            for node, condition in reversed(value.members.items()):
                own = repr(self.shape.names[node])  # (the drafts' namespace is the default: no prefix)
                source = own if condition is None else f"({own} if {condition} else {source})"
            return Scalar("string", source)
        if name == "count" and count == 1:
            value = arg(0)
            if not isinstance(value, NodeSet):
                raise Unsupported("count() of a value that is not a node-set")
            terms = ["1" if c is None else f"(1 if {c} else 0)" for c in value.members.values()]
            return Scalar("number", f"_float({' + '.join(terms) or '0'})")
        if name in ("floor", "ceiling", "round") and count == 1:
            helper = {"floor": "_floor", "ceiling": "_ceil", "round": "_round"}[name]
            return Scalar("number", f"{helper}({self.number(arg(0))})")
        raise Unsupported(f"the function {name}() with {count} argument(s)")


# --- rules.sch, read once ----------------------------------------------------------------

class Rules:
    """rules.sch's patterns as the translation needs them: per pattern, its rules in order,
    each (context pattern, [(let name, expression)], [(kind, test)])."""

    def __init__(self, document: etree._Element, parameters: Dict[str, str]):
        self.prefixes = {ns.get("prefix"): ns.get("uri") for ns in document.iterfind(f"{SCH}ns")}
        self.parameters = {}
        for let in document.iterfind(f"{SCH}let"):
            name = let.get("name")
            if name not in parameters:
                raise Unsupported(f"the schema's variable ${name}")
            self.parameters[name] = parameters[name]
        self.patterns = []
        for pattern in document.iterfind(f"{SCH}pattern"):
            if pattern.get("abstract") or pattern.get("is-a") or pattern.find(f"{SCH}let") is not None:
                raise Unsupported("an abstract pattern or a pattern's variable")
            rules = []  # (alternatives, lets, tests, names its context's last steps test)
            for rule in pattern.iterfind(f"{SCH}rule"):
                if rule.get("abstract") or rule.find(f"{SCH}extends") is not None:
                    raise Unsupported("an abstract rule")
                lets = [(let.get("name"), parse_expression(let.get("value"))) for let in rule.iterfind(f"{SCH}let")]
                tests = [(check.tag[len(SCH):], parse_expression(check.get("test")))
                         for check in rule if check.tag in (f"{SCH}assert", f"{SCH}report")]
                alternatives = parse_pattern(rule.get("context"))
                last = {steps[-1][1] for steps in alternatives}
                names = None if any(name in ("*", "node()") or name.endswith(":*") for name in last) \
                    else {name.rpartition(":")[2] for name in last}
                rules.append((alternatives, lets, tests, names))
            self.patterns.append(rules)


def translate_shape(rules: Rules, shape: Shape) -> Callable:
    """`screen(t, today, placeholders)` for one shape: False when the draft whose texts are
    `t` passes every assert of every rule firing on it, True when one may fail."""
    lines = ["def screen(t, today, placeholders):"]
    counter = itertools.count()
    base = {name: Scalar(kind, name) for name, kind in rules.parameters.items()}
    reusable: Dict[str, str] = {}
    for pattern in rules.patterns:
        for node in range(len(shape.names)):
            translator = Translator(shape, rules.prefixes, base, reusable)
            branches = []
            for alternatives, lets, tests, names in pattern:
                if names is not None and shape.names[node] not in names:
                    continue
                condition = _fires(translator, alternatives, node)
                if condition == "False":
                    continue
                branches.append((condition, lets, tests))
                if condition is None:
                    break  # (the first rule whose context matches fires; later ones never do)
            for i, (condition, lets, tests) in enumerate(branches):
                keyword = "if" if i == 0 else "elif"
                lines.append(f"    {keyword} {condition or 'True'}:")
                variables = dict(base)
                translator = Translator(shape, rules.prefixes, variables, reusable)
                for name, tree in lets:
                    value = translator.expression(tree, node)
                    if isinstance(value, Scalar):
                        local = f"let_{next(counter)}"
                        lines.append(f"        {local} = {value.source}")
                        value = Scalar(value.kind, local)
                    variables[name] = value
                checks = []
                for kind, tree in tests:
                    passes = translator.boolean(translator.expression(tree, node))
                    checks.append(passes if kind == "assert" else f"(not {passes})")
                checks = [check for check in checks if check != "True"]
                if "False" in checks:
                    lines.append("        return True")
                elif checks:
                    lines.append(f"        if not ({' and '.join(checks)}):")
                    lines.append("            return True")
                else:
                    lines.append("        pass")
    lines.append("    return False")
    source = _marks_written_out("\n".join(lines), reusable)
    namespace = dict(_RUNTIME)
    exec(compile(source, "<rule screen>", "exec"), namespace)
    namespace["screen"].source = source  # (to read when in doubt)
    return namespace["screen"]


_MARK_OF_REUSED = re.compile("\x00([0-9]+)\x00")


def _marks_written_out(source: str, reusable: Dict[str, str]) -> str:
    """The screen's source with each mark of Translator.reused written out: a local computed
    at the start when the screen uses the value more than once, else the value in place."""
    if not reusable:
        return source
    values = {mark[1:-1]: value for value, mark in reusable.items()}
    head, _, body = source.partition("\n")
    uses: Counter = Counter()

    def count(text: str) -> None:  # (the marks in a value count once, where the value is written)
        for number in _MARK_OF_REUSED.findall(text):
            uses[number] += 1
            if uses[number] == 1:
                count(values[number])

    count(body)  # (a value only the translation's discarded branches made is not written at all)
    shared = {number for number, used in uses.items() if used > 1}

    def written(text: str) -> str:
        return _MARK_OF_REUSED.sub(lambda m: f"_r{m.group(1)}" if m.group(1) in shared
                                   else written(values[m.group(1)]), text)

    start = [f"    _r{number} = {written(values[number])}" for number in sorted(shared, key=int)]
    return "\n".join([head, *start, written(body)])  # (a value's marks are older than it: defined first)


def _fires(translator: Translator, alternatives: list, node: int) -> Optional[str]:
    """The condition under which a rule's context pattern matches `node`: None (always),
    "False" (never, whatever the texts) or Python source."""
    shape = translator.shape
    result = "False"
    for steps in alternatives:
        condition, here = None, node
        for _, test, predicates in reversed(steps):
            if here is None:
                if test in ("*", "node()"):
                    raise Unsupported("a pattern reaching above the draft")
                condition = "False"
                break
            if not translator.matches(test, here):
                condition = "False"
                break
            for predicate in predicates:
                value = translator.expression(predicate, here)
                if isinstance(value, Scalar) and value.kind == "number":
                    raise Unsupported("a pattern's predicate by position")
                condition = _both(condition, translator.boolean(value))
            here = shape.parent[here]
        if condition is None:
            return None
        if condition != "False":
            result = condition if result == "False" else f"({result} or {condition})"
    return result


# --- in a batch ------------------------------------------------------------------------

_CANNOT = object()  # a shape (or rules.sch) the translation does not understand
_shapes: Dict[int, list] = {}  # id(layout) -> [layout, drafts seen, screen, or _CANNOT]


@lru_cache(maxsize=1)
def screen_rules():
    """rules.sch read for translation (once per process), or _CANNOT."""
    try:
        return Rules(rules_document(), {"today": "number", "placeholders": "string"})
    except Exception:  # (Unsupported, or a rule nested too deep to parse: the XSLT runs every rule, as before)
        return _CANNOT


def screen_for(layout: tuple):
    """The screen of a draft shape (draft._layout's result), or None while the shape has
    been seen fewer than SEEN_BEFORE_TRANSLATED times or cannot be translated. Translating
    takes a few milliseconds: a shape that comes up a few times only is not worth it."""
    entry = _shapes.get(id(layout))
    if entry is None or entry[0] is not layout:
        if len(_shapes) >= 1024:  # (bounded, as draft._layout's cache is: memory flat in N)
            _shapes.clear()
        entry = _shapes[id(layout)] = [layout, 0, None]
    if entry[2] is None:
        entry[1] += 1
        if entry[1] < SEEN_BEFORE_TRANSLATED:
            return None
        entry[2] = _translated(layout[0])
    return None if entry[2] is _CANNOT else entry[2]


def _translated(pieces: tuple):
    rules = screen_rules()
    if rules is _CANNOT:
        return _CANNOT
    try:
        return translate_shape(rules, Shape(skeleton_of(pieces)))
    except Exception:  # (Unsupported, or a translation that fails otherwise, e.g. Python refusing an
        return _CANNOT  # expression nested too deep, must not cost the shape's rows: the XSLT decides them)


def certainly_passing(leaves: List[tuple], day: str, placeholders: str) -> List[bool]:
    """Per draft (its draft.draft_document leaves), whether it certainly passes every rule
    on `day` (YYYYMMDD); False also where the screen cannot tell: the XSLT decides those."""
    today = float(day)
    out = []
    for layout, texts in leaves:
        screen = screen_for(layout)
        try:
            out.append(screen is not None and not screen(texts, today, placeholders))
        except Exception:  # (a value the translation cannot compute, e.g. 1 div 0: the XSLT will)
            out.append(False)
    return out
