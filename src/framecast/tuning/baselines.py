"""The trivial baselines scored as a study's trials are: validation loss on the same batches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

VAL_LOSS = "val_loss"
"""The key of a baseline's validation loss (the config's loss) in :func:`validation_baselines`."""


def _limit(limit: float, batches: int) -> int:
    """Batches Lightning's ``limit_val_batches`` keeps: a count if int, else a fraction."""
    if isinstance(limit, int) and not isinstance(limit, bool):
        return min(limit, batches)
    return max(1, int(batches * float(limit)))


@torch.no_grad()
def validation_baselines(base: Mapping[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """Every trivial baseline's validation loss and MSE per frame under the base config.

    As a trial's validation scores a model (``ForecastModule.validation_step``):
    the config's loss (``train.loss``, ``train.loss_channels``) of the
    forecast of the future frames, averaged over the first
    ``train.limit_val_batches`` validation batches weighted by batch size,
    so a trial's value and a baseline's compare. The baselines are
    :func:`framecast.baselines.trivial_baselines` of the base config's data
    (a search over ``data.*`` options scores them on the base data only).

    Returns
    -------
    dict
        Baseline name to ``{"val_loss": {"mean": ...}, "mse_per_frame_sum": {"mean": ...}}``,
        the shape of :func:`framecast.evaluation.evaluate`'s results, so that
        :func:`framecast.baselines.skill_scores` reads it.
    """
    from framecast.baselines import trivial_baselines
    from framecast.config import config_from_dict
    from framecast.metrics import clamp_to_range, dataset_data_range
    from framecast.training.loaders import make_dataset, make_loader
    from framecast.training.losses import LOSSES
    from framecast.training.module import select_channels

    config = config_from_dict(dict(base))
    dataset = make_dataset(config.data, "val")
    channels = int(dataset.channels)  # type: ignore[attr-defined]
    data_range = dataset_data_range(dataset)
    loss_fn = select_channels(LOSSES.get(config.train.loss), config.train.loss_channels, channels)
    loader = make_loader(config.data, dataset, train=False)
    keep = _limit(config.train.limit_val_batches, len(loader))
    models = trivial_baselines(config.data, channels)
    totals = {name: [0.0, 0.0] for name in models}  # loss and MSE sums, weighted by batch size
    count = 0
    for i, (context, target) in enumerate(loader):
        if i >= keep:
            break
        b = context.shape[0]
        count += b
        for name, model in models.items():
            future = model(context, target.shape[1])  # (B, Tf, C, H, W)
            scored = clamp_to_range(future.float(), data_range)  # (B, Tf, C, H, W)
            mse = (scored - target.float()).pow(2).sum(dim=(2, 3, 4)).mean()
            totals[name][0] += float(loss_fn(future, target)) * b
            totals[name][1] += float(mse) * b
    return {
        name: {VAL_LOSS: {"mean": loss / count}, "mse_per_frame_sum": {"mean": mse / count}}
        for name, (loss, mse) in totals.items()
    }
