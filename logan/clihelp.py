"""How the typer app presents itself: plain metavars (`PATH...`, `N`, `text|json`) and plain
messages for bad values, instead of the Python type names and validation-library wording recent
typer versions print (`{paths}...`, `<list[Path]>`, `Input should be a valid integer`).

Kept apart from cli.py so that the commands read as options -> library call -> reporter.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from typer.core import TyperArgument, TyperCommand, TyperOption


class PlainCommand(TyperCommand):
    """A command whose help shows plain metavars (`PATH...`, `N`, `text|json`) instead of the
    Python type names recent typer versions print (`{paths}...`, `<list[Path]>`, `<int>`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument):
                _plain_argument(param)
            elif isinstance(param, TyperOption) and param.metavar is None and not param.is_flag:
                param.metavar = _plain_metavar(param)
            _plain_number_errors(param)


def _plain_metavar(param: TyperOption) -> str:
    desc = getattr(param, "type_descriptor", None)
    if desc is None:
        return "VALUE"
    if getattr(desc, "is_choice", False) and desc.choices:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices)
    if getattr(desc, "is_path", False):
        return "PATH"
    annotation = getattr(desc, "annotation", None)
    return "N" if annotation is int else "NUMBER" if annotation is float else "TEXT"


NUMBER_WORDS = {int: "a whole number", float: "a number"}


def _expected(param: Any) -> str | None:
    """What a value of `param` must be, in words ('a whole number', 'one of text, json')."""
    desc = getattr(param, "type_descriptor", None)
    if desc is None:
        return None
    if getattr(desc, "is_choice", False) and desc.choices:
        return "one of " + ", ".join(str(getattr(c, "value", c)) for c in desc.choices)
    return NUMBER_WORDS.get(getattr(desc, "annotation", None))  # type: ignore[arg-type]


def _plain_number_errors(param: Any) -> None:
    """''x' is not a whole number' or ''yaml' is not one of text, json' instead of the
    validation library's wording ('Input should be a valid integer, unable to parse string as
    an integer', "Value error, 'yaml' is not one of ...")."""
    expected = _expected(param)
    if expected is None:
        return
    convert = param.process_value
    number = getattr(param.type_descriptor, "annotation", None)

    def unreadable(value: str) -> bool:
        if number not in NUMBER_WORDS:
            return True  # a choice fails only by not being one
        try:
            number(value)
        except ValueError:
            return True
        return False  # a number out of its range: typer's own message says which range

    def process_value(ctx: Any, value: Any) -> Any:
        try:
            return convert(ctx, value)
        except typer.BadParameter as exc:
            if isinstance(value, str) and unreadable(value):
                raise typer.BadParameter(f"{value!r} is not {expected}", ctx, param) from None
            low, high = getattr(param, "min", None), getattr(param, "max", None)
            if isinstance(value, str) and number in NUMBER_WORDS:
                if low is not None and number(value) < low:
                    raise typer.BadParameter(f"{value} is below {low}", ctx, param) from None
                if high is not None and number(value) > high:
                    raise typer.BadParameter(f"{value} is above {high}", ctx, param) from None
            raise exc

    param.process_value = process_value


def _plain_argument(param: TyperArgument) -> None:
    name = param.metavar or (param.name or "arg").upper()
    param.metavar = name
    usage = name if param.required else f"[{name}]"
    if param.nargs != 1 and not name.endswith("..."):
        usage += "..."
    # Instance attributes: typer has no option for either (checked with typer 0.29).
    param.display_type = lambda ctx: ""  # type: ignore[method-assign]
    param._usage_display_name = lambda: usage  # type: ignore[method-assign]


class PlainApp(typer.Typer):
    """typer.Typer whose commands use PlainCommand unless told otherwise."""

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", PlainCommand)
        return super().command(*args, **kwargs)


E = TypeVar("E", bound=enum.Enum)


def choice(kind: type[E]) -> Callable[[str], E]:
    """A parser for an enum option with a plain error message (no 'Value error, ...')."""
    names = [str(m.value) for m in kind]  # type: ignore[attr-defined]

    def parse(value: str | E) -> E:
        if isinstance(value, kind):
            return value
        try:
            return kind(str(value).lower())
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(names)}") from None

    return parse


def whole(value: str | int) -> int:
    try:
        return int(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a whole number") from None
