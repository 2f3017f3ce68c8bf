"""Moving MNIST: the physics of the generator and the dataset's seeding and pools."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from fake_mnist import TEST_VALUES, TRAIN_VALUES, solid_digits

import framecast.data.moving_mnist as moving_mnist
from framecast.data import MovingMNIST, build_dataset, generate_moving_digits, load_mnist_digits


def _random_digits(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(1, 256, size=(count, 28, 28), dtype=np.uint8)


def test_shapes_and_range() -> None:
    frames, positions = generate_moving_digits(_random_digits(3), 7, 48, np.random.default_rng(0))
    assert frames.shape == (7, 48, 48) and frames.dtype == np.float32
    assert positions.shape == (7, 3, 2)
    assert frames.min() >= 0.0 and frames.max() <= 1.0


@pytest.mark.parametrize("image_size", [28, 30, 64, 100])
def test_digits_stay_inside(image_size: int) -> None:
    for seed in range(5):
        rng = np.random.default_rng(seed)
        _, positions = generate_moving_digits(_random_digits(4), 300, image_size, rng)
        assert positions.min() >= 0.0
        assert positions.max() <= image_size - 28


def test_frames_are_max_of_digits_at_positions() -> None:
    digits = _random_digits(3, seed=5)
    frames, positions = generate_moving_digits(digits, 20, 64, np.random.default_rng(3))
    for t in range(len(frames)):
        expected = np.zeros((64, 64), dtype=np.uint8)
        for k, (r, c) in enumerate(np.rint(positions[t]).astype(int)):
            window = expected[r : r + 28, c : c + 28]
            np.maximum(window, digits[k], out=window)
        np.testing.assert_allclose(frames[t], expected / 255.0, atol=1e-7)


def test_number_of_digits_visible() -> None:
    # distinct solid digits on a canvas large enough that some frame shows them apart
    values = [50, 100, 150, 200, 250]
    frames, positions = generate_moving_digits(
        solid_digits(values), 30, 200, np.random.default_rng(11)
    )
    assert positions.shape[1] == len(values)
    seen = set(np.unique(np.rint(frames * 255)).astype(int)) - {0}
    assert seen == set(values)


def test_speed_in_range() -> None:
    speeds = []
    for seed in range(20):
        _, positions = generate_moving_digits(
            _random_digits(20), 2, 400, np.random.default_rng(seed)
        )
        inside = np.all((positions[0] > 6) & (positions[0] < 400 - 28 - 6), axis=1)
        speeds.extend(np.linalg.norm(positions[1, inside] - positions[0, inside], axis=1))
    speeds_array = np.array(speeds)
    assert len(speeds_array) > 300
    assert speeds_array.min() >= 3.0 and speeds_array.max() < 5.0
    # uniform on [3, 5): both ends are reached
    assert speeds_array.min() < 3.2 and speeds_array.max() > 4.8


def test_bounces_at_edges() -> None:
    limit = 64 - 28
    flips = 0
    for seed in range(3):
        rng = np.random.default_rng(seed)
        _, positions = generate_moving_digits(_random_digits(1), 200, 64, rng)
        step = np.diff(positions[:, 0, :], axis=0)  # (T-1, 2)
        for axis in range(2):
            sign = np.sign(step[:, axis])
            changed = np.nonzero(sign[1:] * sign[:-1] < 0)[0]
            for t in changed:
                # the flip happens on the step that meets an edge
                after = positions[t + 2, 0, axis]
                before = positions[t + 1, 0, axis]
                near = min(before, after, limit - before, limit - after)
                assert near < 5.0
            flips += len(changed)
    assert flips >= 6


def test_generator_reproducible() -> None:
    digits = _random_digits(2)
    a = generate_moving_digits(digits, 10, 64, np.random.default_rng(42))
    b = generate_moving_digits(digits, 10, 64, np.random.default_rng(42))
    c = generate_moving_digits(digits, 10, 64, np.random.default_rng(43))
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_generator_rejects_bad_input() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"\[K, 28, 28\]"):
        generate_moving_digits(np.zeros((2, 20, 20), dtype=np.uint8), 5, 64, rng)
    with pytest.raises(ValueError, match="image_size"):
        generate_moving_digits(_random_digits(1), 5, 27, rng)
    with pytest.raises(ValueError, match="length"):
        generate_moving_digits(_random_digits(1), 0, 64, rng)


# ---------------------------------------------------------------- the dataset


@pytest.fixture
def small_pools(monkeypatch, fake_mnist_dir: Path) -> Path:
    """Fake MNIST: train pool = training digits [0, 6), val = [6, 10), test = t10k."""
    monkeypatch.setattr(moving_mnist, "VAL_START", 6)
    return fake_mnist_dir


def _values_used(dataset: MovingMNIST, count: int) -> set[int]:
    used: set[int] = set()
    for i in range(count):
        context, target = dataset[i]
        used.add(int(torch.round(torch.cat([context, target]).max() * 255)))
    return used


def test_disjoint_pools(small_pools: Path) -> None:
    expected = {"train": TRAIN_VALUES[:6], "val": TRAIN_VALUES[6:], "test": TEST_VALUES}
    for split, values in expected.items():
        dataset = MovingMNIST(
            split, n_context=2, n_target=1, mnist_dir=small_pools, num_digits=1, num_sequences=60
        )
        used = _values_used(dataset, 60)
        assert used <= set(values), split
        assert len(used) >= 2  # draws from the pool, not a single digit


def test_items_shape_and_attributes(small_pools: Path) -> None:
    dataset = build_dataset(
        "moving_mnist",
        "train",
        n_context=3,
        n_target=2,
        options={"mnist_dir": str(small_pools), "num_sequences": 5, "image_size": 40},
    )
    assert len(dataset) == 5
    assert (dataset.channels, dataset.height, dataset.width) == (1, 40, 40)
    context, target = dataset[4]
    assert context.shape == (3, 1, 40, 40) and target.shape == (2, 1, 40, 40)
    assert context.dtype == torch.float32 and target.dtype == torch.float32
    with pytest.raises(IndexError):
        dataset[5]


def test_dataset_reproducible(small_pools: Path) -> None:
    def make(split: str = "train", seed: int = 0) -> MovingMNIST:
        return MovingMNIST(split, n_context=2, n_target=2, mnist_dir=small_pools, seed=seed)

    a, b = make(), make()
    later = [b[i] for i in (7, 3)]  # access order must not matter
    np.testing.assert_array_equal(a[3][0], later[1][0])
    np.testing.assert_array_equal(a[7][1], later[0][1])
    assert not torch.equal(a[3][0], a[4][0])
    assert not torch.equal(a[3][0], make(seed=1)[3][0])
    assert not torch.equal(a[3][0], make("val")[3][0])


def test_missing_mnist_names_download(monkeypatch) -> None:
    monkeypatch.setattr(moving_mnist, "find_mnist_dir", lambda: None)
    with pytest.raises(FileNotFoundError, match="download_mnist"):
        MovingMNIST("train")


def test_bad_options(small_pools: Path) -> None:
    with pytest.raises(ValueError, match="'validation'"):
        MovingMNIST("validation", mnist_dir=small_pools)
    with pytest.raises(ValueError, match="num_digits"):
        MovingMNIST("train", mnist_dir=small_pools, num_digits=0)
    with pytest.raises(ValueError, match="image_size"):
        MovingMNIST("train", mnist_dir=small_pools, image_size=20)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        MovingMNIST("train", mnist_dir=small_pools / "nowhere")


def test_val_pool_needs_enough_training_digits(fake_mnist_dir: Path) -> None:
    # with the real boundary (50000) ten training digits cannot feed a val pool
    with pytest.raises(ValueError, match="50000"):
        MovingMNIST("val", mnist_dir=fake_mnist_dir)


def test_real_mnist_pools(shared_mnist_dir: Path) -> None:
    train = load_mnist_digits(shared_mnist_dir, "train")
    test = load_mnist_digits(shared_mnist_dir, "test")
    pools = {
        split: MovingMNIST(split, mnist_dir=shared_mnist_dir, num_sequences=4).digits
        for split in ("train", "val", "test")
    }
    np.testing.assert_array_equal(pools["train"], train[:50000])
    np.testing.assert_array_equal(pools["val"], train[50000:])
    np.testing.assert_array_equal(pools["test"], test)
    context, target = MovingMNIST("test", mnist_dir=shared_mnist_dir, num_sequences=4)[0]
    assert context.shape == (10, 1, 64, 64) and target.shape == (10, 1, 64, 64)
    assert float(context.min()) >= 0.0 and float(context.max()) <= 1.0


def test_bounce_sends_digit_back_across() -> None:
    # the faster axis moves >= 3/sqrt(2) px per frame: over 200 frames on a 36 px track it
    # must go edge to edge many times, and keep its speed between bounces
    limit = 64 - 28
    for seed in range(5):
        rng = np.random.default_rng(seed)
        _, positions = generate_moving_digits(_random_digits(1), 200, 64, rng)
        track = positions[:, 0, :]  # (T, 2)
        axis = int(np.argmax(np.abs(track[1] - track[0])))
        along = track[:, axis]
        step = np.abs(np.diff(along))
        free = (np.minimum(along[:-1], along[1:]) > 5) & (
            np.maximum(along[:-1], along[1:]) < limit - 5
        )
        assert free.sum() > 20
        np.testing.assert_allclose(step[free], step[free][0], rtol=1e-9)
        half = len(along) // 2
        assert along[half:].min() < 5 and along[half:].max() > limit - 5
