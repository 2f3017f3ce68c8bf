"""Labelled text: folders of ``.txt`` files (IMDB's layout), and a synthetic text task.

IMDB's reviews (Maas et al. 2011) are distributed as
``aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt`` (plus an unlabelled
``train/unsup`` folder, which is not read), as a folder or as the archive
itself (``.tar.gz``, read member by member, never unpacked). Any folder with one subfolder of
``.txt`` files per class reads the same way. Files are decoded as UTF-8; one
that is not (a Latin-1 file, say) is skipped and reported by name, or with
``on_error="raise"`` stops the read with one line naming it. A class folder
without any ``.txt`` file is refused with one line naming it.

The vocabulary is built on the training split only (Keras' ``num_words``
convention, see :mod:`framecast.classify.vocabulary`), so the validation and
test texts meet out-of-vocabulary words as new data would.

References
----------
A. L. Maas, R. E. Daly, P. T. Pham, D. Huang, A. Y. Ng, C. Potts, "Learning
Word Vectors for Sentiment Analysis", ACL 2011.
"""

from __future__ import annotations

import functools
import logging
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from framecast.classify.models import InputSpec
from framecast.classify.vocabulary import Vocabulary, tokenize

logger = logging.getLogger(__name__)

ON_ERROR = ("skip", "raise")
IMDB_CLASSES = ("neg", "pos")
SPLITS = ("train", "val", "test")


@dataclass
class TextCorpus:
    """Texts with integer labels, and the files that could not be read.

    Attributes
    ----------
    texts : list of str
    labels : list of int
        ``class_names[label]`` is each text's class.
    class_names : tuple of str
    files : list of str
        The file of each text.
    skipped : list of str
        ``"<file>: <reason>"`` for each file left out.
    """

    texts: list[str]
    labels: list[int]
    class_names: tuple[str, ...]
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def subset(self, indices: list[int]) -> TextCorpus:
        return TextCorpus(
            [self.texts[i] for i in indices],
            [self.labels[i] for i in indices],
            self.class_names,
            [self.files[i] for i in indices] if self.files else [],
            list(self.skipped),
        )


def _check_on_error(on_error: str) -> str:
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {list(ON_ERROR)}, got {on_error!r}")
    return on_error


def read_text_folder(
    root: str | os.PathLike[str],
    *,
    classes: tuple[str, ...] | None = None,
    on_error: str = "skip",
) -> TextCorpus:
    """Read ``root/<class>/*.txt``: one class per subfolder, in sorted order.

    Parameters
    ----------
    root : path
        The folder of class folders.
    classes : tuple of str, optional
        The class folders to read, in label order (IMDB: ``("neg", "pos")``);
        default every subfolder, sorted.
    on_error : {"skip", "raise"}
        A file that is not UTF-8: skip it (listed in ``skipped`` and logged)
        or raise.

    Raises
    ------
    FileNotFoundError
        ``root`` or a named class folder does not exist.
    ValueError
        Fewer than two classes; a class folder without ``.txt`` files, or
        none of whose files can be read (a class must not train empty); a
        file that is not UTF-8 with ``on_error="raise"``.
    """
    _check_on_error(on_error)
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"text folder {str(root)!r} does not exist")
    if classes is None:
        classes = tuple(sorted(p.name for p in root.iterdir() if p.is_dir()))
    if len(classes) < 2:
        raise ValueError(
            f"text folder {str(root)!r} needs one subfolder per class and at least two classes, "
            f"found {list(classes)}"
        )
    corpus = TextCorpus([], [], tuple(classes))
    for label, name in enumerate(classes):
        folder = root / name
        if not folder.is_dir():
            raise FileNotFoundError(f"class folder {str(folder)!r} does not exist")
        files = sorted(folder.glob("*.txt"))
        if not files:
            raise ValueError(f"class folder {str(folder)!r} holds no .txt file")
        reasons = []
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except UnicodeDecodeError as err:
                reason = f"{file}: not UTF-8 (byte {err.start}: {err.reason})"
            except OSError as err:
                reason = f"{file}: cannot read ({err.strerror or err})"
            else:
                corpus.texts.append(text)
                corpus.labels.append(label)
                corpus.files.append(str(file))
                continue
            if on_error == "raise":
                raise ValueError(f"text file {reason}") from None
            reasons.append(reason)
        if len(reasons) == len(files):  # one line for the class, not one per file
            raise ValueError(
                f"class {name!r}: none of the {len(files)} .txt file(s) in {str(folder)!r} can "
                f"be read (first: {reasons[0]}); a class needs at least one readable file"
            )
        for reason in reasons:
            corpus.skipped.append(reason)
            logger.warning("skipped text file %s", reason)
    return corpus


