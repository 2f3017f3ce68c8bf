"""Tokenising text and a top-N vocabulary built on the training split only.

The layout follows Keras' IMDB pipeline used by the seed material
(``imdb.load_data(num_words=N)`` then ``pad_sequences(maxlen=L)``): id 0
pads, id 1 stands for any word outside the vocabulary, and the ``max_words``
most frequent training words get ids 2, 3, ... in order of decreasing
frequency (ties alphabetical, so the vocabulary is deterministic).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from framecast.files import atomic_write

PAD, OOV = "<pad>", "<oov>"
PAD_ID, OOV_ID = 0, 1
TRUNCATIONS = ("end", "start")

_TAG = re.compile(r"<[^>]{0,40}>")  # IMDB reviews hold "<br />" line breaks
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(text: str) -> list[str]:
    """Lower-cased words of ``text``: letters and digits, with an inner apostrophe kept.

    HTML tags (IMDB's ``<br />``) are dropped first.

    Examples
    --------
    >>> tokenize("A <br />great film, isn't it?")
    ['a', 'great', 'film', "isn't", 'it']
    """
    return _WORD.findall(_TAG.sub(" ", text.lower()))


@dataclass(frozen=True)
class Vocabulary:
    """Word -> id table: 0 padding, 1 out of vocabulary, then words by frequency.

    Attributes
    ----------
    words : tuple of str
        ``words[i]`` is the word of id ``i``; ``words[0]`` and ``words[1]``
        are the padding and out-of-vocabulary markers.
    """

    words: tuple[str, ...]

    def __post_init__(self) -> None:
        if tuple(self.words[:2]) != (PAD, OOV):
            raise ValueError(f"a vocabulary starts with {PAD!r}, {OOV!r}; got {self.words[:2]!r}")
        if len(set(self.words)) != len(self.words):
            raise ValueError("a vocabulary must not repeat a word")
        object.__setattr__(self, "_index", {w: i for i, w in enumerate(self.words)})

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def build(cls, documents: Iterable[Sequence[str]], max_words: int) -> Vocabulary:
        """The ``max_words`` most frequent words of tokenised training ``documents``.

        Raises
        ------
        ValueError
            ``max_words`` not a positive integer, or no word at all.
        """
        if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1:
            raise ValueError(f"max_words must be a positive integer, got {max_words!r}")
        counts: Counter[str] = Counter()
        for tokens in documents:
            counts.update(tokens)
        counts.pop(PAD, None)
        counts.pop(OOV, None)
        if not counts:
            raise ValueError("cannot build a vocabulary: the training texts hold no word")
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:max_words]
        return cls((PAD, OOV, *(word for word, _ in ranked)))

    def encode(self, tokens: Sequence[str], length: int, truncation: str = "end") -> list[int]:
        """Ids of ``tokens`` cut or padded (with 0 at the end) to ``length``.

        ``truncation="end"`` keeps the first ``length`` words, ``"start"`` the last ones.
        """
        if truncation not in TRUNCATIONS:
            raise ValueError(f"truncation must be one of {list(TRUNCATIONS)}, got {truncation!r}")
        index: dict[str, int] = self._index  # type: ignore[attr-defined]
        ids = [index.get(t, OOV_ID) for t in tokens]
        ids = ids[:length] if truncation == "end" else ids[-length:]
        return ids + [PAD_ID] * (length - len(ids))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the words as JSON (atomically)."""
        path = Path(path)
        with atomic_write(path) as partial:
            partial.write_text(json.dumps({"words": list(self.words)}, ensure_ascii=False))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocabulary:
        """Read a vocabulary written by :meth:`save`.

        Raises
        ------
        FileNotFoundError, ValueError
            No file, or not a vocabulary file.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"vocabulary file {str(path)!r} does not exist")
        try:
            words = json.loads(path.read_text(encoding="utf-8"))["words"]
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{str(path)!r} is not a vocabulary file ({err})") from None
        return cls(tuple(str(w) for w in words))
