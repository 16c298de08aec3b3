"""The `initiatief` command: a thin layer over the service functions, Dutch for people, --json for scripts.

Exit codes: 0 ok, 2 wrong use of the command, 3 not allowed, 4 conflict (stale version or a
step not possible now), 5 invalid input, 6 not found, 7 database not migrated.
The command is built in `workflow.cli.commands`; each module of this package registers its own
commands. `workflow.cli.app` is that command, imported on first use.
"""

import gc
from typing import Any


def main() -> None:
    """Run the `initiatief` command."""
    # Importing the commands (the web app, the mapped tables, the flows) creates some 200,000
    # objects that live as long as the process. With the collector on, it walks them again and
    # again while they are being made (measured: 150 ms of the start of `serve`), and once more
    # in the full collection of `workflow.app.settle` (90 ms). So it is off during the import,
    # and what the import built is frozen, as `settle` does; what a command creates afterwards
    # is collected as usual.
    collecting = gc.isenabled()
    gc.disable()
    try:
        from workflow.cli.commands import app

        gc.freeze()
    finally:
        if collecting:
            gc.enable()
    app()


def __getattr__(name: str) -> Any:
    """`workflow.cli.app`, the Typer command (for tests and tools), imported on first use."""
    if name == "app":
        from workflow.cli.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
