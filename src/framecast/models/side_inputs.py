"""Side inputs (radio spectrograms, later a GNSS series or a weather field) for any model.

One mechanism for every registered architecture: :class:`SideInputModel`
(registered as the model ``side_input``) wraps any :class:`ForecastModel`,
encodes each frame's side image with an encoder from :data:`SIDE_ENCODERS`
(a small convolution + pooling stack for spectrograms) into a vector, and
injects that vector into the wrapped model's input frames with an injection
from :data:`SIDE_INPUTS`:

- ``broadcast_channels``: the vector is broadcast over the map and
  concatenated to each frame as extra channels (the wrapped model sees
  ``C + side_dim`` channels);
- ``film``: feature-wise linear modulation of each input frame,
  ``x * (1 + gamma(v)) + beta(v)`` per channel (Perez et al. 2018, eq. 1),
  starting near the identity;
- ``log_rate``: the vector of the frame before each forecast shifts the
  forecast's log rate, ``rate * exp(w . v + b)`` per frame channel, with
  ``w`` and ``b`` starting at (almost) zero: the wrapped model is left as it
  is (same channels, so the same initial weights as without the side
  input), an untrained wrapper forecasts what the wrapped model forecasts,
  and the side input can only scale the whole map up or down, as a
  precursor that says "when" but not "where" should (the zero-initialised
  residual branch of ReZero, Bachlechner et al. 2021, as in
  :mod:`framecast.quake.etas_residual`). Meant for rate models
  (``output_activation`` exp or softplus).

Encoder and wrapped model train end to end.

Carrying the side input: every framecast path (datasets, Lightning
training, checkpoints, evaluation) moves ``(B, T, C, H, W)`` frames and
nothing else, so the side image of each frame, ``side_shape = (A, F, K)``
values, travels packed into ``side_channels`` extra channels of the frame
(:func:`pack_side`, zero padded); the wrapper unpacks them. Those channels
are inputs only: train with ``train.loss_channels`` naming the frame
channels. The wrapper's predictions of the side channels are copies of the
true side of the predicted frame where the input holds it, else of the last
one it holds; they carry no information and no gradient.

References
----------
E. Perez, F. Strub, H. de Vries, V. Dumoulin, A. Courville, "FiLM: Visual
Reasoning with a General Conditioning Layer", AAAI 2018, eq. 1.
T. Bachlechner, B. P. Majumder, H. H. Mao, G. W. Cottrell, J. McAuley,
"ReZero is All You Need: Fast Convergence at Large Depth", UAI 2021.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from framecast.models.base import ForecastModel, next_frame_loss
from framecast.models.build import build_model
from framecast.plugins import PLUGINS
from framecast.registry import Registry

SIDE_ENCODERS: Registry[type[nn.Module]] = Registry("side encoder", PLUGINS["side encoder"])
"""Encoders of one frame's side image ``(N, A, F, K)`` into a vector ``(N, side_dim)``."""

SIDE_INPUTS: Registry[type[nn.Module]] = Registry("side input", PLUGINS["side input"])
"""Ways of injecting a side vector into a model's input frames."""


def check_side_shape(side_shape: object) -> tuple[int, int, int]:
    """``side_shape`` as three positive ints ``(A, F, K)``, else ValueError naming it."""
    if (
        not isinstance(side_shape, Sequence)
        or len(side_shape) != 3
        or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in side_shape)
    ):
        raise ValueError(
            f"side_shape must be three positive integers (channels, rows, columns), "
            f"got {side_shape!r}"
        )
    a, f, k = side_shape
    return int(a), int(f), int(k)


def packed_channels(side_shape: Sequence[int], height: int, width: int) -> int:
    """Frame channels needed to carry one ``side_shape`` image on a ``height x width`` map."""
    return math.ceil(math.prod(check_side_shape(side_shape)) / (height * width))


def pack_side(images: Tensor, height: int, width: int) -> Tensor:
    """Side images ``(..., A, F, K)`` -> frame channels ``(..., P, H, W)``, zero padded."""
    lead = images.shape[:-3]
    p = packed_channels(tuple(images.shape[-3:]), height, width)
    flat = images.reshape(*lead, -1)  # (..., A*F*K)
    pad = p * height * width - flat.shape[-1]
    flat = nn.functional.pad(flat, (0, pad))  # (..., P*H*W)
    return flat.reshape(*lead, p, height, width)