def _member_place(name: str) -> tuple[str, str] | None:
    """(split, class) of an archive member ``[prefix/]aclImdb/<split>/<class>/<file>.txt``."""
    parts = name.split("/")
    if len(parts) < 4 or not parts[-1].endswith(".txt"):
        return None
    split, cls = parts[-3], parts[-2]
    if split not in ("train", "test") or cls not in IMDB_CLASSES:
        return None
    return split, cls


@functools.lru_cache(maxsize=2)
def _read_imdb_archive(path: str, size: int, mtime_ns: int, on_error: str) -> dict[str, TextCorpus]:
    """Both labelled splits of an aclImdb archive, read in one pass and cached."""
    found: dict[tuple[str, str], list[tuple[str, str | None, str]]] = {}
    try:
        with tarfile.open(path, mode="r:*") as archive:
            for member in archive:  # streamed: members are read in order, nothing is extracted
                place = _member_place(member.name)
                if place is None or not member.isfile():
                    continue
                handle = archive.extractfile(member)
                data = handle.read() if handle is not None else b""
                where = f"{path}:{member.name}"
                try:
                    found.setdefault(place, []).append((member.name, data.decode("utf-8"), where))
                except UnicodeDecodeError as err:
                    reason = f"{where}: not UTF-8 (byte {err.start}: {err.reason})"
                    if on_error == "raise":
                        raise ValueError(f"text file {reason}") from None
                    found.setdefault(place, []).append((member.name, None, reason))
    except (tarfile.TarError, EOFError, OSError) as err:
        raise ValueError(f"{path!r} is not a readable tar archive ({err})") from None
    missing = [f"{s}/{c}" for s in ("train", "test") for c in IMDB_CLASSES if (s, c) not in found]
    if missing:
        raise ValueError(
            f"archive {path!r} is not the aclImdb layout: no .txt files under "
            f"{', '.join('aclImdb/' + m for m in missing)}"
        )
    splits: dict[str, TextCorpus] = {}
    for split in ("train", "test"):
        corpus = TextCorpus([], [], IMDB_CLASSES)
        for label, cls in enumerate(IMDB_CLASSES):
            members = sorted(found[(split, cls)])  # the folder reader's order: by name
            if all(text is None for _, text, _ in members):
                raise ValueError(
                    f"class {cls!r}: none of the {len(members)} .txt file(s) under "
                    f"{split}/{cls} in {path!r} can be read (first: {members[0][2]}); a class "
                    "needs at least one readable file"
                )
            for _, text, where in members:
                if text is None:
                    corpus.skipped.append(where)
                    logger.warning("skipped text file %s", where)
                    continue
                corpus.texts.append(text)
                corpus.labels.append(label)
                corpus.files.append(where)
        splits[split] = corpus
    return splits


def read_imdb_archive(
    path: str | os.PathLike[str], *, on_error: str = "skip"
) -> dict[str, TextCorpus]:
    """The ``train`` and ``test`` corpora of an aclImdb archive (``.tar``, ``.tar.gz``, ...).

    Members are read in a stream, never extracted (a member's name never
    becomes a path here), in the folder reader's order. Reading the 50,000
    reviews takes a few seconds; the result is cached while the file is unchanged.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not a tar archive; no ``.txt`` member under one of
        ``aclImdb/{train,test}/{neg,pos}``; a class none of whose files is
        UTF-8; a file that is not UTF-8 with ``on_error="raise"``.
    """
    _check_on_error(on_error)
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise FileNotFoundError(f"archive {str(path)!r} does not exist")
    stat = file.stat()
    return _read_imdb_archive(str(file), stat.st_size, stat.st_mtime_ns, on_error)


