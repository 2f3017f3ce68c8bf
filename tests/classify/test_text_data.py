"""Text folders in IMDB's layout, the train-only vocabulary, padding and truncation."""

from __future__ import annotations

import pytest
import torch
from classify_testing import write_reviews

from framecast.classify.text import (
    imdb,
    read_text_folder,
    stratified_split,
    synthetic_text,
    text_folder,
)
from framecast.classify.vocabulary import OOV_ID, PAD_ID, Vocabulary, tokenize


@pytest.fixture
def acl_imdb(tmp_path):
    root = tmp_path / "aclImdb"
    write_reviews(
        root / "train",
        {
            "pos": ["A great, great film<br />with heart.", "great acting", "loved it, great"],
            "neg": ["A dull film.", "dull and boring", "boring boring plot"],
            "unsup": ["unlabelled words only here"],
        },
    )
    write_reviews(
        root / "test",
        {"pos": ["testonlyword great"], "neg": ["dull testonlyword"]},
    )
    return root


def test_imdb_reader_reads_the_distributed_layout(acl_imdb):
    train = imdb("train", path=str(acl_imdb), val_fraction=0.0, max_length=6)
    test = imdb("test", path=str(acl_imdb), vocabulary=train.vocabulary, max_length=6)
    assert train.spec.class_names == ("neg", "pos")
    assert sorted(train.labels.tolist()) == [0, 0, 0, 1, 1, 1]  # unsup is not read
    assert test.labels.tolist() == [0, 1]
    assert train.tokens.shape == (6, 6) and train.tokens.dtype == torch.int64
    assert "unlabelled" not in train.vocabulary.words


def test_vocabulary_is_built_on_the_training_split_only(acl_imdb):
    train = imdb("train", path=str(acl_imdb), val_fraction=0.0, max_length=4)
    test = imdb("test", path=str(acl_imdb), max_length=4)  # builds its own from train
    assert test.vocabulary == train.vocabulary
    assert "testonlyword" not in train.vocabulary.words
    pos_test = test.tokens[test.labels == 1][0].tolist()
    great = train.vocabulary.words.index("great")
    assert pos_test[:2] == [OOV_ID, great]  # the test-only word is out of vocabulary
    # the validation texts are held out of the vocabulary too
    val = imdb("val", path=str(acl_imdb), val_fraction=0.34, max_length=4)
    train_part = imdb("train", path=str(acl_imdb), val_fraction=0.34, max_length=4)
    val_words = {w for t in val.corpus.texts for w in tokenize(t)}
    train_words = {w for t in train_part.corpus.texts for w in tokenize(t)}
    assert set(val.vocabulary.words[2:]) == train_words
    assert val_words - train_words  # some validation word exists only there ...
    assert not (val_words - train_words) & set(val.vocabulary.words)  # ... and is not kept


def test_vocabulary_top_n_padding_and_truncation():
    docs = [["b", "a", "a", "c"], ["a", "b", "d"]]
    vocab = Vocabulary.build(docs, max_words=2)
    assert vocab.words == ("<pad>", "<oov>", "a", "b")  # a: 3, b: 2; c and d dropped
    assert vocab.encode(["a", "z", "b"], 5) == [2, OOV_ID, 3, PAD_ID, PAD_ID]
    assert vocab.encode(["a", "b", "a", "b"], 2, "end") == [2, 3]
    assert vocab.encode(["a", "b", "c", "d"], 2, "start") == [OOV_ID, OOV_ID]
    with pytest.raises(ValueError, match="truncation must be one of"):
        vocab.encode(["a"], 2, "middle")
    with pytest.raises(ValueError, match="max_words must be a positive integer"):
        Vocabulary.build(docs, 0)


def test_vocabulary_round_trips_through_json(tmp_path):
    vocab = Vocabulary.build([["x", "y", "y"]], 10)
    assert Vocabulary.load(vocab.save(tmp_path / "v.json")) == vocab
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="is not a vocabulary file"):
        Vocabulary.load(tmp_path / "bad.json")


def test_empty_class_folder_is_refused_by_name(tmp_path):
    root = write_reviews(tmp_path / "reviews", {"pos": ["good"], "neg": []})
    with pytest.raises(ValueError, match=r"class folder '.*neg' holds no \.txt file") as err:
        read_text_folder(root)
    assert "\n" not in str(err.value)


