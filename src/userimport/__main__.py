"""``python -m userimport``: the same command line as the ``userimport`` script."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> int:
    """Run the command line, or say how to install it."""
    try:
        from .cli import main as cli_main
    except ImportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 4
    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
