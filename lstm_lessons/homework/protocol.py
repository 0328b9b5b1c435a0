"""The messages between the grader and a sandboxed submission: plain data, never pickle.

One message is one line of JSON. Values that the checks pass to a student's function,
and what it returns, are encoded as tagged JSON objects:

    {"$nd": dtype, "shape": [...], "b64": raw bytes}   a NumPy array (numeric dtypes only)
    {"$np": dtype, "b64": raw bytes}                   a NumPy scalar (keeps float32)
    {"$tuple": [...]}, {"$dict": [[key, value], ...]}  tuples, dicts with any plain keys
    {"$tensor": <array>}                               a torch tensor, sent as its array
    {"$fn": "lstm_lessons.module:name"}                a function of the package, by name
    {"$ellipsis": true}                                ... (a template not filled in)
    {"$other": "module.Type", "text": "..."}           anything else, described only

Numbers, strings, None, lists, and NaN and infinities (as JSON's NaN, Infinity) go as
themselves. :func:`decode` treats its input as hostile: it refuses object arrays, caps
the nesting depth, the number of items and the size of arrays, and resolves ``$fn`` only
to functions of this package. It is used in both directions, so that the child checks
what the grader sends as carefully as the grader checks what the child sends.
"""

import base64
import importlib
import json
import math
import numbers

import numpy as np

#: Bytes in one message (its end of line not counted).
MAX_LINE = 64 << 20
#: Levels of nesting of a value (lists, tuples, dicts).
MAX_DEPTH = 16
#: Values in one message, an array counting as one.
MAX_ITEMS = 200_000
NUMERIC_KINDS = "biufc"


class ProtocolError(ValueError):
    """A message that is not what the protocol allows."""


def _function_name(fn):
    module = getattr(fn, "__module__", "") or ""
    name = getattr(fn, "__qualname__", "")
    if module.split(".")[0] == "lstm_lessons" and name.isidentifier():
        return f"{module}:{name}"
    return None


