"""``framecast classify {train,evaluate,predict}``: recurrent sequence classifiers.

Building the parser imports neither torch nor Lightning; each command
imports what it needs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

CLASSIFY_HELP = "classify sequences: text reviews, actions in video, earthquake alarms"


def _cmd_train(args: argparse.Namespace) -> int:
    from framecast.classify.config import classify_config_from_dict, load_classify_config
    from framecast.classify.training import train_classifier
    from framecast.config import apply_overrides
    from framecast.training.machine import LightningConfigErrors, check_accelerator

    if args.resume is not None:
        from framecast.checkpoint import read_checkpoint
        from framecast.training.run_checks import checkpoint_to_resume

        # continue exactly the stored run; overrides may extend it (train.max_steps=...)
        stored = read_checkpoint(checkpoint_to_resume(args.resume))["hyper_parameters"]["config"]
        config = classify_config_from_dict(apply_overrides(stored, args.overrides))
    else:
        if args.config is None:
            raise ValueError("framecast classify train needs --config FILE (or --resume RUN)")
        config = load_classify_config(args.config, args.overrides)
    check_accelerator(config.train.accelerator)
    with LightningConfigErrors():
        result = train_classifier(config, resume=args.resume)
    print(f"run folder: {result.run_dir}")
    if result.stopped_by is not None:  # 143 after SIGTERM, 130 after Ctrl-C, as `train`
        print(f"stopped early; continue with: framecast classify train --resume {result.run_dir}")
        return 128 + int(result.stopped_by)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from framecast.classify.evaluate import evaluate_classifier

    evaluate_classifier(
        args.checkpoint,
        split=args.split,
        out_dir=args.out,
        overrides=args.overrides,
        max_batches=args.max_batches,
        rate_checkpoint=args.rate_checkpoint,
        b_value=args.b_value,
        train_histogram=not args.no_train_histogram,
    )
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from framecast.classify.predict import predict_inputs

    path = predict_inputs(args.checkpoint, args.input, args.out)
    print(path.read_text(), end="")
    print(f"predictions: {path}")
    return 0


def add_classify_commands(sub: Any) -> None:
    """Add ``framecast classify`` and its subcommands to the top-level subparsers."""
    classify = sub.add_parser("classify", help=CLASSIFY_HELP, description=CLASSIFY_HELP)
    csub = classify.add_subparsers(dest="classify_command", required=True)

    p = csub.add_parser("train", help="train a sequence classifier from a YAML config")
    p.add_argument("--config", type=Path, help="YAML config (configs/classify/)")
    p.add_argument("--resume", help="run folder or checkpoint to continue exactly")
    p.add_argument("overrides", nargs="*", help="section.key=value, e.g. train.max_steps=200")
    p.set_defaults(func=_cmd_train)

    p = csub.add_parser(
        "evaluate",
        help="accuracy, precision, recall, F1, confusion matrix, ROC and PR of a checkpoint",
    )
    p.add_argument("checkpoint", type=Path, help="a .ckpt file or a run folder")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--out", type=Path, help="output folder (default: RUN/eval-SPLIT)")
    p.add_argument("--max-batches", type=int, help="score only this many batches")
    p.add_argument(
        "--rate-checkpoint",
        type=Path,
        help="quake alarms: also score this rate network (framecast train/quake run) "
        "on the same windows",
    )
    p.add_argument(
        "--b-value", type=float, default=1.0, help="Gutenberg-Richter b scaling rates to M0"
    )
    p.add_argument(
        "--no-train-histogram",
        action="store_true",
        help="skip the pass over the training data for the probability histograms",
    )
    p.add_argument("overrides", nargs="*", help="data.* overrides, e.g. data.options.path=x")
    p.set_defaults(func=_cmd_evaluate)

    p = csub.add_parser(
        "predict",
        help="classify text files, frame arrays, video caches or seismicity frames",
    )
    p.add_argument("checkpoint", type=Path, help="a .ckpt file or a run folder")
    p.add_argument(
        "--input",
        type=Path,
        required=True,
        help=".txt file or folder (text); .npy/.npz (N,T,C,H,W) or a video cache .h5 "
        "(frames); seismicity frames .h5 (alarms)",
    )
    p.add_argument("--out", type=Path, default=Path("predictions"))
    p.set_defaults(func=_cmd_predict)