def stratified_split(
    labels: list[int], fractions: tuple[float, float], seed: int
) -> dict[str, list[int]]:
    """Indices of train, val and test: per class, a seeded shuffle cut by (val, test) fractions.

    Raises
    ------
    ValueError
        Fractions outside [0, 1) or summing to 1 or more.
    """
    val_fraction, test_fraction = fractions
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
            raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"val_fraction + test_fraction must be below 1, got {val_fraction} + {test_fraction}"
        )
    rng = np.random.default_rng(seed)
    out: dict[str, list[int]] = {s: [] for s in SPLITS}
    label_array = np.asarray(labels)
    for label in sorted(set(labels)):
        members = np.flatnonzero(label_array == label)
        members = members[rng.permutation(len(members))]
        n_val = round(len(members) * val_fraction)
        n_test = round(len(members) * test_fraction)
        out["val"] += members[:n_val].tolist()
        out["test"] += members[n_val : n_val + n_test].tolist()
        out["train"] += members[n_val + n_test :].tolist()
    return {s: sorted(v) for s, v in out.items()}


class TextDataset(Dataset[tuple[Tensor, Tensor]]):
    """Texts as padded token ids ``(max_length,)`` int64 with their label (int64 scalar).

    Attributes
    ----------
    spec : InputSpec
        ``kind="tokens"``, the class names and the vocabulary size.
    vocabulary : Vocabulary
    corpus : TextCorpus
    """

    def __init__(
        self,
        corpus: TextCorpus,
        vocabulary: Vocabulary,
        *,
        max_length: int,
        truncation: str = "end",
    ) -> None:
        if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
            raise ValueError(f"max_length must be a positive integer, got {max_length!r}")
        self.corpus = corpus
        self.vocabulary = vocabulary
        self.skipped = corpus.skipped
        ids = [vocabulary.encode(tokenize(t), max_length, truncation) for t in corpus.texts]
        self.tokens = torch.tensor(ids, dtype=torch.int64).reshape(-1, max_length)  # (N, L)
        self.labels = torch.tensor(corpus.labels, dtype=torch.int64)  # (N,)
        self.spec = InputSpec("tokens", corpus.class_names, vocab_size=len(vocabulary))

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.tokens[index], self.labels[index]


def _text_dataset(
    splits: dict[str, TextCorpus],
    split: str,
    vocabulary: Vocabulary | None,
    max_words: int,
    max_length: int,
    truncation: str,
) -> TextDataset:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
    if vocabulary is None:  # built on the training texts only
        vocabulary = Vocabulary.build((tokenize(t) for t in splits["train"].texts), max_words)
    if not splits[split].texts:
        raise ValueError(f"the {split} split holds no text; lower or raise the split fractions")
    return TextDataset(splits[split], vocabulary, max_length=max_length, truncation=truncation)


def text_folder(
    split: str,
    *,
    vocabulary: Vocabulary | None = None,
    path: str | None = None,
    max_words: int = 10000,
    max_length: int = 200,
    truncation: str = "end",
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    on_error: str = "skip",
) -> TextDataset:
    """Any folder of ``<class>/*.txt`` files, split per class by fractions (seeded).

    Raises
    ------
    ValueError
        No ``path``; see :func:`read_text_folder` and :func:`stratified_split`.
    """
    if path is None:
        raise ValueError("dataset 'text_folder' needs data.options.path: a folder of class folders")
    corpus = read_text_folder(path, on_error=on_error)
    parts = stratified_split(corpus.labels, (val_fraction, test_fraction), seed)
    splits = {s: corpus.subset(parts[s]) for s in SPLITS}
    return _text_dataset(splits, split, vocabulary, max_words, max_length, truncation)


