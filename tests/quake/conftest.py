"""The quake test helpers (quake_testing, scores_testing, fdsn_replay) import from subfolders."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
