"""The `kubectl shortcut` command tree, and the one place where a run ends in an exit code.

kubectl runs `kubectl-shortcut` for every `kubectl shortcut ...`, so this module only registers
commands and shared options; each command lives in its own module and imports heavy libraries
inside its function. Typer's rich help is off: it imports rich.markdown and rich.traceback, which
would make plain `--help` pay for them (tests/unit/test_cli_imports.py holds the line).
typer vendors click as `typer._click`, hence that import; pyproject pins typer 0.28, the last
release that does not parse options through pydantic (which costs a command's --help ~0.2 s).
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from types import FrameType
from typing import Annotated, TextIO

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
from liqoshortcut.cli.environment import Environment, environment, output_failed
from liqoshortcut.cli.output import write_failure
from liqoshortcut.errors import ExitCode, ShortcutError, exit_code_for, unexpected

PROG_NAME = "kubectl shortcut"
UNWRITTEN = "the command completed, but its output could not be written"


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
        _tell(env, error, f"error: {error}")
        return exit_code_for(error)
    except (
        KeyboardInterrupt
    ):  # Ctrl-C outside the workflow (which rolls back itself): no change yet
        _tell(env, None, "error: interrupted before any change")
        return ExitCode.INTERRUPTED
    except ClickException as error:  # click's own parsing errors: one line, like ours
        context = error.ctx if isinstance(error, ClickUsageError) else None
        command = context.command_path if context else PROG_NAME
        message = " ".join(error.format_message().split())  # click lists choices on lines
        _tell(env, None, f"error: {message} (see {command} --help)")
        return ExitCode.USAGE
    except Exception as error:
        if isinstance(error, OSError | ValueError) and output_failed(env):
            # click's help, a dry run or a completion script write without `write_data`.
            _tell(env, error, f"error: {UNWRITTEN}: {write_failure(error)}")
            return ExitCode.UNREPORTED
        # A bug, or a failure no code maps. A create run turns its own into a rollback (exit 1),
        # so this one came outside any run: nothing was rolled back, and the code says so.
        _tell(
            env,
            error,
            f"error: {unexpected(error)}; nothing was rolled back (-v shows where it came from)",
        )
        return ExitCode.UNEXPECTED
    # Without standalone mode, --help and typer.Exit come back as their exit code, a command's
    # normal completion as its return value (None).
    if result == ExitCode.INTERRUPTED:
        # typer turns a Ctrl-C that no command handled into exit 130, silently; the workflow
        # handles its own (rolling back), so this one came before any change.
        _tell(env, None, "error: interrupted before any change")
    return result if isinstance(result, int) else ExitCode.SUCCESS


def _tell(env: Environment, error: BaseException | None, line: str) -> None:
    """The run's last word on stderr (with -v, ``error``'s stack trace above it); a stderr that
    refuses it (a full device, a closed terminal) leaves the exit code to speak alone."""
    try:
        if error is not None and env.verbosity:
            traceback.print_exception(error, file=env.stderr)
        env.stderr.write(line + "\n")
        env.stderr.flush()
    except (OSError, ValueError):
        pass


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # the workflow rolls back on it, as on Ctrl-C


# `timeout`, CI cancellations and `kill` send SIGTERM, a closed terminal or a dropped SSH session
# SIGHUP: roll back as for Ctrl-C, not just die.
INTERRUPTING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def main() -> None:
    """Entry point of the `kubectl-shortcut` console script."""
    for signum in INTERRUPTING_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # `nohup` asks to outlive the terminal
            signal.signal(signum, _interrupt)
    env = Environment.from_process()
    code = run(sys.argv[1:], env)
    _stop_exec_plugins()
    sys.exit(flushed(env, code))


def _stop_exec_plugins() -> None:
    """Kill exec credential plugins an interrupted run left running in worker threads: the
    interpreter joins those threads before any exit handler runs, so it would otherwise wait for
    each plugin's own timeout (minutes) before exiting."""
    plugins = sys.modules.get("liqoshortcut.kube.exec_plugin")  # loaded only if one ran
    if plugins is not None:
        plugins.stop_running_plugins()


def flushed(env: Environment, code: int) -> int:
    """``code``, once what is still buffered is written; a command whose data could not be
    written (a full device, a closed stdout or pipe) did its work all the same: `UNREPORTED`.

    Python would otherwise meet the failure at exit, print "Exception ignored" and exit 120.
    """
    for stream, fd in ((env.stdout, 1), (env.stderr, 2)):
        try:
            stream.flush()
        except (OSError, ValueError) as error:
            if stream is env.stdout and code == ExitCode.SUCCESS:
                code = ExitCode.UNREPORTED
                _tell(env, None, f"error: {UNWRITTEN}: {write_failure(error)}")
            _discard_at_exit(stream, fd)
    return code


def _discard_at_exit(stream: TextIO, fd: int) -> None:
    """Point ``stream``'s file descriptor, if it is ``fd``, at /dev/null: the interpreter's own
    flush at exit then has nothing to fail on."""
    try:
        if stream.fileno() != fd:
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except (OSError, ValueError):  # no descriptor (a ClosedOutput), or a closed stream
        pass
