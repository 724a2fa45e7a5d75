"""The editor commands: `harmonc fmt` (the formatter)."""

from __future__ import annotations

import argparse
from typing import Any


def add_editor_commands(commands: Any) -> None:
    fmt = commands.add_parser("fmt", help="format songs in the one canonical layout (comments kept)")
    fmt.add_argument("files", nargs="+", metavar="FILE", help="files to format in place; `-` formats standard input")
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 if any file is not formatted")
    fmt.add_argument("--diff", action="store_true", help="change nothing; print what would change, as a diff")
    fmt.set_defaults(run=command_fmt)


def command_fmt(args: argparse.Namespace) -> int:
    from harmonlang.fmt import run_fmt

    return run_fmt(args.files, check=args.check, diff=args.diff)
