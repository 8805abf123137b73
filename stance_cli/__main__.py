"""``python -m stance_cli``: the `stance` command as a module, for launchers that start modules
(``torchrun --nproc_per_node 2 -m stance_cli train ...``, ``accelerate launch -m stance_cli train ...``)."""

from __future__ import annotations

import sys

from stance_cli.main import main

sys.exit(main())
