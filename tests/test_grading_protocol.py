"""The messages between grader and sandbox: plain data both ways, hostile input refused."""

import json

import numpy as np
import pytest

from lstm_lessons.homework.protocol import (
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_LINE,
    Other,
    ProtocolError,
    decode,
    dumps,
    encode,
    loads,
)
from lstm_lessons.homework.sets.gates import check_gap


def _roundtrip(value, functions=False):
    return decode(loads(dumps({"v": encode(value)}))["v"], functions=functions)


def test_values_keep_their_type_shape_and_dtype():
    value = {
        "W": np.arange(6, dtype=np.float32).reshape(2, 3),
        0.5: (np.float32(1.5), np.int64(3), [1, 2.5, None, True, "s"]),
        "nan": float("nan"),
        "t": ...,
    }
    back = _roundtrip(value)
    assert back["W"].dtype == np.float32 and back["W"].shape == (2, 3)
    assert np.array_equal(back["W"], value["W"])
    assert back[0.5][0].dtype == np.float32 and isinstance(back[0.5], tuple)
    assert back[0.5][2] == [1, 2.5, None, True, "s"]
    assert np.isnan(back["nan"]) and back["t"] is Ellipsis
    # A function of the package goes by name from the grader to the child, never back.
    assert _roundtrip(check_gap, functions=True) is check_gap
    with pytest.raises(ProtocolError):
        _roundtrip(check_gap)
    other = _roundtrip(object())
    assert isinstance(other, Other) and other.grading_type == "object"


@pytest.mark.parametrize(
    "data",
    [
        {"$nd": "|O", "shape": [1], "b64": "AAAAAAAAAAA="},  # object arrays: anything
        {"$nd": "<f8", "shape": [2], "b64": "AAAA"},  # bytes that do not fit the shape
        {"$nd": "<f8", "shape": [1 << 40], "b64": ""},  # far too large
        {"$fn": "os:system"},  # only functions of lstm_lessons
        {"$fn": "lstm_lessons.homework.grading:__import__"},
        {"$unknown": 1},
        {"$dict": [[[1], 2]]},  # a list cannot be a key
    ],
)
def test_hostile_messages_are_refused(data):
    with pytest.raises(ProtocolError):
        decode(data, functions=True)


def test_deep_nesting_and_non_objects_are_refused():
    deep = []
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(ProtocolError):
        decode(json.loads(json.dumps(deep)))
    with pytest.raises(ProtocolError):
        loads(b"[1, 2]")
    with pytest.raises(ProtocolError):
        loads(b"{not json")


# Each safety limit of the protocol, with a case just inside it and one just outside.
def _nested(levels):
    value = 0
    for _ in range(levels):
        value = [value]
    return value


def test_nesting_depth_limit_is_exact():
    # The limits are stated as numbers: a test that read them from the module would follow
    # a changed limit instead of catching it.
    assert MAX_DEPTH == 16
    # encode: a leaf at depth 16 is sent, one level more is refused.
    assert _roundtrip(_nested(16)) == _nested(16)
    with pytest.raises(ProtocolError, match="more than 16 levels"):
        encode(_nested(17))
    # decode allows the two levels of a tagged value's wrapper ({"$tuple": [...]}) more.
    assert decode(_nested(18)) == _nested(18)
    with pytest.raises(ProtocolError, match="more than 16 levels"):
        decode(_nested(19))


def test_item_limit_is_exact():
    # The list itself counts as one value.
    assert MAX_ITEMS == 200_000
    assert len(decode(list(range(199_999)))) == 199_999
    with pytest.raises(ProtocolError, match="more than 200000 values"):
        decode(list(range(200_000)))


def test_line_limit_is_exact():
    assert MAX_LINE == 64 << 20
    head, tail = b'{"a": "', b'"}'
    inside = head + b"x" * ((64 << 20) - len(head) - len(tail)) + tail
    assert len(inside) == 64 << 20 and len(loads(inside)["a"]) == (64 << 20) - 9
    with pytest.raises(ProtocolError, match="longer than the limit"):
        loads(inside[:-2] + b'x"}')
    # A smaller limit, as a session passes it.
    assert loads(b'{"a": 1}', max_line=8) == {"a": 1}
    with pytest.raises(ProtocolError, match="longer than the limit"):
        loads(b'{"a": 1}', max_line=7)


def test_array_size_limit_is_exact():
    # An array's bytes may fill a message: MAX_LINE bytes is allowed (here its bytes are
    # missing, which is the error), one element more is refused before anything is decoded.
    n = (64 << 20) // 8
    with pytest.raises(ProtocolError, match="bytes do not match"):
        decode({"$nd": "<f8", "shape": [n], "b64": ""})
    with pytest.raises(ProtocolError, match="too large"):
        decode({"$nd": "<f8", "shape": [n + 1], "b64": ""})
