"""The ``fiveo-sync`` command line: parse, configure logging, dispatch, map errors to exits.

Each command lives in ``fiveo_sync/commands/<name>.py`` with ``configure(parser)`` and
``execute(args, ctx) -> int``. This module holds no business logic; it is the only place
that turns errors into exit codes (sysexits, see :mod:`fiveo_sync.errors`).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from fiveo_sync import __version__, logs
from fiveo_sync.commands import COMMANDS, Context
from fiveo_sync.errors import EXIT_SOFTWARE, FiveoSyncError, MappingError, NotAvailableYetError

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a command killed by it


def build_parser() -> argparse.ArgumentParser:
    """The full command tree of design.md "Command line"."""
    parser = argparse.ArgumentParser(
        prog="fiveo-sync",
        description="Pull ServiceNow and Jira, compute 5 O indicators, write them back.",
    )
    parser.add_argument("--version", action="version", version=f"fiveo-sync {__version__}")
    parser.add_argument("--config", metavar="PATH",
                        help="YAML settings file (default: $FIVEO_CONFIG)")
    parser.add_argument("--log-format", choices=("auto", "json", "console"), default="auto",
                        help="log rendering (auto: JSON lines on stderr when it is not a "
                             "terminal; on a terminal, progress instead of log lines)")
    parser.add_argument("--log-file", metavar="PATH", type=Path,
                        help="append the log (JSON lines) to this file instead of stderr; "
                             "warnings and errors still show on stderr")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log detail (-vv adds HTTP library logs)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, summary in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=summary)
        module = _command_module(name)
        if module is not None:
            module.configure(sub)
    return parser


def _command_module(name: str):  # noqa: ANN202 - a module object
    """The module implementing ``name``, or None while its issue has not landed."""
    module_name = f"fiveo_sync.commands.{name}"
    if importlib.util.find_spec(module_name) is None:
        return None
    return importlib.import_module(module_name)


def configure_logs(args: argparse.Namespace) -> str:
    """Send the log where ``--log-format``, ``--log-file`` and the terminal say.

    Log lines go to stderr when a scheduler or a person asked for them (not a terminal,
    ``--log-format json|console``, ``-v``), else to the ``--log-file``, else nowhere: a
    terminal gets progress and a summary instead. When lines do not reach stderr, warnings
    and errors still do, as short notices.
    """
    terminal = bool(getattr(sys.stderr, "isatty", lambda: False)())
    on_stderr = logs.log_lines_on_stderr(args.log_format, args.verbose, args.log_file,
                                           terminal)
    return logs.configure(args.log_format, args.verbose, log_file=args.log_file,
                          quiet=not on_stderr, notices=not on_stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    fmt = configure_logs(args)
    log = logs.get_logger("fiveo_sync.cli")
    ctx = Context(config_path=args.config, log_format=fmt, verbosity=args.verbose, log=log)
    try:
        module = _command_module(args.command)
        if module is None:
            raise NotAvailableYetError(
                f"'{args.command}' is not available yet in this version of fiveo-sync")
        return int(module.execute(args, ctx))
    except MappingError as exc:
        for location, message in exc.problems:
            print(f"{location}: {message}", file=sys.stderr)
        log.error("command_failed", command=args.command, error="invalid settings or mapping",
                  problems=len(exc.problems), exit_code=exc.exit_code)
        return exc.exit_code
    except FiveoSyncError as exc:
        print(f"fiveo-sync {args.command}: {exc}", file=sys.stderr)
        log.error("command_failed", command=args.command, error=str(exc),
                  exit_code=exc.exit_code)
        return exc.exit_code
    except KeyboardInterrupt:
        log.warning("command_interrupted", command=args.command, exit_code=130)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`fiveo-sync validate --list | head`): stop
        # quietly, as a command killed by SIGPIPE would, and keep Python's final flush of
        # stdout from failing once more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception:
        log.exception("internal_error", command=args.command, exit_code=EXIT_SOFTWARE)
        return EXIT_SOFTWARE
