"""The documentation: the site builds without a warning, and every command in it works.

Every ``framecast ...`` line of a shell block in the README and ``docs/``
is parsed by framecast's own argument parser; the cheap ones (``CHEAP``)
run for real in a temporary folder, with small overrides where they would
train for minutes. ``make`` targets, benchmark scripts, config files and
pip extras named in those blocks must exist. The code of
``docs/extending.md`` is written out and run: each new file, its line in
the plugin table, and the code that uses it.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from framecast.cli import build_parser, main
from framecast.plugins import PLUGINS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}


@dataclass(frozen=True)
class Block:
    page: Path
    language: str
    text: str


def fenced_blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, with their language."""
    found = re.finditer(r"^```(\w*)[^\n]*\n(.*?)^```", page.read_text(), re.M | re.S)
    return [Block(page, m.group(1).lower(), m.group(2)) for m in found]


def shell_lines(block: Block) -> list[str]:
    """The command lines of a shell block, as written: continuations joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", block.text)
    lines = []
    for line in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line.strip().removeprefix("$ "))
        if line.strip():
            lines.append(" ".join(line.split()))
    return lines


def documented_commands() -> list[tuple[str, str]]:
    """(page name, command line) of every shell line of the README and docs/."""
    return [
        (block.page.relative_to(ROOT).as_posix(), line)
        for page in PAGES
        for block in fenced_blocks(page)
        if block.language in SHELL_LANGUAGES
        for line in shell_lines(block)
    ]


COMMANDS = documented_commands()
FRAMECAST = [(page, line) for page, line in COMMANDS if line.startswith("framecast")]


def variants(line: str) -> list[list[str]]:
    """The words of a command with its optional ``[...]`` groups left out, and taken in.

    A group taken in keeps the first of its ``a|b|c`` alternatives. A
    bracket after ``=`` (``clip=[0,70]``) is a value, not a group.
    """
    group = re.compile(r"(?<=\s)\[([^\[\]]+)\]")
    without = group.sub("", line)
    with_all = group.sub(lambda m: re.sub(r"(\S+?)\|\S+", r"\1", m.group(1)), line)
    return [shlex.split(without)[1:], shlex.split(with_all)[1:]]


def parse(words: list[str]) -> argparse.Namespace | None:
    """Parse framecast's arguments as ``main`` does; None for ``--version`` (answered, exit 0)."""
    parser = build_parser(None)
    try:
        args, extra = parser.parse_known_args(words)
    except SystemExit as stop:
        if stop.code == 0:
            return None
        raise AssertionError(f"framecast {shlex.join(words)}: exit {stop.code}") from None
    stray = [e for e in extra if e.startswith("-") or "=" not in e]
    assert not stray, f"framecast {shlex.join(words)}: unrecognized {stray}"
    assert not extra or hasattr(args, "overrides"), f"{extra} given to a command without overrides"
    return args


def test_the_docs_show_commands():
    assert len(FRAMECAST) >= 40, "the extraction of the docs' commands broke"
    pages = {page for page, _ in FRAMECAST}
    assert {"README.md", "docs/getting-started.md", "docs/earthquakes.md"} <= pages


@pytest.mark.parametrize(("page", "line"), FRAMECAST, ids=[line[:70] for _, line in FRAMECAST])
def test_every_framecast_command_in_the_docs_parses(page: str, line: str):
    for words in variants(line):
        parse(words)
        for word in words:  # configs and benchmarks named by a command exist
            if re.match(r"(configs|benchmarks)/\S+\.(ya?ml|py)$", word):
                assert (ROOT / word).is_file(), f"{page}: {word} does not exist"
            if m := re.match(r"--config=?(\S*)", word):
                assert not m.group(1) or (ROOT / m.group(1)).is_file(), f"{page}: {word}"


def test_other_commands_in_the_docs_name_what_exists():
    """``make`` targets, scripts, configs and pip extras of the docs' shell blocks."""
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = set(pyproject["project"]["optional-dependencies"])
    checked = 0
    for page, line in COMMANDS:
        words = shlex.split(line)
        if words[0] == "make":
            named = [w for w in words[1:] if "=" not in w]
            assert set(named) <= targets, f"{page}: make {named}: no such target"
            checked += 1
        elif words[0] in ("python", "python3") and words[1].endswith(".py"):
            assert (ROOT / words[1]).is_file(), f"{page}: {words[1]} does not exist"
            checked += 1
        for word in words:
            if m := re.fullmatch(r"\.\[([\w,-]+)\]", word):
                assert set(m.group(1).split(",")) <= extras, f"{page}: extras {word}"
                checked += 1
    assert checked >= 10


