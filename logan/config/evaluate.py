"""Read a Python training config as data: the file is parsed with `ast` and never executed.

mmengine, mmcv and XTuner configs are Python files; running one would run whatever it imports.
Here only literals, earlier assignments, safe arithmetic and a few pure builtins are evaluated;
anything else (unknown calls, attribute access, comprehensions, `{{_base_.x}}`) becomes the
`UNKNOWN` sentinel for that field alone, so one odd line never hides the sane fields around it.
"""

from __future__ import annotations

import ast
import copy
import io
import math
import re
import tokenize
from collections.abc import Callable
from pathlib import Path
from typing import Any

from logan.errors import ConfigError

# Bigger files are not configs (the largest of 3,000 OpenMMLab and XTuner configs is under 40 KB);
# parsing one would cost seconds and hundreds of MB of syntax tree.
MAX_CONFIG_CHARS = 1_000_000
# Nesting deeper than this evaluates to UNKNOWN (Python's own recursion limit is 1000 frames
# and each level here costs about two).
MAX_DEPTH = 150
# Total expression nodes evaluated per file: a bound on the work a hostile file can cause.
MAX_NODES = 500_000
# Integers larger than this many bits (and exponents above MAX_EXPONENT) are not config values.
MAX_INT_BITS = 4096
MAX_EXPONENT = 4096
# Longest string / sequence a single operation may build.
MAX_LEN = 1_000_000
# Elements (sequence items, string characters, dict entries) all operations of one file may build
# together: a config holds a few thousand; 20 million is ~1 GB of Python objects at most.
MAX_TOTAL_CELLS = 20_000_000
# round(x, n) with |n| above this builds 10**|n| first: no config rounds to 400 digits.
MAX_ROUND_DIGITS = 400


class _Unknown:
    """The value of a field that cannot be known without running code."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        # A truth test on an unknown value is a bug in the caller; make it loud-ish but harmless.
        return False

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


class Symbol(str):
    """A name imported by the config (`from mmengine.optim import CosineAnnealingLR`).

    It compares equal to its short name, as XTuner configs use `type=CosineAnnealingLR`, and keeps
    the import path in `qualname` ('mmengine.optim.CosineAnnealingLR').
    """

    qualname: str

    def __new__(cls, name: str, qualname: str | None = None) -> Symbol:
        obj = super().__new__(cls, name)
        obj.qualname = qualname or name
        return obj


def is_unknown(value: Any) -> bool:
    """True when `value` is UNKNOWN or a container holding UNKNOWN anywhere inside."""
    stack = [value]
    seen = 0
    while stack:
        item = stack.pop()
        seen += 1
        if item is UNKNOWN or seen > MAX_NODES:
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
    return False


def _is_template(text: str) -> bool:
    """`{{ ... }}` in a string: a mmengine template, filled from another file (linear time)."""
    start = text.find("{{")
    return start >= 0 and text.find("}}", start + 2) >= 0


class _TooDeep(Exception):
    """Internal: nesting or work budget exceeded."""


class Refused(Exception):
    """A bound on the evaluator's work or memory was crossed: the config is refused, not read."""


# A `with read_base(): from .x import *` hook: (module with leading dots, imported names as
# (name, asname) pairs, '*' for all) -> the names to bind.
Importer = Callable[[str, list[tuple[str, str | None]]], dict[str, Any]]


