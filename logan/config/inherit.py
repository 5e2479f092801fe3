"""Config inheritance as mmengine's `Config.fromfile` does it, read as data (never run).

Old style: `_base_ = 'x.py'` or a list of paths relative to the file (or `mmdet::path` from an
installed package's `.mim/configs`); each base is read, the bases' top-level names are combined,
the file is evaluated with `_base_` bound to them (`_base_.model.backbone`, `{{_base_.x}}`), and
its names are merged into the bases' (`merge_into`: dicts merge, `_delete_=True` replaces, other
values replace). New style: `with read_base(): from .._base_.schedules.x import *` binds the base
module's names, and the file's own statements (`train_cfg.update(...)`) act on them.

`ConfigLoader` caches every file it reads, so a tree of a thousand configs sharing a few dozen
bases reads each base once.
"""

from __future__ import annotations

import ast
import copy
import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logan.config.evaluate import MAX_CONFIG_CHARS, load_config, merge_into
from logan.errors import ConfigError

BASE_KEY = "_base_"
# mmengine's own pattern (`Config._pre_substitute_base_vars`): linear, anchored on `{{`.
_BASE_VAR = re.compile(r"\{\{\s*_base_\.([\w\.]+)\s*\}\}")
# Nesting of bases deeper than this is a cycle mmengine would also never finish.
MAX_BASE_DEPTH = 32


@dataclass(frozen=True)
class Origin:
    """Where a top-level name was last assigned: the file and the line of its statement."""

    path: Path
    line: int


@dataclass(frozen=True)
class LoadedConfig:
    """One config with its bases merged in, and what could not be followed."""

    path: Path
    values: dict[str, Any]
    text: str  # the file's own text
    files: tuple[Path, ...]  # the file and every base read for it
    origins: Mapping[str, Origin] = field(default_factory=dict)
    missing: tuple[str, ...] = ()  # bases that could not be found, each as one sentence
    has_bases: bool = False


@dataclass
class _Entry:
    values: dict[str, Any]
    text: str
    files: tuple[Path, ...]
    origins: dict[str, Origin]
    missing: tuple[str, ...]
    has_bases: bool


