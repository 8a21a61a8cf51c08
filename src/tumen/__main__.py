"""``python -m tumen`` is the same as the ``tumen`` command."""

import sys


def main() -> None:
    """Run the CLI; Ctrl-C while it is still starting up is one line and exit 130 too."""
    try:
        from tumen.cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    cli_main()


if __name__ == "__main__":
    main()
