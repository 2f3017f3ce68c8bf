"""Recurrent sequence classifiers: text reviews, actions in video, earthquake alarms.

Names load on first use (PEP 562), so ``framecast --help`` (which builds
the ``classify`` parser from :mod:`framecast.classify.cli`) imports no torch.
"""

from __future__ import annotations

from framecast.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "CLASSIFIERS": "framecast.classify.registry",
    "LABELLED_DATA": "framecast.classify.registry",
    "ClassifyConfig": "framecast.classify.config",
    "ConvSequenceClassifier": "framecast.classify.models",
    "InputSpec": "framecast.classify.models",
    "VectorSequenceClassifier": "framecast.classify.models",
    "Vocabulary": "framecast.classify.vocabulary",
    "build_classifier": "framecast.classify.models",
    "build_labelled_dataset": "framecast.classify.data",
    "classification_metrics": "framecast.classify.metrics",
    "evaluate_classifier": "framecast.classify.evaluate",
    "load_classifier": "framecast.classify.checkpoint",
    "load_classify_config": "framecast.classify.config",
    "predict_inputs": "framecast.classify.predict",
    "read_text_folder": "framecast.classify.text",
    "train_classifier": "framecast.classify.training",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
