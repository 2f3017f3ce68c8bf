"""framecast's PredRNN against the authors' PyTorch code, in one process, same data.

Times a training step (forward over 20 frames with scheduled sampling, MSE,
backward, Adam) at the paper's Moving MNIST setting (4 x 128 channels, 5x5,
patch 4, batch 8, 64x64 frames) for framecast's ``predrnn`` and for the
``RNN`` class of a local checkout of the authors' code
(https://github.com/thuml/predrnn-pytorch, ``core/models/predrnn.py``),
alternating the two so that both see the same machine state. It also
measures the cores' convolution peak (as ``benchmarks/speed.py`` does) and
reports each step as a fraction of the floor it implies.

The authors' code is not part of framecast; point ``--authors-code`` at a
checkout of it::

    git clone https://github.com/thuml/predrnn-pytorch /tmp/predrnn-pytorch
    python benchmarks/authors_predrnn.py --authors-code /tmp/predrnn-pytorch --steps 2

Some versions of the authors' cell apply LayerNorm whatever ``layer_norm``
says; the script counts the LayerNorm modules of the built model and gives
framecast's cells ``layer_norm`` to match, and prints which it used.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import framecast  # noqa: F401  (sets OMP_WAIT_POLICY=PASSIVE before torch loads, as the CLI)

PAPER = {"hidden": 128, "layers": 4, "kernel": 5, "patch": 4, "batch": 8, "size": 64}


def _authors_model(root: Path, layer_norm: bool):
    """The authors' ``RNN`` at the paper setting, imported from the checkout at ``root``."""
    if not (root / "core" / "models" / "predrnn.py").is_file():
        raise SystemExit(
            f"--authors-code {root}: no core/models/predrnn.py there; expected a checkout of "
            "https://github.com/thuml/predrnn-pytorch"
        )
    sys.path.insert(0, str(root))
    from core.models.predrnn import RNN  # type: ignore[import-not-found]

    configs = SimpleNamespace(
        patch_size=PAPER["patch"],
        img_width=PAPER["size"],
        img_channel=1,
        filter_size=PAPER["kernel"],
        stride=1,
        layer_norm=int(layer_norm),
        device="cpu",
        total_length=20,
        input_length=10,
        reverse_scheduled_sampling=0,  # read by later versions of the authors' forward
    )
    return RNN(PAPER["layers"], [PAPER["hidden"]] * PAPER["layers"], configs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--authors-code", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=2, help="timed steps per model")
    parser.add_argument("--threads", type=int, default=None, help="default: every core")
    args = parser.parse_args()

    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    from framecast.models import build_model
    from framecast.models.patching import patch
    from framecast.numerics import configure_torch

    sys.path.insert(0, str(Path(__file__).parent))
    from speed import conv_peak_gflops

    threads = configure_torch(args.threads)
    peak = conv_peak_gflops(threads)

    torch.manual_seed(0)
    authors = _authors_model(args.authors_code, layer_norm=False)
    layer_norm = any(isinstance(m, nn.LayerNorm) for m in authors.modules())
    ours = build_model(
        "predrnn",
        1,
        {
            "hidden_channels": PAPER["hidden"],
            "num_layers": PAPER["layers"],
            "kernel_size": PAPER["kernel"],
            "patch_size": PAPER["patch"],
            "cell": "stlstm",
            "cell_options": {"layer_norm": layer_norm},
        },
    )
    b, p = PAPER["batch"], PAPER["patch"]
    gen = torch.Generator().manual_seed(0)
    frames = torch.rand(b, 20, 1, PAPER["size"], PAPER["size"], generator=gen)
    true_mask = (torch.rand(b, 18, generator=gen) < 0.5).float()
    true_mask[:, :9] = 1.0  # the context is always fed
    # the authors' layout: patched frames channels-last, a mask map per future input step
    seq = patch(frames, p).permute(0, 1, 3, 4, 2).contiguous()  # (B, 20, h, w, p*p)
    mask_maps = true_mask[:, 9:, None, None, None].expand(-1, -1, *seq.shape[2:]).contiguous()

    def ours_step(opt: torch.optim.Optimizer) -> None:
        pred = ours.rollout(frames[:, :10], 10, target=frames[:, 10:], true_mask=true_mask)
        loss = nn.functional.mse_loss(pred, frames[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def authors_step(opt: torch.optim.Optimizer) -> None:
        out = authors(seq, mask_maps)
        pred = out[0] if isinstance(out, tuple) else out  # later versions also return a loss
        loss = nn.functional.mse_loss(pred, seq[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    runs = {
        "framecast": (ours_step, torch.optim.Adam(ours.parameters(), lr=3e-4)),
        "authors": (authors_step, torch.optim.Adam(authors.parameters(), lr=3e-4)),
    }
    gflop = {}
    for name, (step, opt) in runs.items():
        step(opt)  # warm-up
        with FlopCounterMode(display=False) as counter:
            step(opt)
        gflop[name] = counter.get_total_flops() / 1e9
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.steps):
        for name, (step, opt) in runs.items():
            start = time.perf_counter()
            step(opt)
            times[name].append(time.perf_counter() - start)

    print(f"# torch {torch.__version__}, {threads} threads, convolution peak {peak:.1f} GFLOP/s")
    print(f"# layer_norm: {layer_norm} in both (LayerNorm modules in the authors' model)")
    print("| code | params | train step (s) | steps timed | step GFLOP | % of floor |")
    print("|---|---:|---:|---:|---:|---:|")
    medians = {}
    for name, model in (("framecast", ours), ("authors", authors)):
        med = medians[name] = statistics.median(times[name])
        floor = gflop[name] / peak
        params = sum(q.numel() for q in model.parameters())
        print(
            f"| {name} | {params:,} | {med:.2f} | {len(times[name])} | {gflop[name]:.1f} "
            f"| {100 * floor / med:.0f} % |"
        )
    print(f"# authors / framecast step time: {medians['authors'] / medians['framecast']:.3f}")
    print(f"# all times: {times}")


if __name__ == "__main__":
    main()
