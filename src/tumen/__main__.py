"""``python -m tumen`` is the same as the ``tumen`` command."""

from tumen.cli import main

if __name__ == "__main__":
    main()
