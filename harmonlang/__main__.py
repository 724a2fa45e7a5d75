import sys

from harmonlang.cli import main

sys.exit(main())
