"""``python -m services.pricing fit|evaluate|run ...``: each command's module is imported only when run.

- ``fit``: fit models on MySQL's results and store them (``services.pricing.fit``);
- ``evaluate``: score a model on football-data files (``services.pricing.evaluate``);
- ``run``: the live pricing service (``services.pricing.service``).

Each module has ``main(argv) -> int``. A command whose module is not in this build
says so and exits 2, without breaking the others.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import cast

COMMANDS = {
    "fit": ("services.pricing.fit", "fit models on the results in MySQL and store them"),
    "evaluate": ("services.pricing.evaluate", "score a model on football-data CSV files"),
    "run": ("services.pricing.service", "run the live pricing service"),
}


def usage() -> str:
    """The list of commands."""
    lines = ["usage: python -m services.pricing <command> [options]", "", "commands:"]
    lines += [f"  {name:<9} {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "`python -m services.pricing <command> --help` describes one."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the command's ``main``; the exit status."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    entry = COMMANDS.get(args[0])
    if entry is None:
        print(f"unknown command {args[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    name = entry[0]
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        print(f"`{args[0]}` is not available in this build ({name} is missing)", file=sys.stderr)
        return 2
    command = cast(Callable[[list[str]], int], module.main)
    return int(command(args[1:]))


if __name__ == "__main__":
    sys.exit(main())