# ------------------------------------------------------------------ the cheap ones, run
TINY = [
    "model.options.hidden_channels=4",
    "data.batch_size=4",
    "data.split_options.train.num_sequences=8",
    "data.split_options.val.num_sequences=4",
    "data.split_options.test.num_sequences=4",
    "train.max_steps=2",
    "train.max_minutes=null",
    "train.progress_bar=false",
]
"""Overrides that shrink configs/quick/predrnn.yaml to seconds."""

RUN = "runs/predrnn-stlstm-20261121-101500"
"""The run folder the docs name; the tests train a tiny run there first."""

ARRAY_TINY = ["model.options.hidden_channels=4", "data.batch_size=2", "train.max_steps=2"]

CHEAP: dict[str, list[str]] = {
    "framecast list": [],
    "framecast --version": [],
    "framecast pretrained": [],
    "framecast train --config configs/quick/predrnn.yaml": [
        *TINY,
        "train.run_name=predrnn-stlstm-20261121-101500",
    ],
    f"framecast evaluate {RUN}": ["--max-batches", "1"],
    "framecast evaluate CKPT --data array data.options.path=my.npy": ["--out", "eval-array"],
    "framecast evaluate CKPT --thresholds 0.3 0.6 --fss-scales 1 3 9": [
        "--max-batches",
        "1",
        "--out",
        "eval-csi",
    ],
    "framecast predict CKPT --input my_frames.npy --horizon 10 --out forecast/ [--frame-pngs]": [],
    "framecast train --config configs/quick/predrnn.yaml data.name=array "
    "data.options.path=my.npy 'data.split_options={}'": [*ARRAY_TINY, "train.run_name=array"],
    "framecast classify train --config configs/classify/quick_synthetic_text.yaml": [
        "train.max_steps=2",
        "data.options.num_train=64",
        "data.options.num_val=32",
        "data.options.num_test=32",
    ],
    "framecast classify evaluate runs/classify/quick_synthetic_text": [],
    "framecast quake etas-simulate --region 33,34,-117,-116 --start 2000-01-01 "
    "--end 2010-01-01 --out sim.h5": [],
    "framecast quake etas-fit --catalog sim.h5 --region 33,34,-117,-116 --mc 2.0 "
    "--start 2002-01-01 --end 2010-01-01 --max-branching-ratio 0.95": [],
}
"""Documented command -> extra arguments that keep it short; run in this order."""


def _words(line: str, ckpt: Path | None = None) -> list[str]:
    """The arguments of a documented command, its optional groups taken in, configs found."""
    words = variants(line)[1]
    out = []
    for word in words:
        if word.startswith("configs/"):
            word = str(ROOT / word)
        elif word == "CKPT" and ckpt is not None:
            word = str(ckpt)
        out.append(word)
    return out


def _run(words: list[str]) -> int:
    """``main``'s exit status (``--version`` exits through argparse)."""
    try:
        return main(words)
    except SystemExit as stop:
        return int(stop.code or 0)


def test_the_cheap_commands_are_still_in_the_docs():
    documented = {line for _, line in FRAMECAST}
    assert set(CHEAP) <= documented, set(CHEAP) - documented


def test_the_cheap_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    np.save("my.npy", rng.random((10, 20, 40, 40), dtype=np.float32))  # [N, T, H, W]
    np.save("my_frames.npy", rng.random((10, 40, 40), dtype=np.float32))  # [T, H, W]
    ckpt = tmp_path / RUN / "checkpoints" / "last.ckpt"
    for line, extra in CHEAP.items():
        status = _run([*_words(line, ckpt), *extra])
        assert status == 0, f"{line}: exit {status}\n{capsys.readouterr().err}"
    assert (tmp_path / RUN / "checkpoints" / "last.ckpt").is_file()
    assert (tmp_path / "forecast" / "predictions.npy").is_file()
    assert (tmp_path / "forecast" / "frames").is_dir()  # --frame-pngs
    assert (tmp_path / "eval-array" / "metrics.json").is_file()
    assert (tmp_path / "sim.h5").is_file()


