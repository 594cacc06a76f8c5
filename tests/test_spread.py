"""run_spread: every snapshot's spread of W and dW read once, kept beside a finished trace, trusted only when checked."""

import numpy as np
import pytest

from explainer import Experiment, filter_range, run, run_spread
from explainer.trace import Trace, TraceRecorder


@pytest.fixture
def trace(tmp_path):
    with TraceRecorder(tmp_path / "run.zarr", n_probe=5) as recorder:
        run(Experiment.preset("digits", hidden=(12,), epochs=1), recorder=recorder, progress=False)
    return Trace.open(tmp_path / "run.zarr")


def test_the_spread_counts_every_snapshot_and_is_read_back_from_beside_the_trace(trace):
    first = run_spread(trace)
    assert first.note.startswith("computed") and "cached in" in first.note
    assert first.vmax == filter_range(trace)  # the filters' one colour range, by the same rule
    k = len(trace.snapshot_steps) - 1
    W = trace.weights(int(trace.snapshot_steps[k]))[0][0]
    edges = first.W_edges[0]
    np.testing.assert_array_equal(first.W_counts[0][k], np.histogram(np.clip(W, edges[0], edges[-1]), edges)[0])
    folder = trace.path.with_name(trace.path.name + ".dashboard")
    assert len(list(folder.glob("spread-*.npz"))) == 1
    again = run_spread(Trace.open(trace.path))
    assert again.note.startswith("read from")
    for a, b in zip(first.dW_counts + first.small, again.dW_counts + again.small):
        np.testing.assert_array_equal(a, b)


def test_a_damaged_cache_is_computed_again_never_trusted(trace):
    first = run_spread(trace)
    (cached,) = trace.path.with_name(trace.path.name + ".dashboard").glob("spread-*.npz")
    data = bytearray(cached.read_bytes())
    data[len(data) // 2] ^= 0xFF
    cached.write_bytes(bytes(data))
    again = run_spread(Trace.open(trace.path))
    assert again.note.startswith("computed") and "stale or damaged" in again.note
    np.testing.assert_array_equal(again.W_counts[0], first.W_counts[0])


def test_a_trace_still_recording_is_read_afresh_and_nothing_is_written(tmp_path):
    recorder = TraceRecorder(tmp_path / "live.zarr", n_probe=5)
    from explainer import Trainer
    from explainer.data import load_dataset

    experiment = Experiment.preset("digits", hidden=(8,), epochs=2)
    trainer = Trainer(experiment.network(64, 10), load_dataset("digits"), experiment.train_config(), recorder=recorder)
    for _ in range(5):
        trainer.step()
    recorder.flush()
    trace = Trace.open(tmp_path / "live.zarr")
    assert not trace.complete
    spread = run_spread(trace)
    assert spread.note.startswith("computed") and "not cached" in spread.note
    assert not (tmp_path / "live.zarr.dashboard").exists()
    recorder.close()


def test_a_finished_runs_colour_range_is_read_once_then_kept(trace, monkeypatch):
    expected = max(np.percentile(np.abs(trace.weights(int(s))[0][0]), 99) for s in trace.snapshot_steps)
    assert filter_range(trace) == pytest.approx(expected)
    again = Trace.open(trace.path)
    reads = []
    original = again.weights
    monkeypatch.setattr(again, "weights", lambda step, exact=False: reads.append(step) or original(step, exact))
    assert filter_range(again) == pytest.approx(expected)
    assert len(trace.snapshot_steps) > 2 and len(reads) <= 1  # the cache's check reads the last snapshot, no more
