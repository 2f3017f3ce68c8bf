"""The README and the registry tables of docs/registry.md (`make readme` refreshes them).

The rest of the documentation is checked by tests/test_docs.py.
"""

import re
from pathlib import Path

from framecast.catalog import registry_tables

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
REGISTRY_PAGE = ROOT / "docs" / "registry.md"


def test_registry_tables_match_the_registries():
    text = REGISTRY_PAGE.read_text()
    found = re.search(r"<!-- registry:start.*?-->\n(.*?)<!-- registry:end -->", text, re.S)
    assert found, "docs/registry.md lost its registry markers"
    assert found.group(1) == registry_tables(), "run `make readme` to refresh the tables"


def test_readme_shows_the_two_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text
