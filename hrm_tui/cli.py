"""The `hrm` command line. Heavy imports happen inside commands, never here."""

from __future__ import annotations

import sys

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
def _root(ctx: typer.Context) -> None:
    """With no command, open the app."""
    if ctx.invoked_subcommand is None:
        from hrm_tui.launch import open_app

        open_app()


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


def main() -> None:
    _register_commands()
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise SystemExit(130)
    except Exception as exc:  # noqa: BLE001 - the one place errors become messages
        if isinstance(exc, _expected_errors()):
            typer.echo(f"error: {exc}", err=True)
            raise SystemExit(2)
        raise