class ConfigLoader:
    """Loads configs with their bases; one loader for a whole tree reads each base once.

    `package_roots` maps a package name (`mmdet`) to its folder, for `mmdet::x.py` bases and
    `from mmdet.configs.x import *`; without an entry, the installed package is found by its
    import spec (without importing it).
    """

    def __init__(self, package_roots: Mapping[str, Path] | None = None) -> None:
        self.package_roots = dict(package_roots or {})
        self._cache: dict[Path, _Entry] = {}
        self._errors: dict[Path, ConfigError] = {}

    def load(self, path: Path) -> LoadedConfig:
        """The merged config of `path`; ConfigError (naming the file) when it cannot be read."""
        entry = self._entry(Path(path).resolve(), ())
        return LoadedConfig(
            path=Path(path),
            values=copy.deepcopy(entry.values),
            text=entry.text,
            files=entry.files,
            origins=dict(entry.origins),
            missing=entry.missing,
            has_bases=entry.has_bases,
        )

    def base_files(self, path: Path) -> tuple[Path, ...]:
        """Every base `path` reads (resolved), itself excluded; empty when it cannot be read."""
        try:
            entry = self._entry(Path(path).resolve(), ())
        except ConfigError:
            return ()
        return entry.files[1:]

    # -- one file ---------------------------------------------------------------------------
    def _entry(self, path: Path, stack: tuple[Path, ...]) -> _Entry:
        if path in self._cache:
            return self._cache[path]
        if path in self._errors:
            raise self._errors[path]
        if path in stack or len(stack) > MAX_BASE_DEPTH:
            raise ConfigError(f"{path}: inherits from itself through its `_base_` files.")
        try:
            entry = self._read(path, (*stack, path))
        except ConfigError as exc:
            self._errors[path] = exc
            raise
        self._cache[path] = entry
        return entry

    def _read(self, path: Path, stack: tuple[Path, ...]) -> _Entry:
        try:
            if path.stat().st_size > 4 * MAX_CONFIG_CHARS:
                raise ConfigError(f"{path}: too large for a config; pass the config file.")
            raw = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the config ({exc.strerror}).") from None
        text = _BASE_VAR.sub(r"_base_.\1", raw) if "{{" in raw else raw
        names: dict[str, Any] = {}
        state = _State(path)

        def body(tree: ast.Module) -> list[ast.stmt]:
            kept = []
            for stmt in tree.body:
                if _assigns(stmt, BASE_KEY):
                    state.base_node = stmt
                    continue  # mmengine's RemoveAssignFromAST
                kept.append(stmt)
            if state.base_node is not None:
                names[BASE_KEY] = self._old_style_bases(state, stack)
            state.record_lines(kept)
            return kept

        def importer(module: str, pairs: list[tuple[str, str | None]]) -> dict[str, Any]:
            return self._import_base(state, module, pairs, stack)

        values = load_config(text, name=str(path), names=names, importer=importer, body=body)
        origins = dict(state.base_origins)
        for key, line in state.lines.items():
            origins[key] = Origin(path, line)
        if state.base_node is not None:
            base_values = names.get(BASE_KEY, {})
            own = {k: v for k, v in values.items() if k != BASE_KEY}
            values = merge_into(own, base_values)
        values = {k: v for k, v in values.items() if not k.startswith("__")}
        return _Entry(
            values=values,
            text=raw,
            files=(path, *dict.fromkeys(state.files)),
            origins=origins,
            missing=tuple(dict.fromkeys(state.missing)),
            has_bases=state.base_node is not None or bool(state.files),
        )

    # -- `_base_ = [...]` -------------------------------------------------------------------
    def _old_style_bases(self, state: _State, stack: tuple[Path, ...]) -> dict[str, Any]:
        node = state.base_node
        assert node is not None
        try:
            spec = ast.literal_eval(node.value)  # type: ignore[attr-defined]
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise ConfigError(
                f"{state.path}, line {node.lineno}: `_base_` is not a path or a list of paths."
            ) from None
        paths = [spec] if isinstance(spec, str) else spec
        if not isinstance(paths, (list, tuple)) or not all(isinstance(p, str) for p in paths):
            raise ConfigError(
                f"{state.path}, line {node.lineno}: `_base_` is not a path or a list of paths."
            )
        merged: dict[str, Any] = {}
        for ref in paths:
            base = self._locate(state, ref)
            if base is None:
                continue
            entry = self._entry(base, stack)
            state.adopt(entry)
            values = copy.deepcopy(entry.values)
            if "::" in ref:
                _add_scope(values, ref.partition("::")[0])
            # mmengine refuses keys defined by two bases; the later one wins here.
            merged.update(values)
        return merged

    def _locate(self, state: _State, ref: str) -> Path | None:
        if "::" in ref:
            package, _, rel = ref.partition("::")
            root = self._package_root(package)
            if root is None:
                state.missing.append(f"base {ref!r} needs the package {package!r} installed")
                return None
            target = root / ".mim" / "configs" / rel
        else:
            target = state.path.parent / ref
        if not target.is_file():
            state.missing.append(f"base {ref!r} not found ({target})")
            return None
        return target.resolve()

    def _package_root(self, package: str) -> Path | None:
        if package in self.package_roots:
            return Path(self.package_roots[package])
        if not package.isidentifier():
            return None
        try:
            spec = importlib.util.find_spec(package)  # a top-level name: nothing is imported
        except (ImportError, ValueError):
            return None
        if spec is None or not spec.submodule_search_locations:
            return None
        return Path(next(iter(spec.submodule_search_locations)))

    # -- `with read_base(): from .x import *` -----------------------------------------------
    def _import_base(
        self,
        state: _State,
        module: str,
        pairs: list[tuple[str, str | None]],
        stack: tuple[Path, ...],
    ) -> dict[str, Any]:
        level = len(module) - len(module.lstrip("."))
        parts = module[level:].split(".")
        if level:
            target = state.path.parent.joinpath(*([".."] * (level - 1)), *parts[:-1])
            target = target / f"{parts[-1]}.py"
        else:
            root = self._package_root(parts[0])
            if root is None or len(parts) < 2:
                state.missing.append(f"base module {module!r} needs its package installed")
                return {}
            target = root.joinpath(*parts[1:-1]) / f"{parts[-1]}.py"
        if not target.is_file():
            state.missing.append(f"base module {module!r} not found ({target})")
            return {}
        entry = self._entry(target.resolve(), stack)
        state.adopt(entry)
        values = entry.values
        if any(name == "*" for name, _ in pairs):
            chosen = {k: v for k, v in values.items() if not k.startswith("_")}
        else:
            chosen = {(alias or name): values[name] for name, alias in pairs if name in values}
        return copy.deepcopy(chosen)


class _State:
    """What reading one file learns besides its values: bases, lines, what is missing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.base_node: ast.stmt | None = None
        self.files: list[Path] = []
        self.missing: list[str] = []
        self.base_origins: dict[str, Origin] = {}
        self.lines: dict[str, int] = {}

    def adopt(self, entry: _Entry) -> None:
        self.files.extend(entry.files)
        self.missing.extend(entry.missing)
        self.base_origins.update(entry.origins)

    def record_lines(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else []
            if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
                targets = [stmt.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    self.lines[target.id] = stmt.lineno


def _add_scope(value: Any, scope: str, outer: bool = True) -> None:
    """mmengine's `_dict_to_config_dict`: the outermost dicts with a `type` from a package-scoped
    base get `_scope_` (the package), so the registry builds them from that package."""
    if isinstance(value, dict):
        if outer and "type" in value:
            outer = False
            if value.get("_scope_") is None:
                value["_scope_"] = scope
        for item in value.values():
            _add_scope(item, scope, outer)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _add_scope(item, scope, outer)


def _assigns(stmt: ast.stmt, name: str) -> bool:
    return isinstance(stmt, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == name for t in stmt.targets
    )


def load_tree_config(path: Path, loader: ConfigLoader | None = None) -> LoadedConfig:
    """One config with its bases (a fresh loader unless one is shared)."""
    return (loader or ConfigLoader()).load(path)
