"""The trace damage sweep, small: damaged copies of a trace read right or fail with one clear TraceError.

The damage is made by ``bench/trace_damage.py`` (imported from its path):
every kind of damage it knows, to folders and to packed zips. No copy may
read silently wrong values, raise anything but a ``TraceError``, or make
``explainer info`` print a traceback. The bench runs the full sweep.
"""

import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "trace_damage.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("trace_damage", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


damage = _load_bench()

COPIES = 60  # every kind at least once, folders and zips
CLI = set(range(0, COPIES, 12))  # `explainer info` on 5 of them (about 2 s each)


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    # a snapshot every 10 steps (9 of them, in 2 chunks) reads twice as fast as the bench's every 5
    return damage.sweep(tmp_path_factory.mktemp("damage"), COPIES, seed=0, cli=CLI, schedule="every:10")


def _lines(copies):
    return "\n".join(copy.line() for copy in copies)


@pytest.mark.slow
def test_the_sweep_makes_every_kind_of_damage_to_folders_and_zips(swept):
    assert len(swept) == COPIES
    assert {copy.damage.kind for copy in swept} == set(damage.kinds())
    folder_kinds = {copy.damage.kind for copy in swept if copy.form == "folder"}
    assert folder_kinds == set(damage.kinds()) - set(damage.ZIP_KINDS)
    assert folder_kinds <= {copy.damage.kind for copy in swept if copy.form == "zip" and not copy.damage.on_zip}
    assert {copy.damage.source.name for copy in swept} == {"float32", "float64", "interrupted", "killed"}


@pytest.mark.slow
def test_no_damaged_copy_reads_wrong_or_raises_anything_but_a_trace_error(swept):
    wrong = [copy for copy in swept if copy.outcome.outcome == "WRONG"]
    other = [copy for copy in swept if copy.outcome.outcome == "other exception"]
    if wrong or other:
        pytest.fail(f"{len(wrong)} damaged copies read silently wrong and {len(other)} raised something else "
                    f"than TraceError:\n{_lines(wrong + other)}", pytrace=False)


@pytest.mark.slow
def test_explainer_info_answers_damaged_copies_in_one_line(swept):
    ran = [copy for copy in swept if copy.outcome.cli is not None]
    assert len(ran) == len(CLI)
    failed = [copy for copy in ran if copy.outcome.cli_failed]
    if failed:
        pytest.fail(f"`explainer info` failed on {len(failed)} copies:\n{_lines(failed)}", pytrace=False)


@pytest.mark.slow
def test_the_sweep_tells_pristine_from_wrong(swept, tmp_path):
    # the instrument itself: an undamaged trace reads pristine, and a value that differs is caught
    source = swept[0].damage.source
    assert damage.classify(source.folder, source).outcome == "pristine"
    assert damage.classify(source.packed, source).outcome == "pristine"
    values = dict(source.values)
    values["probe_labels"] = values["probe_labels"][::-1].copy()
    lying = dataclasses.replace(source, values=list(values.items()))
    outcome = damage.classify(source.folder, lying)
    assert outcome.outcome == "WRONG" and "probe_labels" in outcome.detail


@pytest.mark.slow
def test_the_damage_is_the_same_for_a_seed_whatever_the_number_of_copies(swept):
    sources = list({id(copy.damage.source): copy.damage.source for copy in swept}.values())
    sources.sort(key=lambda source: ["float32", "float64", "interrupted", "killed"].index(source.name))

    def described(n, seed):
        return [(d.kind, d.source.name, d.what, form) for d, form in damage.plan(sources, n, seed)]

    assert described(COPIES, 0) == [(c.damage.kind, c.damage.source.name, c.damage.what, c.form) for c in swept]
    assert described(30, 0) == described(COPIES, 0)[:30]
    assert described(30, 1) != described(30, 0)
    # the bench's default number of copies makes every variant of every kind of damage
    made = {(d.kind, d.variant) for d, _ in damage.plan(sources, damage.DEFAULT_COPIES, 0)}
    assert made == {(kind, i) for kind, variants in damage.kinds().items() for i in range(len(variants))}
