import time
from pathlib import Path

import pytest
import torch

from framecast.numerics import configure_torch, cpu_has_native_bf16, resolve_precision


def test_flush_denormal_is_on_after_configure():
    torch.set_flush_denormal(False)
    assert torch.tensor([1e-40], dtype=torch.float32).item() != 0.0
    configure_torch()
    assert torch.tensor([1e-40], dtype=torch.float32).item() == 0.0


def test_resolve_precision():
    assert resolve_precision("32", "cpu") == "32"
    assert resolve_precision("bf16-mixed", "cpu") == "bf16-mixed"
    with pytest.raises(ValueError, match="'fp8'"):
        resolve_precision("fp8", "cpu")


def _cpuinfo_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        pytest.skip("no /proc/cpuinfo to check the bf16 detection against")
    lines = [line for line in text.splitlines() if line.startswith("flags")]
    if not lines:
        pytest.skip("/proc/cpuinfo lists no flags (not an x86 CPU)")
    return set(lines[0].split(":", 1)[1].split())


def test_auto_precision_follows_the_cpus_bf16_units():
    # torch 2.13 dropped the private helpers an earlier detection called, and
    # `auto` silently fell back to float32 on CPUs with AVX512-BF16 or AMX
    native = bool(_cpuinfo_flags() & {"avx512_bf16", "amx_tile"})
    assert cpu_has_native_bf16() == native
    assert resolve_precision("auto", "cpu") == ("bf16-mixed" if native else "32")


# ------------------------------------------------------------------ threads
@pytest.fixture
def no_thread_env(monkeypatch):
    monkeypatch.delenv("FRAMECAST_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)


def test_requested_threads_win_over_the_environment(monkeypatch):
    from framecast.numerics import choose_threads

    monkeypatch.setenv("FRAMECAST_THREADS", "3")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert choose_threads(2) == 2
    assert choose_threads() == 3  # FRAMECAST_THREADS before OMP_NUM_THREADS
    monkeypatch.delenv("FRAMECAST_THREADS")
    assert choose_threads() == 1


@pytest.mark.parametrize("value", ["0", "two", "1.5"])
def test_bad_thread_settings_are_refused(monkeypatch, no_thread_env, value):
    from framecast.numerics import choose_threads

    monkeypatch.setenv("FRAMECAST_THREADS", value)
    with pytest.raises(ValueError, match=rf"FRAMECAST_THREADS must be .*{value!r}"):
        choose_threads()
    with pytest.raises(ValueError, match="num_threads"):
        choose_threads(0)


@pytest.mark.parametrize(("idle", "expected"), [(0.3, 1), (0.9, 1), (1.4, 1), (1.8, 2), (None, 2)])
def test_threads_follow_the_idle_cores(monkeypatch, no_thread_env, idle, expected):
    from framecast import numerics

    monkeypatch.setattr(numerics, "allowed_cores", lambda: [0, 1])
    monkeypatch.setattr(numerics, "idle_cores", lambda: idle)
    assert numerics.choose_threads() == expected


def test_a_busy_process_takes_a_core_from_the_count(no_thread_env):
    import subprocess
    import sys

    from framecast.numerics import allowed_cores, idle_cores

    cores = len(allowed_cores())
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        idle = idle_cores(0.5)
    finally:
        busy.kill()
        busy.wait()
    if idle is None:
        pytest.skip("/proc/stat is not readable here")
    assert 0 <= idle <= cores - 0.5


def test_import_sets_a_passive_openmp_wait_policy_unless_the_user_chose(tmp_path):
    import os
    import subprocess
    import sys

    code = "import framecast, os, torch; print(os.environ.get('OMP_WAIT_POLICY'))"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "PASSIVE"
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "ACTIVE"
