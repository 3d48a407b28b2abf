"""One module per `hrm` command.

Every public module here defines `register(app)`; the CLI finds them by name, so
adding a command is adding a file. Modules import heavy libraries (mlx, textual)
inside the command body so `hrm --help` stays instant.
"""

import pkgutil

_PREFERRED_ORDER = ["solve", "train", "eval", "adapt", "data", "convert", "compare", "bench", "doctor"]


def command_modules() -> list[str]:
    found = {m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")}
    ordered = [name for name in _PREFERRED_ORDER if name in found]
    return ordered + sorted(found - set(ordered))
