"""Parameter counts at the papers' Moving MNIST settings, beside OpenSTL's published counts.

Builds each model from its ``configs/mmnist/<name>.yaml`` (one channel,
64x64 frames) and prints a Markdown table. The reference counts are the
``Params`` column of OpenSTL's Moving MNIST table
(``docs/en/model_zoos/video_benchmarks.md``, rounded to 0.1 M, so about
+-0.2 % of rounding). Where a difference is structural, ``note`` says what
it is and ``adjusted`` gives the reference count after it.

Run: ``.venv/bin/python benchmarks/param_counts.py``
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from framecast.config import load_config
from framecast.models import build_model

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "OpenSTL docs/en/model_zoos/video_benchmarks.md (MMNIST)"


@dataclass(frozen=True)
class Reference:
    """One row: a framecast config and the published count it is compared with."""

    label: str
    config: str
    reference: float  # parameters, as published (rounded to 0.1 M)
    unused_in_reference: int = 0  # parameters the reference builds but never uses
    note: str = ""


def _causal_lstm_unused_conv_o(hidden: int = 128, kernel: int = 5, layers: int = 4) -> int:
    """OpenSTL's CausalLSTMCell builds conv_o (2*hid -> hid, k x k, no bias) and never calls it."""
    return layers * 2 * hidden * hidden * kernel * kernel


REFERENCES = (
    Reference(
        "PredRNN++",
        "configs/mmnist/predrnn_pp.yaml",
        38.6e6,
        _causal_lstm_unused_conv_o(),
        "OpenSTL's causal LSTM cell also builds a 5x5 conv_o (2x128 -> 128) per layer that its "
        "forward never calls: 4 x 819,200 = 3,276,800 dead parameters",
    ),
    Reference("PredRNN-V2", "configs/mmnist/predrnn_v2.yaml", 23.9e6),
    Reference(
        "MIM",
        "configs/mmnist/mim.yaml",
        38.0e6,
        6 * 3 * 128 * (16 * 16 - 1) + 3 * 2 * 128 * 128,
        "OpenSTL's peephole weights are (3x128, 16, 16) maps in each of 3 MIM-S and 3 MIM-N "
        "(framecast: one per channel, any frame size): 587,520; its MIM-N also builds a 1x1 "
        "conv_last it never calls: 98,304",
    ),
    Reference(
        "PhyDNet",
        "configs/mmnist/phydnet.yaml",
        3.1e6,
        0,
        "same layers as OpenSTL's PhyDNet_Model (3,091,732 counted by hand from its modules); "
        "the published 3.1 M is rounded",
    ),
    Reference(
        "E3D-LSTM",
        "configs/mmnist/e3d_lstm.yaml",
        51.0e6,
        0,
        "OpenSTL's code today builds 51,347,456: its layer norm of C learns full (128, 2, 16, "
        "16) maps (4 x 131,072) where the authors' code and framecast learn a gain and shift "
        "per channel (4 x 256); the published 51.0 M lies between. Its cells (and the "
        "authors') hand back the M they were given, so M stays zero and conv_gm (4 x "
        "3,276,800) never trains there; framecast's M flows as in the paper",
    ),
    Reference("SimVP+IncepU", "configs/mmnist/simvp.yaml", 58.0e6),
    Reference("SimVP+gSTA", "configs/mmnist/simvp_gsta.yaml", 46.8e6),
    Reference("TAU", "configs/mmnist/tau.yaml", 44.7e6),
)


def count(config_path: Path) -> int:
    """Parameters of the model a config builds (one channel per frame)."""
    config = load_config(config_path)
    model = build_model(config.model.name, 1, config.model.options)
    return sum(p.numel() for p in model.parameters())


def rows() -> list[dict[str, object]]:
    """One dict per reference: label, framecast and reference counts, difference in %."""
    out: list[dict[str, object]] = []
    for ref in REFERENCES:
        ours = count(ROOT / ref.config)
        comparable = ref.reference - ref.unused_in_reference
        out.append(
            {
                "label": ref.label,
                "framecast": ours,
                "reference": ref.reference,
                "adjusted": comparable,
                "difference_pct": 100.0 * (ours - comparable) / comparable,
                "note": ref.note or "-",
            }
        )
    return out


def main() -> None:
    print(f"Reference: {SOURCE}\n")
    print(
        "| model | framecast params | reference params | reference less unused | "
        "difference % | note |"
    )
    print("|---|---:|---:|---:|---:|---|")
    for r in rows():
        print(
            f"| {r['label']} | {r['framecast']:,} | {r['reference'] / 1e6:.1f} M | "
            f"{r['adjusted'] / 1e6:.2f} M | {r['difference_pct']:+.2f} | {r['note']} |"
        )


if __name__ == "__main__":
    main()
