"""Entry script for the frozen app: the same main() as the ``cnnstudio`` command."""

import sys

from cnnstudio.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
