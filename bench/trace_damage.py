"""The trace damage sweep: damage copies of a trace on purpose, and see what the reader makes of them.

A small trace (digits, 64-8-10, 2 epochs, a snapshot every 5 steps, 6 probe
digits) is recorded four ways: float32, float64, and a run stopped after an
epoch and a bit, as a kill leaves it (status "running") and closed before its
end (status "interrupted"). Every value in each is read once through the
public reader. Then hundreds of damaged copies are made, each damage to a
folder twice (the folder, and the folder zipped as ``pack_trace`` zips one,
without its check):

- chunk files: bytes flipped (compressed and raw, and single bits inside
  committed float data: values that decode fine but are wrong), truncated,
  emptied, deleted (committed chunks of the stopped runs too), swapped
  between two arrays or two rows, or taken from another run;
- metadata: invalid JSON, bytes that are not UTF-8, committed counts that are
  negative, too large, strings or floats, layers and sizes that disagree, the
  probe set swapped for other arrays, dtypes, shapes and codecs changed, keys
  missing, the status and schema version changed, the chunk checksums
  changed. The root attributes carry a digest (schema 4): edits to them are
  made with the digest recomputed, so that the reader's own checks of each
  field are what is measured (and a few leave it stale);
- zips: truncated, a member deleted, a member's name edited in the central
  directory, bits flipped inside a member, garbage named ``.zip``.

Each copy is opened, verified and read in full through the public API
(``Trace.open``, ``verify()``, the attributes, ``scalars``, ``epochs``,
``snapshot_steps``, then at every snapshot step ``weights``, ``gradients``,
``probe_record``, ``snapshot``, ``first_layer_filters``, ``silent_units``,
``network`` and ``learning_rate``, then ``evaluation`` and ``summary()``),
and ``explainer info COPY`` is run on it. Its outcome is one of:

- ``pristine``: every value read equals the undamaged trace's (the damage did
  not matter, e.g. it hit rows no commit covers, or a group's empty metadata);
- ``TraceError``: the reader refused it with a clean ``TraceError``;
- ``WRONG``: some value differs from the undamaged one and no error said so
  (silently wrong data, the worst outcome). A value read wrong counts even if
  a later read raised: whoever read it first was not warned. When the first
  pass (in order after ``verify()``, stopping at the first error) does not
  read pristine, a second one reads every value on its own without
  ``verify()`` (the reader checks each array when first read);
- ``other exception``: anything raised that is not a ``TraceError``;

and, counted apart, ``CLI traceback``: ``explainer info`` printed a
traceback, exited with a code other than 0 or 2, wrote more than the one line
``explainer: error: ...`` when it exited 2, or exited 0 for a copy the API
rejects.

The sweep exits 1 if any copy came out WRONG, other exception or CLI
traceback. It is deterministic for a given ``--seed``: the damage made to
copy i does not depend on ``--copies``; the default 450 copies make every
variant of every kind of damage at least once.

Usage::

    .venv/bin/python bench/trace_damage.py                   # 450 copies, `explainer info` on each (10-20 min)
    .venv/bin/python bench/trace_damage.py --no-cli          # the API alone (1-2 min)
    .venv/bin/python bench/trace_damage.py --copies 200 --out /tmp/damage   # keep the failing copies there
    .venv/bin/python bench/trace_damage.py --verbose         # a line per copy

It measures the ``explainer`` it imports. To measure a commit rather than a
working tree that others are editing::

    git archive COMMIT explainer | tar -x -C /tmp/at-commit
    cd /tmp && PYTHONPATH=/tmp/at-commit /path/to/.venv/bin/python /path/to/bench/trace_damage.py

``tests/test_trace_damage.py`` imports this file and runs a smaller sweep.
"""

import argparse
import dataclasses
import hashlib
import json
import math
import operator
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import explainer
from explainer import Experiment, Trainer, run
from explainer.data import load_dataset
from explainer.trace import SCHEMA_VERSION, Trace, TraceError, TraceRecorder, pack_trace

OUTCOMES = ("pristine", "TraceError", "WRONG", "other exception")
FAILURES = ("WRONG", "other exception")
RECORDING = {"schedule": "every:5", "n_probe": 6}
CYCLE = 3  # rounds of the plan in which every variant of every kind of damage comes once
DEFAULT_COPIES = 450  # enough for CYCLE rounds
EXPERIMENT = {"hidden": (8,), "epochs": 2}
STOPPED = {"interrupted", "killed"}  # the sources whose run did not finish


# -- the undamaged traces --------------------------------------------------------------


@dataclass
class ArrayInfo:
    """One array of a trace folder, from its ``zarr.json``."""

    key: str  # e.g. "snapshots/params"
    meta: dict
    files: list  # its chunk files, relative to the trace folder, sorted
    committed_rows: int  # rows along axis 0 that readers trust

    @property
    def dtype(self):
        return self.meta.get("data_type")

    @property
    def chunk_shape(self):
        return tuple(self.meta["chunk_grid"]["configuration"]["chunk_shape"])

    @property
    def compressed(self):
        """True when a codec other than bytes, transpose or a checksum encodes its chunks."""
        names = {codec.get("name") for codec in self.meta.get("codecs", [])}
        return bool(names - {"bytes", "transpose", "crc32c"})

    @property
    def raw_float(self):
        return not self.compressed and str(self.dtype).startswith("float")

    def committed_bytes(self, file):
        """The bytes of an uncompressed chunk ``file`` that hold committed rows: [0, n)."""
        index = [int(part) for part in Path(file).relative_to(self.key).parts[1:]]  # after "c"
        rows = min(max(self.committed_rows - index[0] * self.chunk_shape[0], 0), self.chunk_shape[0])
        return rows * math.prod(self.chunk_shape[1:]) * np.dtype(self.dtype).itemsize


@dataclass
class Source:
    """An undamaged trace: its folder, its packed zip, its layout and every value read from it."""

    name: str
    folder: Path
    packed: Path
    attrs: dict = field(default=None, repr=False)
    arrays: dict = field(default=None, repr=False)  # key -> ArrayInfo
    values: list = field(default=None, repr=False)  # [(name, value)], as read through the public API
    reads: list = field(default=None, repr=False)  # [(name, read)]: how each value is read (see read_list)

    def committed_files(self, select=lambda a: True):
        """(array, file) of every chunk file that holds committed rows, for arrays that ``select`` accepts."""
        return [(a, f) for a in self.arrays.values() if select(a) for f in a.files
                if a.committed_rows and _chunk_row(a, f) * a.chunk_shape[0] < a.committed_rows]


def _chunk_row(array, file):
    return int(Path(file).relative_to(array.key).parts[1])


def record_sources(folder, schedule=RECORDING["schedule"]):
    """Record the three undamaged traces under ``folder``; return their :class:`Source` s."""
    folder = Path(folder)
    sources, recording = [], {**RECORDING, "schedule": schedule}
    for name, dtype in (("float32", "float32"), ("float64", "float64")):
        path = folder / f"{name}.zarr"
        recorder = TraceRecorder(path, **recording)
        run(Experiment.preset("digits", **EXPERIMENT, dtype=dtype), recorder=recorder, progress=False)
        sources.append(Source(name, path, folder / f"{name}.zarr.zip"))
    # a run stopped after an epoch and a bit, the second snapshot chunk partly committed: as a
    # kill leaves it (status "running"), and closed before its end (status "interrupted")
    path = folder / "interrupted.zarr"
    experiment = Experiment.preset("digits", **EXPERIMENT)
    data = load_dataset("digits", seed=experiment.seed, progress=False)
    net = experiment.network(data.X_train.shape[1], data.n_classes)
    recorder = TraceRecorder(path, **recording)
    trainer = Trainer(net, data, experiment.train_config(), recorder)
    trainer.run(trainer.steps_per_epoch + 12)
    recorder.flush()
    shutil.copytree(path, folder / "killed.zarr")
    trainer.close()
    sources.append(Source("interrupted", path, folder / "interrupted.zarr.zip"))
    sources.append(Source("killed", folder / "killed.zarr", folder / "killed.zarr.zip"))
    for source in sources:
        pack_trace(source.folder, source.packed)
        source.attrs = _read_json(source.folder / "zarr.json")["attributes"]
        source.arrays = _inventory(source.folder, source.attrs)
        source.reads = read_list(Trace.open(source.folder).verify())
        source.values = _pristine_values(source, source.folder)
        difference = _first_difference(source.values, _pristine_values(source, source.packed))
        if difference:
            raise AssertionError(f"the undamaged {source.name} trace reads differently packed: {difference}")
    return sources


