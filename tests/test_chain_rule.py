"""ChainRule: every factor of one weight's gradient is the trace's number, their product is the digit's
dW entry, the three levers are the real numbers, and the formulas on screen are the run's own
(f' of the hidden layer's activation; the output's delta from its output/loss pair, with a scalar
f'(z^L) only where the output activation is element-wise). The chain rule does not depend on the
optimiser; the runs use all four, and a learning-rate decay."""

import numpy as np
import pytest
from scene_check import cut_off, phases, small_texts, texts

from explainer import Experiment, run
from explainer.activations import ACTIVATIONS
from explainer.chapters.chain_rule import cannot_show, chain_story, default_step, number_tex, number_text
from explainer.formulas import formulas_of
from explainer.trace import TraceRecorder, open_trace

# name -> settings: every optimiser, every hidden activation's kind, each output/loss pair
RUNS = {
    "relu_ce_adam": dict(hidden=(6,)),
    "sigmoid_mse_sigmoid_sgd": dict(hidden=(6,), activation="sigmoid", output="sigmoid", loss="mse", optimizer="sgd",
                                    lr=0.5, lr_decay=0.9),
    "tanh_mse_softmax_momentum": dict(hidden=(6,), activation="tanh", loss="mse", optimizer="momentum", lr=0.05),
    "leaky_ce_sigmoid_rmsprop": dict(hidden=(7, 5), activation="leaky_relu", output="sigmoid", optimizer="rmsprop",
                                     lr_decay=0.8),
}


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chain")
    made = {}
    for name, settings in RUNS.items():
        with TraceRecorder(folder / f"{name}.zarr", schedule="every:10", n_probe=10) as recorder:
            run(Experiment.preset("digits", epochs=2, l2=0.0, **settings), recorder=recorder, progress=False)
        made[name] = open_trace(folder / f"{name}.zarr")
    return made


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tmp_path_factory.mktemp("media")  # one LaTeX cache for the module's scenes


def stories(trace):
    """Stories at an early and the last snapshot, for a few digits, every hidden layer, default and chosen units."""
    for step in (int(trace.snapshot_steps[1]), int(trace.snapshot_steps[-1])):
        for sample in (0, 5, 9):
            for layer in range(1, trace.n_layers):
                for unit in (None, 0, trace.sizes[layer] - 1):
                    yield chain_story(trace, sample, step, layer, unit)


@pytest.mark.parametrize("name", list(RUNS))
def test_each_factor_is_the_traces_and_the_product_is_the_digits_dW_entry(name, traces):
    trace = traces[name]
    for st in stories(trace):
        rec, weights = trace.probe_record(st.step), trace.weights(st.step)
        s, n, j, k = st.sample, st.layer, st.unit, st.source
        a_prev = trace.probe_x[s] if n == 1 else rec.a[n - 2][s]
        assert st.a_prev == float(a_prev[k]) and st.w == float(weights[n - 1][0][j, k])
        assert st.z == float(rec.z[n - 1][s, j]) and st.a == float(rec.a[n - 1][s, j])
        z, a = st.z, st.a
        f_prime = {"relu": float(z > 0), "leaky_relu": 1.0 if z > 0 else 0.01, "sigmoid": a * (1 - a),
                   "tanh": 1 - a * a}[st.activation]
        assert st.f_prime == pytest.approx(f_prime, rel=1e-6)
        # d loss / d a^l_j = ((W^{l+1})^T delta^{l+1})_j: one term per unit of the next layer
        W_next = weights[n][0]
        np.testing.assert_allclose(st.terms, W_next[:, j] * rec.delta[n][s], rtol=1e-6)
        assert st.dl_da == pytest.approx(float((W_next.T.astype(np.float64) @ rec.delta[n][s])[j]), rel=1e-5, abs=1e-9)
        # f'(z) d loss / d a is the recorded delta; the product is delta a^T's entry, as recorded
        assert st.f_prime * st.dl_da == pytest.approx(float(rec.delta[n - 1][s, j]), rel=1e-4, abs=1e-8)
        assert st.delta == float(rec.delta[n - 1][s, j])
        assert st.dW_entry == float(np.outer(rec.delta[n - 1][s], a_prev)[j, k])
        assert st.gradient == pytest.approx(st.dW_entry, rel=1e-4, abs=1e-8)


