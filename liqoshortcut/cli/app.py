"""The `kubectl shortcut` command tree, and the one place where a run ends in an exit code.

kubectl runs `kubectl-shortcut` for every `kubectl shortcut ...`, so this module only registers
commands and shared options; each command lives in its own module and imports heavy libraries
inside its function. Typer's rich help is off: it imports rich.markdown and rich.traceback, which
would make plain `--help` pay for them (tests/unit/test_cli_imports.py holds the line).
typer vendors click as `typer._click`, hence that import; pyproject pins typer 0.28, the last
release that does not parse options through pydantic (which costs a command's --help ~0.2 s).
"""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from types import FrameType
from typing import Annotated

import typer
import typer.main
from typer._click.exceptions import ClickException
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperGroup

from liqoshortcut.cli import (
    completion,
    create,
    delete,
    explain,
    listing,
    operator,
    status,
    version,
)
from liqoshortcut.cli.environment import Environment, environment
from liqoshortcut.errors import ExitCode, ShortcutError, exit_code_for

PROG_NAME = "kubectl shortcut"


def _exit_codes_epilog() -> str:
    # "\b" keeps click from re-wrapping the table into one paragraph.
    rows = "\n".join(f"  {code.value:<4} {code.meaning}" for code in ExitCode)
    return f"Exit codes:\n\n\b\n{rows}"


app = typer.Typer(
    name=PROG_NAME,
    help=(
        "Direct Liqo network peerings between two edge clusters, made and owned from the central "
        "cluster. Run `kubectl shortcut COMMAND --help` for a command's options."
    ),
    epilog=_exit_codes_epilog(),
    rich_markup_mode=None,
    add_completion=False,  # `kubectl shortcut completion SHELL` instead
    pretty_exceptions_enable=False,  # run() reports errors
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def shared_options(
    ctx: typer.Context,
    verbose: Annotated[
        int,
        typer.Option(
            "-v",
            "--verbose",
            count=True,
            show_default=False,
            help="Show the stack trace of errors.",
        ),
    ] = 0,
) -> None:
    environment(ctx).verbosity = verbose


app.command()(create.create)
app.command()(delete.delete)
app.command("list")(listing.list_shortcuts)
app.command()(status.status)
app.command()(explain.explain)
app.command()(version.version)
app.command()(completion.completion)
app.command(context_settings=operator.PASS_THROUGH, add_help_option=False)(operator.operator)


def root_command() -> TyperGroup:
    return typer.main.get_group(app)


def run(args: Sequence[str], env: Environment) -> int:
    """Run the command line `args` against `env`; every failure becomes its exit code here."""
    try:
        # click writes help and its own messages to sys.stdout/sys.stderr: point those at env too.
        with redirect_stdout(env.stdout), redirect_stderr(env.stderr):
            result = root_command().main(
                args=list(args),
                prog_name=PROG_NAME,
                complete_var=completion.COMPLETE_VAR,
                obj=env,
                standalone_mode=False,
            )
    except ShortcutError as error:
        if env.verbosity:
            traceback.print_exception(error, file=env.stderr)
        env.stderr.write(f"error: {error}\n")
        return exit_code_for(error)
    except (
        KeyboardInterrupt
    ):  # Ctrl-C outside the workflow (which rolls back itself): no change yet
        env.stderr.write("error: interrupted before any change\n")
        return ExitCode.INTERRUPTED
    except ClickException as error:  # click's own parsing errors: one line, like ours
        context = error.ctx if isinstance(error, ClickUsageError) else None
        command = context.command_path if context else PROG_NAME
        message = " ".join(error.format_message().split())  # click lists choices on lines
        env.stderr.write(f"error: {message} (see {command} --help)\n")
        return ExitCode.USAGE
    # Without standalone mode, --help and typer.Exit come back as their exit code, a command's
    # normal completion as its return value (None).
    if result == ExitCode.INTERRUPTED:
        # typer turns a Ctrl-C that no command handled into exit 130, silently; the workflow
        # handles its own (rolling back), so this one came before any change.
        env.stderr.write("error: interrupted before any change\n")
    return result if isinstance(result, int) else ExitCode.SUCCESS


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # the workflow rolls back on it, as on Ctrl-C


def main() -> None:
    """Entry point of the `kubectl-shortcut` console script."""
    # `timeout`, CI cancellations and `kill` send SIGTERM: roll back as for Ctrl-C, not just die.
    signal.signal(signal.SIGTERM, _interrupt)
    sys.exit(run(sys.argv[1:], Environment.from_process()))
