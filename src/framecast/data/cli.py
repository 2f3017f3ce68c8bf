"""``framecast data ...``: prepare a video cache (KTH, KITTI, videos, frame series), inspect one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from framecast.yamlio import load_yaml_text


def parse_size(text: str) -> tuple[int, int]:
    """``"64x80"`` -> (64, 80) as (height, width); ``"64"`` -> (64, 64).

    Raises
    ------
    ValueError
        If ``text`` is not ``HxW`` or one size with positive integers.
    """
    parts = text.lower().replace("×", "x").split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or min(values, default=0) < 1:
        raise ValueError(f"--size must look like HEIGHTxWIDTH (64x64, 128x160), got {text!r}")
    return values[0], values[-1]


def parse_options(items: list[str]) -> dict[str, Any]:
    """``["persons_val=[]", "clip=[0, 70]"]`` -> options, values read as YAML.

    Raises
    ------
    ValueError
        An item without ``=``.
    """
    options: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"option {item!r} must look like name=value (scale=70)")
        name, raw = item.split("=", 1)
        options[name.strip()] = load_yaml_text(raw, f"option {item!r}")
    return options


def _cmd_prepare(args: argparse.Namespace) -> int:
    from framecast.data.prepare import get_preparer
    from framecast.signature import accepted_options, check_options

    preparer = get_preparer(args.name)
    options: dict[str, Any] = {}
    if args.size is not None:
        options["size"] = parse_size(args.size)
    if args.color:
        options["grayscale"] = False
    for name in ("on_error", "val_fraction", "test_fraction"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.overwrite:
        options["overwrite"] = True
    options.update(parse_options(args.overrides))
    if "progress" in accepted_options(preparer):
        options.setdefault("progress", print)
    check_options(preparer, options, f"preparer {args.name!r}", skip=("source", "out"))
    try:
        report = preparer(args.source, args.out, **options)
    except KeyboardInterrupt:
        from framecast.data.cache import partial_path, unfinished_note

        partial = partial_path(args.out)
        note = unfinished_note(partial) if partial.is_file() else "nothing was written"
        print(f"framecast data: interrupted; {note}", file=sys.stderr)
        return 130
    print(report.format() if hasattr(report, "format") else report, end="")
    return 0


def _windows(args: argparse.Namespace, dataset_name: str | None) -> tuple[dict[str, int], str]:
    """Windows per split as the dataset that reads the cache cuts them."""
    from framecast.data import DATASETS, SPLITS, build_dataset
    from framecast.data.cache import EmptySplitError
    from framecast.signature import accepted_options

    name = args.dataset
    if name is None:
        own = dataset_name in DATASETS and "path" in accepted_options(DATASETS.get(dataset_name))
        name = dataset_name if own else "prepared"
    options = {"path": str(args.cache), **parse_options(args.overrides)}
    counts: dict[str, int] = {}
    for split in SPLITS:
        try:
            dataset = build_dataset(
                name, split, n_context=args.n_context, n_target=args.n_target, options=options
            )
        except EmptySplitError:
            counts[split] = 0
            continue
        counts[split] = len(dataset)
    extra = "".join(f", {k}={v}" for k, v in options.items() if k != "path")
    return counts, f"({args.n_context}+{args.n_target} frames, dataset {name!r}{extra})"


def _cmd_info(args: argparse.Namespace) -> int:
    from framecast.data.cache import read_cache_info

    info = read_cache_info(args.cache)
    windows, note = _windows(args, info.dataset)
    print(info.format(windows, note), end="")
    return 0


def add_data_commands(sub: Any) -> None:
    """Add ``framecast data`` and its subcommands to the top-level subparsers."""
    from framecast.data.prepare import available_preparers

    data = sub.add_parser("data", help="prepare video caches (KTH, KITTI, videos, frame series)")
    dsub = data.add_subparsers(dest="data_command", required=True)

    names = ", ".join(available_preparers())
    p = dsub.add_parser(
        "prepare",
        help=f"decode a dataset into an HDF5 cache (resumable): {names}",
        description="Decode a dataset into a prepared-video cache. An interrupted run "
        "continues where it stopped when run again with the same options.",
    )
    p.add_argument("name", help=f"what to prepare: {names}")
    p.add_argument("--source", type=Path, required=True, help="the dataset's folder or file")
    p.add_argument("--out", type=Path, required=True, help="cache file to write (.h5)")
    p.add_argument("--size", help="frame size HEIGHTxWIDTH, e.g. 64x64 or 128x160")
    p.add_argument("--color", action="store_true", help="keep RGB (default: grayscale)")
    p.add_argument("--on-error", choices=("skip", "raise"), help="unreadable video: skip or stop")
    p.add_argument("--val-fraction", type=float, help="share of videos/frames for validation")
    p.add_argument("--test-fraction", type=float, help="share of videos/frames for test")
    p.add_argument("--overwrite", action="store_true", help="replace an existing cache")
    p.add_argument(
        "overrides",
        nargs="*",
        help="other options of the preparer as name=value (YAML), e.g. persons_val=[] "
        "clip=[0,70] log1p=true",
    )
    p.set_defaults(func=_cmd_prepare)

    p = dsub.add_parser("info", help="shapes, value range, clips/frames/windows per split")
    p.add_argument("cache", type=Path)
    p.add_argument("--n-context", type=int, default=10)
    p.add_argument("--n-target", type=int, default=10)
    p.add_argument(
        "--dataset",
        help="dataset that cuts the windows (default: the cache's own, e.g. kth, else prepared)",
    )
    p.add_argument(
        "overrides", nargs="*", help="options of that dataset as name=value, e.g. stride=2"
    )
    p.set_defaults(func=_cmd_info)