def _pristine_values(source, path):
    values, error = _read_values(Trace.open(path).verify(), source)
    if error:
        raise error[1]
    return values


def _inventory(folder, attrs):
    committed = attrs.get("committed", {})
    arrays = {}
    for meta_file in sorted(folder.rglob("zarr.json")):
        meta = _read_json(meta_file)
        if meta.get("node_type") != "array":
            continue
        key = meta_file.parent.relative_to(folder).as_posix()
        files = sorted(p.relative_to(folder).as_posix() for p in (meta_file.parent / "c").rglob("*") if p.is_file())
        rows = committed.get(key.split("/")[0], meta["shape"][0] if meta["shape"] else 1)
        arrays[key] = ArrayInfo(key, meta, files, rows)
    return arrays


# -- reading every value -------------------------------------------------------------------


# what a trace tells about itself, read as attributes where the trace has them (the reader's API grows)
ATTRIBUTES = ("status", "complete", "run", "config", "layers", "sizes", "image_shape", "n_layers", "steps_per_epoch",
              "dataset", "n_steps", "n_snapshots", "n_epochs", "probe_x", "probe_labels", "probe_index")


def read_list(trace):
    """[(name, read)] for every value the public API gives of the undamaged ``trace``, in the order a
    reader would ask; ``read(trace)`` reads that value of any trace (a damaged copy)."""
    reads = [(name, operator.attrgetter(name)) for name in ATTRIBUTES if hasattr(trace, name)]
    reads += [(name, operator.attrgetter(name)) for name in ("scalars", "epochs", "snapshot_steps")]
    for s in (int(s) for s in trace.snapshot_steps):
        reads += [
            (f"weights({s})", lambda t, s=s: t.weights(s, exact=True)),
            (f"gradients({s})", lambda t, s=s: t.gradients(s, exact=True)),
            (f"probe_record({s})", lambda t, s=s: t.probe_record(s, exact=True)),
            (f"snapshot({s})", lambda t, s=s: t.snapshot(s, exact=True)),
            (f"first_layer_filters({s})", lambda t, s=s: t.first_layer_filters(s, exact=True)),
        ]
        reads += [(f"silent_units({s}, layer={i})", lambda t, s=s, i=i: t.silent_units(s, i, exact=True))
                  for i in range(trace.n_layers - 1)]
        if hasattr(trace, "network"):
            reads.append((f"network({s})", lambda t, s=s: _network(t.network(s, exact=True))))
        if hasattr(trace, "learning_rate"):
            reads.append((f"learning_rate({s})", lambda t, s=s: t.learning_rate(s)))
    reads += [("evaluation", operator.attrgetter("evaluation")),
              ("summary", lambda t: {k: v for k, v in t.summary().items() if k != "path"})]
    return reads


def _network(net):
    return {"config": net.config(), "params": [(layer.W, layer.b) for layer in net.layers]}


def _read_values(trace, source, stop=True):
    """Read every value of ``source.reads``; return ([(name, value)], (name, exception) or None).

    With ``stop``, reading stops at the first exception, otherwise it goes on.
    """
    values, error = [], None
    for name, read in source.reads:
        try:
            values.append((name, _plain(read(trace))))
        except Exception as e:
            error = error or (name, e)
            if stop:
                break
    return values, error


