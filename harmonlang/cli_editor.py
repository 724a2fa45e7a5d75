"""The editor commands: `harmonc fmt` (the formatter) and `harmonc lsp` (the language server, on stdio)."""

from __future__ import annotations

import argparse
from typing import Any


def add_editor_commands(commands: Any) -> None:
    fmt = commands.add_parser("fmt", help="format songs in the one canonical layout (comments kept)")
    fmt.add_argument("files", nargs="+", metavar="FILE", help="files to format in place; `-` formats standard input")
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 if any file is not formatted")
    fmt.add_argument("--diff", action="store_true", help="change nothing; print what would change, as a diff")
    fmt.set_defaults(run=command_fmt)
    lsp = commands.add_parser("lsp", help="run the language server on standard input and output (for editors)")
    lsp.set_defaults(run=command_lsp)


def command_fmt(args: argparse.Namespace) -> int:
    from harmonlang.fmt import run_fmt

    return run_fmt(args.files, check=args.check, diff=args.diff)


def command_lsp(args: argparse.Namespace) -> int:
    from harmonlang.lsp.server import main

    return main()