def imdb(
    split: str,
    *,
    vocabulary: Vocabulary | None = None,
    path: str | None = None,
    max_words: int = 10000,
    max_length: int = 200,
    truncation: str = "end",
    val_fraction: float = 0.1,
    seed: int = 0,
    on_error: str = "skip",
) -> TextDataset:
    """IMDB reviews from ``aclImdb/{train,test}/{neg,pos}/*.txt`` (Maas et al. 2011).

    ``path`` is the unpacked ``aclImdb`` folder or the archive as distributed
    (``aclImdb_v1.tar.gz``, or any tar holding that layout), read without
    unpacking. ``val`` is ``val_fraction`` of ``train`` (per class, seeded);
    ``test`` is the distributed test set. Labels: 0 = neg, 1 = pos.

    Raises
    ------
    ValueError
        No ``path``; see :func:`read_text_folder` and :func:`read_imdb_archive`.
    """
    if path is None:
        raise ValueError(
            "dataset 'imdb' needs data.options.path: the aclImdb folder or its .tar.gz archive"
        )
    root = Path(path).expanduser()
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
    if root.is_file():
        archive = read_imdb_archive(root, on_error=on_error)
        train_corpus, test_corpus = archive["train"], archive["test"]
    elif not root.exists():
        raise FileNotFoundError(
            f"IMDB data {str(path)!r} does not exist (expected the aclImdb folder or its archive)"
        )
    else:
        train_corpus = test_corpus = None
    splits: dict[str, TextCorpus] = {}
    if split != "test" or vocabulary is None:
        train = train_corpus
        if train is None:
            train = read_text_folder(root / "train", classes=IMDB_CLASSES, on_error=on_error)
        parts = stratified_split(train.labels, (val_fraction, 0.0), seed)
        splits = {"train": train.subset(parts["train"]), "val": train.subset(parts["val"])}
    if split == "test":
        test = test_corpus
        if test is None:
            test = read_text_folder(root / "test", classes=IMDB_CLASSES, on_error=on_error)
        splits["test"] = test
    return _text_dataset(splits, split, vocabulary, max_words, max_length, truncation)


def synthetic_text_corpus(
    num_texts: int,
    *,
    num_classes: int = 2,
    length: int = 40,
    num_filler: int = 300,
    markers_per_class: int = 8,
    seed: int = 0,
) -> TextCorpus:
    """A text task a small recurrent network learns in seconds.

    Each text holds ``length`` words: filler words (``w0``, ``w1``, ...)
    shared by all classes, three marker words of its own class
    (``c<k>m<j>``) and one marker of another class as a distractor, at
    random places; the class is the one with the most markers, so a model
    must count evidence along the sequence.

    Raises
    ------
    ValueError
        Fewer than 2 classes, a length under 4, or no text.
    """
    if num_classes < 2 or length < 4 or num_texts < 1:
        raise ValueError(
            f"need num_classes >= 2, length >= 4 and num_texts >= 1, got {num_classes}, "
            f"{length}, {num_texts}"
        )
    rng = np.random.default_rng(seed)
    texts: list[str] = []
    labels: list[int] = []
    for _ in range(num_texts):
        label = int(rng.integers(num_classes))
        other = int((label + rng.integers(1, num_classes)) % num_classes)
        words = [f"w{i}" for i in rng.integers(num_filler, size=length)]
        places = rng.choice(length, size=4, replace=False)
        markers = [label] * 3 + [other]
        for place, cls in zip(places, markers, strict=True):
            words[place] = f"c{cls}m{rng.integers(markers_per_class)}"
        texts.append(" ".join(words))
        labels.append(label)
    names = tuple(f"class{k}" for k in range(num_classes))
    return TextCorpus(texts, labels, names)


def synthetic_text(
    split: str,
    *,
    vocabulary: Vocabulary | None = None,
    num_train: int = 2000,
    num_val: int = 400,
    num_test: int = 400,
    num_classes: int = 2,
    length: int = 40,
    max_words: int = 1000,
    seed: int = 0,
) -> TextDataset:
    """The synthetic text task of :func:`synthetic_text_corpus`, one seed per split."""
    sizes = {"train": num_train, "val": num_val, "test": num_test}
    if split not in sizes:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
    splits = {
        s: synthetic_text_corpus(n, num_classes=num_classes, length=length, seed=seed * 3 + i)
        for i, (s, n) in enumerate(sizes.items())
        if s in (split, "train")
    }
    return _text_dataset(splits, split, vocabulary, max_words, length, "end")


def write_text_folder(corpus: TextCorpus, root: str | os.PathLike[str]) -> list[Path]:
    """Write ``corpus`` as ``root/<class>/<n>.txt`` (the layout :func:`read_text_folder` reads)."""
    root = Path(root)
    paths = []
    for number, (text, label) in enumerate(zip(corpus.texts, corpus.labels, strict=True)):
        path = root / corpus.class_names[label] / f"{number}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