@pytest.mark.parametrize("name", list(RUNS))
def test_the_product_is_the_gradient_of_the_digits_own_pass(name, traces):
    """An oracle apart from the record: the network at that snapshot, run on the digit alone (no penalty: l2 = 0)."""
    trace = traces[name]
    step = int(trace.snapshot_steps[1])
    net = trace.network(step)
    for sample in (0, 5):
        one = net.inspect(trace.probe_x[sample : sample + 1], trace.probe_labels[sample : sample + 1])
        for layer in range(1, trace.n_layers):
            st = chain_story(trace, sample, step, layer)
            assert st.gradient == pytest.approx(float(one.dW[layer - 1][st.unit, st.source]), rel=1e-4, abs=1e-8)


@pytest.mark.parametrize("name", list(RUNS))
def test_the_three_levers_are_real_numbers(name, traces):
    trace = traces[name]
    for st in stories(trace):
        (b, dz_db, dl_db), (w, dz_dw, dl_dw), (a, dz_da, dl_da) = st.levers
        assert (b, w, a) == ("b", "w", "a_prev")
        assert (dz_db, dz_dw, dz_da) == (1.0, st.a_prev, st.w)  # how z^l_j moves with each
        assert dl_db == st.delta == pytest.approx(float(trace.probe_record(st.step).delta[st.layer - 1][st.sample,
                                                                                                        st.unit]))
        assert dl_dw == st.delta * st.a_prev == pytest.approx(st.dW_entry, rel=1e-6)
        assert dl_da == st.delta * st.w
    # the third lever is one term of d loss / d a^{l-1}_k = sum_j W_jk delta_j: the other units' terms complete it
    trace = traces[name]
    step, sample = int(trace.snapshot_steps[-1]), 3
    rec, (W, _) = trace.probe_record(step), trace.weights(step)[0]
    through = [chain_story(trace, sample, step, 1, j) for j in range(W.shape[0])]
    k = through[0].source
    assert all(st.source == k for st in through)
    total = sum(st.levers[2][2] for st in through)
    assert total == pytest.approx(float(W[:, k] @ rec.delta[0][sample]), rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("name", list(RUNS))
def test_the_formulas_are_the_runs(name, traces):
    trace = traces[name]
    for st in stories(trace):
        f = formulas_of(trace, st.step)
        hidden = trace.run.activations[st.layer - 1]
        assert st.f_prime_tex == ACTIVATIONS[hidden].derivative_tex  # this run's f', not another's
        assert st.digit_gradient_tex == f.digit_weight_gradient
        if st.layer + 1 == trace.n_layers:
            assert st.next_delta_tex == f.output_delta
        else:
            assert st.next_delta_tex == f.backward
    # a scalar f'(z^L) appears only for an element-wise output (sigmoid with mse); softmax's delta is a Jacobian's
    out, loss = trace.run.activations[-1], trace.run.loss
    delta_L = formulas_of(trace, 0).output_delta
    assert ("f'(z^{L})" in delta_L) == (out == "sigmoid" and loss == "mse"), delta_L
    if out == "softmax":
        assert "f'(z^{L})" not in delta_L and r"\sigma" not in delta_L


def test_the_biggest_path_and_its_honest_share(traces):
    for st in stories(traces["leaky_ce_sigmoid_rmsprop"]):
        i = st.biggest
        assert abs(st.terms[i]) == np.abs(st.terms).max()
        assert st.share == pytest.approx(abs(st.terms[i]) / np.abs(st.terms).sum())
        assert 0 <= st.share <= 1


def test_a_network_without_hidden_layer_gets_one_line(tmp_path, monkeypatch, media):
    from explainer.scenes.chain_rule import ChainRule

    with TraceRecorder(tmp_path / "flat.zarr", schedule="every:10", n_probe=10) as recorder:
        run(Experiment.preset("digits", hidden=(), epochs=1), recorder=recorder, progress=False)
    trace = open_trace(tmp_path / "flat.zarr")
    why = cannot_show(trace)
    assert why.startswith("No hidden layer, so no chain to follow")
    with pytest.raises(ValueError, match="No hidden layer"):
        chain_story(trace, 0, 0)
    shots = phases(ChainRule, monkeypatch, media, EXPLAINER_TRACE=trace.path)
    said = [what for shot in shots for what, _ in texts(shot.mobjects)]
    assert said == [why, why]  # one line: at its only pause and at the end
    assert why in shots[0].notes and len(shots[0].notes) >= 60  # its slide has notes too
    assert not small_texts(shots[0].mobjects) and not cut_off(shots[0].mobjects)


def test_bad_layer_or_unit_stops_in_one_line(traces, monkeypatch, capsys):
    from explainer.scenes.chain_rule import chosen_weight

    trace = traces["leaky_ce_sigmoid_rmsprop"]  # 64-7-5-10
    for layer, unit, message in (
        ("3", "", "EXPLAINER_LAYER must be a hidden layer: a whole number from 1 to 2; got '3'"),
        ("0", "", "EXPLAINER_LAYER must be a hidden layer: a whole number from 1 to 2; got '0'"),
        ("2", "5", "EXPLAINER_UNIT must be a unit of layer 2: a whole number from 0 to 4; got '5'"),
        ("", "x", "EXPLAINER_UNIT must be a unit of layer 1: a whole number from 0 to 6; got 'x'"),
    ):
        monkeypatch.setenv("EXPLAINER_LAYER", layer)
        monkeypatch.setenv("EXPLAINER_UNIT", unit)
        with pytest.raises(SystemExit) as stop:
            chosen_weight(trace)
        assert stop.value.code == 2
        assert capsys.readouterr().err.strip() == f"explainer: error: {message}"
    monkeypatch.setenv("EXPLAINER_LAYER", "2")
    monkeypatch.setenv("EXPLAINER_UNIT", "4")
    assert chosen_weight(trace) == (2, 4)


@pytest.mark.parametrize("name, layer", [("sigmoid_mse_sigmoid_sgd", ""), ("relu_ce_adam", ""),
                                         ("leaky_ce_sigmoid_rmsprop", "2")])
def test_every_phase_is_legible_and_writes_the_runs_formulas_and_numbers(name, layer, traces, monkeypatch, media):
    from explainer.scenes.chain_rule import ChainRule

    trace = traces[name]
    shots = phases(ChainRule, monkeypatch, media, EXPLAINER_TRACE=trace.path, EXPLAINER_SAMPLE=4,
                   EXPLAINER_LAYER=layer, EXPLAINER_UNIT="")
    assert [s.name for s in shots] == ["phase 1", "phase 2", "phase 3", "phase 4", "phase 5", "end"]
    for shot in shots:
        assert not small_texts(shot.mobjects), shot.name
        assert not cut_off(shot.mobjects), shot.name
    said = [[what for what, _ in texts(shot.mobjects)] for shot in shots]
    everything = [t for phase in said for t in phase]
    st = chain_story(trace, 4, default_step(trace), int(layer or 1))
    assert any("W δ > 0" in t for t in said[0]) and any("W δ < 0" in t for t in said[0])  # the colours' legend
    assert any(st.f_prime_tex in t for t in said[1])  # the run's f'
    others = {e.derivative_tex for e in ACTIVATIONS.values() if len(e.derivative_tex) > 3} - {st.f_prime_tex}
    allowed = st.next_delta_tex  # mse + sigmoid writes the output's own f' there
    assert not [o for o in others for t in everything if o in t and o not in allowed]
    assert any(f"f'({number_tex(st.z)}) = {number_tex(st.f_prime)}" in t for t in said[1])
    assert any(st.next_delta_tex in t for t in said[2])  # how the next layer's delta was made
    assert any(f"= {number_tex(st.dl_da)}" in t for t in said[2])
    assert any(f"{st.share:.0%}" in t for t in said[2])
    assert any(f"= {number_tex(st.gradient)}" in t for t in said[3])
    assert any("the recorded delta" in t for t in said[3])
    assert any(number_text(st.delta) in t or t == number_tex(st.delta, 4) for t in said[3])
    table = [t for t in said[4] if "array" in t]
    assert len(table) == 1 and number_tex(st.delta * st.w) in table[0] and number_tex(st.w) in table[0]
    # a scalar f'(z^L) is written only where the output is element-wise (sigmoid): softmax's delta has none
    scalar_output_derivative = any("f'(z^{L})" in t for t in everything)
    assert scalar_output_derivative == (trace.run.activations[-1] == "sigmoid" and trace.run.loss == "mse"
                                        and st.layer + 1 == trace.n_layers)


def test_numbers_on_screen():
    assert number_tex(0.034512) == "0.0345"
    assert number_tex(-1.23456) == "-1.23"
    assert number_tex(-0.000021) == r"-2.1 \times 10^{-5}"
    assert number_tex(123456.0) == r"1.23 \times 10^{5}"
    assert number_tex(0.0) == "0" and number_tex(1.0) == "1"
    assert number_text(-0.24461) == "-0.2446" and number_text(-7.0617e-05) == "-7.062×10⁻⁵"


def test_a_tiny_number_in_a_sentence_gets_a_legible_power_of_ten():
    from explainer.scenes.chain_rule import said

    plain = said("recorded: ", -0.24461)
    assert plain.original_text == "recorded: -0.2446"
    tiny = said("recorded: ", -7.0617e-05)  # the text's own superscript would be under 12 px at 480p
    assert [what for what, _ in texts([tiny])] == ["recorded: ", r"-7.062 \times 10^{-5}"]
    assert not small_texts([tiny])


def plain(tex):
    r"""A number as ``number_tex`` writes it on screen, in the notes' plain text: ``-2.1 \times 10^{-5}`` is
    ``-2.1×10⁻⁵``."""
    if r"\times" not in tex:
        return tex
    mantissa, exponent = tex.removesuffix("}").split(r" \times 10^{")
    return mantissa + "×10" + exponent.translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def factor(v):
    """A factor of a product as the screen writes it: a negative one in parentheses."""
    return f"({plain(number_tex(v))})" if v < 0 else plain(number_tex(v))


def test_plain_numbers_are_the_screens():
    assert plain(number_tex(-0.000021)) == "-2.1×10⁻⁵" and plain(number_tex(0.034512)) == "0.0345"
    assert factor(-1.23456) == "(-1.23)" and factor(2.0) == "2"


def check_notes(shots):
    """Every phase's notes: a few plain sentences, Markdown without LaTeX or emphasis; the end is no slide."""
    for shot in shots[:-1]:
        assert len(shot.notes) >= 60, (shot.name, shot.notes)
        assert len(shot.notes) <= 700, (shot.name, len(shot.notes))  # a few sentences, not a page
        assert not any(c in shot.notes for c in "\\_*`"), (shot.name, shot.notes)
        assert not any(line.lstrip().startswith("#") for line in shot.notes.splitlines()), shot.name
    assert shots[-1].name == "end" and shots[-1].notes == ""


@pytest.mark.parametrize("name, layer", [("relu_ce_adam", ""), ("leaky_ce_sigmoid_rmsprop", "2")])
def test_every_phase_has_notes_with_its_numbers_as_on_screen(name, layer, traces, monkeypatch, media):
    """The notes say each phase's numbers as the screen writes them (3 significant digits, 4 for the recorded
    delta and dW entry): the factors, and their product equal to the digit's dW entry."""
    from explainer.scenes.chain_rule import ChainRule

    trace = traces[name]
    shots = phases(ChainRule, monkeypatch, media, EXPLAINER_TRACE=trace.path, EXPLAINER_SAMPLE=4,
                   EXPLAINER_LAYER=layer, EXPLAINER_UNIT="")
    check_notes(shots)
    notes = [shot.notes for shot in shots[:-1]]
    st = chain_story(trace, 4, default_step(trace), int(layer or 1))
    n, j, k = "¹²"[st.layer - 1], "₀₁₂₃₄₅₆₇₈₉"[st.unit], st.source
    assert f"probe digit 4 (a {st.label}" in notes[0] and f"step {st.step}" in notes[0]
    assert f"= {plain(number_tex(st.w))} joins" in notes[0] and f"W{n}{j}," in notes[0]
    assert ("pixel" if st.layer == 1 else f"unit {k} of layer 1") in notes[0]
    assert f"= {plain(number_tex(st.a_prev))} and f′(z{n}{j}) = f′({plain(number_tex(st.z))}) = " \
           f"{plain(number_tex(st.f_prime))}" in notes[1]
    assert f"here it is {plain(number_tex(st.dl_da))}" in notes[2] and f"{st.share:.0%}" in notes[2]
    assert f"{factor(st.W_next[st.biggest])} × {factor(st.delta_next[st.biggest])}" in notes[2]
    # the factors, and their product: the digit's dW entry as recorded
    assert f"{factor(st.f_prime)} × {factor(st.dl_da)} = {plain(number_tex(st.f_prime * st.dl_da))}" in notes[3]
    assert f"recorded as {number_text(st.delta)}" in notes[3]
    assert f"{factor(st.a_prev)} × {factor(st.delta)} = {plain(number_tex(st.gradient))}" in notes[3]
    assert f"dW entry, recorded as {number_text(st.dW_entry)}" in notes[3]
    assert st.gradient == pytest.approx(st.dW_entry, rel=1e-4, abs=1e-8)
    (_, _, dl_db), (_, dz_dw, dl_dw), (_, dz_da, dl_da) = st.levers
    for said in (f"∂ℓ/∂b = {plain(number_tex(dl_db))}", f"∂z/∂w = {plain(number_tex(dz_dw))}",
                 f"∂ℓ/∂w = {plain(number_tex(dl_dw))}", f"w = {plain(number_tex(dz_da))}",
                 f"∂ℓ/∂a = {plain(number_tex(dl_da))}"):
        assert said in notes[4], (said, notes[4])
    assert ("gradient stops here" in notes[4]) == (st.layer == 1)