def encode(value, depth=0):
    """``value`` as JSON-ready data (see the module docstring)."""
    if depth > MAX_DEPTH:
        raise ProtocolError(f"a value nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, (bool, str)):
        return value
    if value is Ellipsis:  # a template's `x = ...`
        return {"$ellipsis": True}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in NUMERIC_KINDS:
            return _other(value)
        data = np.ascontiguousarray(value)
        return {
            "$nd": data.dtype.str,
            "shape": list(data.shape),
            "b64": base64.b64encode(data.tobytes()).decode("ascii"),
        }
    if isinstance(value, np.generic):
        if value.dtype.kind not in NUMERIC_KINDS:
            return _other(value)
        return {"$np": value.dtype.str, "b64": base64.b64encode(value.tobytes()).decode("ascii")}
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, numbers.Number):
        return _other(value)
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {"$dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if type(value).__name__ == "Tensor" and type(value).__module__.startswith("torch"):
        try:
            return {"$tensor": encode(value.detach().cpu().numpy(), depth + 1)}
        except Exception:
            return _other(value)
    if callable(value) and _function_name(value):
        return {"$fn": _function_name(value)}
    return _other(value)


def _other(value):
    kind = type(value)
    try:
        text = repr(value)
    except Exception:
        text = ""
    return {"$other": f"{kind.__module__}.{kind.__qualname__}", "text": text[:200]}


class Other:
    """A value that could not be sent as data: only its type and a short text came."""

    def __init__(self, type_name, text):
        self.grading_type, self.text = type_name.replace("builtins.", ""), text

    def __repr__(self):
        return f"<{self.grading_type}>"


class _Budget:
    def __init__(self):
        self.items = 0

    def take(self):
        self.items += 1
        if self.items > MAX_ITEMS:
            raise ProtocolError(f"more than {MAX_ITEMS} values in one message")


def _array(obj):
    dtype, shape, raw = obj.get("$nd"), obj.get("shape"), obj.get("b64")
    if not (isinstance(dtype, str) and isinstance(shape, list) and isinstance(raw, str)):
        raise ProtocolError("an array needs a dtype, a shape and its bytes")
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise ProtocolError(f"unknown dtype {dtype!r}") from e
    if dt.kind not in NUMERIC_KINDS or dt.itemsize > 16:
        raise ProtocolError(f"dtype {dtype!r} is not a plain numeric dtype")
    if len(shape) > 32 or not all(isinstance(n, int) and 0 <= n for n in shape):
        raise ProtocolError(f"bad shape {shape!r}")
    count = math.prod(shape)
    if count * dt.itemsize > MAX_LINE:
        raise ProtocolError("an array too large")
    data = base64.b64decode(raw.encode("ascii"), validate=True)
    if len(data) != count * dt.itemsize:
        raise ProtocolError("an array whose bytes do not match its shape")
    return np.frombuffer(data, dtype=dt).reshape(shape).copy()


def _resolve(name):
    module, _, attr = name.partition(":")
    if module.split(".")[0] != "lstm_lessons" or not attr.isidentifier():
        raise ProtocolError(f"{name!r} is not a function of lstm_lessons")
    fn = getattr(importlib.import_module(module), attr, None)
    if not callable(fn):
        raise ProtocolError(f"{name!r} is not a function of lstm_lessons")
    return fn


def decode(data, depth=0, budget=None, functions=False):
    """The value that :func:`encode` encoded; ProtocolError for anything else.

    ``functions`` resolves ``$fn`` to the package's function (the child, decoding what the
    grader sends); without it (the grader, decoding what a child sends) it is refused.
    """
    budget = budget or _Budget()
    budget.take()
    if depth > MAX_DEPTH + 2:
        raise ProtocolError(f"a value nested more than {MAX_DEPTH} levels deep")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v, depth + 1, budget, functions) for v in data]
    if not isinstance(data, dict) or len(data) < 1:
        raise ProtocolError(f"unexpected {type(data).__name__} in a message")
    if "$nd" in data:
        return _array(data)
    if "$ellipsis" in data:
        return Ellipsis
    if "$np" in data:
        arr = _array({"$nd": data["$np"], "shape": [], "b64": data.get("b64")})
        return arr[()]
    if "$tuple" in data and isinstance(data["$tuple"], list):
        return tuple(decode(v, depth + 1, budget, functions) for v in data["$tuple"])
    if "$dict" in data and isinstance(data["$dict"], list):
        out = {}
        for pair in data["$dict"]:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ProtocolError("a dict entry must be a [key, value] pair")
            key = decode(pair[0], depth + 1, budget, functions)
            try:
                hash(key)
            except TypeError as e:
                raise ProtocolError("a dict key that cannot be a key") from e
            out[key] = decode(pair[1], depth + 1, budget, functions)
        return out
    if "$tensor" in data:
        arr = decode(data["$tensor"], depth + 1, budget, functions)
        if not isinstance(arr, np.ndarray):
            raise ProtocolError("a tensor must carry an array")
        try:
            import torch
        except ImportError:  # pragma: no cover - torch is a requirement
            return Other("torch.Tensor", "")
        return torch.from_numpy(arr)
    if "$fn" in data and isinstance(data["$fn"], str):
        if not functions:
            raise ProtocolError("only the grader may send a function")
        return _resolve(data["$fn"])
    if "$other" in data:
        return Other(str(data["$other"])[:100], str(data.get("text", ""))[:200])
    raise ProtocolError("an object without a known tag")


def dumps(message):
    """One message as a line of bytes."""
    return json.dumps(message, allow_nan=True).encode("utf-8") + b"\n"


def loads(line, max_line=MAX_LINE):
    """The message in ``line``; ProtocolError if it is not one JSON object of at most
    ``max_line`` bytes (the line's end not counted)."""
    if len(line) > max_line:
        raise ProtocolError("a message longer than the limit")
    try:
        message = json.loads(line)
    except (ValueError, RecursionError) as e:
        raise ProtocolError(f"not JSON: {e}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message must be a JSON object")
    return message
