"""A character-level LSTM on a public-domain text, and a search for units that mean something.

Shapes: T steps, N sequences, V characters in the vocabulary, H hidden size.

The network reads one character at a time (one-hot, V channels) and predicts
the next one (V logits): a ``SequenceModel(V, H, V, readout="all")``. Trained
on Genesis (King James Version, 1769 standard text, shipped in
``lstm_lessons/data``), it learns spelling, words and the layout of the text.
Karpathy, Johnson & Fei-Fei (2015) looked at single cells of such networks and
found some that track something a reader can name: the position in a line,
being inside quotes or brackets. :func:`text_features` names a few such things
for this text and :func:`unit_search` finds, for each, the unit whose cell
state follows it best.

A unit that follows a property is only remarkable if two controls do not
follow it as well: an untrained network of the same shape (random weights
already mix the recent characters) and the current character itself (a
property such as "inside a word" is a function of the character just read,
which any unit driven by the input repeats). :func:`per_character_fit` is
the best function of the current character (the mean of a value over each
character), :func:`residual_correlations` what is left after removing it from
both sides, and :func:`controlled_search` puts the trained units beside both
controls; :func:`is_memory_unit` applies the margin :data:`MARGIN` fixed
before the search.

- :func:`train_char_lstm`, :func:`save_weights`, :func:`load_weights`: train,
  and keep the weights in a small ``.npz`` (``scripts/train_char_lstm.py``
  writes the one the book uses).
- :func:`sample`: generate text at a temperature.
- :func:`cell_states`: run the trained weights through the NumPy cell.
- :func:`text_features`, :func:`unit_search`: the search over units;
  :func:`per_character_fit`, :func:`residual_correlations`,
  :func:`controlled_search`, :func:`is_memory_unit`: the controls.
- :func:`line_lengths`: the length of every line, to compare samples with the text.
- :func:`colour_text`: text as HTML, each character on the colour of a unit's value.
"""

import html
import os
from importlib import resources

import numpy as np
import torch
from matplotlib import colormaps, colors
from torch import nn

from ..cells.validation import check_int
from ..training.applied_tasks import CharVocab, char_batches, load_text
from ..training.harness import batch_seed
from ..training.model import SequenceModel

#: The trained weights, a file in lstm_lessons/data/.
WEIGHTS_FILE = "char_lstm.npz"
#: How much a unit must beat each control by, in correlation, to count as a memory unit.
MARGIN = 0.2
REACH = 0.38  # colour_text uses the colour map from 0.5 - REACH to 0.5 + REACH


def char_model(vocab_size, hidden_size=48, seed=0):
    """An untrained next-character model: ``SequenceModel(V, H, V, readout="all")``."""
    check_int("vocab_size", vocab_size, 2)
    check_int("hidden_size", hidden_size, 1)
    return SequenceModel(
        vocab_size, hidden_size, vocab_size, readout="all", forget_bias=1.0, seed=seed
    )


def _one_hot(codes, V):
    return torch.nn.functional.one_hot(torch.as_tensor(codes), V).float()  # (T, N, V)


def train_char_lstm(
    text=None,
    *,
    hidden_size=48,
    steps=1500,
    batch_size=32,
    T=100,
    lr=5e-3,
    clip=1.0,
    seed=0,
    held_out=0.1,
):
    """Train :func:`char_model` on ``text`` (default: the shipped text).

    Returns the model, its :class:`CharVocab` and the losses.

    Adam on the cross-entropy of the next character, on random windows of
    ``T`` characters from the first ``1 - held_out`` of the text, one thread.
    ``losses`` holds the training loss of every step, in nats per character.
    """
    text = load_text() if text is None else text
    vocab = CharVocab(text)
    codes = vocab.encode(text)
    train_codes = codes[: int(len(codes) * (1 - held_out))]
    model = char_model(len(vocab), hidden_size, seed)
    torch.manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for step in range(steps):
            x, y = char_batches(train_codes, batch_size, T, rng=batch_seed(seed, step))
            logits = model(_one_hot(x, len(vocab)))  # (T, N, V)
            loss = nn.functional.cross_entropy(
                logits.reshape(-1, len(vocab)), torch.as_tensor(y).reshape(-1)
            )
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimiser.step()
            losses.append(loss.item())
    finally:
        torch.set_num_threads(threads)
    return model, vocab, np.array(losses)


@torch.no_grad()
def held_out_loss(model, vocab, text=None, held_out=0.1, length=20_000):
    """Cross-entropy in bits per character on ``length`` characters of the held-out tail."""
    text = load_text() if text is None else text
    codes = vocab.encode(text)[-int(len(text) * held_out) :][:length]
    logits = model(_one_hot(codes[:-1, None], len(vocab)))[:, 0]
    nats = nn.functional.cross_entropy(logits, torch.as_tensor(codes[1:]))
    return float(nats) / np.log(2)


