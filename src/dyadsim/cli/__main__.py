"""``python -m dyadsim.cli``: the ``dyadsim`` command."""

from . import main

if __name__ == "__main__":
    main()
