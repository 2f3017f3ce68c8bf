"""The ``framecast`` command line: train, evaluate, predict, list, demo."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from framecast.errors import FramecastError

EXIT_USAGE = 2


def _cmd_train(args: argparse.Namespace) -> int:
    from framecast.checkpoint import read_checkpoint
    from framecast.config import apply_overrides, config_from_dict, load_config
    from framecast.training import train
    from framecast.training.run import checkpoint_to_resume

    if args.resume is not None:
        # continue exactly the stored run; overrides may extend it (e.g. train.max_steps)
        stored = read_checkpoint(checkpoint_to_resume(args.resume))["hyper_parameters"]["config"]
        config = config_from_dict(apply_overrides(stored, args.overrides))
    else:
        if args.config is None:
            raise ValueError("framecast train needs --config FILE (or --resume RUN)")
        config = load_config(args.config, args.overrides)
    if args.precision is not None:
        config.train.precision = args.precision
    result = train(config, resume=args.resume)
    print(f"run folder: {result.run_dir}")
    print(f"last checkpoint: {result.last_checkpoint}")
    if result.best_checkpoint:
        print(f"best checkpoint: {result.best_checkpoint}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from framecast.reporting import evaluate_checkpoint

    evaluate_checkpoint(
        args.checkpoint,
        data=args.data,
        overrides=args.overrides,
        split=args.split,
        out_dir=args.out,
        max_batches=args.max_batches,
    )
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from framecast.reporting import predict_file

    predict_file(
        args.checkpoint,
        args.input,
        horizon=args.horizon,
        out_dir=args.out,
        layout=args.layout,
        scale=args.scale,
    )
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from framecast.catalog import registry_tables

    print(registry_tables(), end="")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    import yaml

    from framecast.experiments.compare import run_comparison

    model_options = None
    if args.preset_file is not None:
        if not args.preset_file.is_file():
            raise FileNotFoundError(f"preset file {str(args.preset_file)!r} does not exist")
        model_options = yaml.safe_load(args.preset_file.read_text()) or {}
        if not isinstance(model_options, dict):
            raise ValueError(f"preset file {args.preset_file} must map model names to options")
    run_comparison(
        [m.strip() for m in args.models.split(",") if m.strip()],
        [c.strip() for c in args.cells.split(",") if c.strip()],
        args.data,
        args.budget,
        args.out,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        model_options=model_options,
    )
    return 0


def _cmd_tune(args: argparse.Namespace) -> int:
    from framecast.config import apply_overrides, load_config
    from framecast.tuning import TuneSettings, load_space, run_study

    base = apply_overrides(load_config(args.config).to_dict(), args.overrides)
    settings = TuneSettings(
        trials=args.trials,
        out_dir=args.out,
        storage=args.storage,
        study_name=args.study_name,
        pruner=args.pruner,
        trial_minutes=args.trial_minutes,
        trial_steps=args.trial_steps,
        seed=args.seed,
        warmup_steps=args.warmup_steps,
    )
    study = run_study(base, load_space(args.space), settings)
    finished = sum(t.state.name in ("COMPLETE", "PRUNED") for t in study.trials)
    print(f"study {study.study_name!r}: {finished} finished trials in {settings.storage_url()}")
    if any(t.state.name == "COMPLETE" for t in study.trials):
        print(f"best: trial {study.best_trial.number}, validation loss {study.best_value:.6g}")
        print(f"best config: {args.out / 'best.yaml'}")
    print(f"summary: {args.out / 'summary.md'}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from framecast.demo import run_demo

    run_demo(out_dir=args.out, minutes=args.minutes, mnist_dir=args.mnist_dir)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="framecast", description="Forecast sequences of gridded maps with recurrent networks."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a model from a YAML config")
    p.add_argument("--config", type=Path, help="YAML config file")
    p.add_argument("--resume", help="run folder or checkpoint to continue exactly")
    p.add_argument(
        "--precision",
        choices=["32", "bf16-mixed", "16-mixed", "auto"],
        help="shorthand for train.precision=...",
    )
    p.add_argument("overrides", nargs="*", help="section.key=value overrides, e.g. optim.lr=3e-4")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="score a checkpoint against persistence")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--data", help="dataset name (default: the checkpoint's)")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--out", type=Path, help="output folder (default: beside the checkpoint)")
    p.add_argument("--max-batches", type=int, help="evaluate only this many batches")
    p.add_argument("overrides", nargs="*", help="data.* overrides, e.g. data.options.path=x.npy")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("predict", help="forecast the frames after those in an array file")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--input", type=Path, required=True, help=".npy/.npz/.h5 frames")
    p.add_argument("--horizon", type=int, default=10)
    p.add_argument("--out", type=Path, default=Path("predictions"))
    p.add_argument(
        "--layout",
        default="auto",
        choices=["auto", "THW", "TCHW", "NTHW", "NTCHW"],
        help="axis order of the input array (auto: THW, NTCHW, and for 4-D NTHW "
        "with 1-channel models, TCHW otherwise)",
    )
    p.add_argument("--scale", type=float, help="divide inputs by this (default: 255 for uint8)")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("compare", help="train every model x cell pair on one budget, one table")
    p.add_argument("--models", default="predrnn", help="comma-separated model names")
    p.add_argument("--cells", default="convlstm,stlstm", help="comma-separated cell names")
    p.add_argument("--data", default="mmnist", help="mmnist, squares, or a dataset name")
    p.add_argument("--budget", default="10m", help="per pair: minutes (10m), seconds, or 500steps")
    p.add_argument("--out", type=Path, default=Path("runs/compare"))
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--preset-file", type=Path, help="YAML: model name -> options overriding presets"
    )
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("list", help="list registered models, cells, datasets and losses")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("tune", help="Optuna search over a config, with pruning and early stopping")
    p.add_argument("--config", required=True, help="base YAML config")
    p.add_argument("--space", required=True, help="search space YAML (configs/tune/)")
    p.add_argument(
        "--trials", type=int, required=True, help="finished trials the study should hold"
    )
    p.add_argument("--storage", help="Optuna storage URL (default sqlite:///OUT/study.db)")
    p.add_argument("--study-name", default="framecast")
    p.add_argument("--pruner", default="median", help="median, hyperband or none")
    p.add_argument("--trial-minutes", type=float, help="time budget of each trial")
    p.add_argument("--trial-steps", type=int, help="step budget of each trial")
    p.add_argument("--seed", type=int, default=0, help="sampler seed; trial n trains with seed+n")
    p.add_argument(
        "--warmup-steps", type=int, help="no pruning before this step (default: trial steps / 4)"
    )
    p.add_argument("--out", type=Path, default=Path("runs/tune"))
    p.add_argument("overrides", nargs="*", help="section.key=value applied to the base config")
    p.set_defaults(func=_cmd_tune)

    from framecast.quake.cli import add_quake_commands

    add_quake_commands(sub)

    from framecast.data.cli import add_data_commands

    add_data_commands(sub)

    p = sub.add_parser("demo", help="train a small PredRNN and compare it with persistence")
    p.add_argument("--out", type=Path, default=Path("runs/demo"))
    p.add_argument("--minutes", type=float, default=4.0, help="training time budget")
    p.add_argument("--mnist-dir", type=Path, help="folder of the MNIST IDX files")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``framecast`` console script.

    Bad input ends with exit status 2 and a one-line message; set
    ``FRAMECAST_DEBUG=1`` for the traceback.
    """
    from framecast.numerics import configure_torch

    parser = build_parser()
    # overrides may come after options too (`evaluate CKPT --data array data.options.path=x`)
    args, extra = parser.parse_known_args(argv)
    stray = [e for e in extra if e.startswith("-") or "=" not in e]
    if stray or (extra and not hasattr(args, "overrides")):
        parser.error(f"unrecognized arguments: {' '.join(stray or extra)}")
    if extra:
        args.overrides = [*args.overrides, *extra]
    configure_torch()
    try:
        return args.func(args)
    except (ValueError, TypeError, KeyError, FileNotFoundError) as err:
        if os.environ.get("FRAMECAST_DEBUG"):
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"framecast {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except FramecastError as err:
        if os.environ.get("FRAMECAST_DEBUG"):
            raise
        print(f"framecast {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
