import sys

from harmonlang.cli import main

if __name__ == "__main__":  # the live player's process imports this module again (spawn) and must not run it
    sys.exit(main())
