"""What every `uecflow` subcommand gives the CLI, and the one error that means "usage".

A command's module has `add_arguments(parser)`: it declares the command's options on the parser
`uecflow.cli` made for it (prog `uecflow <command>`) and names what runs them with
`runs(parser, function)`. The function gets the parsed options and the configuration, already
loaded from `--config`, and returns the exit status: 0 ok, 1 something was refused (a line, an
event, a server), 2 usage. It raises `UsageError` for options that cannot work; the CLI prints
the message on one line, without a traceback, and exits 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from uecflow.config import Registry

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2

Run = Callable[[argparse.Namespace, Registry], int]


class UsageError(Exception):
    """A problem the user can fix from the message alone: exit status 2, no traceback."""


def runs(parser: argparse.ArgumentParser, run: Run) -> None:
    """Makes `run` what runs when the command line chose `parser`."""
    parser.set_defaults(run=run)
