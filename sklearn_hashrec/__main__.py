"""``python -m sklearn_hashrec``: the ``hashrec`` command."""

import sys

from .cli import main

sys.exit(main())
