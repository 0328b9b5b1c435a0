"""Input checks for the public functions: each error says what was expected and what came.

The cells themselves use ``assert`` only for internal invariants; everything a
reader can get wrong (a shape, a dtype, a NaN, a misspelt variant) is caught
here, at the boundary, as ``TypeError`` or ``ValueError``.
"""

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)


def check_array(name, a, shape_letters, dtype=None):
    """Check that ``a`` is a finite float32/float64 ndarray with the named rank.

    ``shape_letters`` names the axes, e.g. ``"TND"``; the error messages use it
    so that a reader sees ``expected (T, N, D)``. Returns the shape.
    """
    expected = "(" + ", ".join(shape_letters) + ")"
    if not isinstance(a, np.ndarray):
        raise TypeError(
            f"{name}: expected a NumPy array of shape {expected}, got {type(a).__name__}"
        )
    if a.dtype.type not in FLOAT_DTYPES:
        raise TypeError(f"{name}: expected dtype float32 or float64, got {a.dtype}")
    if dtype is not None and a.dtype != dtype:
        raise TypeError(
            f"{name}: expected dtype {np.dtype(dtype)} to match the other inputs, got {a.dtype}"
        )
    if a.ndim != len(shape_letters):
        raise ValueError(
            f"{name}: expected a {len(shape_letters)}-D array of shape {expected}, "
            f"got {a.ndim}-D with shape {a.shape}"
        )
    if not np.isfinite(a).all():
        where = tuple(int(k) for k in np.argwhere(~np.isfinite(a))[0])
        raise ValueError(f"{name}: expected finite values, got {a[where]} at index {where}")
    return a.shape


def check_shape(name, a, expected, letters):
    """Check that ``a.shape == expected``; ``letters`` spells the axes, e.g. ``"NH"``."""
    if tuple(a.shape) != tuple(expected):
        named = ", ".join(f"{k}={n}" for k, n in zip(letters, expected, strict=True))
        raise ValueError(f"{name}: expected shape {tuple(expected)} ({named}), got {a.shape}")


def check_params(params, expected_shapes, dtype):
    """Check a parameter dict against ``{name: (shape, letters)}``: keys, shapes, dtypes.

    Extra keys are an error too: a peephole vector handed to a cell without
    peepholes would otherwise be ignored in silence.
    """
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict of arrays, got {type(params).__name__}")
    missing = sorted(set(expected_shapes) - set(params))
    extra = sorted(set(params) - set(expected_shapes))
    if missing or extra:
        raise ValueError(
            f"params: expected keys {sorted(expected_shapes)}, "
            f"missing {missing}, unexpected {extra}"
        )
    for key, (shape, letters) in expected_shapes.items():
        check_array(f"params[{key!r}]", params[key], letters, dtype)
        check_shape(f"params[{key!r}]", params[key], shape, letters)


def check_int(name, value, low=1, high=None):
    """Check that ``value`` is an integer of at least ``low`` (and at most ``high``).

    A bool is refused although Python counts it as an int: ``steps=True``
    is a mistake, not one step. NumPy integers are accepted. Returns ``value``
    as a Python int.
    """
    if high is None:
        expected = "a positive integer" if low == 1 else f"an integer >= {low}"
    else:
        expected = f"an integer between {low} and {high}"
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected {expected}, got {value!r}, a bool")
    too_high = high is not None and isinstance(value, (int, np.integer)) and value > high
    if not isinstance(value, (int, np.integer)) or value < low or too_high:
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
    return int(value)


def check_index(name, value, size, what="an integer"):
    """Check that ``value`` is an integer index in [0, ``size``); returns it as an int.

    ``what`` names the index in the message, e.g. ``"a sequence index"``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: expected {what} in [0, {size}), got {value!r}")
    if not 0 <= value < size:
        raise ValueError(f"{name}: expected {what} in [0, {size}), got {value!r}")
    return int(value)


def check_positive(name, value):
    """Check that ``value`` is a finite real number above 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name}: expected a positive number, got {type(value).__name__}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name}: expected a positive number, got {value!r}")


def check_rng(rng, name="rng"):
    """A NumPy Generator from ``rng``: a Generator as it is, or one seeded by an int."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    raise TypeError(f"{name}: expected an int seed or a numpy Generator, got {type(rng).__name__}")