def unpack_side(channels: Tensor, side_shape: Sequence[int]) -> Tensor:
    """Frame channels ``(..., P, H, W)`` -> side images ``(..., A, F, K)`` (:func:`pack_side`)."""
    shape = check_side_shape(side_shape)
    lead = channels.shape[:-3]
    flat = channels.reshape(*lead, -1)  # (..., P*H*W)
    need = math.prod(shape)
    if flat.shape[-1] < need:
        raise ValueError(
            f"{channels.shape[-3]} side channels of {channels.shape[-2]}x{channels.shape[-1]} "
            f"hold {flat.shape[-1]} values, side_shape {list(shape)} needs {need}"
        )
    return flat[..., :need].reshape(*lead, *shape)


# ------------------------------------------------------------------ encoders
class ConvPoolEncoder(nn.Module):
    """Convolution + max-pooling stages, then global average pooling and a linear map.

    Squeezes a spectrogram image (stations' log power and their
    missing-data masks as channels, frequency x time) to ``out_dim`` numbers.

    Parameters
    ----------
    in_channels : int
        Channels of the side image (A).
    out_dim : int
        Length of the vector.
    channels : sequence of int
        Output channels of each 3x3 convolution stage; every stage but the
        last halves the image with 2x2 max pooling (when it is at least 2 wide).
    pool_input : (int, int)
        Average the image over blocks of (rows, columns) before the first
        stage (e.g. ``[1, 4]``: four time slots into one). The stages' cost
        falls by that factor; the side image is encoded once per frame of
        every window, so this cost is paid for each of ``B x T`` images at
        every training step.
    """

    def __init__(
        self,
        in_channels: int,
        out_dim: int,
        channels: Sequence[int] = (8, 16),
        pool_input: Sequence[int] = (1, 1),
    ) -> None:
        super().__init__()
        if not channels:
            raise ValueError(f"channels must list at least one stage, got {channels!r}")
        if len(pool_input) != 2 or not all(isinstance(n, int) and n >= 1 for n in pool_input):
            raise ValueError(f"pool_input must be two integers >= 1, got {pool_input!r}")
        self.pool_input = (int(pool_input[0]), int(pool_input[1]))
        self.stages = nn.ModuleList()
        width = in_channels
        for c in channels:
            self.stages.append(nn.Conv2d(width, int(c), 3, padding=1))
            width = int(c)
        self.head = nn.Linear(width, out_dim)

    def forward(self, images: Tensor) -> Tensor:
        x = images  # (N, A, F, K)
        if self.pool_input != (1, 1):
            x = nn.functional.avg_pool2d(x, self.pool_input, ceil_mode=True)  # (N, A, F/r, K/c)
        for i, conv in enumerate(self.stages):
            x = torch.relu(conv(x))
            if i < len(self.stages) - 1 and min(x.shape[-2:]) >= 2:
                x = nn.functional.max_pool2d(x, 2)  # (N, c, F/2, K/2)
        return self.head(x.mean(dim=(-2, -1)))  # (N, out_dim)


class MLPEncoder(nn.Module):
    """Flatten, one hidden layer: for short series, or a spectrogram pooled to a few numbers.

    Parameters
    ----------
    in_channels : int
        Channels of the side image (A).
    out_dim : int
        Length of the vector.
    image_shape : (int, int)
        ``(F, K)``: rows and columns of one side image (filled in by the wrapper).
    hidden : int
        Width of the hidden layer.
    pool_input : (int, int)
        Average the image over blocks of (rows, columns) first (as
        :class:`ConvPoolEncoder`): ``[1, 4]`` turns 24 hourly slots into six
        4-hour means, a quarter of the weights to learn.
    """

    def __init__(
        self,
        in_channels: int,
        out_dim: int,
        image_shape: Sequence[int],
        hidden: int = 32,
        pool_input: Sequence[int] = (1, 1),
    ) -> None:
        super().__init__()
        if len(pool_input) != 2 or not all(isinstance(n, int) and n >= 1 for n in pool_input):
            raise ValueError(f"pool_input must be two integers >= 1, got {pool_input!r}")
        self.pool_input = (int(pool_input[0]), int(pool_input[1]))
        rows, cols = (int(n) for n in image_shape)
        features = (
            in_channels
            * math.ceil(rows / self.pool_input[0])
            * math.ceil(cols / self.pool_input[1])
        )
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, out_dim)
        )

    def forward(self, images: Tensor) -> Tensor:
        x = images  # (N, A, F, K)
        if self.pool_input != (1, 1):
            x = nn.functional.avg_pool2d(x, self.pool_input, ceil_mode=True)  # (N, A, F/r, K/c)
        return self.net(x)  # (N, out_dim)


