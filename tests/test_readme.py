"""README's command table agrees with the command-line parser, option by option."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from trialtui.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"
# One table row per command: "| `trialtui COMMAND ...` | what it does |".
ROW = re.compile(r"^\| `trialtui(?P<usage>[^`]*)`(?P<rest>.*)$")
OPTION = re.compile(r"(?<![\w-])(--?[a-z][a-z0-9-]*)(?:[ =](?P<value>[^\s\]]+))?")


def readme_usage() -> dict[str, list[str]]:
    """Each command's usage strings from README's command table ("" is the app itself)."""
    section = README.read_text(encoding="utf-8").split("## Command line", 1)[1]
    table = section.split("\n\n", 2)[1]
    usages: dict[str, list[str]] = {}
    for line in table.splitlines():
        match = ROW.match(line)
        if not match:
            continue
        # a row may show more than one usage: `trialtui query X`, `trialtui query --list`
        cells = [match["usage"], *re.findall(r"`trialtui([^`]*)`", match["rest"].split("|")[0])]
        for usage in cells:
            words = usage.split()
            command = words[0] if words and re.match(r"[a-z]", words[0]) else ""
            usages.setdefault(command, []).append(usage)
    return usages


def parser_commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"": parser, **sub.choices}


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a
        for a in parser._actions
        if a.option_strings
        and "--help" not in a.option_strings
        and not isinstance(a, argparse._SubParsersAction)
    ]


def test_every_command_is_in_the_table() -> None:
    assert set(readme_usage()) == set(parser_commands())


@pytest.mark.parametrize("command", sorted(parser_commands()))
def test_readme_options_are_the_parser_options(command: str) -> None:
    parser = parser_commands()[command]
    text = " ".join(readme_usage()[command])
    shown = {m.group(1): m["value"] for m in OPTION.finditer(text)}
    by_name = {name: action for action in options(parser) for name in action.option_strings}
    unknown = sorted(set(shown) - set(by_name))
    assert not unknown, f"README shows options `trialtui {command}` does not have: {unknown}"
    missing = [
        a.option_strings[-1] for a in options(parser) if not set(a.option_strings) & set(shown)
    ]
    assert not missing, f"README's `trialtui {command}` row lacks {missing}"
    for name, value in shown.items():
        action = by_name[name]
        if action.choices is not None and value and "\\|" in value:
            assert set(value.split("\\|")) == set(action.choices), (command, name)


def test_required_options_are_shown_without_brackets() -> None:
    """An option written without [brackets] must be required by the parser, and back."""
    for command, parser in parser_commands().items():
        by_name = {name: a for a in options(parser) for name in a.option_strings}
        for usage in readme_usage()[command]:
            if len(usage.split()) == 2:  # another form, such as `trialtui query --list`
                continue
            for match in OPTION.finditer(usage):
                bare = usage[match.start() - 1] != "["
                assert bare == by_name[match.group(1)].required, (command, match.group(1))
