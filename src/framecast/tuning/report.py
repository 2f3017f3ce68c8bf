"""The summary and plots of a study: what ``framecast tune`` leaves beside best.yaml."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from framecast.tuning.settings import TuneSettings
    from framecast.tuning.space import Parameter


def trial_state(trial: Any) -> str:
    """The state a summary shows: Optuna's, with a dead process's "running" trial "interrupted".

    A trial whose process is killed (SIGKILL, a node lost) stays RUNNING in
    the storage until Optuna's heartbeat retries it. Each trial records the
    process and host that run it (``pid``, ``host`` user attributes); when
    that process no longer runs on this host, or is this one (which writes
    the summary only once its own trials ended), the trial is shown as
    interrupted.

    Parameters
    ----------
    trial : optuna.trial.FrozenTrial

    Returns
    -------
    str
        ``complete``, ``pruned``, ``fail``, ``waiting``, ``running`` or ``interrupted``.
    """
    import os
    import socket

    state = str(trial.state.name).lower()
    if state != "running":
        return state
    pid, host = trial.user_attrs.get("pid"), trial.user_attrs.get("host")
    if not isinstance(pid, int) or host != socket.gethostname():
        return state  # run elsewhere, or before the attributes existed: cannot tell
    if pid == os.getpid():
        return "interrupted"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "interrupted"
    except PermissionError:
        return state  # a live process of another user
    return state


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _skill(value: float | None, reference: float | None) -> str:
    from framecast.baselines import skill_score

    if value is None or reference is None:
        return "-"
    skill = skill_score(value, reference)
    return f"{skill:.3f}" if math.isfinite(skill) else "-"


def _trial_rows(study: Any, keys: list[str], reference: float | None = None) -> list[str]:
    header = ["trial", "state", "best val loss", *keys, "steps", "seconds", "seed"]
    if reference is not None:
        header.append("skill vs best trivial")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]

    def order(t: Any) -> tuple[int, float, int]:
        rank = {"COMPLETE": 0, "PRUNED": 1}.get(t.state.name, 2)
        value = t.value if t.value is not None else math.inf
        if t.value is None and t.intermediate_values:
            value = min(t.intermediate_values.values())
        return (rank, value, t.number)

    for t in sorted(study.trials, key=order):
        value = t.value
        if value is None and t.intermediate_values:
            value = min(t.intermediate_values.values())
        cells = [
            str(t.number),
            trial_state(t),
            "-" if value is None else f"{value:.5g}",
            *[_value(t.params.get(k, "-")) for k in keys],
            str(t.user_attrs.get("steps", "-")),
            str(t.user_attrs.get("seconds", "-")),
            str(t.user_attrs.get("seed", "-")),
        ]
        if reference is not None:
            cells.append(_skill(value, reference))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _best_per_choice(study: Any, space: list[Parameter]) -> list[str]:
    """For each categorical parameter, the best complete trial of each choice."""
    lines: list[str] = []
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    for parameter in space:
        if parameter.type != "categorical":
            continue
        lines += [
            "",
            f"Best trial per value of `{parameter.key}`:",
            "",
            "| value | trials (complete / pruned) | best val loss | trial |",
            "|---|---|---|---|",
        ]
        for choice in parameter.choices or ():
            same = [t for t in complete if t.params.get(parameter.key) == choice]
            pruned = [
                t
                for t in study.trials
                if t.state.name == "PRUNED" and t.params.get(parameter.key) == choice
            ]
            best = min(same, key=lambda t: t.value, default=None)
            lines.append(
                f"| {choice} | {len(same)} / {len(pruned)} | "
                f"{'-' if best is None else f'{best.value:.5g}'} | "
                f"{'-' if best is None else best.number} |"
            )
    return lines


def _baseline_rows(baselines: Mapping[str, Mapping[str, Any]], reference: float) -> list[str]:
    from framecast.tuning.baselines import VAL_LOSS

    lines = [
        "",
        "Trivial baselines on the same validation batches (the config's loss; "
        "skill = 1 - loss / loss of the best trivial baseline):",
        "",
        "| baseline | val loss | val MSE per frame | skill vs best trivial |",
        "|---|---:|---:|---:|",
    ]
    for name, res in baselines.items():
        loss = float(res[VAL_LOSS]["mean"])
        lines.append(
            f"| {name} | {loss:.5g} | {float(res['mse_per_frame_sum']['mean']):.5g} "
            f"| {_skill(loss, reference)} |"
        )
    return lines


def summary_markdown(
    study: Any,
    space: list[Parameter],
    settings: TuneSettings,
    baselines: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """A Markdown page: the study's settings, the best trial, every trial, best per choice.

    With ``baselines`` (:func:`framecast.tuning.baselines.validation_baselines`)
    the page names the best trivial baseline by validation loss, gives the
    best trial's and every trial's skill score against it
    (``1 - loss / loss_best``), and lists the baselines.
    """
    from framecast.baselines import best_trivial
    from framecast.tuning.baselines import VAL_LOSS

    best_base = best_trivial(baselines, VAL_LOSS) if baselines else None
    reference = None
    if baselines is not None and best_base is not None:
        reference = float(baselines[best_base][VAL_LOSS]["mean"])
    states = [trial_state(t) for t in study.trials]
    counts = ", ".join(f"{states.count(s)} {s}" for s in sorted(set(states)))
    budget = []
    if settings.trial_minutes is not None:
        budget.append(f"{settings.trial_minutes:g} min")
    if settings.trial_steps is not None:
        budget.append(f"{settings.trial_steps} steps")
    lines = [
        f"# Study `{study.study_name}`",
        "",
        f"{len(study.trials)} trials ({counts}); TPE sampler (seed {settings.seed}), "
        f"{settings.pruner} pruner fed by the validation loss at every validation, "
        f"early stopping in each trial; budget per trial: {', '.join(budget) or 'the config'}. "
        "Values are the lowest validation loss each trial reached (the config's loss).",
        "",
    ]
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    if complete:
        best = study.best_trial
        params = ", ".join(f"`{k}` = {_value(v)}" for k, v in best.params.items())
        lines += [f"Best: trial {best.number}, validation loss {best.value:.5g}: {params}.", ""]
        if reference is not None:
            beats = best.value < reference
            lines += [
                f"The best trial {'beats' if beats else 'does NOT beat'} the best trivial "
                f"baseline, {best_base} (validation loss {reference:.5g}; "
                f"skill {_skill(best.value, reference)}).",
                "",
            ]
    lines += _trial_rows(study, [p.key for p in space], reference)
    lines += _best_per_choice(study, space)
    if baselines and reference is not None:
        lines += _baseline_rows(baselines, reference)
    lines += [
        "",
        "Plots: optimization_history.png, param_importances.png, parallel_coordinate.png.",
    ]
    return "\n".join(lines) + "\n"


def plot_study(study: Any, out: Path) -> dict[str, Path]:
    """Optimisation history, parameter importances and parallel coordinates as PNG.

    Uses Optuna's matplotlib plots; a plot Optuna cannot draw yet (e.g.
    importances with fewer than two complete trials) is left out.
    """
    import optuna.visualization.matplotlib as plots

    paths: dict[str, Path] = {}
    makers = {
        "optimization_history": plots.plot_optimization_history,
        "param_importances": plots.plot_param_importances,
        "parallel_coordinate": plots.plot_parallel_coordinate,
    }
    for name, make in makers.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna marks these plots experimental
            try:
                ax = make(study)
            except (ValueError, RuntimeError, ZeroDivisionError):
                continue
        figure = (ax.flat[0] if hasattr(ax, "flat") else ax).figure
        figure.set_size_inches(8, 5)
        figure.tight_layout()
        path = out / f"{name}.png"
        figure.savefig(path, dpi=90)
        paths[name] = path
        import matplotlib.pyplot as plt

        plt.close(figure)
    return paths
