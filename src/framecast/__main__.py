"""``python -m framecast``: the ``framecast`` command, for launchers that start a module.

``torchrun ... -m framecast train --config FILE`` starts a training process
on each node (docs/cluster.md, "Training on several nodes").
"""

from __future__ import annotations

import sys

from framecast.cli import main

if __name__ == "__main__":
    sys.exit(main())
