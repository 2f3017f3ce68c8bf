"""The quake tests' helpers (quake_testing, scores_testing, fdsn_replay) import from any subfolder."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