# ---------------------------------------------------------------- injections
class Injection(nn.Module):
    """What every injection shares: where it acts, and the wrapped model's input channels.

    ``acts_on`` is ``"input"`` (``forward`` changes the frames the wrapped
    model sees) or ``"output"`` (``modulate`` changes its forecast). By
    default the wrapped model takes frames of ``frame_channels`` channels.
    """

    acts_on: ClassVar[str] = "input"

    @staticmethod
    def inner_channels(frame_channels: int, side_dim: int) -> int:
        """Channels of the frames the wrapped model takes."""
        return frame_channels


class BroadcastChannels(Injection):
    """The vector broadcast over the map as extra input channels of every frame."""

    def __init__(self, frame_channels: int, side_dim: int) -> None:
        super().__init__()

    @staticmethod
    def inner_channels(frame_channels: int, side_dim: int) -> int:
        """Channels of the frames the wrapped model takes."""
        return frame_channels + side_dim

    def forward(self, frames: Tensor, vector: Tensor) -> Tensor:
        b, t, _, h, w = frames.shape  # (B, T, C, H, W); vector (B, T, V)
        planes = vector[..., None, None].expand(b, t, vector.shape[-1], h, w)  # (B, T, V, H, W)
        return torch.cat([frames, planes.to(frames.dtype)], dim=2)  # (B, T, C+V, H, W)


class FiLM(Injection):
    """Feature-wise linear modulation of each frame's channels (Perez et al. 2018, eq. 1)."""

    def __init__(self, frame_channels: int, side_dim: int) -> None:
        super().__init__()
        self.to_scale_shift = nn.Linear(side_dim, 2 * frame_channels)
        # near the identity, with weights small but not zero so the encoder gets gradients
        with torch.no_grad():
            self.to_scale_shift.weight.mul_(0.1)
        nn.init.zeros_(self.to_scale_shift.bias)

    def forward(self, frames: Tensor, vector: Tensor) -> Tensor:
        gamma, beta = self.to_scale_shift(vector).chunk(2, dim=-1)  # (B, T, C) each
        return frames * (1 + gamma[..., None, None]) + beta[..., None, None]  # (B, T, C, H, W)


class LogRateShift(Injection):
    """The forecast's log rate shifted by a linear map of the side vector (module docstring).

    ``forecast * exp(w . v + b)`` per frame channel, ``v`` the vector of the
    last frame before the forecast one. ``b`` starts at zero and ``w`` at
    1 % of PyTorch's default initialisation: the wrapper starts as the
    wrapped model (a shift of about 0) while the encoder still gets a
    gradient from the first step (with ``w = 0`` exactly it would get none).
    """

    acts_on: ClassVar[str] = "output"

    def __init__(self, frame_channels: int, side_dim: int) -> None:
        super().__init__()
        self.to_shift = nn.Linear(side_dim, frame_channels)
        with torch.no_grad():
            self.to_shift.weight.mul_(0.01)
        nn.init.zeros_(self.to_shift.bias)

    def forward(self, frames: Tensor, vector: Tensor) -> Tensor:
        """Inputs pass unchanged (the vector acts on the forecast, :meth:`modulate`)."""
        return frames

    def modulate(self, preds: Tensor, vector: Tensor) -> Tensor:
        """``preds`` (B, n, C, H, W) times ``exp`` of the shift of ``vector`` (B, n, V)."""
        shift = self.to_shift(vector.to(preds.dtype))  # (B, n, C)
        return preds * torch.exp(shift)[..., None, None]  # (B, n, C, H, W)


# ------------------------------------------------------------------- wrapper
def _build_inner(name: str, in_channels: int, options: Mapping[str, Any]) -> ForecastModel:
    if name == "side_input":
        raise ValueError("model 'side_input' cannot wrap itself; name an architecture")
    return build_model(name, in_channels, options)