def test_non_utf8_file_is_skipped_and_reported_by_name(tmp_path, caplog):
    root = write_reviews(tmp_path / "reviews", {"pos": ["good film", "great"], "neg": ["bad"]})
    latin = root / "neg" / "9_1.txt"
    latin.write_bytes("mauvais film, très ennuyeux".encode("latin-1"))
    corpus = read_text_folder(root)
    assert corpus.labels == [0, 1, 1]  # neg: the UTF-8 file only
    assert len(corpus.skipped) == 1 and str(latin) in corpus.skipped[0]
    assert "not UTF-8" in corpus.skipped[0]
    assert str(latin) in caplog.text
    with pytest.raises(ValueError, match=r"9_1\.txt: not UTF-8") as err:
        read_text_folder(root, on_error="raise")
    assert "\n" not in str(err.value)


def test_text_folder_needs_two_classes_and_a_path(tmp_path):
    root = write_reviews(tmp_path / "one", {"only": ["a b c"]})
    with pytest.raises(ValueError, match="at least two classes"):
        read_text_folder(root)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_text_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match=r"needs data\.options\.path"):
        text_folder("train")


def test_text_folder_splits_per_class_without_overlap(tmp_path):
    texts = {name: [f"{name} text {i}" for i in range(20)] for name in ("a", "b", "c")}
    root = write_reviews(tmp_path / "t", texts)
    parts = {s: text_folder(s, path=str(root), max_length=3) for s in ("train", "val", "test")}
    files = {s: set(d.corpus.files) for s, d in parts.items()}
    assert not files["train"] & files["val"] and not files["val"] & files["test"]
    assert sum(len(f) for f in files.values()) == 60
    assert sorted(parts["val"].labels.tolist()) == [0, 0, 1, 1, 2, 2]  # 10 % of each class
    with pytest.raises(ValueError, match="must be below 1"):
        stratified_split([0, 1], (0.5, 0.5), 0)


def test_synthetic_text_is_deterministic_and_split_by_seed():
    a = synthetic_text("train", num_train=50, length=12)
    b = synthetic_text("train", num_train=50, length=12)
    test = synthetic_text("test", num_train=50, num_test=30, length=12)
    assert torch.equal(a.tokens, b.tokens) and len(test) == 30
    assert not torch.equal(a.tokens[:30], test.tokens)
    assert test.vocabulary == a.vocabulary


def _tar(folder, archive, prefix="aclImdb"):
    import tarfile

    with tarfile.open(archive, "w:gz") as handle:
        handle.add(folder, arcname=prefix)
    return archive


def test_the_archive_reads_as_the_unpacked_folder(acl_imdb, tmp_path):
    archive = _tar(acl_imdb, tmp_path / "aclImdb_v1.tar.gz")
    for split in ("train", "val", "test"):
        folder = imdb(split, path=str(acl_imdb), val_fraction=0.34, max_length=6)
        packed = imdb(split, path=str(archive), val_fraction=0.34, max_length=6)
        assert packed.vocabulary == folder.vocabulary
        assert torch.equal(packed.tokens, folder.tokens)
        assert torch.equal(packed.labels, folder.labels)
    assert packed.corpus.files[0].startswith(f"{archive}:aclImdb/test/neg/")


def test_an_archive_that_is_not_the_aclimdb_layout_is_refused_in_one_line(acl_imdb, tmp_path):
    import shutil

    shutil.rmtree(acl_imdb / "test" / "pos")
    archive = _tar(acl_imdb, tmp_path / "broken.tar.gz")
    with pytest.raises(ValueError, match=r"not the aclImdb layout: .*aclImdb/test/pos") as err:
        imdb("train", path=str(archive))
    assert "\n" not in str(err.value)
    not_tar = tmp_path / "reviews.tar.gz"
    not_tar.write_bytes(b"plain text, not an archive")
    with pytest.raises(ValueError, match="is not a readable tar archive"):
        imdb("train", path=str(not_tar))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        imdb("train", path=str(tmp_path / "missing.tar.gz"))


def test_a_review_in_the_archive_that_is_not_utf8_is_named_once_and_skipped(acl_imdb, tmp_path):
    (acl_imdb / "train" / "neg" / "7_1.txt").write_bytes("très mauvais".encode("latin-1"))
    archive = _tar(acl_imdb, tmp_path / "a.tar.gz")
    train = imdb("train", path=str(archive), val_fraction=0.0, max_length=6)
    assert len(train.skipped) == 1 and "aclImdb/train/neg/7_1.txt: not UTF-8" in train.skipped[0]
    assert len(train.labels) == 6


def test_an_archive_class_with_no_readable_review_is_refused(acl_imdb, tmp_path):
    for file in (acl_imdb / "test" / "neg").iterdir():
        file.write_bytes("\xe9\xe9".encode("latin-1"))
    archive = _tar(acl_imdb, tmp_path / "a.tar.gz")
    with pytest.raises(ValueError, match=r"class 'neg': none of the 1 .txt file.* under test/neg"):
        imdb("test", path=str(archive))
