"""Read a Python training config as data: the file is parsed with `ast` and never executed.

mmengine, mmcv and XTuner configs are Python files; running one would run whatever it imports.
Here only literals, earlier assignments, safe arithmetic and a few pure builtins are evaluated;
anything else (unknown calls, attribute access, comprehensions, `{{_base_.x}}`) becomes the
`UNKNOWN` sentinel for that field alone, so one odd line never hides the sane fields around it.
"""

from __future__ import annotations

import ast
import io
import math
import re
import tokenize
from pathlib import Path
from typing import Any

from logan.errors import ConfigError

# Bigger files are not configs; parsing them would only cost time.
MAX_CONFIG_CHARS = 4_000_000
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
    """`{{ ... }}` anywhere in `text`, found in linear time (the regex `\\{\\{.*?\\}\\}` scanned to
    the end from every `{{`: 200,000 `{` in a string took minutes)."""
    start = text.find("{{")
    return start >= 0 and text.find("}}", start + 2) >= 0


class _TooDeep(Exception):
    """Internal: nesting or work budget exceeded."""


class _Evaluator:
    """Evaluates one module's statements into a namespace of plain Python values."""

    _BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)

    def __init__(self) -> None:
        self.names: dict[str, Any] = {}
        self.assigned: dict[str, Any] = {}
        self.nodes = 0

    # -- statements ---------------------------------------------------------------------------
    def run(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.statement(stmt)

    def statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Assign):
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
        elif isinstance(stmt, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
            # Control flow is not followed; names it assigns become unknown.
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    self.names[node.id] = UNKNOWN
                    self.assigned[node.id] = UNKNOWN
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.names[stmt.name] = UNKNOWN

    def bind(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.names[target.id] = value
            self.assigned[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            ok = isinstance(value, (tuple, list)) and len(value) == len(elts)
            for i, elt in enumerate(elts):
                self.bind(elt, value[i] if ok else UNKNOWN)
        # Attribute / subscript targets mutate objects: ignored.

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
                    out.update(inner)
                    continue
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
                    parts.append(str(inner))
                else:
                    return UNKNOWN
            text = "".join(parts)
            return UNKNOWN if len(text) > MAX_LEN else text
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
                return base[slice(*parts)]
            except (ValueError, TypeError):
                return UNKNOWN
        index = self.eval(node.slice, d)
        if index is UNKNOWN or not _hashable(index):
            return UNKNOWN
        try:
            return base[index]
        except (KeyError, IndexError, TypeError):
            return UNKNOWN

    def _call(self, node: ast.Call, d: int) -> Any:
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

    def safe_binop(self, op: ast.operator, left: Any, right: Any) -> Any:
        if left is UNKNOWN or right is UNKNOWN or not isinstance(op, self._BINOPS):
            return UNKNOWN
        try:
            return _binop(op, left, right)
        except (ArithmeticError, TypeError, ValueError):
            return UNKNOWN


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


def load_config(source: str | Path) -> dict[str, Any]:
    """Evaluate a Python config (a path or its text) as data; unknowable fields are UNKNOWN.

    Raises ConfigError only when the text is not Python at all (a syntax error) or too large.
    """
    text, name = _read_source(source)
    if len(text) > MAX_CONFIG_CHARS:
        raise ConfigError(
            f"{name}: {len(text)} characters is too large for a config; pass the config file."
        )
    evaluator = _Evaluator()
    try:
        tree = ast.parse(text, filename=name)
    except SyntaxError as exc:
        if not _is_depth_error(exc):
            raise ConfigError(
                f"{name}: not valid Python (line {exc.lineno}: {exc.msg}); fix the config or "
                "point logan at the config dumped in the run's work_dir."
            ) from None
        _run_statementwise(text, name, evaluator)
    except (RecursionError, MemoryError):
        # One statement is nested too deeply for Python's parser: read the others one by one.
        _run_statementwise(text, name, evaluator)
    else:
        evaluator.run(tree.body)
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
