"""One :class:`ScoreSettings` object from the settings to the scores, its defaults written once."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scores_testing import gamma_rates, make_forecast, simulate_events

from framecast.quake.defaults import NUM_SIMULATIONS, REPORT_MAPS, SCORE_SEED
from framecast.quake.scores.registry import ScoreSettings
from framecast.quake.scores.table import score_forecasts
from framecast.quake.settings import EtasSection, EvaluationSection

SHAPE = (4, 10, 10)


def _forecasts():
    truth = gamma_rates(SHAPE, seed=3)
    forecasts = {
        "a": make_forecast(truth, "a"),
        "b": make_forecast(np.full(SHAPE, truth.mean()), "b"),
    }
    return forecasts, simulate_events(truth, seed=4)


def _only_fast(**changes):
    return {"forecast_scores": ["n_test"], "pair_scores": ["t_test", "bootstrap_30d"], **changes}


def test_the_settings_object_and_its_keywords_give_the_same_table() -> None:
    forecasts, observed = _forecasts()
    settings = ScoreSettings(num_resamples=50, seed=2)
    by_object = score_forecasts(forecasts, observed, reference="b", **_only_fast(settings=settings))
    by_keywords = score_forecasts(
        forecasts, observed, reference="b", **_only_fast(num_resamples=50, seed=2)
    )
    assert by_object.to_dict() == by_keywords.to_dict()
    mc = forecasts["a"].mc  # an unset binary magnitude is the forecasts' mc
    assert by_object.settings == dataclasses.replace(settings, binary_magnitude=mc)


def test_an_unknown_score_setting_is_refused_naming_it() -> None:
    forecasts, observed = _forecasts()
    with pytest.raises(TypeError, match=r"unknown score setting\(s\) \['num_simulation'\]"):
        score_forecasts(forecasts, observed, reference="b", num_simulation=10)


def test_the_evaluation_section_is_the_score_settings_of_a_run() -> None:
    section = EvaluationSection(binary_magnitude=3.0, num_simulations=20, seed=5)
    assert section.score_settings() == ScoreSettings(
        num_simulations=20, seed=5, binary_magnitude=3.0
    )
    with pytest.raises(ValueError, match="num_simulations must be >= 1, got 0"):
        EvaluationSection(num_simulations=0).score_settings()


def test_the_defaults_are_the_same_everywhere() -> None:
    scores, evaluation = ScoreSettings(), EvaluationSection()
    assert scores.num_simulations == evaluation.num_simulations == NUM_SIMULATIONS
    assert EtasSection().num_simulations == NUM_SIMULATIONS
    assert scores.seed == evaluation.seed == SCORE_SEED and evaluation.maps == REPORT_MAPS