# -------------------------------------------------------------- extending framecast
@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "plugins"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        if name.startswith("docs_plugin_"):
            del sys.modules[name]


def test_extending_page_code_runs(
    plugin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    """Each new file of docs/extending.md, its line in PLUGINS, and the code that uses it."""
    page = DOCS / "extending.md"
    blocks = [b for b in fenced_blocks(page) if b.language == "python"]
    files: dict[str, str] = {}  # module path -> module name written into plugin_dir
    lines = 0
    for block in blocks:
        first, _, body = block.text.partition("\n")
        if m := re.fullmatch(r"# src/(framecast/\S+)\.py", first):
            module = m.group(1).replace("/", ".")
            assert importlib.util.find_spec(module) is None, f"{module} exists already"
            name = "docs_plugin_" + module.rsplit(".", 1)[1]
            (plugin_dir / f"{name}.py").write_text(body)
            files[module] = name
        elif m := re.fullmatch(r'# src/framecast/plugins\.py, PLUGINS\["([\w ]+)"\]', first):
            entry = re.fullmatch(r'"(\w+)": "([\w.]+):(\w+)",\n', body)
            assert entry, f"not one plugin-table line: {body!r}"
            key, module, attribute = entry.groups()
            assert module in files, f"{module} is not a file of the page"
            assert key not in PLUGINS[m.group(1)]
            monkeypatch.setitem(PLUGINS[m.group(1)], key, f"{files[module]}:{attribute}")
            lines += 1
        elif "PLUGINS[" in block.text:
            continue  # the user's own plugin: names a package that does not exist
        else:
            exec(compile(block.text, f"{page}:python block", "exec"), {})
    assert len(files) == lines == 4
    assert "peak λ" in capsys.readouterr().out

    # and its shell commands train with the new names, as a config would use them
    monkeypatch.chdir(tmp_path)
    short = ["train.max_steps=2", "train.max_minutes=null", "train.progress_bar=false"]
    trained = 0
    for _, line in FRAMECAST:
        if line.startswith("framecast train") and re.search(r"plain_rnn|walking_square", line):
            smaller = [] if "model.name" in line else ["model.options.hidden_channels=4"]
            run = f"train.run_name=extending-{trained}"
            assert _run([*_words(line), *short, *smaller, run]) == 0, line
            trained += 1
    assert trained == 2


# ------------------------------------------------------------------ the site and words
def test_the_site_builds_without_a_warning(tmp_path: Path):
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]'; make installs it)")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "index.html").is_file()


def test_every_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    missing = [p.name for p in DOCS.glob("*.md") if f": {p.name}" not in nav]
    assert not missing, f"pages not in mkdocs.yml's nav: {missing}"


def test_no_page_speaks_of_issues():
    for page in PAGES:
        for n, line in enumerate(page.read_text().splitlines(), 1):
            assert not re.search(r"\bissues?\b", line, re.I), f"{page.name}:{n}: {line}"


def test_nothing_points_to_design_notes_that_do_not_exist():
    names = ("DESIGN" + ".md", "DEVELOPERS" + ".md")
    places = [ROOT / "Makefile", ROOT / "README.md", ROOT / "mkdocs.yml"]
    for folder in ("src", "tests", "docs", "configs", "benchmarks"):
        places += [p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".md", ".yaml")]
    for path in places:
        text = path.read_text(errors="replace")
        for name in names:
            if name in text and not (ROOT / name).exists():
                raise AssertionError(f"{path.relative_to(ROOT)} refers to {name}, not in the repo")


def test_readme_is_a_five_minute_read():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines; move detail into docs/"


def _slug(title: str) -> str:
    """The anchor MkDocs gives a heading (Python-Markdown's toc slugify)."""
    title = re.sub(r"[^\w\s-]", "", title.replace("`", "")).strip().lower()
    return re.sub(r"[-\s]+", "-", title)


def test_readme_links_resolve():
    text = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert len(links) >= 10
    for link in links:
        if re.match(r"\w+://", link):
            continue
        path, _, anchor = link.partition("#")
        target = ROOT / path
        assert target.exists(), f"README links to {path}, which does not exist"
        if anchor:
            titles = re.findall(r"^#+ (.+)$", target.read_text(), re.M)
            assert anchor in {_slug(t) for t in titles}, f"README: no heading #{anchor} in {path}"
