"""A run too large for the machine is refused before it starts, with what it would need and what to change."""

import time

import numpy as np
import pytest

from explainer import Experiment, run
from explainer.trace import TraceRecorder, snapshot_steps

TINY = {"epochs": 1, "hidden": (8,)}


@pytest.fixture()
def no_data(monkeypatch):
    """Loading data fails the test: a refusal must come before it."""
    import explainer.experiment

    def load_dataset(*args, **kwargs):
        raise AssertionError("the data was loaded before the run was refused")

    monkeypatch.setattr(explainer.experiment, "load_dataset", load_dataset)


def test_a_log_schedule_longer_than_the_run_is_every_step():
    began = time.perf_counter()
    assert snapshot_steps("log:100000000000", 100, 10).tolist() == list(range(100))
    assert snapshot_steps("log:100", 100, 10).tolist() == list(range(100))
    assert time.perf_counter() - began < 1
    TraceRecorder("unused.zarr", schedule="log:100000000000")  # checks the schedule without listing 1e11 steps


def test_a_schedule_never_lists_more_than_a_trace_holds():
    from explainer.trace.schedule import MAX_SNAPSHOTS, count_snapshots

    assert 10**12 <= count_snapshots("epochs", 40 * 10**12, 40) <= 10**12 + 2  # counted (at most), not listed
    with pytest.raises(ValueError, match=f"more than a trace holds \\({MAX_SNAPSHOTS:,}\\).*like log:64"):
        snapshot_steps("epochs", 40 * 10**12, 40)


def test_the_disk_estimate_bounds_a_real_trace(tmp_path):
    from explainer.budget import estimate

    for i, (settings, schedule) in enumerate([(TINY, "every:1"), ({"epochs": 2, "hidden": (16, 8)}, "every:10"),
                                              ({"epochs": 2, "dtype": "float64"}, "log:48+epochs")]):
        path = tmp_path / f"{i}.zarr"
        experiment = Experiment.preset("digits", **settings)
        with TraceRecorder(path, schedule=schedule) as recorder:
            run(experiment, recorder=recorder, progress=False)
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        need = estimate(experiment, schedule=schedule, n_probe=30)
        assert need.n_snapshots >= len(recorder.steps)
        assert size <= need.disk_total <= 2 * size, (settings, schedule, size, need)


@pytest.mark.parametrize("settings,words", [
    ({"epochs": 10**12}, r"memory \(mostly the metrics of 1,000,000,000,000 epochs\).*: choose fewer epochs \(epochs\)"),
    ({"hidden": (10**8,)}, r"memory \(mostly z, a and delta of 100,000,010 units for 2,048 images at a time\)"
                           r".*: choose narrower hidden layers \(hidden\)"),
    ({"hidden": (10**6, 10**4)}, r"memory \(mostly the weights, gradients and optimiser state of 10,065,110,010 "
                                 r"parameters\).*: choose fewer or narrower hidden layers \(hidden\)"),
    ({"batch_size": 10**9}, r"memory \(mostly z, a and delta of 202 units for 1,000,000,000 images at a time\)"
                            r".* or a smaller batch \(batch_size\)"),
])
def test_a_run_too_large_for_memory_is_refused_before_loading_data(no_data, settings, words):
    with pytest.raises(ValueError, match=f"this run would need about .* of {words}"):
        run(Experiment.preset("digits", **settings))


def test_a_trace_too_large_for_the_disk_is_refused_before_anything_is_written(no_data, tmp_path, monkeypatch):
    import explainer.budget

    monkeypatch.setattr(explainer.budget, "free_disk", lambda path: 10**5)
    path = tmp_path / "runs" / "big.zarr"
    with pytest.raises(ValueError, match=r"the trace at .*big.zarr would need about .* of disk \(mostly up to "
                                         r"\d+ snapshots .*more than is free in .* \(100.0 kB\): take fewer snapshots "
                                         r"\(schedule, like log:64\)"):
        run(Experiment.preset("digits", **TINY), recorder=TraceRecorder(path, schedule="every:1"))
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("n_probe", [181, 100000])
def test_the_probe_size_is_checked_against_the_validation_set(no_data, n_probe, tmp_path):
    with pytest.raises(ValueError, match=f"n_probe must be a whole number from 1 to 180 .*; got {n_probe}"):
        run(Experiment.preset("digits", **TINY), recorder=TraceRecorder(tmp_path / "t.zarr", n_probe=n_probe))


def test_the_default_runs_fit(no_data):
    from explainer.budget import check_run

    for dataset in ("digits", "mnist"):
        need = check_run(Experiment.preset(dataset), schedule="log:48+epochs", n_probe=30, out=".")
        assert need.memory_total < 2e9 and need.disk_total < 1e9
    assert np.isfinite(need.memory_total)