def _plain(value):
    """Dataclasses as dicts and tuples as lists, so that values compare with :func:`_same`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _same(a, b):
    """Equal values: arrays of the same shape, dtype and numbers (NaN equal to NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape or a.dtype != b.dtype:
            return False
        try:
            return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        except TypeError:
            return bool(np.array_equal(a, b))
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and all(
            _same(a[k], b[k]) for k in a)
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
        return a == b or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


def _first_difference(pristine, values):
    """A short description of the first value that differs from the pristine one, or None."""
    expected = dict(pristine)
    for name, value in values:
        if not _same(expected[name], value):
            return f"{name}: {_describe_difference(expected[name], value)}"
    return None


def _describe_difference(a, b, depth=0):
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return f"keys {sorted(map(str, a))} -> {sorted(map(str, b))}"
        k = next(k for k in a if not _same(a[k], b[k]))
        return f"[{k!r}] {_describe_difference(a[k], b[k], depth + 1)}"
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{len(a)} items -> {len(b)}"
        i = next(i for i in range(len(a)) if not _same(a[i], b[i]))
        return f"[{i}] {_describe_difference(a[i], b[i], depth + 1)}"
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.shape != b.shape or a.dtype != b.dtype:
            return f"{a.dtype}{list(a.shape)} -> {b.dtype}{list(b.shape)}"
        wrong = np.argwhere(~((a == b) | (_isnan(a) & _isnan(b))))
        if not len(wrong) or not a.ndim:
            return f"{_short(a)} -> {_short(b)}"
        where = tuple(int(i) for i in wrong[0])
        return (f"{len(wrong)} of {a.size} numbers differ, e.g. {list(where)}: "
                f"{a[where]!r} -> {b[where]!r}")
    return f"{_short(a)} -> {_short(b)}"


def _isnan(a):
    return np.isnan(a) if a.dtype.kind in "fc" else np.zeros(a.shape, bool)


def _short(value, n=60):
    text = repr(value)
    return text if len(text) <= n else text[: n - 3] + "..."


# -- classifying one copy -------------------------------------------------------------------


@dataclass
class Outcome:
    outcome: str  # one of OUTCOMES
    detail: str = ""
    cli: str = None  # None: not run; "ok", "error" or the reason it counts as a CLI traceback
    cli_failed: bool = False


def classify(path, source):
    """The outcome of opening, verifying and reading every value of the copy at ``path``."""
    outcome = _classify(path, source)
    outcome.detail = outcome.detail.replace(str(path), "COPY")
    return outcome


def _classify(path, source):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            trace = Trace.open(path)
        except Exception as e:
            return _raised("Trace.open", e)
        outcomes = []
        try:
            trace.verify()
        except Exception as e:
            outcomes.append(_raised("verify()", e))
        else:  # in order after verify(), stopping at the first error
            values, error = _read_values(trace, source)
            outcomes.append(_judge(values, error, source, "after verify()"))
        if outcomes[0].outcome != "pristine":
            # again on a fresh open, without verify(), every value on its own
            try:
                fresh = Trace.open(path)
                values, error = _read_values(fresh, source, stop=False)
                outcomes.append(_judge(values, error, source, "without verify()"))
            except Exception as e:
                outcomes.append(_raised("Trace.open (again)", e))
    rank = {"WRONG": 0, "other exception": 1, "TraceError": 2, "pristine": 3}
    return min(outcomes, key=lambda o: rank[o.outcome])


def _raised(where, e):
    if isinstance(e, TraceError):
        return Outcome("TraceError", f"{where}: {_short(str(e), 200)}")
    return Outcome("other exception", f"{where}: {type(e).__name__}: {_short(str(e), 200)}")


def _judge(values, error, source, how):
    difference = _first_difference(source.values, values)
    if difference:
        then = f" (then {type(error[1]).__name__} at {error[0]})" if error else ""
        return Outcome("WRONG", f"{how}, {difference}{then}")
    if error:
        return _raised(error[0], error[1])
    return Outcome("pristine")


def run_cli(path, source, outcome, timeout=120):
    """Run ``explainer info path``; mark ``outcome`` with what the command did."""
    env = {k: v for k, v in os.environ.items() if k != "EXPLAINER_DEBUG"}
    try:
        done = subprocess.run([*_explainer(), "info", str(path)], capture_output=True, text=True,
                              timeout=timeout, env=env, errors="replace")
    except subprocess.TimeoutExpired:
        outcome.cli, outcome.cli_failed = f"no answer within {timeout} s", True
        return outcome
    stderr = done.stderr.strip().replace(str(path), "COPY")
    lines = stderr.splitlines()
    rejected = outcome.outcome in ("TraceError", "other exception")
    if "Traceback" in stderr:
        outcome.cli = f"exit {done.returncode} with a traceback: {_short(lines[-1] if lines else '', 160)}"
    elif done.returncode == 2:
        if len(lines) == 1 and lines[0].startswith("explainer: error: "):
            outcome.cli = "error"
            return outcome
        outcome.cli = f"exit 2 but stderr is not one 'explainer: error:' line: {_short(stderr, 160)}"
    elif done.returncode != 0:
        outcome.cli = f"exit {done.returncode}: {_short(stderr, 160)}"
    elif rejected:
        outcome.cli = f"exit 0 for a copy the API rejects ({outcome.outcome})"
    else:
        outcome.cli = "ok"
        return outcome
    outcome.cli_failed = True
    return outcome


def _explainer():
    script = Path(sys.executable).parent / "explainer"
    return [str(script)] if script.exists() else [sys.executable, "-m", "explainer"]


# -- damage ------------------------------------------------------------------------------------


@dataclass
class Damage:
    kind: str
    source: Source
    what: str  # which file, and what was done to it
    apply: object = field(repr=False)  # apply(path): damage the copy at path (a folder, or a zip when on_zip)
    on_zip: bool = False
    variant: int = None  # which variant of its kind made it (set by plan)


def _read_json(path):
    return json.loads(Path(path).read_bytes())


def _write_json(path, obj):
    Path(path).write_text(json.dumps(obj, indent=2))


def _edit_json(relative, edit):
    """A damage that loads ``relative``'s JSON, lets ``edit`` change it, and writes it back."""
    def apply(root):
        obj = _read_json(root / relative)
        edit(obj)
        _write_json(root / relative, obj)
    return apply


def _set(obj, dotted, value):
    keys = dotted.split(".")
    for key in keys[:-1]:
        obj = obj[int(key)] if isinstance(obj, list) else obj[key]
    if isinstance(obj, list):
        obj[int(keys[-1])] = value
    else:
        obj[keys[-1]] = value


def _delete(obj, dotted):
    keys = dotted.split(".")
    for key in keys[:-1]:
        obj = obj[int(key)] if isinstance(obj, list) else obj[key]
    del obj[int(keys[-1]) if isinstance(obj, list) else keys[-1]]


def _add(obj, dotted, delta):
    _set(obj, dotted, _get(obj, dotted) + delta)


def _get(obj, dotted):
    for key in dotted.split("."):
        obj = obj[int(key)] if isinstance(obj, list) else obj[key]
    return obj


def _flip(file, offsets, masks):
    data = bytearray(file.read_bytes())
    for offset, mask in zip(offsets, masks):
        data[offset] ^= mask
    file.write_bytes(bytes(data))


def _swap(a, b):
    temp = a.with_name(a.name + ".swap")
    os.replace(a, temp)
    os.replace(b, a)
    os.replace(temp, b)


def _replace_tree(target, source):
    """Replace the array folder ``target`` with a copy of ``source`` (both relative to the trace)."""
    def apply(root):
        shutil.rmtree(root / target)
        shutil.copytree(root / source, root / target)
    return apply


def _attrs(edit, reseal=True):
    """A damage that edits the root group's attributes (and, with ``reseal``, recomputes their digest)."""
    def change(meta):
        edit(meta["attributes"])
        if reseal:
            _reseal(meta["attributes"])
    return _edit_json("zarr.json", change)


def _reseal(attrs):
    """Recompute the root attributes' ``digest`` (if they have one) as the recorder computes it: a
    SHA-256 of the JSON of every other attribute. An edit then passes the digest, and only the
    reader's checks of each field and of the arrays against them can tell."""
    if isinstance(attrs, dict) and "digest" in attrs:
        body = {key: value for key, value in attrs.items() if key != "digest"}
        attrs["digest"] = hashlib.sha256(json.dumps(body, sort_keys=True, allow_nan=True).encode()).hexdigest()


def _choose(rng, items):
    return items[int(rng.integers(len(items)))] if items else None


# Each kind is a list of variants; a variant is a function (rng, source) -> Damage, or None when
# it does not apply to that source. Round r of the plan takes variant r (modulo) of every kind.

def _flip_in(kind, select, region, n_flips=1, bit=False):
    def variant(rng, src):
        pick = _choose(rng, src.committed_files(select))
        if pick is None:
            return None
        array, file = pick
        size = (src.folder / file).stat().st_size
        end = array.committed_bytes(file) if region == "committed" else size
        if end <= 0:
            return None
        offsets = sorted(int(o) for o in rng.choice(end, size=min(n_flips, end), replace=False))
        masks = [1 << int(rng.integers(8)) if bit else int(rng.integers(1, 256)) for _ in offsets]
        where = "in its committed rows" if region == "committed" else f"of {size}"
        what = (f"{file}: {'bit' if bit else 'byte'}{'s' if len(offsets) > 1 else ''} at "
                f"{', '.join(map(str, offsets))} {where} xor {', '.join(f'0x{m:02x}' for m in masks)}")
        return Damage(kind, src, what, lambda root: _flip(root / file, offsets, masks))
    return variant


def _flip_variants():
    compressed = [_flip_in("flip compressed", lambda a: a.compressed, "file", n) for n in (1, 8)]
    raw = [_flip_in("flip raw", lambda a: not a.compressed, "file"),
           _flip_in("flip raw", lambda a: not a.compressed, "committed", 4)]
    floats = [_flip_in("flip float data", lambda a: a.raw_float, "committed", 1, bit=True),
              _flip_in("flip float data", lambda a: a.raw_float and "params" in a.key, "committed", 1, bit=True),
              _flip_in("flip float data", lambda a: a.raw_float and a.key.startswith("steps"), "committed", 1,
                       bit=True)]
    return {"flip compressed": compressed, "flip raw": raw, "flip float data": floats}


def _cut(kind, length_of, label):
    def variant(rng, src):
        pick = _choose(rng, src.committed_files())
        if pick is None:
            return None
        _, file = pick
        size = (src.folder / file).stat().st_size
        n = length_of(rng, size)
        if not 0 <= n < size:
            return None

        def apply(root):
            with open(root / file, "r+b") as f:
                f.truncate(n)
        return Damage(kind, src, f"{file}: {label} ({size} -> {n} bytes)", apply)
    return variant


def _cut_variants():
    truncated = [_cut("truncated chunk", lambda rng, size: int(rng.integers(1, size)), "cut at random"),
                 _cut("truncated chunk", lambda rng, size: size - 1, "last byte cut"),
                 _cut("truncated chunk", lambda rng, size: size // 2, "cut in half"),
                 _cut("truncated chunk", lambda rng, size: min(4, size - 1), "4 bytes left")]
    emptied = [_cut("emptied chunk", lambda rng, size: 0, "emptied")]
    return {"truncated chunk": truncated, "emptied chunk": emptied}


def _delete_chunk(select, label, sources=None):
    def variant(rng, src):
        if sources and src.name not in sources:
            return None
        pick = _choose(rng, src.committed_files(select))
        if pick is None:
            return None
        _, file = pick
        return Damage("deleted chunk", src, f"{file}: deleted ({label})", lambda root: (root / file).unlink())
    return variant


def _delete_variants():
    return {"deleted chunk": [
        _delete_chunk(lambda a: True, "any committed chunk"),
        _delete_chunk(lambda a: a.key.startswith("snapshots"), "a committed chunk of a killed run", STOPPED),
        _delete_chunk(lambda a: a.key.startswith("steps"), "a committed chunk of a killed run", STOPPED),
        _delete_chunk(lambda a: a.key.startswith("probe"), "a probe chunk"),
        _delete_chunk(lambda a: a.key.startswith("evaluation"), "an evaluation chunk"),
        _delete_chunk(lambda a: a.key.startswith("epochs"), "an epochs chunk"),
        _delete_chunk(lambda a: a.key.startswith("snapshots") and _chunk_rows(a) > 1, "a later snapshot chunk"),
    ]}


def _chunk_rows(array):
    return len({_chunk_row(array, f) for f in array.files})


def _swap_files(kind, pairs):
    """Swap two chunk files: ``pairs(src)`` lists the candidate (file, file) pairs."""
    def variant(rng, src):
        pair = _choose(rng, pairs(src))
        if pair is None:
            return None
        a, b = pair
        sizes = [(src.folder / f).stat().st_size for f in pair]
        return Damage(kind, src, f"{a} <-> {b} swapped ({sizes[0]} and {sizes[1]} bytes)",
                      lambda root: _swap(root / a, root / b))
    return variant


def _first_file(src, key):
    array = src.arrays.get(key)
    return array.files[0] if array and array.files else None


def _array_pair(a, b):
    def pairs(src):
        fa, fb = _first_file(src, a), _first_file(src, b)
        return [(fa, fb)] if fa and fb else []
    return pairs


def _row_pairs(key):
    def pairs(src):
        array = src.arrays.get(key)
        if not array:
            return []
        files = [f for _, f in src.committed_files(lambda x: x.key == key)]
        return [(files[i], files[j]) for i in range(len(files)) for j in range(i + 1, len(files))]
    return pairs


def _foreign_edge_chunk(rng, src):
    """The partly committed chunk of a killed run (status "running", whose last chunk may have been
    rewritten after the last commit) replaced by a chunk of the same size from another trace."""
    if src.name != "killed":
        return None
    array = src.arrays["snapshots/params"]
    edge = [f for _, f in src.committed_files(lambda a: a is array)
            if (_chunk_row(array, f) + 1) * array.chunk_shape[0] > array.committed_rows]
    other = src.folder.with_name("float32.zarr")
    foreign = [f for f in sorted(p.relative_to(other).as_posix() for p in (other / array.key / "c").rglob("*"))
               if f not in edge and (other / f).stat().st_size == (src.folder / edge[0]).stat().st_size] if edge else []
    if not foreign:
        return None
    target, source = edge[0], foreign[-1]
    return Damage("swapped chunks (arrays)", src, f"{target} (partly committed) replaced by {source} of float32.zarr "
                  "(another run, the same size)", lambda root: shutil.copyfile(other / source, root / target))


def _swap_variants():
    arrays = [_swap_files("swapped chunks (arrays)", _array_pair(a, b)) for a, b in (
        ("snapshots/params", "snapshots/grads"), ("evaluation/predicted", "evaluation/labels"),
        ("probe/labels", "probe/index"), ("snapshots/step", "snapshots/loss"), ("steps/scalars", "steps/layers"),
        ("probe/x", "snapshots/probe"), ("epochs/metrics", "snapshots/loss"))]
    arrays.append(_foreign_edge_chunk)
    rows = [_swap_files("swapped chunks (rows)", _row_pairs(key))
            for key in ("snapshots/params", "snapshots/grads", "snapshots/probe")]
    return {"swapped chunks (arrays)": arrays, "swapped chunks (rows)": rows}


def _json_damage(kind, relative, what, transform, sources=None):
    """A damage that replaces the bytes of ``relative`` (a zarr.json) by ``transform(bytes)``."""
    def variant(rng, src):
        if sources and src.name not in sources:
            return None
        if not (src.folder / relative).exists():
            return None

        def apply(root):
            (root / relative).write_bytes(transform((root / relative).read_bytes()))
        return Damage(kind, src, f"{relative}: {what}", apply)
    return variant


def _not_utf8(data):
    """The JSON with bytes that are not UTF-8 inside its first string value."""
    i = data.index(b'"') + 1
    return data[:i] + b"\xff\xfe\xc3" + data[i:]


def _latin1(data):
    """The JSON with a string made of Latin-1 bytes (é as 0xe9) in its attributes."""
    return data.replace(b'"attributes": {', b'"attributes": {\n    "note": "caf\xe9",', 1)


def _metadata_format_variants():
    invalid = [
        _json_damage("metadata: invalid JSON", "zarr.json", "cut in half", lambda d: d[: len(d) // 2]),
        _json_damage("metadata: invalid JSON", "snapshots/params/zarr.json", "cut in half", lambda d: d[: len(d) // 2]),
        _json_damage("metadata: invalid JSON", "probe/x/zarr.json", "one '{'", lambda d: b"{"),
        _json_damage("metadata: invalid JSON", "steps/zarr.json", "emptied", lambda d: b""),
        _json_damage("metadata: invalid JSON", "evaluation/zarr.json", "last brace cut", lambda d: d.rstrip()[:-1]),
        _json_damage("metadata: invalid JSON", "zarr.json", "replaced by a JSON list", lambda d: b"[]"),
        _json_damage("metadata: invalid JSON", "steps/scalars/zarr.json", "replaced by null", lambda d: b"null"),
        _json_damage("metadata: invalid JSON", "evaluation/confusion/zarr.json", "a trailing comma",
                     lambda d: d.rstrip()[:-1] + b",}"),
        _json_damage("metadata: invalid JSON", "zarr.json", "a NUL byte in the middle",
                     lambda d: d[: len(d) // 2] + b"\x00" + d[len(d) // 2:]),
    ]
    utf8 = [
        _json_damage("metadata: not UTF-8", "zarr.json", "bytes ff fe c3 in a string", _not_utf8),
        _json_damage("metadata: not UTF-8", "snapshots/probe/zarr.json", "bytes ff fe c3 in a string", _not_utf8),
        _json_damage("metadata: not UTF-8", "zarr.json", "a Latin-1 string in the attributes", _latin1),
        _json_damage("metadata: not UTF-8", "steps/layers/zarr.json", "a Latin-1 string in the attributes", _latin1),
        _json_damage("metadata: not UTF-8", "evaluation/zarr.json", "bytes ff fe c3 in a string", _not_utf8),
        _json_damage("metadata: not UTF-8", "zarr.json", "encoded as UTF-16", lambda d: d.decode().encode("utf-16")),
    ]
    return {"metadata: invalid JSON": invalid, "metadata: not UTF-8": utf8}


def _root_edit(kind, what, edit, sources=None, when=None, reseal=True):
    """A damage that edits the root attributes: ``edit(attrs, src)``; ``when(src)`` says where it applies.

    The digest is recomputed after the edit (``reseal``), when the trace has one.
    """
    def variant(rng, src):
        if sources and src.name not in sources or when and not when(src):
            return None
        sealed = " (digest recomputed)" if reseal and "digest" in src.attrs else ""
        return Damage(kind, src, f"zarr.json: {what}{sealed}", _attrs(lambda attrs: edit(attrs, src), reseal))
    return variant


def _evaluation_edit(kind, what, edit):
    """A damage to the test results' attributes, wherever the trace keeps them: ``edit(fields)``
    (the root's ``evaluation``, or the ``evaluation`` group's attributes)."""
    def variant(rng, src):
        if isinstance(src.attrs.get("evaluation"), dict):
            return _root_edit(kind, f"evaluation: {what}", lambda a, s: edit(a["evaluation"]))(rng, src)
        if not (src.folder / "evaluation" / "zarr.json").exists():
            return None
        return Damage(kind, src, f"evaluation/zarr.json: {what}",
                      _edit_json("evaluation/zarr.json", lambda meta: edit(meta["attributes"])))
    return variant


def _committed_variants():
    k = "metadata: committed counts"

    def setter(name, value_of):
        return lambda attrs, src: _set(attrs, f"committed.{name}", value_of(src))

    return {k: [
        _root_edit(k, "committed steps -1", setter("steps", lambda src: -1)),
        _root_edit(k, "committed snapshots -3", setter("snapshots", lambda src: -3)),
        _root_edit(k, "committed steps = planned steps + 100",
                   setter("steps", lambda src: src.attrs["total_steps"] + 100)),
        _root_edit(k, "committed snapshots = planned snapshots + 5",
                   setter("snapshots", lambda src: len(src.attrs["planned_snapshots"]) + 5)),
        _root_edit(k, "committed steps the string 'abc'", setter("steps", lambda src: "abc")),
        _root_edit(k, "committed steps a string of digits", setter("steps", lambda src: str(_count(src, "steps")))),
        _root_edit(k, "committed snapshots a float n - 0.5",
                   setter("snapshots", lambda src: _count(src, "snapshots") - 0.5)),
        _root_edit(k, "committed epochs a float n + 0.0", setter("epochs", lambda src: float(_count(src, "epochs")))),
        _root_edit(k, "committed steps null", setter("steps", lambda src: None)),
        _root_edit(k, "committed the string 'all'", lambda attrs, src: _set(attrs, "committed", "all")),
        _root_edit(k, "committed {} (no counts)", lambda attrs, src: _set(attrs, "committed", {})),
        _root_edit(k, "committed epochs 99", setter("epochs", lambda src: 99)),
        _root_edit(k, "committed steps = planned steps (more than were written)",
                   setter("steps", lambda src: src.attrs["total_steps"]), STOPPED),
        _root_edit(k, "committed snapshots + 2 (rows written as zeros, never committed)",
                   setter("snapshots", lambda src: _count(src, "snapshots") + 2), STOPPED),
        _root_edit(k, "committed steps true", setter("steps", lambda src: True)),
        _root_edit(k, "committed snapshots a list", setter("snapshots", lambda src: [_count(src, "snapshots")])),
    ]}


def _count(src, name):
    return src.attrs["committed"][name]


def _layer_variants():
    k = "metadata: layers and sizes"
    return {k: [
        _root_edit(k, "layers []", lambda a, s: _set(a, "layers", [])),
        _root_edit(k, "layers[0].shape one row more", lambda a, s: _add(a, "layers.0.shape.0", 1)),
        _root_edit(k, "layers[0].shape transposed", lambda a, s: a["layers"][0]["shape"].reverse()),
        _root_edit(k, "layers[0].shape one number", lambda a, s: a["layers"][0]["shape"].pop()),
        _root_edit(k, "layers[0].shape a string", lambda a, s: _set(a, "layers.0.shape", "8x64")),
        _root_edit(k, "the last layer dropped", lambda a, s: _set(a, "layers", a["layers"][:-1])),
        _root_edit(k, "the last layer twice", lambda a, s: _set(a, "layers", a["layers"] + a["layers"][-1:])),
        _root_edit(k, "layers[-1].shape one column more", lambda a, s: _add(a, "layers.-1.shape.1", 1)),
        _root_edit(k, "layers a string", lambda a, s: _set(a, "layers", "8,10")),
        _root_edit(k, "sizes one hidden unit more", lambda a, s: _set(a, "sizes.1", a["sizes"][1] + 1)),
        _root_edit(k, "sizes without the hidden layer", lambda a, s: _set(a, "sizes", [a["sizes"][0], a["sizes"][-1]])),
        _root_edit(k, "image_shape [4, 16] (as many pixels)", lambda a, s: _set(a, "image_shape", [4, 16])),
        _root_edit(k, "image_shape [8, 9]", lambda a, s: _set(a, "image_shape", [8, 9])),
        _root_edit(k, "image_shape the number 64", lambda a, s: _set(a, "image_shape", 64)),
        _root_edit(k, "layers[0].activation 'tanh' (the config says relu)",
                   lambda a, s: _set(a, "layers.0.activation", "tanh")),
        _root_edit(k, "sizes a string", lambda a, s: _set(a, "sizes", "64-8-10")),
    ]}


def _probe_variants():
    k = "metadata: probe set"

    def swap_dirs(a, b):
        def variant(rng, src):
            if a not in src.arrays or b not in src.arrays:
                return None
            return Damage(k, src, f"{a} <-> {b} swapped (whole arrays)", lambda root: _swap(root / a, root / b))
        return variant

    def replace(target, source, note):
        def variant(rng, src):
            if target not in src.arrays or source not in src.arrays:
                return None
            return Damage(k, src, f"{target} replaced by a copy of {source} ({note})", _replace_tree(target, source))
        return variant

    return {k: [
        replace("probe/labels", "evaluation/labels", "more labels than images"),
        replace("probe/x", "snapshots/params", "not images"),
        replace("probe/labels", "probe/index", "labels out of range"),
        _array_edit(k, "probe/x", "shape one image fewer", lambda m, a: _add(m, "shape.0", -1)),
        _array_edit(k, "probe/labels", "shape one label more", lambda m, a: _add(m, "shape.0", 1)),
        swap_dirs("probe/x", "probe/labels"),
    ]}


def _array_edit(kind, key, what, edit, when=None):
    """A damage that edits the zarr.json of the array ``key``: ``edit(meta, array_info)``."""
    def variant(rng, src):
        array = src.arrays.get(key)
        if array is None or when and not when(array):
            return None
        return Damage(kind, src, f"{key}/zarr.json: {what}", _edit_json(f"{key}/zarr.json", lambda m: edit(m, array)))
    return variant


_WIDER = {"float32": "float64", "float64": "float32", "int64": "int32", "int32": "int64"}
_SAME_SIZE = {"float32": "int32", "int32": "float32", "float64": "int64", "int64": "float64"}


def _dtype_variants():
    k = "metadata: dtype"

    def change(key, table, label):
        def edit(meta, array):
            meta["data_type"] = table[meta["data_type"]]
        return _array_edit(k, key, f"data_type {label}", edit, when=lambda a: a.dtype in table)

    return {k: [
        change("snapshots/params", _WIDER, "float32 <-> float64"),
        change("snapshots/step", _WIDER, "int64 -> int32"),
        change("probe/labels", _WIDER, "int64 -> int32"),
        change("steps/scalars", _WIDER, "float32 -> float64"),
        change("probe/x", _WIDER, "float32 <-> float64 (compressed)"),
        change("evaluation/confusion", _WIDER, "int64 -> int32 (compressed)"),
        change("snapshots/loss", _SAME_SIZE, "float32 -> int32 (same size)"),
        change("snapshots/step", _SAME_SIZE, "int64 -> float64 (same size)"),
        change("epochs/metrics", _SAME_SIZE, "float64 -> int64 (same size)"),
        change("snapshots/probe", _SAME_SIZE, "float -> int of the same size (compressed)"),
        _array_edit(k, "snapshots/grads", "data_type 'bogus'", lambda m, a: _set(m, "data_type", "bogus")),
    ]}


def _shape_variants():
    k = "metadata: shape"
    return {k: [
        _array_edit(k, "steps/scalars", "shape[0] 10 rows fewer", lambda m, a: _add(m, "shape.0", -10)),
        _array_edit(k, "snapshots/params", "shape[0] 8 rows more", lambda m, a: _add(m, "shape.0", 8)),
        _array_edit(k, "snapshots/params", "shape[1] one column fewer", lambda m, a: _add(m, "shape.1", -1)),
        _array_edit(k, "snapshots/probe", "shape[2] one probe image fewer", lambda m, a: _add(m, "shape.2", -1)),
        _array_edit(k, "snapshots/params", "chunk_shape[0] halved",
                    lambda m, a: _set(m, "chunk_grid.configuration.chunk_shape.0", a.chunk_shape[0] // 2)),
        _array_edit(k, "probe/x", "shape[1] one pixel fewer", lambda m, a: _set(m, "shape.1", m["shape"][1] - 1)),
        _array_edit(k, "snapshots/grads", "shape a string", lambda m, a: _set(m, "shape", "abc")),
        _array_edit(k, "steps/layers", "shape without its last axis", lambda m, a: _set(m, "shape", m["shape"][:-1])),
        _array_edit(k, "evaluation/predicted", "shape[0] one fewer", lambda m, a: _add(m, "shape.0", -1)),
        _array_edit(k, "epochs/metrics", "shape[1] one column fewer", lambda m, a: _add(m, "shape.1", -1)),
        _array_edit(k, "snapshots/step", "shape[0] 0", lambda m, a: _set(m, "shape.0", 0)),
    ]}


def _missing_variants():
    k = "metadata: missing key"

    def root(dotted):
        return _root_edit(k, f"attributes lack {dotted}", lambda a, s: _delete(a, dotted),
                          when=lambda src: _has(src.attrs, dotted))

    def array(key, name):
        return _array_edit(k, key, f"lacks '{name}'", lambda m, a: _delete(m, name))

    def group(relative, dotted):
        return _json_damage(k, relative, f"lacks {dotted}", lambda d: _json_without(d, dotted))

    def removed(relative, what):
        def variant(rng, src):
            if not (src.folder / relative).exists():
                return None
            return Damage(k, src, f"{relative}: {what}", lambda root: (root / relative).unlink())
        return variant

    return {k: [
        root("config"), root("config.data"), root("config.training.optimizer"), root("config.data.name"),
        root("config.training"), root("status"), root("schema_version"), root("layers"), root("sizes"),
        root("image_shape"), root("committed.steps"), root("total_steps"), root("layers.0.activation"),
        root("layers.0.shape"), root("schema"),
        _evaluation_edit(k, "lacks test_loss", lambda e: e.pop("test_loss", None)),
        _evaluation_edit(k, "lacks test_accuracy", lambda e: e.pop("test_accuracy", None)),
        root("checksums"), root("checksums.snapshots/params"), root("evaluation"), root("evaluation.n_test"),
        _root_edit(k, "attributes lack digest", lambda a, s: _delete(a, "digest"), reseal=False,
                   when=lambda src: "digest" in src.attrs),
        array("snapshots/params", "shape"), array("steps/scalars", "data_type"), array("probe/x", "codecs"),
        array("snapshots/probe", "chunk_grid"), array("evaluation/labels", "node_type"),
        array("epochs/metrics", "fill_value"), group("zarr.json", "attributes"), group("zarr.json", "node_type"),
        removed("snapshots/grads/zarr.json", "deleted (its chunks are still there)"),
        removed("probe/labels/zarr.json", "deleted (its chunks are still there)"),
        removed("evaluation/zarr.json", "deleted (the group's arrays are still there)"),
    ]}


def _has(obj, dotted):
    try:
        _get(obj, dotted)
        return True
    except (KeyError, IndexError, TypeError):
        return False


def _json_without(data, dotted):
    obj = json.loads(data)
    if _has(obj, dotted):
        _delete(obj, dotted)
    return json.dumps(obj, indent=2).encode()


def _status_variants():
    k = "metadata: status and schema"
    return {k: [
        _root_edit(k, "status 'interrupted' (the evaluation is there)", lambda a, s: _set(a, "status", "interrupted"),
                   when=lambda src: src.attrs["status"] == "complete"),
        _root_edit(k, "status 'complete' (no evaluation)", lambda a, s: _set(a, "status", "complete"), STOPPED),
        _root_edit(k, "status the number 7", lambda a, s: _set(a, "status", 7)),
        _root_edit(k, "status 'weird'", lambda a, s: _set(a, "status", "weird")),
        _root_edit(k, "schema_version a string", lambda a, s: _set(a, "schema_version", str(a["schema_version"]))),
        _root_edit(k, "schema_version a float", lambda a, s: _set(a, "schema_version", float(a["schema_version"]))),
        _root_edit(k, "schema_version 0", lambda a, s: _set(a, "schema_version", 0)),
        _root_edit(k, "schema_version -1", lambda a, s: _set(a, "schema_version", -1)),
        _root_edit(k, "schema_version 99 (newer)", lambda a, s: _set(a, "schema_version", 99)),
        _root_edit(k, "schema 'other'", lambda a, s: _set(a, "schema", "other")),
        _evaluation_edit(k, "test_loss the string 'abc'", lambda e: e.update(test_loss="abc")),
        _evaluation_edit(k, "test_accuracy a list", lambda e: e.update(test_accuracy=[1])),
        _evaluation_edit(k, "test_accuracy 1.5", lambda e: e.update(test_accuracy=1.5)),
        _evaluation_edit(k, "test_accuracy not that of the confusion matrix", lambda e: e.update(test_accuracy=0.5)),
        _root_edit(k, "config.data.name 'mnist' (8x8 images)", lambda a, s: _set(a, "config.data.name", "mnist")),
        _root_edit(k, "config the string 'x'", lambda a, s: _set(a, "config", "x")),
    ]}


def _json_set(data, dotted, value):
    obj = json.loads(data)
    _set(obj, dotted, value)
    return json.dumps(obj, indent=2).encode()


def _codec_variants():
    k = "metadata: codecs"

    def endian(meta, array):
        for codec in meta["codecs"]:
            if codec["name"] == "bytes":
                codec.setdefault("configuration", {})["endian"] = "big"

    def without(name):
        def edit(meta, array):
            meta["codecs"] = [c for c in meta["codecs"] if c["name"] != name]
        return edit

    def add_gzip(meta, array):
        meta["codecs"] = [*meta["codecs"], {"name": "gzip", "configuration": {"level": 1}}]

    return {k: [
        _array_edit(k, "snapshots/params", "bytes codec big-endian", endian),
        _array_edit(k, "probe/x", "bytes codec big-endian (compressed)", endian),
        _array_edit(k, "probe/x", "compressor removed", without("zstd"), when=lambda a: a.compressed),
        _array_edit(k, "steps/scalars", "a gzip compressor added (the chunks are not gzipped)", add_gzip),
        _array_edit(k, "snapshots/step", "bytes codec big-endian", endian),
        _array_edit(k, "snapshots/params", "node_type 'group'", lambda m, a: _set(m, "node_type", "group")),
        _array_edit(k, "snapshots/probe", "fill_value 'x'", lambda m, a: _set(m, "fill_value", "x")),
        _array_edit(k, "steps/layers", "checksum codec removed", without("crc32c"),
                    when=lambda a: any(c["name"] == "crc32c" for c in a.meta["codecs"])),
        _array_edit(k, "epochs/metrics", "zarr_format 2", lambda m, a: _set(m, "zarr_format", 2)),
    ]}


def _checksum_variants():
    k = "metadata: checksums"

    def edit(what, change):
        return _root_edit(k, what, lambda a, s: change(a["checksums"]), when=lambda src: "checksums" in src.attrs)

    def swap(a, b):
        def change(checksums):
            checksums[a], checksums[b] = checksums[b], checksums[a]
        return change

    def flip(key, i):
        def change(checksums):
            value = checksums[key][i]
            checksums[key][i] = value[:-1] + ("0" if value[-1] != "0" else "1")
        return change

    return {k: [
        edit("checksums of snapshots/params and snapshots/grads swapped", swap("snapshots/params", "snapshots/grads")),
        edit("the last checksum of snapshots/probe dropped", lambda c: c["snapshots/probe"].pop()),
        edit("a checksum of snapshots/params changed", flip("snapshots/params", 0)),
        edit("a checksum of probe/x changed", flip("probe/x", 0)),
        _root_edit(k, "checksums the string 'none'", lambda a, s: _set(a, "checksums", "none"),
                   when=lambda src: "checksums" in src.attrs),
        edit("a checksum of steps/scalars a number", lambda c: c["steps/scalars"].__setitem__(0, 1234)),
        edit("checksums of snapshots/params in reverse", lambda c: c["snapshots/params"].reverse()),
    ]}


def _stale_digest_variants():
    k = "metadata: stale digest"

    def stale(what, edit, when=None):
        return _root_edit(k, f"{what} (digest left as it was)", lambda a, s: edit(a), reseal=False, when=when)

    def has(name):
        return lambda src: name in src.attrs

    return {k: [
        stale("created a day later", lambda a: a.update(created=str(a.get("created")) + "x")),
        stale("lr doubled", lambda a: _set(a, "config.training.lr", a["config"]["training"]["lr"] * 2)),
        stale("committed steps one fewer", lambda a: _set(a, "committed.steps", a["committed"]["steps"] - 1)),
        stale("a checksum changed", lambda a: _set(a, "checksums.probe/x.0", "00000000"), has("checksums")),
        stale("the digest changed", lambda a: a.update(digest="0" * 64), has("digest")),
        stale("test_accuracy 1.0", lambda a: _set(a, "evaluation.test_accuracy", 1.0),
              lambda src: isinstance(src.attrs.get("evaluation"), dict)),
    ]}


# -- damaged zips -------------------------------------------------------------------------------


def _zip_damage(kind, what):
    """A damage to the packed zip itself: ``what(rng, src)`` gives (description, apply) or None."""
    def variant(rng, src):
        made = what(rng, src)
        if made is None:
            return None
        description, damage = made
        return Damage(kind, src, description, damage, on_zip=True)
    return variant


def _members(zip_path):
    with zipfile.ZipFile(zip_path) as zf:
        return zf.infolist()


def _zip_truncated():
    def cut(label, length_of):
        def what(rng, src):
            size = src.packed.stat().st_size
            n = length_of(rng, size)

            def apply(path):
                with open(path, "r+b") as f:
                    f.truncate(n)
            return f"the zip: {label} ({size} -> {n} bytes)", apply
        return _zip_damage("zip: truncated", what)

    return {"zip: truncated": [
        cut("cut at random", lambda rng, size: int(rng.integers(1, size))),
        cut("the end-of-central-directory record cut", lambda rng, size: size - 22),
        cut("the last byte cut", lambda rng, size: size - 1),
        cut("cut in half", lambda rng, size: size // 2),
        cut("100 bytes left", lambda rng, size: 100),
        _cut_at_central_directory(),
    ]}


def _zip_without(choose_member, label):
    def what(rng, src):
        name = choose_member(rng, [m.filename for m in _members(src.packed)], src)
        if name is None:
            return None

        def apply(path):
            temp = path.with_name(path.name + ".tmp")
            with zipfile.ZipFile(path) as old, zipfile.ZipFile(temp, "w", zipfile.ZIP_STORED) as new:
                for info in old.infolist():
                    if info.filename != name:
                        new.writestr(info, old.read(info.filename))
            os.replace(temp, path)
        return f"the zip: member {name} deleted ({label})", apply
    return what


def _zip_deleted():
    k = "zip: member deleted"

    def member(select):
        return lambda rng, names, src: _choose(rng, [n for n in names if select(n, src)])

    def variants():
        for label, select in (
            ("a committed chunk", lambda n, src: "/c/" in n and _committed_member(src, n)),
            ("the root zarr.json", lambda n, src: n == "zarr.json"),
            ("an array's zarr.json", lambda n, src: n.endswith("/zarr.json") and n.count("/") == 2),
            ("a snapshots chunk",
             lambda n, src: n.startswith("snapshots/") and "/c/" in n and _committed_member(src, n)),
            ("a probe chunk", lambda n, src: n.startswith("probe/") and "/c/" in n),
            ("an evaluation chunk", lambda n, src: n.startswith("evaluation/") and "/c/" in n),
        ):
            what = _zip_without(member(select), label)
            yield _zip_damage(k, what)

    return {k: list(variants())}


def _committed_member(src, name):
    key = "/".join(name.split("/")[:2])
    array = src.arrays.get(key)
    return array is not None and any(f == name for _, f in src.committed_files(lambda a: a.key == key))


def _central_entries(data):
    """(offset of the entry, name offset, name length, name) of each central directory entry."""
    end = data.rindex(b"PK\x05\x06")
    n, size, start = struct.unpack("<HII", data[end + 10: end + 20])
    entries, pos = [], start
    for _ in range(n):
        name_len, extra_len, comment_len = struct.unpack("<HHH", data[pos + 28: pos + 34])
        entries.append((pos, pos + 46, name_len, data[pos + 46: pos + 46 + name_len].decode("utf-8", "replace")))
        pos += 46 + name_len + extra_len + comment_len
    return entries


def _zip_renamed():
    k = "zip: name damaged"

    def rename(label, choose):
        def what(rng, src):
            data = src.packed.read_bytes()
            picked = choose(rng, _central_entries(data), src)
            if picked is None:
                return None
            (_, at, length, name), index, new = picked

            def apply(path):
                blob = bytearray(path.read_bytes())
                blob[at + index] = new
                path.write_bytes(bytes(blob))
            new_name = name[:index] + (chr(new) if new < 128 else f"\\x{new:02x}") + name[index + 1:]
            return f"the zip's central directory: member name {name} -> {new_name} ({label})", apply
        return _zip_damage(k, what)

    def chunk_digit(rng, entries, src):
        chunks = [e for e in entries if "/c/" in e[3] and _committed_member(src, e[3])]
        entry = _choose(rng, chunks)
        return entry and (entry, len(entry[3]) - 1, ord("7"))

    def collide(rng, entries, src):  # c/1/0 -> c/0/0: two members of one name
        names = {e[3] for e in entries}
        for e in entries:
            if e[3].startswith("snapshots/params/c/1/"):
                index = len("snapshots/params/c/")
                if e[3][:index] + "0" + e[3][index + 1:] in names:
                    return e, index, ord("0")
        return None

    def metadata(path):
        def choose(rng, entries, src):
            entry = next((e for e in entries if e[3] == path), None)
            return entry and (entry, len(path) - 6, ord("X"))  # zarr.json -> zarX.json
        return choose

    def non_ascii(rng, entries, src):
        entry = _choose(rng, [e for e in entries if "/c/" in e[3]])
        return entry and (entry, int(rng.integers(len(entry[3]))), 0xFF)

    return {k: [
        rename("a committed chunk now has a name no chunk has", chunk_digit),
        rename("now named like another member", collide),
        rename("an array's metadata renamed", metadata("snapshots/grads/zarr.json")),
        rename("the root metadata renamed", metadata("zarr.json")),
        rename("a byte 0xff in a chunk's name", non_ascii),
    ]}


def _zip_flipped():
    k = "zip: member bytes flipped"

    def flip(label, select, n_flips=1):
        def what(rng, src):
            infos = [m for m in _members(src.packed) if select(m.filename, src) and m.file_size]
            info = _choose(rng, infos)
            if info is None:
                return None
            data = src.packed.read_bytes()
            name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26: info.header_offset + 30])
            start = info.header_offset + 30 + name_len + extra_len
            offsets = sorted(int(o) for o in rng.choice(info.compress_size, size=n_flips, replace=False))
            masks = [1 << int(rng.integers(8)) for _ in offsets]
            where = [start + o for o in offsets]
            return (f"the zip: member {info.filename}: bits at {', '.join(map(str, offsets))} of its "
                    f"{info.compress_size} bytes flipped ({label})", lambda path: _flip(path, where, masks))
        return _zip_damage(k, what)

    return {k: [
        flip("a chunk", lambda n, src: "/c/" in n and _committed_member(src, n)),
        flip("the root zarr.json", lambda n, src: n == "zarr.json"),
        flip("float data", lambda n, src: "/c/" in n and _committed_member(src, n) and _raw_float(src, n)),
        flip("an array's zarr.json", lambda n, src: n.endswith("/zarr.json") and n.count("/") == 2),
        flip("a chunk, 8 bits", lambda n, src: "/c/" in n and _committed_member(src, n), 8),
    ]}


def _raw_float(src, name):
    array = src.arrays.get("/".join(name.split("/")[:2]))
    return array is not None and array.raw_float


def _zip_garbage():
    k = "zip: garbage"

    def garbage(label, make):
        def what(rng, src):
            blob = make(rng, src)
            return f"a file named .zip holding {label} ({len(blob)} bytes)", lambda path: path.write_bytes(blob)
        return _zip_damage(k, what)

    def foreign_zip(rng, src):
        return _zip_bytes({"readme.txt": b"not a trace"})

    def foreign_zarr(rng, src):
        return _zip_bytes({"zarr.json": json.dumps({"zarr_format": 3, "node_type": "group",
                                                    "attributes": {}}).encode()})

    def chunk(rng, src):
        return (src.folder / src.arrays["snapshots/params"].files[0]).read_bytes()

    def nested(rng, src):
        return _zip_bytes({"run.zarr.zip": src.packed.read_bytes()})

    def in_a_folder(rng, src):  # the trace inside a folder of the zip, as `zip -r` makes it
        with zipfile.ZipFile(src.packed) as zf:
            return _zip_bytes({f"run.zarr/{m.filename}": zf.read(m) for m in zf.infolist()})

    return {k: [
        garbage("random bytes", lambda rng, src: rng.bytes(int(rng.integers(1, 5000)))),
        garbage("nothing", lambda rng, src: b""),
        garbage("text", lambda rng, src: b"this is not a zip\n" * 20),
        garbage("a zip of a text file", foreign_zip),
        garbage("a zip of a Zarr group that is not a trace", foreign_zarr),
        garbage("a chunk file", chunk),
        garbage("a zip of the packed trace", nested),
        garbage("the trace one folder down", in_a_folder),
        garbage("PK and random bytes", lambda rng, src: b"PK\x03\x04" + rng.bytes(2000)),
    ]}


def _zip_bytes(members):
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _cut_at_central_directory():
    """Zip truncated where its central directory starts (every member whole, no index)."""
    def what(rng, src):
        data = src.packed.read_bytes()
        start = _central_entries(data)[0][0]

        def apply(path):
            with open(path, "r+b") as f:
                f.truncate(start)
        return f"the zip: cut where the central directory starts ({len(data)} -> {start} bytes)", apply
    return _zip_damage("zip: truncated", what)


def kinds():
    """{kind: [variant, ...]}: every kind of damage, in the order of the report."""
    table = {}
    for part in (_flip_variants(), _cut_variants(), _delete_variants(), _swap_variants(), _metadata_format_variants(),
                 _committed_variants(), _layer_variants(), _probe_variants(), _dtype_variants(), _shape_variants(),
                 _missing_variants(), _status_variants(), _codec_variants(), _checksum_variants(),
                 _stale_digest_variants(), _zip_truncated(), _zip_deleted(),
                 _zip_renamed(), _zip_flipped(), _zip_garbage()):
        table.update(part)
    return table


ZIP_KINDS = ("zip: truncated", "zip: member deleted", "zip: name damaged", "zip: member bytes flipped", "zip: garbage")


# -- the sweep -----------------------------------------------------------------------------------


@dataclass
class Copy:
    index: int
    damage: Damage
    form: str  # "folder" or "zip"
    outcome: Outcome = None
    path: Path = None  # where the copy is (kept only if it failed)

    @property
    def failed(self):
        return self.outcome.outcome in FAILURES or self.outcome.cli_failed

    def line(self):
        o = self.outcome
        cli = "" if o.cli is None else f"; CLI: {o.cli}"
        detail = f" ({o.detail})" if o.detail else ""
        return (f"#{self.index:<4} {self.damage.kind} [{self.form}, {self.damage.source.name}] "
                f"{self.damage.what} => {o.outcome}{detail}{cli}")


def plan(sources, n_copies, seed):
    """The damages to make, in order: ``[(damage, form)]``, ``n_copies`` long (deterministic).

    Every kind of damage comes in turn, so that a short plan has them all; a
    kind with many variants comes more often, so that every variant has come
    once in the first ``CYCLE`` rounds. A damage to a folder makes two
    copies, the folder and the folder packed; a damage to a zip, one.
    """
    rng = np.random.default_rng(seed)
    table = kinds()
    quota = {name: math.ceil(len(variants) / CYCLE) for name, variants in table.items()}
    taken = {name: int(rng.integers(len(variants))) for name, variants in table.items()}  # where each kind starts
    copies, turn = [], 0
    while len(copies) < n_copies:
        before = len(copies)
        for sub in range(max(quota.values())):
            for name, variants in table.items():
                if sub >= quota[name]:
                    continue
                index = taken[name] % len(variants)
                variant = variants[index]
                taken[name] += 1
                turn += 1
                for j in range(len(sources)):  # the next source it applies to
                    damage = variant(rng, sources[(turn + j) % len(sources)])
                    if damage is not None:
                        damage.variant = index
                        copies += [(damage, form) for form in (("zip",) if damage.on_zip else ("folder", "zip"))]
                        break
        if len(copies) == before:
            raise RuntimeError("no kind of damage applies to these traces")
    return copies[:n_copies]


def pack_folder(folder, out):
    """Zip ``folder`` as ``pack_trace`` does (stored, sorted), without checking it first."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for file in sorted(Path(folder).rglob("*")):
            if file.is_file():
                zf.write(file, file.relative_to(folder).as_posix())
    return out


def make_copy(damage, form, where):
    """Make the damaged copy under ``where``; return its path."""
    source = damage.source
    if damage.on_zip:
        path = where.with_name(where.name + ".zarr.zip")
        shutil.copyfile(source.packed, path)
        damage.apply(path)
        return path
    folder = where.with_name(where.name + ".zarr")
    shutil.copytree(source.folder, folder)
    damage.apply(folder)
    if form == "folder":
        return folder
    path = pack_folder(folder, where.with_name(where.name + ".zarr.zip"))
    shutil.rmtree(folder)
    return path


def sweep(out, n_copies=DEFAULT_COPIES, seed=0, cli=True, progress=None, schedule=RECORDING["schedule"]):
    """Record the sources under ``out``, make and judge ``n_copies`` damaged copies; return the :class:`Copy` s.

    ``cli``: True (run ``explainer info`` on every copy), False, or a set of
    copy indices to run it on; the command runs in a second thread while the
    next copies are read. Copies that came out fine are deleted; failing
    ones are kept under ``out/copies``. ``progress(copy)`` is called for each
    copy once judged, in order.
    """
    out = Path(out)
    (out / "copies").mkdir(parents=True, exist_ok=True)
    sources = record_sources(out / "sources", schedule)
    copies, pending = [], []  # pending: (copy, future of its CLI run or None), in order

    def settle(keep):
        while len(pending) > keep or pending and (pending[0][1] is None or pending[0][1].done()):
            copy, future = pending.pop(0)
            if future is not None:
                future.result()
            if not copy.failed:
                shutil.rmtree(copy.path) if copy.path.is_dir() else copy.path.unlink()
            if progress:
                progress(copy)

    with ThreadPoolExecutor(1, thread_name_prefix="explainer-info") as commands:
        for index, (damage, form) in enumerate(plan(sources, n_copies, seed)):
            copy = Copy(index, damage, form)
            copy.path = make_copy(damage, form, out / "copies" / f"{index:04d}-{_slug(damage.kind)}")
            copy.outcome = classify(copy.path, damage.source)
            command = cli is True or (cli and index in cli)
            future = commands.submit(run_cli, copy.path, damage.source, copy.outcome) if command else None
            pending.append((copy, future))
            copies.append(copy)
            settle(keep=2)
        settle(keep=0)
    return copies


def _slug(text):
    return "".join(c if c.isalnum() else "-" for c in text).strip("-")


def table(copies):
    """The counts of each kind of damage (rows) and outcome (columns), with totals, as text."""
    names = list(dict.fromkeys(c.damage.kind for c in copies))
    columns = ["copies", *OUTCOMES, "CLI traceback"]

    def counts(group):
        row = [len(group)] + [sum(c.outcome.outcome == o for c in group) for o in OUTCOMES]
        return row + [sum(c.outcome.cli_failed for c in group)]

    lines = ["| kind of damage | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for name in names:
        row = counts([c for c in copies if c.damage.kind == name])
        lines.append(f"| {name} | " + " | ".join(map(str, row)) + " |")
    lines.append("| **total** | " + " | ".join(f"**{n}**" for n in counts(copies)) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Damage copies of a small trace in every way we could think of, read each through the "
                    "public API and `explainer info`, and count the outcomes: pristine, TraceError, WRONG "
                    "(silently wrong values), other exception, CLI traceback. Exits 1 if any copy came out "
                    "WRONG, other exception or CLI traceback.")
    parser.add_argument("--copies", type=int, default=DEFAULT_COPIES, metavar="N",
                        help=f"damaged copies to make (default {DEFAULT_COPIES}: every variant of every kind once)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the damage (default 0)")
    parser.add_argument("--no-cli", action="store_true", help="do not run `explainer info` on each copy")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where to work; the failing copies are kept there (default: a temporary folder, "
                             "removed at the end)")
    parser.add_argument("--verbose", action="store_true", help="print a line for every copy, not only the failing")
    args = parser.parse_args(argv)
    if args.copies < 1:
        parser.error("--copies must be at least 1")
    temporary = args.out is None
    out = Path(tempfile.mkdtemp(prefix="trace-damage-")) if temporary else args.out
    if not temporary and out.exists() and any(out.iterdir()):
        parser.error(f"--out {out} exists and is not empty")
    began = time.perf_counter()

    def progress(copy):
        if args.verbose or copy.failed:
            print(copy.line(), flush=True)

    try:
        copies = sweep(out, args.copies, args.seed, cli=not args.no_cli, progress=progress)
    finally:
        if temporary:
            shutil.rmtree(out, ignore_errors=True)
    failed = [c for c in copies if c.failed]
    print()
    print(table(copies))
    print(f"\nthe reader: explainer {explainer.__version__} at {Path(explainer.__file__).parent}, "
          f"writing schema version {SCHEMA_VERSION}")
    print(f"{len(copies)} copies (seed {args.seed}, {'API only' if args.no_cli else 'API and CLI'}) in "
          f"{time.perf_counter() - began:.0f} s; {len(failed)} failed"
          + ("" if temporary or not failed else f"; the failing copies are in {out / 'copies'}"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
