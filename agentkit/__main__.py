"""``python -m agentkit``: the same as the ``agentkit`` command."""

import sys

from agentkit.cli._main import main

sys.exit(main())
