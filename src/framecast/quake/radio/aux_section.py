"""The ``aux:`` section of a quake experiment (the radio side input), and its training config.

:class:`AuxSection` is checked when it is built (when the experiment loads);
:func:`with_side_input` wraps a network's training config so that it reads
the radio side image of each bin (:mod:`framecast.models.side_inputs`,
the ``seismicity_radio`` dataset).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framecast.config import Config, DataConfig, ModelConfig, build_dataclass

if TYPE_CHECKING:
    from framecast.quake.frames import SeismicityFrames
    from framecast.quake.radio.synthetic import SyntheticReceiver


@dataclass(frozen=True)
class AuxSection:
    """The auxiliary (radio) input of an experiment (YAML section ``aux:``), checked when built.

    ``radio``: a file from ``framecast quake radio prepare``; without it a
    synthetic receiver over the experiment's catalog (``synthetic``: the
    options of :class:`~framecast.quake.radio.synthetic.SyntheticReceiver`).
    ``lag_days``: processing delay (bin j sees slots ending by its end minus
    the lag). ``injection``/``encoder``: names in
    :data:`~framecast.models.side_inputs.SIDE_INPUTS` /
    :data:`~framecast.models.side_inputs.SIDE_ENCODERS`. ``shuffle_seed``:
    the permutation of the shuffled control.

    Raises
    ------
    KeyError
        An unknown injection, encoder or receiver option.
    ValueError
        Settings that cannot work (one line naming the key).
    """

    radio: str | None = None
    synthetic: dict[str, Any] = field(default_factory=dict)
    lag_days: float = 0.0
    injection: str = "broadcast_channels"
    encoder: str = "conv_pool"
    encoder_options: dict[str, Any] = field(default_factory=dict)
    side_dim: int = 4
    shuffle_seed: int = 1
    block_days: float = 30.0

    def __post_init__(self) -> None:
        from framecast.models.side_inputs import SIDE_ENCODERS, SIDE_INPUTS

        SIDE_INPUTS.get(self.injection)
        SIDE_ENCODERS.get(self.encoder)
        if not self.lag_days >= 0:
            raise ValueError(f"aux.lag_days must be >= 0, got {self.lag_days!r}")
        if not self.block_days > 0:
            raise ValueError(f"aux.block_days must be > 0, got {self.block_days!r}")
        if self.radio is None:
            self.receiver.check()
        elif self.synthetic:
            raise ValueError("give aux.radio (a file) or aux.synthetic (options), not both")

    @functools.cached_property
    def receiver(self) -> SyntheticReceiver:
        """The synthetic receiver of ``synthetic`` (built once; unknown keys refused)."""
        return receiver_from(self.synthetic)


def aux_section(written: Any) -> AuxSection:
    """The ``aux:`` section ``written`` (a mapping), checked.

    Raises
    ------
    KeyError, TypeError, ValueError
        Unknown keys, wrong types, or settings that cannot work.
    """
    return build_dataclass(AuxSection, written, "aux")


def receiver_from(options: dict[str, Any]) -> SyntheticReceiver:
    """A :class:`SyntheticReceiver` from YAML options (unknown keys refused)."""
    from framecast.quake.radio.synthetic import SyntheticReceiver

    options = dict(options)
    if "band_hz" in options:
        options["band_hz"] = tuple(options["band_hz"])
    return build_dataclass(SyntheticReceiver, options)


def with_side_input(
    config: Config,
    aux: AuxSection,
    frames: SeismicityFrames,
    radio: Path,
    train_end: str,
    shuffle_seed: int | None = None,
) -> Config:
    """``config`` (a quake network's) wrapped by ``side_input`` on ``seismicity_radio``.

    ``train_end``: the radio series is standardised on the slots before it;
    ``shuffle_seed``: the side images of the bins in a random order (the control).
    """
    from framecast.quake.radio.dataset import radio_side_frames
    from framecast.quake.radio.store import RadioSeries

    packed, side_shape = radio_side_frames(
        frames, RadioSeries.load(radio), train_end=train_end, lag_days=0.0
    )
    model = ModelConfig(
        name="side_input",
        options={
            "model": config.model.name,
            "model_options": config.model.options,
            "side_shape": list(side_shape),
            "side_channels": int(packed.shape[1]),
            "encoder": aux.encoder,
            "encoder_options": dict(aux.encoder_options),
            "injection": aux.injection,
            "side_dim": aux.side_dim,
        },
    )
    data: DataConfig = dataclasses.replace(
        config.data,
        name="seismicity_radio",
        options={
            **config.data.options,
            "radio": str(radio),
            "lag_days": aux.lag_days,
            "shuffle_seed": shuffle_seed,
        },
    )
    return dataclasses.replace(config, model=model, data=data)
