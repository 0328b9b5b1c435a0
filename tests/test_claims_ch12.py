"""Chapter 12, the gates at work (C22): the data, and gates that track the events that matter."""

import numpy as np
import pytest
import torch

from lstm_lessons.experiments import char_language as cl
from lstm_lessons.experiments import motifs as mo
from lstm_lessons.experiments import regimes as rg
from lstm_lessons.training.applied_tasks import (
    MOTIF,
    CharVocab,
    char_batches,
    load_text,
    planted_motif,
    regime_returns,
)


def test_regime_returns_follow_their_regime():
    x, regime, changes = regime_returns(64, 500, rng=1)
    assert x.shape == (500, 64, 1) and regime.shape == changes.shape == (500, 64)
    switched = regime[1:] != regime[:-1]
    np.testing.assert_array_equal(switched, changes[1:])
    calm, volatile = x[..., 0][regime == 0], x[..., 0][regime == 1]
    assert calm.std() == pytest.approx(0.5, rel=0.05)
    assert volatile.std() == pytest.approx(2.0, rel=0.05)
    np.testing.assert_array_equal(regime_returns(3, 20, rng=5)[0], regime_returns(3, 20, rng=5)[0])


def test_planted_motif_is_where_it_says():
    x, y, start = planted_motif(200, 40, rng=2)
    bases = x.argmax(axis=2)
    assert set(np.unique(x.sum(axis=2))) == {1.0}
    for n in np.flatnonzero(y):
        planted = "".join("ACGT"[b] for b in bases[start[n] : start[n] + len(MOTIF), n])
        assert planted == MOTIF
    assert np.all(start[y == 0] == -1)
    # With mutation rate 1 every base of the motif differs from TATAAT.
    x, y, start = planted_motif(50, 40, mutation_rate=1.0, rng=3)
    for n in np.flatnonzero(y):
        planted = x[start[n] : start[n] + len(MOTIF), n].argmax(axis=1)
        assert all("ACGT"[b] != m for b, m in zip(planted, MOTIF, strict=True))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: planted_motif(4, 3), "T"),
        (lambda: planted_motif(4, 20, motif="TAXA"), "motif"),
        (lambda: planted_motif(4, 20, mutation_rate=1.5), "mutation_rate"),
        (lambda: regime_returns(4, 20, p_switch=-0.1), "p_switch"),
        (lambda: regime_returns(4, 20, sigmas=(1.0, 0.0)), "sigmas"),
        (lambda: CharVocab("ab").encode("abc"), "not in the vocabulary"),
        (lambda: char_batches(np.arange(5), 2, 10), "codes"),
        (lambda: cl.colour_text("abc", [1.0, 2.0]), "values"),
        (lambda: cl.sample(None, CharVocab("ab"), "a", 3, temperature=0), "temperature"),
    ],
)
def test_bad_input_says_what_was_expected(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_the_shipped_text_and_its_vocabulary():
    text = load_text()
    assert 100_000 < len(text) < 300_000
    assert text.startswith("1:1 In the beginning God created the heaven and the earth.")
    vocab = CharVocab(text)
    assert vocab.decode(vocab.encode(text[:500])) == text[:500]
    x, y = char_batches(vocab.encode(text), 4, 16, rng=0)
    np.testing.assert_array_equal(x[1:], y[:-1])


def test_text_features_by_hand():
    f = cl.text_features("12:3 Ab (c)\nd e")
    np.testing.assert_array_equal(f["line position"], [*range(12), 0, 1, 2])
    np.testing.assert_array_equal(f["verse number"][:6], [1, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(f["inside brackets"][8:11], [1, 1, 1])
    assert f["inside brackets"][12] == 0
    np.testing.assert_array_equal(f["inside a word"][5:8], [1, 1, 0])


def test_colour_text_escapes_and_colours():
    page = cl.colour_text("<a>\n", np.array([-1.0, 0.0, 1.0, 0.5]))
    assert "&lt;" in page and "&gt;" in page and "<br>" in page
    assert page.count("<span") == 4
    from matplotlib import colormaps, colors

    cm = colormaps["RdBu_r"]
    assert f"background:{colors.to_hex(cm(0.5))}" in page  # white-ish for 0
    assert f"background:{colors.to_hex(cm(0.5 + cl.REACH))}" in page  # +1, the largest
    assert f"background:{colors.to_hex(cm(0.5 - cl.REACH))}" in page  # -1


def test_unit_search_finds_a_planted_unit():
    rng = np.random.default_rng(0)
    feature = rng.random(500)
    states = rng.standard_normal((500, 6))
    states[:, 4] = -3 * feature + 0.01 * rng.standard_normal(500)
    best, table = cl.unit_search(states, {"planted": feature, "flat": np.ones(500)})
    assert best["planted"][0] == 4 and best["planted"][1] < -0.99
    assert table.shape == (2, 6) and np.all(table[1] == 0)


def test_c22_regime_gates_track_the_regime():
    """C22, finance: the LSTM matches a rolling-volatility rule; its gates follow the regime."""
    model, _ = rg.train_regime_model(T=150, steps=150, seed=0)
    x, regime, changes = rg.held_out(n=128, T=300)
    prob = rg.predict(model, x)
    accuracy = rg.regime_accuracy(prob, regime)
    baseline, _, _ = rg.rolling_baseline(x, regime)
    assert accuracy > 0.85
    assert accuracy > baseline - 0.02
    _, _, cache = model.run_numpy(x)
    track = rg.gate_tracking(cache, regime, changes)
    assert max(np.abs(track["corr"][k]).max() for k in "if") > 0.3
    assert track["n_events"]["up"] > 100 and track["n_events"]["down"] > 100


def test_c22_motif_input_gate_opens_on_the_motif():
    """C22, biology: the unit that holds "motif seen" writes it when the motif passes."""
    model, _ = mo.train_motif_model(steps=300, seed=0)
    assert mo.motif_accuracy(model, mutation_rate=0.0, n=512) > 0.75
    x, y, start = planted_motif(512, 60, rng=mo.HELD_OUT_SEED)
    corr, cs, cache = mo.holding_units(model, x, y)
    unit = int(np.argmax(np.abs(corr)))
    assert abs(corr[unit]) > 0.5
    aligned = mo.aligned_gates(cache, cs, start)
    offsets, i = aligned["offsets"], aligned["i"][:, unit]
    on_motif = i[(offsets >= 0) & (offsets < len(MOTIF))].max()
    assert on_motif > 2 * np.median(i[offsets < 0])
    c = aligned["c"][:, unit]
    # The write holds: after the motif the cell state stays near its new value.
    assert abs(c[-1] - c[0]) > 0.5 and abs(c[-1] - c[offsets == len(MOTIF) + 2][0]) < abs(
        c[-1] - c[0]
    )


def test_c22_shipped_char_lstm_has_interpretable_units():
    """C22, language: in the shipped weights, units follow word boundaries and verse labels."""
    model, vocab = cl.load_weights()
    passage = load_text()[-5000:]
    cs, _, _ = cl.cell_states(model, vocab, passage)
    best, table = cl.unit_search(cs, cl.text_features(passage))
    assert abs(best["inside a word"][1]) > 0.5
    assert abs(best["verse number"][1]) > 0.45
    # ... and most units follow none of these properties closely.
    assert (np.abs(table).max(axis=0) < 0.5).mean() > 0.5
    assert cl.held_out_loss(model, vocab, length=5000) < 2.6  # bits per character


def test_c22_reduced_char_training_finds_a_verse_label_unit():
    """C22, language: a short retraining (as the script, smaller) again grows a named unit."""
    model, vocab, losses = cl.train_char_lstm(
        hidden_size=32, steps=300, batch_size=16, T=64, lr=1e-2
    )
    assert losses[-20:].mean() < 0.75 * losses[:20].mean()
    passage = load_text()[-5000:]
    cs, _, _ = cl.cell_states(model, vocab, passage)
    best, _ = cl.unit_search(cs, cl.text_features(passage))
    assert abs(best["verse number"][1]) > 0.45


def test_sampling_is_seeded_and_temperature_matters():
    model, vocab = cl.load_weights()
    a = cl.sample(model, vocab, "1:1 ", 60, 0.5, seed=3)
    assert a == cl.sample(model, vocab, "1:1 ", 60, 0.5, seed=3)
    assert a.startswith("1:1 ") and len(a) == 64
    cold = cl.sample(model, vocab, "1:1 ", 300, 0.2, seed=3)
    hot = cl.sample(model, vocab, "1:1 ", 300, 2.0, seed=3)
    assert len(set(cold)) < len(set(hot))


def test_weights_survive_a_save_and_load(tmp_path):
    model, vocab = cl.load_weights()
    cl.save_weights(model, vocab, tmp_path / "w.npz")
    again, vocab_again = cl.load_weights(tmp_path / "w.npz")
    assert vocab_again.chars == vocab.chars
    for (k, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
