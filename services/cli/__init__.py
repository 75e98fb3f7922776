"""The command line (`python -m services --help`): one module per command, each with its `HELP`, its
`add_arguments(parser)` and `run(args) -> exit status`. Nothing else imports this package; commands import
what they use when they run, so `--help` needs only the standard library."""

from __future__ import annotations

import argparse
import logging
import sys

from .. import __version__
from . import analyze, download, duplicates, feedback, hash, metadata, read_image, recommend, scan, stats, updates

COMMANDS = {"analyze": analyze, "scan": scan, "recommend": recommend, "hash": hash, "metadata": metadata,
            "download": download, "feedback": feedback, "read-image": read_image, "stats": stats,
            "duplicates": duplicates, "updates": updates}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services", description="Intelligent Generation " + __version__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.HELP)
        command.add_arguments(p)
        p.set_defaults(func=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a hostile file or a bad path: one clear line, the traceback only when asked
        if args.verbose:
            raise
        print(f"{args.command}: {type(exc).__name__}: {exc} (run with --verbose for the details)", file=sys.stderr)
        return 2
