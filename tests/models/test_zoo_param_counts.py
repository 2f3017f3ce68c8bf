"""Parameter counts at the papers' Moving MNIST settings agree with OpenSTL's within 1 %."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "param_counts.py"


def _script():
    spec = importlib.util.spec_from_file_location("param_counts", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("row", _script().rows(), ids=lambda r: str(r["label"]))
def test_counts_agree_with_openstl_within_one_percent(row):
    assert abs(row["difference_pct"]) < 1.0, row