def save_weights(model, vocab, path):
    """Write the model's parameters (float32) and vocabulary to an ``.npz`` file."""
    arrays = {k: v.numpy().astype(np.float32) for k, v in model.state_dict().items()}
    np.savez_compressed(path, chars=np.array(vocab.chars), **arrays)


def load_weights(path=None):
    """The model and vocabulary of :func:`save_weights`; default: the weights the book ships."""
    if path is None:
        path = resources.files("lstm_lessons").joinpath("data", WEIGHTS_FILE)
    with open(path, "rb") if isinstance(path, (str, os.PathLike)) else path.open("rb") as f:
        data = dict(np.load(f))
    vocab = CharVocab("".join(str(c) for c in data.pop("chars")))
    model = char_model(len(vocab), data["rnn.weight_hh_l0"].shape[1])
    model.load_state_dict({k: torch.as_tensor(v) for k, v in data.items()})
    return model, vocab


@torch.no_grad()
def sample(model, vocab, prefix, length, temperature=1.0, seed=0):
    """``prefix`` followed by ``length`` characters drawn from the model at ``temperature``.

    The logits are divided by the temperature before the softmax: below 1 the
    likeliest characters win more often (safer, more repetitive text), above 1
    the choice is closer to uniform (more varied, more misspelt).
    """
    check_int("length", length, 0)
    if not temperature > 0:
        raise ValueError(f"temperature: expected a positive number, got {temperature!r}")
    generator = torch.Generator().manual_seed(seed)
    V = len(vocab)
    out, state = list(prefix), None
    x = _one_hot(vocab.encode(prefix)[:, None], V)
    for _ in range(length):
        hs, state = model.rnn(x, state)
        probs = torch.softmax(model.readout(hs[-1, 0]) / temperature, dim=-1)
        code = int(torch.multinomial(probs, 1, generator=generator))
        out.append(vocab.chars[code])
        x = _one_hot(np.array([[code]]), V)
    return "".join(out)


def cell_states(model, vocab, text):
    """Run ``text`` through the NumPy cell: cell states c (T, H), hidden states h (T, H), cache.

    Row t holds the states after reading character t.
    """
    x = _one_hot(vocab.encode(text)[:, None], len(vocab)).numpy()
    hs, cs, cache = model.run_numpy(x)
    return cs[:, 0], hs[:, 0], cache


def text_features(text):
    """Named properties of every character of ``text``, each an array of shape (T,).

    - ``line position``: characters since the last newline (0 on the first
      character of a line);
    - ``inside a word``: 1 on letters and apostrophes, 0 elsewhere;
    - ``verse number``: 1 on the ``chapter:verse`` label that opens a verse;
    - ``inside brackets``: 1 between ``(`` and ``)``;
    - ``verse position``: characters since the verse's label began (0 on its
      first digit), and ``log verse position``, log(1 + that);
    - ``word position``: letters since the word began (0 on its first letter
      and off words).
    """
    T = len(text)
    line_pos = np.zeros(T)
    in_word = np.array([ch.isalpha() or ch == "'" for ch in text], dtype=float)
    label = np.zeros(T)
    brackets = np.zeros(T)
    verse_pos = np.zeros(T)
    word_pos = np.zeros(T)
    pos, depth, in_label, since_label, since_word = 0, 0, False, 0, 0
    for t, ch in enumerate(text):
        line_pos[t] = pos
        pos = 0 if ch == "\n" else pos + 1
        word_pos[t] = since_word if in_word[t] else 0
        since_word = since_word + 1 if in_word[t] else 0
        depth += ch == "("
        brackets[t] = depth > 0
        depth -= ch == ")" and depth > 0
        # A label starts with a digit at a line start and runs to the space after it.
        if ch.isdigit() and (t == 0 or text[t - 1] == "\n"):
            in_label, since_label = True, 0
        if in_label and ch == " ":
            in_label = False
        label[t] = in_label
        verse_pos[t] = since_label
        since_label += 1
    return {
        "line position": line_pos,
        "inside a word": in_word,
        "verse number": label,
        "inside brackets": brackets,
        "verse position": verse_pos,
        "log verse position": np.log1p(verse_pos),
        "word position": word_pos,
    }


def unit_search(states, features):
    """For each feature, the unit whose state correlates best with it.

    ``states`` (T, H); ``features`` maps names to arrays (T,). Returns a dict
    name -> (unit, r), with r the Pearson correlation (its sign says which
    way the unit encodes the feature), and a (features, H) array of every
    correlation. A feature that never varies gets r = 0.
    """
    states = np.asarray(states, dtype=float)
    z = (states - states.mean(0)) / (states.std(0) + 1e-12)
    table, best = [], {}
    for name, f in features.items():
        f = np.asarray(f, dtype=float)
        if f.shape != (len(states),):
            raise ValueError(f"features[{name!r}]: expected shape ({len(states)},), got {f.shape}")
        r = np.zeros(states.shape[1]) if f.std() == 0 else z.T @ ((f - f.mean()) / f.std()) / len(f)
        unit = int(np.argmax(np.abs(r)))
        best[name] = (unit, float(r[unit]))
        table.append(r)
    return best, np.array(table)


