"""Ship trained weights: export a run's checkpoint and record what it scores.

A shipped entry (:mod:`framecast.zoo_entries`) is two files in
``src/framecast/pretrained/``: ``NAME.ckpt`` (weights and config, no
optimiser state: :func:`export_weights`) and ``NAME.json`` (its record,
written by :func:`ship`). The resumable training state (weights and Adam's
moments, at most 20 MB) and the metrics of every stretch live in the
repository's ``zoo/NAME/`` run folder, so that the next stretch resumes
exactly where the last one stopped (``framecast train --resume zoo/NAME``).

``framecast pretrained`` lists the entries; ``framecast evaluate
pretrained:NAME`` scores one on the test split of its own config.
"""

from __future__ import annotations

from pathlib import Path

from framecast import zoo_entries
from framecast.zoo_entries import Pretrained, table, write_entry

MAX_BYTES = 20 * 2**20
"""No shipped weight file is larger than this."""


def export_weights(checkpoint: Path, dest: Path) -> Path:
    """Write ``checkpoint``'s weights and config (no optimiser state) to ``dest``.

    The result is what :func:`framecast.checkpoint.load` needs, about a
    third of the size of a training checkpoint.

    Raises
    ------
    ValueError
        The result would exceed :data:`MAX_BYTES`.
    """
    import torch

    from framecast.checkpoint import read_checkpoint
    from framecast.files import atomic_write

    ckpt = read_checkpoint(checkpoint)
    slim = {
        "state_dict": ckpt["state_dict"],
        "hyper_parameters": ckpt["hyper_parameters"],
        "global_step": ckpt.get("global_step"),
        "pytorch-lightning_version": ckpt.get("pytorch-lightning_version"),
    }
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(dest) as tmp:
        torch.save(slim, tmp)
    size = dest.stat().st_size
    if size > MAX_BYTES:
        dest.unlink()
        raise ValueError(
            f"{checkpoint}: its weights take {size / 2**20:.1f} MB; shipped weights are at most "
            f"{MAX_BYTES / 2**20:.0f} MB"
        )
    return dest


def ship(
    run: Path,
    name: str,
    *,
    config_file: str,
    description: str,
    cpu_hours: float,
    machine: str,
    target: str,
    command: str,
    sequences: int | None = None,
) -> Pretrained:
    """Export ``run``'s best checkpoint as shipped weights ``name`` and record its test scores.

    The weights are scored beside every trivial baseline on the test split of
    the run's own config (its first ``sequences`` sequences if given; the
    record says how many), so that ``framecast evaluate pretrained:NAME``
    reproduces the record on the same split.
    """
    from framecast.baselines import SKILL_METRIC, best_trivial, trivial_baselines, with_baselines
    from framecast.checkpoint import load, read_checkpoint
    from framecast.config import config_from_dict
    from framecast.evaluation import evaluate
    from framecast.training.loaders import make_dataset, make_loader

    # the best checkpoint by validation loss, else the last
    best_files = sorted((run / "checkpoints").glob("best*.ckpt"), key=lambda p: p.stat().st_mtime)
    best = best_files[-1] if best_files else run / "checkpoints" / "last.ckpt"
    weights = export_weights(best, zoo_entries.PRETRAINED_DIR / f"{name}.ckpt")
    model, config = load(weights)
    if sequences is not None:
        full = config.to_dict()
        full["data"]["split_options"] = {
            **full["data"].get("split_options", {}),
            "test": {"num_sequences": sequences},
        }
        config = config_from_dict(full)
    test = make_dataset(config.data, "test")
    models = with_baselines({name: model}, trivial_baselines(config.data, model.in_channels))
    loader = make_loader(config.data, test, train=False)
    results = evaluate(models, loader, ssim=config.evaluation.ssim).results
    reference = best_trivial(results)
    entry = Pretrained(
        name=name,
        description=description,
        config=config_file,
        command=command,
        steps=int(read_checkpoint(weights).get("global_step", -1)),
        cpu_hours=cpu_hours,
        machine=machine,
        test={
            "sequences": len(test),  # type: ignore[arg-type]
            "mse_per_frame_sum": results[name][SKILL_METRIC]["mean"],
            "ssim": results[name]["ssim"]["mean"],
            "best_trivial": reference,
            "best_trivial_mse": None
            if reference is None
            else results[reference][SKILL_METRIC]["mean"],
            "blank_ssim": results["blank"]["ssim"]["mean"],
        },
        target=target,
    )
    write_entry(entry)
    return entry


def _main(argv: list[str]) -> int:
    """``python -m framecast.zoo ship RUN NAME ...``: export and record shipped weights."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m framecast.zoo")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ship", help="export a run's best checkpoint as shipped weights")
    p.add_argument("run", type=Path)
    p.add_argument("name")
    p.add_argument("--config", required=True, help="the config file that started the run")
    p.add_argument("--description", required=True)
    p.add_argument("--cpu-hours", type=float, required=True)
    p.add_argument("--machine", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--train-command", required=True, help="the commands of the stretches")
    p.add_argument("--sequences", type=int, help="score only the first N test sequences")
    args = parser.parse_args(argv)
    entry = ship(
        args.run,
        args.name,
        config_file=args.config,
        description=args.description,
        cpu_hours=args.cpu_hours,
        machine=args.machine,
        target=args.target,
        command=args.train_command,
        sequences=args.sequences,
    )
    print(table([entry]))
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