class _Evaluator:
    """Evaluates one module's statements into a namespace of plain Python values."""

    _BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)

    def __init__(
        self,
        names: dict[str, Any] | None = None,
        importer: Importer | None = None,
        name: str = "<config text>",
    ) -> None:
        self.name = name
        # The caller's dict itself: inheritance binds `_base_` into it after parsing.
        self.names: dict[str, Any] = names if names is not None else {}
        self.assigned: dict[str, Any] = {}
        self.nodes = 0
        self.cells = 0
        self.importer = importer

    def spend(self, cells: int) -> None:
        """Count `cells` new elements against the file's budget before building them."""
        self.cells += cells
        if self.cells > MAX_TOTAL_CELLS:
            raise Refused(f"builds more than {MAX_TOTAL_CELLS:,} values in all")

    # -- statements ---------------------------------------------------------------------------
    def run(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            try:
                self.statement(stmt)
            except Refused as exc:
                raise ConfigError(
                    f"{self.name}, line {stmt.lineno}: refused, the config {exc}; a training "
                    "config needs none of that, so check where this file came from."
                ) from None

    def statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.If):
            test = self.safe_eval(stmt.test)
            if isinstance(test, (bool, int, float, str)) and test is not UNKNOWN:
                self.run(stmt.body if test else stmt.orelse)
            else:
                self._forget(stmt)
        elif isinstance(stmt, ast.With) and self._is_read_base(stmt):
            for node in stmt.body:
                if isinstance(node, ast.ImportFrom) and self.importer is not None:
                    module = "." * node.level + (node.module or "")
                    pairs = [(a.name, a.asname) for a in node.names]
                    for local, value in self.importer(module, pairs).items():
                        self.names[local] = value
                        self.assigned[local] = value
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            self._method_statement(stmt.value)
        elif isinstance(stmt, ast.Assign):
            value = self.safe_eval(stmt.value)
            for target in stmt.targets:
                self.bind(target, value)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self.bind(stmt.target, self.safe_eval(stmt.value))
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            current = self.names.get(stmt.target.id, UNKNOWN)
            right = self.safe_eval(stmt.value)
            self.bind(stmt.target, self.safe_binop(stmt.op, current, right))
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                local = alias.asname or alias.name.split(".")[0]
                qual = alias.name if alias.asname else alias.name.split(".")[0]
                self.names[local] = Symbol(local, qual)
        elif isinstance(stmt, ast.ImportFrom):
            module = "." * stmt.level + (stmt.module or "")
            for alias in stmt.names:
                if alias.name == "*":
                    continue
                local = alias.asname or alias.name
                self.names[local] = Symbol(alias.name, f"{module}.{alias.name}".lstrip("."))
        elif isinstance(stmt, (ast.For, ast.While, ast.With, ast.Try)):
            self._forget(stmt)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.names[stmt.name] = UNKNOWN

    def _forget(self, stmt: ast.stmt) -> None:
        """Control flow that is not followed: the names it assigns become unknown."""
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.names[node.id] = UNKNOWN
                self.assigned[node.id] = UNKNOWN

    @staticmethod
    def _is_read_base(stmt: ast.With) -> bool:
        expr = stmt.items[0].context_expr if len(stmt.items) == 1 else None
        return (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Name)
            and expr.func.id == "read_base"
        )

    def _method_statement(self, call: ast.Call) -> None:
        """`cfg.update(...)`, `cfg.merge(...)`, `lst.append(...)`: the mutations configs use."""
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr not in _MUTATORS:
            return
        target = self.safe_eval(func.value)
        args = [self.safe_eval(a) for a in call.args if not isinstance(a, ast.Starred)]
        kwargs = {kw.arg: self.safe_eval(kw.value) for kw in call.keywords if kw.arg}
        if func.attr in ("update", "merge") and isinstance(target, dict):
            other: dict[Any, Any] = {}
            if len(args) == 1 and isinstance(args[0], dict):
                other.update(args[0])
            elif args:
                return
            other.update(kwargs)
            if func.attr == "update":
                config_dict_update(target, other)
            else:
                merged = merge_into(other, target)
                target.clear()
                target.update(merged)
        elif func.attr == "append" and isinstance(target, list) and len(args) == 1:
            self.spend(1)
            target.append(args[0])
        elif func.attr == "extend" and isinstance(target, list) and len(args) == 1:
            if isinstance(args[0], (list, tuple)):
                self.spend(len(args[0]))
                target.extend(args[0])

    def bind(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.names[target.id] = value
            self.assigned[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            ok = isinstance(value, (tuple, list)) and len(value) == len(elts)
            for i, elt in enumerate(elts):
                self.bind(elt, value[i] if ok else UNKNOWN)
        elif isinstance(target, ast.Attribute):
            # `_base_.optim_wrapper.type = 'AmpOptimWrapper'`: mmengine's ConfigDict setattr.
            owner = self.safe_eval(target.value)
            if isinstance(owner, dict):
                owner[target.attr] = value
        elif isinstance(target, ast.Subscript) and not isinstance(target.slice, ast.Slice):
            owner = self.safe_eval(target.value)
            key = self.safe_eval(target.slice)
            if isinstance(owner, dict) and _hashable(key):
                owner[key] = value
            elif (
                isinstance(owner, list) and isinstance(key, int) and -len(owner) <= key < len(owner)
            ):
                owner[key] = value

    # -- expressions --------------------------------------------------------------------------
    def safe_eval(self, node: ast.expr) -> Any:
        try:
            return self.eval(node, 0)
        except (_TooDeep, RecursionError, MemoryError):
            return UNKNOWN

    def eval(self, node: ast.AST, depth: int) -> Any:
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            raise _TooDeep
        d = depth + 1
        if isinstance(node, ast.Constant):
            const = node.value
            if isinstance(const, str) and _is_template(const):
                return UNKNOWN  # `{{_base_.x}}`: filled in by mmengine from another file
            if const is Ellipsis:
                return UNKNOWN
            return const
        if isinstance(node, ast.Name):
            return self.names.get(node.id, UNKNOWN)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            if len(node.elts) > MAX_LEN:
                return UNKNOWN
            items = self._items(node.elts, d)
            self.spend(len(items) if isinstance(items, list) else 0)
            if items is UNKNOWN:
                return UNKNOWN
            if isinstance(node, ast.List):
                return items
            if isinstance(node, ast.Tuple):
                return tuple(items)
            return self._make_set(items)
        if isinstance(node, ast.Dict):
            out: dict[Any, Any] = {}
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:  # {**other}
                    inner = self.eval(value, d)
                    if not isinstance(inner, dict):
                        return UNKNOWN
                    self.spend(len(inner))
                    out.update(inner)
                    continue
                self.spend(1)
                k = self.eval(key, d)
                if not _hashable(k):
                    return UNKNOWN
                out[k] = self.eval(value, d)
            return out
        if isinstance(node, ast.BinOp):
            return self.safe_binop(node.op, self.eval(node.left, d), self.eval(node.right, d))
        if isinstance(node, ast.UnaryOp):
            return _unary(node.op, self.eval(node.operand, d))
        if isinstance(node, ast.BoolOp):
            values = [self.eval(v, d) for v in node.values]
            if any(v is UNKNOWN for v in values):
                return UNKNOWN
            result = values[0]
            for v in values[1:]:
                if isinstance(node.op, ast.And):
                    result = result and v
                else:
                    result = result or v
            return result
        if isinstance(node, ast.Compare):
            return self._compare(node, d)
        if isinstance(node, ast.IfExp):
            test = self.eval(node.test, d)
            if test is UNKNOWN or not isinstance(test, (bool, int, float, str)):
                return UNKNOWN
            return self.eval(node.body if test else node.orelse, d)
        if isinstance(node, ast.Subscript):
            return self._subscript(node, d)
        if isinstance(node, ast.Attribute):
            base = self.eval(node.value, d)
            if isinstance(base, Symbol):
                name = f"{base}.{node.attr}"
                return Symbol(name, f"{base.qualname}.{node.attr}")
            if isinstance(base, dict):
                # mmengine's ConfigDict: `_base_.model.backbone` reads keys as attributes.
                return base.get(node.attr, UNKNOWN)
            return UNKNOWN
        if isinstance(node, ast.Call):
            return self._call(node, d)
        if isinstance(node, ast.JoinedStr):
            parts: list[str] = []
            for value in node.values:
                if isinstance(value, ast.Constant):
                    parts.append(str(value.value))
                elif isinstance(value, ast.FormattedValue):
                    if value.conversion != -1 or value.format_spec is not None:
                        return UNKNOWN
                    inner = self.eval(value.value, d)
                    if not isinstance(inner, (str, int, float, bool)) or inner is UNKNOWN:
                        return UNKNOWN
                    if isinstance(inner, int) and inner.bit_length() > MAX_INT_BITS:
                        return UNKNOWN
                    piece = str(inner)
                    self.spend(len(piece))
                    parts.append(piece)
                else:
                    return UNKNOWN
                if sum(len(p) for p in parts) > MAX_LEN:
                    raise Refused(f"an f-string longer than {MAX_LEN:,} characters")
            return "".join(parts)
        # Lambdas, comprehensions, walrus, await, starred, ...: not data.
        return UNKNOWN

    def _items(self, elts: list[ast.expr], d: int) -> Any:
        """Evaluated elements with `*known` expanded; UNKNOWN when a starred part is unknown."""
        items: list[Any] = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                inner = self.eval(elt.value, d)
                if not isinstance(inner, (list, tuple)):
                    return UNKNOWN
                if len(items) + len(inner) > MAX_LEN:
                    raise Refused(f"a starred expansion of more than {MAX_LEN:,} items")
                self.spend(len(inner))
                items.extend(inner)
            else:
                items.append(self.eval(elt, d))
        return items

    def _make_set(self, items: list[Any]) -> Any:
        if not all(_hashable(i) for i in items):
            return UNKNOWN
        return set(items)

    def _compare(self, node: ast.Compare, d: int) -> Any:
        left = self.eval(node.left, d)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = self.eval(comp, d)
            if left is UNKNOWN or right is UNKNOWN or is_unknown(left) or is_unknown(right):
                return UNKNOWN
            try:
                if isinstance(op, ast.Eq):
                    ok = left == right
                elif isinstance(op, ast.NotEq):
                    ok = left != right
                elif isinstance(op, ast.Lt):
                    ok = left < right
                elif isinstance(op, ast.LtE):
                    ok = left <= right
                elif isinstance(op, ast.Gt):
                    ok = left > right
                elif isinstance(op, ast.GtE):
                    ok = left >= right
                elif isinstance(op, ast.Is):
                    ok = left is right
                elif isinstance(op, ast.IsNot):
                    ok = left is not right
                elif isinstance(op, ast.In):
                    ok = left in right
                elif isinstance(op, ast.NotIn):
                    ok = left not in right
                else:
                    return UNKNOWN
            except TypeError:
                return UNKNOWN
            if not ok:
                return False
            left = right
        return True

    def _subscript(self, node: ast.Subscript, d: int) -> Any:
        base = self.eval(node.value, d)
        if base is UNKNOWN or not isinstance(base, (dict, list, tuple, str)):
            return UNKNOWN
        if isinstance(node.slice, ast.Slice):
            parts = [
                None if part is None else self.eval(part, d)
                for part in (node.slice.lower, node.slice.upper, node.slice.step)
            ]
            if not all(
                p is None or (isinstance(p, int) and not isinstance(p, bool)) for p in parts
            ):
                return UNKNOWN
            if isinstance(base, dict):
                return UNKNOWN
            try:
                size = len(range(*slice(*parts).indices(len(base))))
            except (ValueError, TypeError):
                return UNKNOWN
            self.spend(size)
            return base[slice(*parts)]
        index = self.eval(node.slice, d)
        if index is UNKNOWN or not _hashable(index):
            return UNKNOWN
        try:
            return base[index]
        except (KeyError, IndexError, TypeError):
            return UNKNOWN

    def _call(self, node: ast.Call, d: int) -> Any:
        if isinstance(node.func, (ast.Attribute, ast.Name)) and not node.keywords:
            copied = self._copy_call(node, d)
            if copied is not None:
                return copied
        if not isinstance(node.func, ast.Name) or node.func.id not in _SAFE_CALLS:
            return UNKNOWN
        if node.func.id in self.names:
            return UNKNOWN  # the config rebound the name: not the builtin any more
        args = self._items(node.args, d)
        if args is UNKNOWN:
            return UNKNOWN
        kwargs: dict[str, Any] = {}
        for kw in node.keywords:
            value = self.eval(kw.value, d)
            if kw.arg is None:
                if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
                    return UNKNOWN
                kwargs.update(value)
            else:
                kwargs[kw.arg] = value
        name = node.func.id
        if name == "dict":
            if len(args) > 1:
                return UNKNOWN
            out: dict[Any, Any] = {}
            if args:
                if isinstance(args[0], dict):
                    out.update(args[0])
                elif isinstance(args[0], (list, tuple)) and all(
                    isinstance(p, (list, tuple)) and len(p) == 2 and _hashable(p[0])
                    for p in args[0]
                ):
                    out.update(dict(args[0]))
                else:
                    return UNKNOWN
            out.update(kwargs)
            return out
        if kwargs or any(a is UNKNOWN for a in args):
            return UNKNOWN
        return _pure_builtin(name, args)

    def _copy_call(self, node: ast.Call, d: int) -> Any:
        """`copy.deepcopy(x)`, `deepcopy(x)` (imported from copy) and `x.copy()`; else None."""
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "copy" and not node.args:
            value = self.eval(func.value, d)
            if isinstance(value, (dict, list)):
                self.spend(len(value))
                return copy.copy(value)
            return None
        callee = self.eval(func, d)
        if (
            isinstance(callee, Symbol)
            and callee.qualname == "copy.deepcopy"
            and len(node.args) == 1
        ):
            value = self.eval(node.args[0], d)
            self.spend(_size(value))
            return copy.deepcopy(value)
        return None

    def safe_binop(self, op: ast.operator, left: Any, right: Any) -> Any:
        if left is UNKNOWN or right is UNKNOWN or not isinstance(op, self._BINOPS):
            return UNKNOWN
        try:
            result = _binop(op, left, right)
        except (ArithmeticError, TypeError, ValueError):
            return UNKNOWN
        if isinstance(result, (str, list, tuple)):
            self.spend(len(result))  # `a + a`, `s * 1000`: built already, bounded by MAX_LEN
        return result


_MUTATORS = frozenset({"update", "merge", "append", "extend"})


def _size(value: Any) -> int:
    """Elements in a nested value (bounded by MAX_TOTAL_CELLS + 1)."""
    stack, seen = [value], 0
    while stack and seen <= MAX_TOTAL_CELLS:
        item = stack.pop()
        seen += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend(item)
    return seen


def config_dict_update(target: dict[Any, Any], other: dict[Any, Any]) -> None:
    """mmengine's `ConfigDict.update`: nested dicts are updated, everything else replaced."""
    for key, value in other.items():
        if key in target and isinstance(target[key], dict) and isinstance(value, dict):
            config_dict_update(target[key], value)
        else:
            target[key] = value


def merge_into(child: Any, base: Any) -> Any:
    """mmengine's `Config._merge_a_into_b`: child dicts merge into base dicts, other values
    replace them, and `_delete_=True` drops what the base had (new dicts, nothing mutated)."""
    out = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and key in out:
            value = dict(value)
            if value.pop("_delete_", False):
                out[key] = value
            elif isinstance(out[key], dict):
                out[key] = merge_into(value, out[key])
            else:
                out[key] = UNKNOWN  # mmengine raises: a dict cannot inherit from a non-dict
        else:
            out[key] = value  # a new key keeps a `_delete_` it carries, as in mmengine
    return out


_SAFE_CALLS = frozenset(
    {"dict", "list", "tuple", "set", "int", "float", "bool", "abs", "min", "max", "round", "len"}
)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return value is not UNKNOWN


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and value is not UNKNOWN


def _seq_len(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple)) else 0


def _binop(op: ast.operator, a: Any, b: Any) -> Any:
    if isinstance(op, ast.Add):
        if _is_num(a) and _is_num(b):
            return _check_int(a + b)
        if type(a) is type(b) and isinstance(a, (str, list, tuple)):
            if len(a) + len(b) > MAX_LEN:
                return UNKNOWN
            return a + b
        return UNKNOWN
    if isinstance(op, ast.Mult):
        if _is_num(a) and _is_num(b):
            if isinstance(a, int) and isinstance(b, int):
                if a.bit_length() + b.bit_length() > MAX_INT_BITS:
                    return UNKNOWN
            return a * b
        seq, times = (a, b) if isinstance(b, int) else (b, a)
        if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
            if _seq_len(seq) * max(times, 0) > MAX_LEN:
                return UNKNOWN
            return seq * times
        return UNKNOWN
    if not (_is_num(a) and _is_num(b)):
        return UNKNOWN
    if isinstance(op, ast.Sub):
        return _check_int(a - b)
    if isinstance(op, ast.Div):
        return a / b
    if isinstance(op, ast.FloorDiv):
        return a // b
    if isinstance(op, ast.Mod):
        return a % b
    if isinstance(op, ast.Pow):
        if abs(b) > MAX_EXPONENT:
            if isinstance(a, (int, float)) and abs(a) in (0, 1):
                return a**b  # 0 and 1 stay small whatever the exponent
            return UNKNOWN
        if isinstance(a, int) and isinstance(b, int) and b > 0:
            if a.bit_length() * b > MAX_INT_BITS:
                return UNKNOWN
        result = a**b
        if isinstance(result, complex):
            return UNKNOWN
        return _check_int(result)
    return UNKNOWN


def _check_int(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        return UNKNOWN
    if isinstance(value, float) and math.isnan(value):
        return value
    return value


def _unary(op: ast.unaryop, value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(op, ast.Not):
        if isinstance(value, (bool, int, float, str, list, tuple, dict)) and not is_unknown(value):
            return not value
        return UNKNOWN
    if not _is_num(value):
        return UNKNOWN
    if isinstance(op, ast.USub):
        return -value
    if isinstance(op, ast.UAdd):
        return +value
    if isinstance(op, ast.Invert) and isinstance(value, int):
        return ~value
    return UNKNOWN


def _pure_builtin(name: str, args: list[Any]) -> Any:
    try:
        if name in ("list", "tuple", "set"):
            if len(args) == 0:
                return {"list": [], "tuple": (), "set": set()}[name]
            src = args[0]
            if isinstance(src, dict):
                src = list(src)
            if not isinstance(src, (list, tuple, set, str)) or len(src) > MAX_LEN:
                return UNKNOWN
            if name == "set" and not all(_hashable(x) for x in src):
                return UNKNOWN
            return {"list": list, "tuple": tuple, "set": set}[name](src)
        if name == "len" and len(args) == 1 and isinstance(args[0], (str, list, tuple, dict)):
            return len(args[0])
        if name in ("min", "max"):
            items = args[0] if len(args) == 1 else args
            if not isinstance(items, (list, tuple)) or not all(_is_num(x) for x in items):
                return UNKNOWN
            return min(items) if name == "min" else max(items)
        if name in ("int", "float", "bool", "abs", "round") and 1 <= len(args) <= 2:
            x = args[0]
            if name == "int" and isinstance(x, str) and len(x) > 100:
                return UNKNOWN
            if not isinstance(x, (int, float, str)):
                return UNKNOWN
            if name == "round":
                if not _is_num(x) or (len(args) == 2 and not isinstance(args[1], int)):
                    return UNKNOWN
                if len(args) == 2 and abs(args[1]) > MAX_ROUND_DIGITS:
                    raise Refused(f"round() to {args[1]} digits")
                return round(x, *args[1:])  # type: ignore[call-overload,arg-type]
            if len(args) != 1:
                return UNKNOWN
            convert: Any = {"int": int, "float": float, "bool": bool, "abs": abs}[name]
            return convert(x)
    except (ValueError, TypeError, OverflowError):
        return UNKNOWN
    return UNKNOWN


# -- entry points ---------------------------------------------------------------------------------


def _read_source(source: str | Path) -> tuple[str, str]:
    """(text, name): a Path, or a one-line string naming a `.py` file, is read; else it is text."""
    looks_like_path = (
        isinstance(source, str)
        and "\n" not in source
        and len(source) < 4096
        and source.strip().endswith(".py")
        and "=" not in source
    )
    if isinstance(source, Path) or looks_like_path:
        path = Path(str(source).strip())
        try:
            if path.stat().st_size > 4 * MAX_CONFIG_CHARS:
                raise ConfigError(f"{path}: too large for a config; pass the config file.")
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the config ({exc.strerror}).") from exc
        return text, str(path)
    return str(source), "<config text>"


def load_config(
    source: str | Path,
    *,
    name: str | None = None,
    names: dict[str, Any] | None = None,
    importer: Importer | None = None,
    body: Callable[[ast.Module], list[ast.stmt]] | None = None,
) -> dict[str, Any]:
    """Evaluate a Python config (a path or its text) as data; unknowable fields are UNKNOWN.

    `name` is the file the text came from (for messages); `names` are bound before the first
    line (`_base_` for inheritance), `importer` resolves `with read_base():` imports, and
    `body` chooses the statements to run (inheritance drops the `_base_ = ...` line).
    Raises ConfigError naming the file when the text is not Python, too large, or over a bound.
    """
    if name is not None and isinstance(source, str):
        text = source
    else:
        text, read_name = _read_source(source)
        name = name or read_name
    if len(text) > MAX_CONFIG_CHARS:
        raise ConfigError(
            f"{name}: {len(text)} characters is too large for a config; pass the config file."
        )
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise ConfigError(
            f"{name}, line {line}: a NUL byte; this is not a Python config (a binary or "
            "damaged file): check the path or restore the file."
        )
    evaluator = _Evaluator(names, importer, name)
    try:
        tree = ast.parse(text, filename=name)
    except SyntaxError as exc:
        if not _is_depth_error(exc):
            where = f", line {exc.lineno}" if exc.lineno else ""
            raise ConfigError(
                f"{name}{where}: not valid Python ({exc.msg}); fix the config or "
                "point logan at the config dumped in the run's work_dir."
            ) from None
        _run_statementwise(text, name, evaluator)
    except (RecursionError, MemoryError):
        # One statement is nested too deeply for Python's parser: read the others one by one.
        _run_statementwise(text, name, evaluator)
    else:
        evaluator.run(body(tree) if body else tree.body)
    return dict(evaluator.assigned)


def _is_depth_error(exc: SyntaxError) -> bool:
    msg = str(exc.msg or "")
    return "too many nested" in msg or "too complex" in msg or "nested too deeply" in msg


_TARGET = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)")


def _run_statementwise(text: str, name: str, evaluator: _Evaluator) -> None:
    """Parse and evaluate each top-level statement alone; too-deep ones bind UNKNOWN."""
    for chunk in _top_level_chunks(text, name):
        try:
            tree = ast.parse(chunk, filename=name)
        except SyntaxError as exc:
            if not _is_depth_error(exc):
                raise ConfigError(
                    f"{name}: not valid Python ({exc.msg}); fix the config or point logan at the "
                    "config dumped in the run's work_dir."
                ) from None
            tree = None
        except (RecursionError, MemoryError):
            tree = None
        if tree is None:
            match = _TARGET.match(chunk)
            if match:
                evaluator.names[match.group(1)] = UNKNOWN
                evaluator.assigned[match.group(1)] = UNKNOWN
            continue
        evaluator.run(tree.body)


def _top_level_chunks(text: str, name: str) -> list[str]:
    """Split source text into top-level statements using the (pure-Python) tokenizer."""
    lines = text.splitlines(keepends=True)
    chunks: list[str] = []
    start = 0  # 0-based line where the current statement starts
    indent = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.INDENT:
                indent += 1
            elif tok.type == tokenize.DEDENT:
                indent -= 1
                if indent == 0:
                    start = tok.start[0] - 1
            elif tok.type == tokenize.NEWLINE and indent == 0:
                end = tok.end[0]
                chunks.append("".join(lines[start:end]))
                start = end
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        raise ConfigError(
            f"{name}: not valid Python ({exc}); fix the config or point logan at the config "
            "dumped in the run's work_dir."
        ) from None
    if start < len(lines):
        chunks.append("".join(lines[start:]))
    return [c for c in chunks if c.strip()]


# A line that starts a new log record: mmengine ("2024/08/27 06:32:10 - mmengine - INFO - ")
# and mmcv 1.x ("2023-02-05 14:56:41,756 - mmcls - INFO - ").
_LOG_PREFIX = re.compile(r"^\d{4}[/-]\d\d[/-]\d\d \d\d:\d\d:\d\d(?:,\d+)? - \S+ - [A-Z]+ - ")


def config_from_log_text(text: str) -> str | None:
    """The config a mmengine (or mmcv 1.x) text log dumped after `- INFO - Config:`, or None."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = _LOG_PREFIX.match(line)
        if match and line[match.end() :].rstrip() == "Config:":
            body: list[str] = []
            for follow in lines[i + 1 :]:
                if _LOG_PREFIX.match(follow):
                    break
                body.append(follow)
            while body and not body[-1].strip():
                body.pop()
            while body and not body[0].strip():
                body.pop(0)
            return "\n".join(body) + "\n" if body else None
    return None