def _correlations(a, b):
    """Pearson correlation of every column of ``a`` (T, H) with ``b`` (T,); 0 where one is flat."""
    a = a - a.mean(0)
    b = b - b.mean()
    scale = np.sqrt((a * a).sum(0) * (b @ b))
    return np.divide(a.T @ b, scale, out=np.zeros(a.shape[1]), where=scale > 0)


def per_character_fit(codes, values):
    """The best function of the current character: each value replaced by its mean over the
    steps that read the same character (least squares), same shape as ``values`` (T, ...)."""
    codes = np.asarray(codes)
    values = np.asarray(values, dtype=float)
    if codes.ndim != 1 or values.shape[:1] != codes.shape:
        raise ValueError(
            f"codes, values: expected codes (T,) and values (T, ...), got {codes.shape}, "
            f"{values.shape}"
        )
    flat = values.reshape(len(codes), -1)
    kinds, index = np.unique(codes, return_inverse=True)
    sums = np.zeros((len(kinds), flat.shape[1]))
    np.add.at(sums, index, flat)
    means = sums / np.bincount(index)[:, None]
    return means[index].reshape(values.shape)


def residual_correlations(states, features, codes):
    """(features, H): each unit's correlation with each feature once the best function of the
    current character is removed from both: what a unit knows beyond the character just read."""
    states = np.asarray(states, dtype=float)
    rest = states - per_character_fit(codes, states)
    return np.array(
        [_correlations(rest, f - per_character_fit(codes, f)) for f in features.values()]
    )


def controlled_search(states, features, codes, controls):
    """The best unit for each feature, beside the two controls.

    ``states`` (T, H) are the trained network's cell states over the text
    whose character codes are ``codes`` (T,); ``controls`` is a list of
    (T, H) cell states of untrained networks of the same shape. Returns a dict
    name -> row, with ``unit`` and ``r`` (as :func:`unit_search`), ``residual``
    (that unit's correlation beyond the current character), ``lookup`` (the
    correlation of the best function of the current character with the
    feature), and ``untrained`` / ``untrained_residual``: the largest ``abs(r)`` and
    ``abs(residual)`` of any unit of any control network.
    """
    best, _ = unit_search(states, features)
    residual = residual_correlations(states, features, codes)
    control_r = [np.abs(unit_search(c, features)[1]).max(axis=1) for c in controls]
    control_res = [np.abs(residual_correlations(c, features, codes)).max(axis=1) for c in controls]
    rows = {}
    for k, (name, f) in enumerate(features.items()):
        unit, r = best[name]
        fit = per_character_fit(codes, f)
        rows[name] = {
            "unit": unit,
            "r": r,
            "residual": float(residual[k, unit]),
            "lookup": float(_correlations(fit[:, None], np.asarray(f, dtype=float))[0]),
            "untrained": float(max(c[k] for c in control_r)),
            "untrained_residual": float(max(c[k] for c in control_res)),
        }
    return rows


def is_memory_unit(row, margin=MARGIN):
    """Whether a row of :func:`controlled_search` beats both controls by ``margin``.

    Its ``abs(r)`` must exceed the untrained networks' best ``abs(r)`` and the current
    character's (``lookup``) by ``margin``, and its residual correlation must
    exceed the untrained networks' best residual by ``margin``.
    """
    r, res = abs(row["r"]), abs(row["residual"])
    return bool(
        r >= row["untrained"] + margin
        and r >= abs(row["lookup"]) + margin
        and res >= row["untrained_residual"] + margin
    )


def line_lengths(text):
    """The number of characters of every line of ``text``, as an array."""
    return np.array([len(line) for line in text.split("\n")])


def colour_text(text, values, vmax=None, cmap="RdBu_r"):
    """``text`` as HTML, each character on a background coloured by its value.

    The colour map is diverging and colour-blind safe (ColorBrewer RdBu):
    blue for negative, white for 0, red for positive, ``vmax`` (default: the
    largest absolute value) at the strongest colour used. Only the inner
    ``2 * REACH`` of the map is used, so that black text stays readable on the
    strongest colours. Newlines are kept as line breaks.
    """
    values = np.asarray(values, dtype=float)
    if values.shape != (len(text),):
        raise ValueError(f"values: expected shape ({len(text)},), got {values.shape}")
    if vmax is None:
        vmax = float(np.max(np.abs(values))) or 1.0
    position = 0.5 + REACH * np.clip(values / vmax, -1.0, 1.0)
    cm = colormaps[cmap]
    spans = []
    for ch, v, p in zip(text, values, position, strict=True):
        shown = "&#x21b5;<br>" if ch == "\n" else ("&nbsp;" if ch == " " else html.escape(ch))
        spans.append(
            f'<span style="background:{colors.to_hex(cm(p))}" title="{v:+.2f}">{shown}</span>'
        )
    return (
        '<div style="font-family:monospace;font-size:13px;line-height:1.6;'
        'color:#000;white-space:normal">' + "".join(spans) + "</div>"
    )