class SideInputModel(ForecastModel):
    """Any registered model with a side input encoded and injected at every step.

    Parameters
    ----------
    in_channels : int
        Frame channels plus ``side_channels`` (what the dataset gives).
    model : str
        The registered architecture to wrap.
    model_options : mapping, optional
        Its constructor options (``cell``, ``hidden_channels``, ...).
    side_shape : sequence of 3 int
        ``(A, F, K)`` of one frame's side image (e.g. 2 x stations, frequency
        rows, time slots per bin).
    side_channels : int
        Channels that carry it (:func:`packed_channels`); 0 means no side
        input is carried: no encoder is built and a learned vector of
        ``side_dim`` numbers (``absent``) is injected at every step instead
        (an all-missing image would leave the encoder's first weights
        without a gradient forever).
    encoder : str
        A name in :data:`SIDE_ENCODERS`.
    encoder_options : mapping, optional
    injection : str
        A name in :data:`SIDE_INPUTS`: ``broadcast_channels`` and ``film``
        act on the wrapped model's input frames, ``log_rate`` on its
        forecasts (the wrapped model then takes the plain frames).
    side_dim : int
        Length of the encoded vector.

    Raises
    ------
    ValueError, KeyError, TypeError
        Unknown names or options, or channels that do not add up.
    """

    def __init__(
        self,
        in_channels: int,
        model: str = "predrnn",
        model_options: Mapping[str, Any] | None = None,
        side_shape: Sequence[int] = (2, 8, 8),
        side_channels: int = 1,
        encoder: str = "conv_pool",
        encoder_options: Mapping[str, Any] | None = None,
        injection: str = "broadcast_channels",
        side_dim: int = 4,
    ) -> None:
        self.side_shape = check_side_shape(side_shape)
        if not isinstance(side_channels, int) or side_channels < 0:
            raise ValueError(f"side_channels must be an integer >= 0, got {side_channels!r}")
        if not isinstance(side_dim, int) or side_dim < 1:
            raise ValueError(f"side_dim must be a positive integer, got {side_dim!r}")
        frame_channels = in_channels - side_channels
        if frame_channels < 1:
            raise ValueError(
                f"in_channels={in_channels} leaves no frame channel beside "
                f"side_channels={side_channels}"
            )
        injection_cls = SIDE_INPUTS.get(injection)
        inner_channels = injection_cls.inner_channels(frame_channels, side_dim)  # type: ignore[attr-defined]
        inner = _build_inner(model, inner_channels, model_options or {})
        super().__init__(in_channels, inner.patch_size)
        self.injection = injection_cls(frame_channels, side_dim)
        self.inner = inner
        self.frame_channels = frame_channels
        self.side_channels = side_channels
        self.side_dim = side_dim
        a, f, k = self.side_shape
        extra = {"image_shape": (f, k)} if encoder.lower() == "mlp" else {}
        encoder_cls = SIDE_ENCODERS.get(encoder)  # an unknown name fails even without side input
        self.encoder: nn.Module | None = None
        self.absent: nn.Parameter | None = None
        if side_channels:
            self.encoder = encoder_cls(a, side_dim, **extra, **(encoder_options or {}))
        else:
            self.absent = nn.Parameter(0.1 * torch.randn(side_dim))  # (V,)

    @property
    def output_activation(self) -> str | None:
        """The wrapped model's output activation (rate models: softplus or exp)."""
        return getattr(self.inner, "output_activation", None)

    # -------------------------------------------------------------- helpers
    def split(self, frames: Tensor) -> tuple[Tensor, Tensor | None]:
        """``(B, T, C+P, H, W)`` -> frames ``(B, T, C, H, W)``, side images ``(B, T, A, F, K)``.

        The side images are None when no side input is carried (``side_channels=0``).
        """
        c = self.frame_channels
        if self.side_channels == 0:
            return frames, None
        return frames[:, :, :c], unpack_side(frames[:, :, c:], self.side_shape)

    def encode(self, frames: Tensor, side: Tensor | None) -> Tensor:
        """The side vector ``(B, T, V)`` of each frame (the learned ``absent`` one without side)."""
        b, t = frames.shape[:2]
        if self.absent is not None:  # no side input carried
            return self.absent.to(frames.dtype).expand(b, t, -1)  # (B, T, V)
        if self.encoder is None or side is None:
            raise ValueError("side_input built with side channels got no side image")
        return self.encoder(side.flatten(0, 1).to(frames.dtype)).view(b, t, -1)  # (B, T, V)

    def inject(self, frames: Tensor, side: Tensor | None) -> Tensor:
        """Encode the side images and inject them: frames as the wrapped model takes them."""
        return self.injection(frames, self.encode(frames, side))  # (B, T, C', H, W)

    def _inner_inputs(
        self, context: Tensor, target: Tensor | None
    ) -> tuple[Tensor, Tensor | None, Tensor, Tensor]:
        """Inner context, inner target, packed side channels and side vectors of all frames."""
        self.check_frames(context, "context")
        tc = context.shape[1]
        frames = context if target is None else torch.cat([context, target], dim=1)
        plain, side = self.split(frames)
        vectors = self.encode(plain, side)  # (B, T, V)
        inner = self.injection(plain, vectors)  # (B, T, C', H, W)
        side_frames = frames[:, :, self.frame_channels :]  # (B, T, P, H, W)
        inner_target = inner[:, tc:] if target is not None else None
        return inner[:, :tc], inner_target, side_frames, vectors

    def _modulated(self, preds: Tensor, vectors: Tensor, total: int) -> Tensor:
        """Output injections: each forecast scaled by the vector of the frame before it.

        ``preds`` (B, n, C, H, W) are the forecasts of frames ``total - n ..
        total - 1`` (aligned at the end); the forecast of frame ``f`` uses the
        side vector of frame ``f - 1``, or of the last frame whose side is
        known (a future bin's side is not known when forecasting).
        """
        if getattr(self.injection, "acts_on", "input") != "output":
            return preds
        n = preds.shape[1]
        index = (torch.arange(total - n, total, device=preds.device) - 1).clamp(
            0, vectors.shape[1] - 1
        )
        return self.injection.modulate(preds, vectors[:, index])  # type: ignore[operator]

    def _with_side(self, preds: Tensor, side_frames: Tensor, total: int) -> Tensor:
        """Predicted frame channels plus the known side of each predicted frame."""
        n = preds.shape[1]
        index = torch.arange(total - n, total, device=preds.device).clamp(
            max=side_frames.shape[1] - 1
        )
        side = side_frames[:, index].detach()  # (B, n, P, H, W)
        return torch.cat([preds[:, :, : self.frame_channels], side.to(preds.dtype)], dim=2)

    # ------------------------------------------------------------ interface
    def rollout(
        self,
        context: Tensor,
        horizon: int,
        target: Tensor | None = None,
        true_mask: Tensor | None = None,
    ) -> Tensor:
        """The wrapped model's rollout on side-injected frames (see :meth:`ForecastModel.rollout`).

        Steps that feed the model its own prediction feed its prediction of
        the injected channels too: the side input of a future bin is not
        known when forecasting.
        """
        if target is not None:
            self.check_frames(target, "target")
        inner_context, inner_target, side_frames, vectors = self._inner_inputs(context, target)
        total = context.shape[1] + horizon
        preds = self.inner.rollout(inner_context, horizon, inner_target, true_mask)
        preds = self._modulated(preds[:, :, : self.frame_channels], vectors, total)
        return self._with_side(preds, side_frames, total)

    def training_loss(
        self,
        context: Tensor,
        target: Tensor,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        true_mask: Tensor | None = None,
        future_only: bool = False,
    ) -> Tensor:
        """The wrapped model's own objective, scored on the frame channels only.

        With an output injection (``log_rate``) the scaled forecasts are what
        is scored: ``loss_fn`` on every next-frame forecast of :meth:`rollout`
        (:func:`~framecast.models.base.next_frame_loss`, as PredRNN trains);
        the wrapped model's extra terms (PredNet's error units, PhyDNet's
        moment loss, ...) are not added then.
        """
        self.check_frames(target, "target")
        c, p = self.frame_channels, self.side_channels

        def frame_loss(pred: Tensor, truth: Tensor) -> Tensor:
            # back to the (C + P)-channel layout loss_fn's channel selection indexes
            zeros = pred.new_zeros(*pred.shape[:2], p, *pred.shape[3:])
            return loss_fn(
                torch.cat([pred[:, :, :c], zeros], dim=2),
                torch.cat([truth[:, :, :c], zeros], dim=2),
            )

        if getattr(self.injection, "acts_on", "input") == "output":
            preds = self.rollout(context, target.shape[1], target=target, true_mask=true_mask)
            return next_frame_loss(preds, context, target, frame_loss, future_only)
        inner_context, inner_target, _, _ = self._inner_inputs(context, target)
        return self.inner.training_loss(
            inner_context,
            target if inner_target is None else inner_target,
            frame_loss,
            true_mask=true_mask,
            future_only=future_only,
        )
