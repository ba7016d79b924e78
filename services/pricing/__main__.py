"""``python -m services.pricing COMMAND [ARGS...]``: ``fit``, ``evaluate`` or ``run``.

Each command is a module with ``main(argv) -> int``, imported only when asked for, so
one command's dependencies never load for another.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "fit": "services.pricing.fit",
    "evaluate": "services.pricing.evaluate",
    "run": "services.pricing.service",
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the command's module; the exit status (2 for a bad command)."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in COMMANDS:
        print(f"usage: python -m services.pricing {{{','.join(COMMANDS)}}} [ARGS...]", file=sys.stderr)
        return 0 if args and args[0] in ("-h", "--help") else 2
    name = COMMANDS[args[0]]
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        print(f"{args[0]}: not in this build ({name} is missing)", file=sys.stderr)
        return 2
    return int(module.main(args[1:]))


if __name__ == "__main__":
    sys.exit(main())
