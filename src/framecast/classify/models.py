"""Sequence classifiers built from any registered recurrent cell.

Two architectures, both looking their cell up by name (docs/models.md: the cell
is the swappable part):

- ``vector_rnn``: token ids through an embedding (or feature vectors through
  a linear layer), an optional Conv1D + max-pooling front end, a stack of
  vector cells (``rnn``, ``gru``, ``lstm``), optionally bidirectional, with
  dropout on the inputs and variational recurrent dropout on the hidden
  state, read out from the last state or pooled over time into a linear
  head. This is the family of the IMDB sentiment models of the seed
  material: Embedding + SimpleRNN, Embedding + LSTM (with dropout), and
  Embedding + Conv1D + MaxPooling1D + LSTM.
- ``conv_rnn``: frame sequences ``(B, T, C, H, W)`` through a stack of
  convolutional cells (``convlstm``, ``stlstm``, ...), the top hidden map
  averaged over space, then taken at the last step or averaged over time,
  into a linear head.

References
----------
J. L. Elman, "Finding Structure in Time", Cognitive Science 14, 1990 (SimpleRNN).

S. Hochreiter, J. Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8), 1997.

M. Schuster, K. K. Paliwal, "Bidirectional Recurrent Neural Networks",
IEEE Trans. Signal Processing 45(11), 1997.

Y. Gal, Z. Ghahramani, "A Theoretically Grounded Application of Dropout in
Recurrent Neural Networks", NeurIPS 2016, Sec. 4 (one dropout mask per
sequence on the recurrent connections: ``recurrent_dropout``).

A. L. Maas et al., "Learning Word Vectors for Sentiment Analysis", ACL 2011
(the IMDB reviews data set).

X. Shi et al., "Convolutional LSTM Network", NeurIPS 2015, eq. (3) (the conv cells).

J. L. Ba, J. R. Kiros, G. E. Hinton, "Layer Normalization", arXiv:1607.06450, 2016
(``input_norm``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from framecast.cells import CellStack, build_cell, layer_widths
from framecast.classify.registry import CLASSIFIERS
from framecast.models.patching import check_patchable, patch

INPUT_LAYERS = ("embedding", "linear")
READOUTS = ("last", "mean", "max")
INITS = ("torch", "keras")
PADDING_INDEX = 0


@dataclass(frozen=True)
class InputSpec:
    """What a labelled dataset feeds a classifier.

    Attributes
    ----------
    kind : {"tokens", "frames"}
        Token ids ``(T,)`` (int64, 0 = padding) or frames ``(T, C, H, W)`` (float32).
    class_names : tuple of str
        Class ``k`` is ``class_names[k]``.
    vocab_size : int, optional
        Size of the token vocabulary, padding and out-of-vocabulary ids included.
    frame_shape : (int, int, int), optional
        ``(C, H, W)`` of the frames.
    """

    kind: str
    class_names: tuple[str, ...]
    vocab_size: int | None = None
    frame_shape: tuple[int, int, int] | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return str(value)


def _check_fraction(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def _check_positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _keras_init(wrapper: nn.Module, forget_bias: float) -> None:
    """Keras' initialisation of a torch-backed vector cell (``wrapper.cell``), in place.

    Keras keeps one kernel (inputs, gates x H) and one recurrent kernel
    (H, gates x H); torch stores their transposes, so Glorot's fan-in and
    fan-out and the orthogonal draw are over the whole stacked matrix, as in Keras.
    """
    cell = getattr(wrapper, "cell", None)
    if not isinstance(cell, nn.RNNCellBase):
        raise ValueError(
            f"init: keras works with the cells rnn, gru and lstm, not {type(wrapper).__name__}"
        )
    with torch.no_grad():
        nn.init.xavier_uniform_(cell.weight_ih)  # (gates*H, F)
        nn.init.orthogonal_(cell.weight_hh.T)  # (H, gates*H): Keras' recurrent kernel
        if cell.bias:
            nn.init.zeros_(cell.bias_ih)
            nn.init.zeros_(cell.bias_hh)
            if isinstance(cell, nn.LSTMCell):  # gates (i, f, g, o): Keras' unit_forget_bias
                h = cell.hidden_size
                cell.bias_ih[h : 2 * h] = forget_bias


def _masked_readout(outputs: Tensor, mask: Tensor, readout: str) -> Tensor:
    """Pool ``outputs`` (B, T, F) over the valid steps of ``mask`` (B, T): mean or max."""
    m = mask.unsqueeze(-1).to(outputs.dtype)  # (B, T, 1)
    if readout == "mean":
        return (outputs * m).sum(1) / m.sum(1).clamp_min(1.0)  # (B, F)
    filled = outputs.masked_fill(~mask.unsqueeze(-1), float("-inf"))  # (B, T, F)
    pooled = filled.max(1).values  # (B, F)
    return torch.where(torch.isfinite(pooled), pooled, torch.zeros_like(pooled))


class VectorSequenceClassifier(nn.Module):
    """A classifier of token or feature sequences over a stack of vector cells.

    ``x`` -> embedding or linear -> dropout -> [Conv1D -> ReLU -> MaxPool1D]
    -> ``num_layers`` of ``cell`` (each direction its own cells when
    bidirectional) -> last state or pooled outputs -> dropout -> linear head.

    Padded steps (token id 0) leave the state unchanged, so the last state is
    that of each sequence's last real step in both directions, and pooling
    counts only real steps.

    Parameters
    ----------
    input_size : int
        Vocabulary size (ids ``0 .. input_size - 1``) for ``input_layer="embedding"``;
        features per step for ``"linear"`` (frames are flattened: C*H*W).
    num_classes : int
        Classes of the head (>= 2).
    cell : str
        A registered vector cell: ``rnn``, ``gru`` or ``lstm``.
    hidden_size : int
        Hidden features of every cell.
    num_layers : int
        Stacked layers.
    bidirectional : bool
        Also run each layer backwards in time and concatenate both directions
        (Schuster & Paliwal 1997).
    input_layer : {"embedding", "linear"}
        How a step enters the network.
    embed_dim : int
        Width of the embedding or of the linear input layer.
    init : {"torch", "keras"}
        Initialisation of the cells and the head: torch's defaults (every
        weight and bias U(-1/sqrt(H), 1/sqrt(H))), or Keras' (input kernels
        and the head Glorot-uniform, Glorot & Bengio 2010; recurrent kernels
        orthogonal, Saxe et al. 2014; biases zero, the LSTM forget bias
        ``forget_bias``), for the torch-backed cells ``rnn``, ``gru`` and ``lstm``.
    embedding_init_range : float, optional
        Draw the embedding's weights from U(-r, r) (Keras' ``Embedding``
        default, r = 0.05) instead of torch's N(0, 1). With Adam, whose steps
        are about ``lr`` whatever the gradient's size, unit-scale random word
        vectors take hundreds of steps to move; small ones are shaped within
        the first epoch.
    conv_filters : int, optional
        Filters of a Conv1D front end (none when None), as Conv1D + MaxPooling1D
        before the LSTM of the seed material.
    conv_kernel : int
        Odd width of that convolution ("same" padding).
    pool_size : int
        Max-pooling width and stride after the convolution.
    dropout : float
        Dropout on the recurrent inputs (one mask per sequence, as Keras'
        ``LSTM(dropout=...)``) and, unless ``head_dropout`` is given, before the head.
    embedding_dropout : float
        Dropout of each embedded feature at each step, independently (Keras'
        ``Dropout`` layer after ``Embedding``), before the Conv1D front end if any.
    head_dropout : float, optional
        Dropout before the head (Keras' ``Dropout`` layer before ``Dense``);
        None uses ``dropout``.
    recurrent_dropout : float
        Variational dropout of the hidden state on the recurrent connection
        (Gal & Ghahramani 2016): one mask per sequence and layer.
    readout : {"last", "mean", "max"}
        The last state, or the top layer's outputs averaged or maxed over the real steps.
    input_norm : bool
        Normalise each step's input features to zero mean and unit variance
        before the linear input layer (layer normalisation, Ba et al. 2016,
        without gain and bias). Frames of a fixed scene differ by a few
        pixels on a large common background, which otherwise swamps them.
    cell_options : mapping, optional
        Extra options of the cell (``forget_bias``, ``nonlinearity``).

    Raises
    ------
    ValueError
        A bad size, fraction or choice; a convolutional cell.
    KeyError
        An unknown cell.
    """

    def __init__(
        self,
        input_size: int,
        num_classes: int,
        *,
        cell: str = "lstm",
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = False,
        input_layer: str = "embedding",
        embed_dim: int = 64,
        init: str = "torch",
        embedding_init_range: float | None = None,
        conv_filters: int | None = None,
        conv_kernel: int = 5,
        pool_size: int = 4,
        dropout: float = 0.0,
        embedding_dropout: float = 0.0,
        head_dropout: float | None = None,
        recurrent_dropout: float = 0.0,
        readout: str = "last",
        input_norm: bool = False,
        cell_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        _check_positive("input_size", input_size)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        for name, value in (
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
            ("embed_dim", embed_dim),
            ("pool_size", pool_size),
        ):
            _check_positive(name, value)
        self.input_layer = _check_choice("input_layer", input_layer, INPUT_LAYERS)
        self.readout = _check_choice("readout", readout, READOUTS)
        self.dropout = _check_fraction("dropout", dropout)
        self.embedding_dropout = _check_fraction("embedding_dropout", embedding_dropout)
        self.head_dropout = (
            self.dropout if head_dropout is None else _check_fraction("head_dropout", head_dropout)
        )
        self.recurrent_dropout = _check_fraction("recurrent_dropout", recurrent_dropout)
        self.bidirectional = bool(bidirectional)
        self.input_size, self.num_classes = input_size, num_classes
        if input_norm and self.input_layer != "linear":
            raise ValueError("input_norm works with input_layer: linear only")
        self.input_norm = bool(input_norm)
        if self.input_layer == "embedding":
            self.encoder: nn.Module = nn.Embedding(input_size, embed_dim, padding_idx=PADDING_INDEX)
            if embedding_init_range is not None:
                r = embedding_init_range
                if isinstance(r, bool) or not isinstance(r, int | float) or not 0 < r < math.inf:
                    raise ValueError(f"embedding_init_range must be a number > 0, got {r!r}")
                with torch.no_grad():
                    nn.init.uniform_(self.encoder.weight, -float(r), float(r))
                    self.encoder.weight[PADDING_INDEX].zero_()  # padding stays the zero vector
        elif embedding_init_range is not None:
            raise ValueError("embedding_init_range works with input_layer: embedding only")
        else:
            self.encoder = nn.Linear(input_size, embed_dim)
        self.conv: nn.Conv1d | None = None
        self.pool_size = pool_size
        width = embed_dim
        if conv_filters is not None:
            _check_positive("conv_filters", conv_filters)
            if _check_positive("conv_kernel", conv_kernel) % 2 == 0:
                raise ValueError(f"conv_kernel must be odd ('same' padding), got {conv_kernel}")
            self.conv = nn.Conv1d(embed_dim, conv_filters, conv_kernel, padding=conv_kernel // 2)
            width = conv_filters
        directions = 2 if self.bidirectional else 1
        options = dict(cell_options or {})
        self.cells = nn.ModuleList()
        for layer in range(num_layers):
            in_features = width if layer == 0 else hidden_size * directions
            for _ in range(directions):
                self.cells.append(build_cell(cell, in_features, hidden_size, **options))
        if self.cells[0].kind != "vector":
            raise ValueError(
                f"cell {cell!r} works on maps; vector_rnn needs a vector cell (rnn, gru, lstm); "
                "use the conv_rnn classifier for convolutional cells"
            )
        self.num_layers, self.directions, self.hidden_size = num_layers, directions, hidden_size
        self.head = nn.Linear(hidden_size * directions, num_classes)
        if _check_choice("init", init, INITS) == "keras":
            for wrapper in self.cells:
                _keras_init(wrapper, options.get("forget_bias", 1.0))
            nn.init.xavier_uniform_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def _embed(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Input -> ((B, T, E) step features, (B, T) mask of real steps)."""
        if self.input_layer == "embedding":
            if x.dim() != 2 or x.dtype not in (torch.int64, torch.int32):
                raise ValueError(
                    f"vector_rnn with an embedding takes (B, T) integer token ids, got "
                    f"{tuple(x.shape)} {x.dtype}"
                )
            if x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.input_size):
                raise ValueError(
                    f"token ids must lie in 0..{self.input_size - 1} (the vocabulary), got "
                    f"{int(x.min())}..{int(x.max())}"
                )
            return self.encoder(x.long()), x != PADDING_INDEX  # (B, T, E), (B, T)
        if x.dim() < 3:
            raise ValueError(
                f"vector_rnn with a linear input takes (B, T, features...), got {tuple(x.shape)}"
            )
        flat = x.reshape(x.shape[0], x.shape[1], -1).float()  # (B, T, F)
        if flat.shape[-1] != self.input_size:
            raise ValueError(
                f"vector_rnn was built for {self.input_size} features per step, got "
                f"{flat.shape[-1]} (input shape {tuple(x.shape)})"
            )
        if self.input_norm:
            flat = F.layer_norm(flat, flat.shape[-1:])  # (B, T, F), per step
        mask = torch.ones(flat.shape[:2], dtype=torch.bool, device=x.device)
        return self.encoder(flat), mask

    def _drop_common_padding(self, features: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Cut the trailing steps that are padding in every row of the batch (same results).

        Padded steps keep the state and are left out of every readout, so
        they only cost time; with a Conv1D front end the cut keeps whole
        pooling windows.
        """
        t = features.shape[1]
        real = int(mask.any(0).nonzero().max()) + 1 if bool(mask.any()) else 1
        if self.conv is not None:
            real = max(self.pool_size, math.ceil(real / self.pool_size) * self.pool_size)
        real = min(real, t)
        return features[:, :real], mask[:, :real]  # (B, real, E), (B, real)

    def _sequence_dropout(self, like: Tensor, p: float) -> Tensor | None:
        """A (B, F) inverted-dropout mask kept for the whole sequence, or None."""
        if not self.training or p == 0.0:
            return None
        keep = torch.full_like(like, 1.0 - p)
        return torch.bernoulli(keep) / (1.0 - p)

    def _run_direction(self, index: int, inputs: Tensor, mask: Tensor, reverse: bool) -> Tensor:
        """Step cell ``index`` over (B, T, F) ``inputs``; padded steps keep the state. -> (B, T, H).

        A Python loop over steps, which any registered cell runs. Torch's
        fused sequence kernels (``nn.LSTM`` over a packed batch) were measured
        slower on CPU for IMDB's 500-word reviews (14 s against 1.4 s a batch
        of 64 with LSTM(128), forward and backward, one thread), so they are not used.
        """
        cell = self.cells[index]
        b, t, _ = inputs.shape
        state = cell.init_state(b, device=inputs.device, dtype=inputs.dtype)
        h_mask = self._sequence_dropout(state[0], self.recurrent_dropout)  # (B, H) or None
        outputs: list[Tensor] = [inputs.new_zeros(0)] * t
        steps = range(t - 1, -1, -1) if reverse else range(t)
        for step in steps:
            h_in = state[0] if h_mask is None else state[0] * h_mask
            _, new_state, _ = cell(inputs[:, step], (h_in, *state[1:]))  # (B, H) each
            keep = mask[:, step].unsqueeze(-1)  # (B, 1)
            state = tuple(torch.where(keep, n, o) for n, o in zip(new_state, state, strict=True))
            outputs[step] = state[0]
        return torch.stack(outputs, dim=1)  # (B, T, H)

    def forward(self, x: Tensor) -> Tensor:
        """Class logits (B, num_classes) of token ids (B, T) or features (B, T, ...)."""
        features, mask = self._embed(x)  # (B, T, E), (B, T)
        features, mask = self._drop_common_padding(features, mask)
        features = F.dropout(features, self.embedding_dropout, self.training)
        if self.conv is not None:
            conv = F.relu(self.conv(features.transpose(1, 2)))  # (B, filters, T)
            if conv.shape[-1] < self.pool_size:
                raise ValueError(
                    f"sequences of {conv.shape[-1]} steps are shorter than pool_size="
                    f"{self.pool_size}"
                )
            features = F.max_pool1d(conv, self.pool_size).transpose(1, 2)  # (B, T/p, filters)
            pooled_mask = F.max_pool1d(mask.float().unsqueeze(1), self.pool_size)  # (B, 1, T/p)
            mask = pooled_mask.squeeze(1) > 0  # (B, T/p)
        in_mask = self._sequence_dropout(features[:, 0], self.dropout)  # (B, E) or None
        if in_mask is not None:
            features = features * in_mask.unsqueeze(1)
        lasts: list[Tensor] = []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(self.directions):
                index = layer * self.directions + direction
                outs.append(self._run_direction(index, features, mask, reverse=direction == 1))
            # the forward direction's state after the last real step, the backward one's after
            # the first step
            last_index = (mask.long().cumsum(1).argmax(1)).clamp_min(0)  # (B,)
            batch = torch.arange(features.shape[0], device=features.device)
            lasts = [outs[0][batch, last_index]] + ([outs[1][:, 0]] if self.directions == 2 else [])
            features = torch.cat(outs, dim=-1)  # (B, T, H * directions)
        if self.readout == "last":
            summary = torch.cat(lasts, dim=-1)  # (B, H * directions)
        else:
            summary = _masked_readout(features, mask, self.readout)  # (B, H * directions)
        summary = F.dropout(summary, self.head_dropout, self.training)
        return self.head(summary)  # (B, num_classes)

    @staticmethod
    def input_size_for(spec: InputSpec, options: Mapping[str, Any]) -> int:
        """The ``input_size`` a dataset of ``spec`` needs with these options."""
        layer = options.get("input_layer", "embedding")
        if spec.kind == "tokens":
            if layer != "embedding":
                raise ValueError(
                    f"token data needs model.options.input_layer: embedding, got {layer!r}"
                )
            return int(spec.vocab_size or 0)
        if layer != "linear":
            raise ValueError(
                f"{spec.kind} data needs model.options.input_layer: linear, got {layer!r}"
            )
        return int(math.prod(spec.frame_shape or (0,)))


class ConvSequenceClassifier(nn.Module):
    """A classifier of frame sequences over a stack of convolutional cells.

    ``(B, T, C, H, W)`` -> space-to-depth by ``patch_size`` -> ``num_layers``
    of ``cell`` (the spatiotemporal memory of ST-LSTM climbing the stack as
    in PredRNN) -> the top hidden map averaged over space -> its last step
    or its mean over time -> dropout -> linear head.

    Parameters
    ----------
    input_size : int
        Channels C of the frames.
    num_classes : int
        Classes of the head (>= 2).
    cell : str
        A registered convolutional cell (``convlstm``, ``stlstm``, ...).
    hidden_channels : int or list of int
        Hidden channels per layer.
    num_layers : int
        Stacked layers.
    kernel_size : int
        Odd convolution size of the cells.
    patch_size : int
        Space-to-depth factor before the cells (PredRNN's ``patch_size``):
        a 64x64 frame with 4 runs the cells on 16x16 maps of 16 C channels.
    readout : {"last", "mean", "max"}
        The last step's pooled map, or the pooled maps averaged or maxed over time.
    spatial_pool : {"mean", "max"}
        How the top hidden map is pooled over space at each step; ``max``
        keeps a small moving object's features, which a mean over the frame dilutes.
    dropout : float
        Dropout before the head.
    cell_options : mapping, optional
        Extra options of the cell.
    """

    def __init__(
        self,
        input_size: int,
        num_classes: int,
        *,
        cell: str = "convlstm",
        hidden_channels: int | list[int] = 16,
        num_layers: int = 1,
        kernel_size: int = 3,
        patch_size: int = 1,
        readout: str = "last",
        spatial_pool: str = "mean",
        dropout: float = 0.0,
        cell_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        _check_positive("input_size", input_size)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        self.spatial_pool = _check_choice("spatial_pool", spatial_pool, ("mean", "max"))
        self.patch_size = _check_positive("patch_size", patch_size)
        self.readout = _check_choice("readout", readout, READOUTS)
        self.dropout = _check_fraction("dropout", dropout)
        hidden = layer_widths(hidden_channels, num_layers)
        self.input_size, self.num_classes = input_size, num_classes
        self.stack = CellStack(
            cell, input_size * patch_size**2, hidden, kernel_size, cell_options=cell_options
        )
        self.head = nn.Linear(hidden[-1], num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """Class logits (B, num_classes) of frames (B, T, C, H, W)."""
        if x.dim() != 5 or x.shape[2] != self.input_size:
            raise ValueError(
                f"conv_rnn takes (B, T, {self.input_size}, H, W) frames, got {tuple(x.shape)}"
            )
        check_patchable(x.shape[-2], x.shape[-1], self.patch_size)
        frames = patch(x.float(), self.patch_size)  # (B, T, C*p*p, H/p, W/p)
        b, t, _, h, w = frames.shape
        state = self.stack.init_state(b, h, w, frames)
        pooled = []
        for step in range(t):
            hs, (states, memory) = self.stack(frames[:, step], state)
            # PredRNN's zigzag: the top layer's memory enters the bottom layer next step
            state = (states, memory)
            top = hs[-1].flatten(2)  # (B, hidden, h*w)
            pooled.append(top.mean(2) if self.spatial_pool == "mean" else top.amax(2))  # (B, hid)
        series = torch.stack(pooled, dim=1)  # (B, T, hidden)
        if self.readout == "last":
            summary = series[:, -1]
        elif self.readout == "mean":
            summary = series.mean(1)
        else:
            summary = series.max(1).values
        summary = F.dropout(summary, self.dropout, self.training)  # (B, hidden)
        return self.head(summary)  # (B, num_classes)

    @staticmethod
    def input_size_for(spec: InputSpec, options: Mapping[str, Any]) -> int:
        """The frames' channels; token data cannot feed a conv classifier."""
        if spec.kind != "frames" or spec.frame_shape is None:
            raise ValueError(f"conv_rnn classifies frame sequences; this dataset gives {spec.kind}")
        return int(spec.frame_shape[0])


def build_classifier(
    name: str, input_size: int, num_classes: int, options: Mapping[str, Any] | None = None
) -> nn.Module:
    """Build the classifier registered as ``name``, checking its options first.

    Raises
    ------
    KeyError
        Unknown classifier (the message lists the valid ones).
    TypeError
        An option the classifier does not take (the message lists those it takes).
    """
    from framecast.signature import check_options

    cls = CLASSIFIERS.get(name)
    opts = dict(options or {})
    check_options(cls, opts, f"classifier {name!r}", skip=("input_size", "num_classes"))
    return cls(input_size, num_classes, **opts)
