"""``python -m userimport``: the same command line as the ``userimport`` script."""

from __future__ import annotations

import gc
import sys

__all__ = ["main"]


def main() -> int:
    """
    Run the command line, or say how to install it.

    The cyclic garbage collector is held while the libraries load (see
    :func:`userimport._cliopts.hold_collector`), and what the command made is frozen before the
    interpreter exits: its last collections would otherwise walk every object of pandas and
    the rest once more only to free memory the exit frees anyway. The collector is then left
    as it was found: a caller running the command in its own process keeps collecting.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        from ._cliopts import hold_collector
        from .cli import main as cli_main
    except ImportError as e:
        print(f"error: {e}", file=sys.stderr)
        if enabled:
            gc.enable()
        return 4
    hold_collector()
    try:
        return cli_main()
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


if __name__ == "__main__":
    sys.exit(main())
