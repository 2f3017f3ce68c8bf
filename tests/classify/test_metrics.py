"""Classification metrics against counts done by hand, and the Markdown report."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from framecast.classify.metrics import classification_metrics
from framecast.classify.report import format_confusion, format_metrics_table


def test_metrics_match_hand_counts():
    labels = torch.tensor([0, 0, 0, 1, 1, 2])
    predicted = torch.tensor([0, 0, 1, 1, 2, 2])
    probs = torch.nn.functional.one_hot(predicted, 3).float() * 0.8 + 0.2 / 3  # (6, 3)
    m = classification_metrics(probs, labels, ("a", "b", "c"))
    assert m.accuracy == pytest.approx(4 / 6)
    # a: tp 2, fp 0, fn 1; b: tp 1, fp 1, fn 1; c: tp 1, fp 1, fn 0
    assert m.precision["a"] == pytest.approx(1.0) and m.recall["a"] == pytest.approx(2 / 3)
    assert m.precision["b"] == pytest.approx(0.5) and m.recall["b"] == pytest.approx(0.5)
    assert m.precision["c"] == pytest.approx(0.5) and m.recall["c"] == pytest.approx(1.0)
    assert m.f1["c"] == pytest.approx(2 / 3)
    assert m.precision["macro"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert m.confusion.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert m.support == {"a": 3, "b": 2, "c": 1}
    # class c: its one item ties with one of the five others at the top score: AUC 1 - 0.5/5
    assert m.roc_auc["c"] == pytest.approx(0.9)
    roc = m.roc["a"]
    assert roc.x[0] == 0 and roc.x[-1] == 1 and np.all(np.diff(roc.x) >= 0)


def test_report_tables_list_every_class_and_macro():
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    m = classification_metrics(probs, torch.tensor([0, 1, 1]), ("neg", "pos"))
    table = format_metrics_table(m)
    assert table.count("\n| ") == 3 and "**macro**" in table and "accuracy 0.667 on 3" in table
    assert "| pos | 1 | 1 |" in format_confusion(m)


def test_bad_shapes_fail_in_one_line():
    with pytest.raises(ValueError, match=r"need probabilities \[N, 2\] and labels \[N\]"):
        classification_metrics(torch.rand(3, 3), torch.tensor([0, 1, 1]), ("a", "b"))
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.1"):
        classification_metrics(torch.rand(2, 2), torch.tensor([0, 2]), ("a", "b"))
