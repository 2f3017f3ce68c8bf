import re
from pathlib import Path

from framecast.catalog import registry_tables

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_registry_tables_match_the_registries():
    text = README.read_text()
    found = re.search(r"<!-- registry:start.*?-->\n(.*?)<!-- registry:end -->", text, re.S)
    assert found, "README lost its registry markers"
    assert found.group(1) == registry_tables(), "run `make readme` to refresh the tables"


def test_readme_shows_the_two_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text
