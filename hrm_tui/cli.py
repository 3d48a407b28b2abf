"""The `hrm` command line. Heavy imports happen inside commands, never here."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn, Optional

import typer

from hrm_tui.errors import UserError

app = typer.Typer(
    name="hrm",
    help="Watch a Hierarchical Reasoning Model think: train, evaluate, solve and benchmark.",
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    kind: str = typer.Option("sudoku", "--kind", help="App: the puzzle screen to open (sudoku, maze, arc)."),
    weights: Optional[Path] = typer.Option(None, "--weights", help="App: weights or training-run directory for --kind."),
) -> None:
    """With no command, open the app."""
    if ctx.invoked_subcommand is None:
        from hrm_tui.launch import open_app
        from hrm_tui.model_store import KINDS

        if kind not in KINDS:
            raise UserError(f"unknown puzzle kind {kind!r}; choose one of {', '.join(KINDS)}")
        if weights is not None and not weights.is_dir():
            raise UserError(f"weights directory {weights} does not exist")
        open_app(kind, {kind: weights} if weights is not None else None)


def _register_commands() -> None:
    import importlib

    from hrm_tui.commands import command_modules

    for name in command_modules():
        importlib.import_module(f"hrm_tui.commands.{name}").register(app)


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Error types that mean "the user's input is wrong", shown as one line."""
    from puzzles.errors import PuzzleError

    errors: list[type[BaseException]] = [UserError, PuzzleError]
    models_errors = sys.modules.get("models.errors")
    if models_errors is not None:
        errors.append(models_errors.ModelError)
    return tuple(errors)


def _click_exceptions():
    """Click's exception classes: vendored inside recent Typer, the click package before."""
    try:
        from typer._click import exceptions
    except ImportError:  # Typer < 0.20 depends on click itself
        from click import exceptions
    return exceptions


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {_one_line(message)}", err=True)
    raise SystemExit(code)


def _usage_message(exc) -> str:
    ctx = getattr(exc, "ctx", None)
    where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return exc.format_message().rstrip(".") + where


def _os_message(exc: OSError) -> str:
    names = " -> ".join(str(name) for name in (exc.filename, exc.filename2) if name is not None)
    return f"{names}: {exc.strerror}" if names and exc.strerror else str(exc)


def main() -> None:
    """Run `hrm`. Every failure ends as one line on stderr and a non-zero exit, never a
    traceback: 2 for input the user can fix (usage, puzzles, weights), 1 for the machine
    (disk, memory) and for bugs, which say how to see the traceback (HRM_DEBUG=1)."""
    _register_commands()
    click = _click_exceptions()
    try:
        code = app(prog_name="hrm", standalone_mode=False)
    except click.NoArgsIsHelpError:
        raise SystemExit(2) from None  # the help text has been printed
    except click.UsageError as exc:
        _fail(_usage_message(exc), 2)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except typer.Abort:
        _fail("aborted", 1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise SystemExit(130) from None
    except Exception as exc:  # noqa: BLE001 - the one place errors become messages
        if isinstance(exc, _expected_errors()):
            _fail(str(exc), 2)
        if os.environ.get("HRM_DEBUG"):
            raise
        if isinstance(exc, OSError):
            _fail(_os_message(exc), 1)
        if isinstance(exc, MemoryError):
            _fail("out of memory; try a smaller --batch-size or model", 1)
        _fail(f"internal error: {type(exc).__name__}: {exc} (run with HRM_DEBUG=1 for the traceback, "
              "and please report it)", 1)
    if isinstance(code, int) and code:
        raise SystemExit(code)
