"""Behaviour of ``companion.exercises`` that the mutation run (``make mutate``) found unpinned.

Each test states one fact a student or an instructor relies on: the exact words and numbers
of a verdict, where a difference is reported, which hint is given, what the release and the
nbgrader conversion write. The mutation run of issue 19 showed which of these no other test
checked (see ``tests/MUTATION.md``).
"""

from __future__ import annotations

import functools
import math
import os
import random
import sys

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, IterableDataset, TensorDataset

from companion.exercises import ExerciseFailure, _checks, check_function, check_gradient, check_property, check_true, check_value
from companion.exercises._compare import (
    _at,
    _dtype_hint,
    _index_text,
    _kind_name,
    _number_kind,
    _shape_hint,
    _type_hint,
    compare,
    format_number,
    short_repr,
)

# --------------------------------------------------------------------------- _compare: formatting


@pytest.mark.parametrize(
    "args, text",
    [
        ((1 / 3,), "0.333333"),  # 6 significant digits when there is nothing to tell apart
        ((1 / 3, 0.3333334), "0.33333333"),  # 8
        ((1 / 3, 0.333333334), "0.3333333333"),  # 10
        ((1 / 3, 0.3333333333334), "0.3333333333333"),  # 13
        ((1.0, 1.0 + 1e-15), "1"),  # 17 digits still print "1"
        ((0.1, 0.1), "0.1"),  # equal at every precision: repr
        ((1.0, 1.0), "1.0"),
        ((2.0, 3.0), "2"),
        ((0.5, "abc"), "0.5"),  # other cannot be read as a number
        ((0.5, object()), "0.5"),
        ((1 + 2j,), "(1+2j)"),
        ((np.complex64(1 + 2j),), "(1+2j)"),
        ((float("-inf"),), "-inf"),
        ((float("inf"), 1.0), "inf"),
        ((np.bool_(True),), "True"),
        ((False,), "False"),
        ((np.uint8(7),), "7"),
        ((np.float32(0.1),), "0.1"),
    ],
)
def test_format_number_digits(args, text):
    assert format_number(*args) == text


class Apple:
    pass


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "None"),
        (torch.ones(1), "a torch.Tensor"),
        (np.ones(1), "a numpy.ndarray"),
        ([1], "a list of 1 item"),
        ((1, 2), "a tuple of 2 items"),
        ((), "a tuple of 0 items"),
        (torch.nn.Linear(1, 1), "a Linear module"),
        (np.float32(1), "a numpy float32"),
        (1, "an int"),
        ("s", "a str"),
        (object(), "an object"),
        (Apple(), "an Apple"),
        ({}, "a dict"),
    ],
)
def test_kind_names(value, text):
    assert _kind_name(value) == text


class _NoLength(IterableDataset):
    def __iter__(self):
        return iter([])


def test_short_repr_of_every_kind():
    conj = torch.tensor([1 + 2j]).conj()
    cases = [
        (torch.tensor([1 / 3]), "tensor([0.3333])"),
        (torch.ones(12), "tensor([1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1.])"),
        (torch.ones(13), "tensor of shape (13,), float32"),
        (torch.ones(2, dtype=torch.float64), "tensor([1., 1.], float64)"),
        (torch.ones(2, dtype=torch.bool), "tensor([ True, True], bool)"),
        (conj, "tensor([1.-2.j], complex64)"),  # a lazily conjugated tensor
        (conj.imag, "tensor([-2.])"),  # a lazily negated one
        (torch.ones(2, dtype=torch.bfloat16), "tensor of shape (2,), bfloat16"),
        (torch.ones(3).to_sparse(), "sparse_coo tensor of shape (3,), float32"),
        (np.array([1.0, 2.0]), "array([1., 2.])"),
        (np.array([1, 2], dtype=np.int64), "array([1, 2], dtype=int64)"),
        (np.ones(12), "array([1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1., 1.])"),
        (np.ones(13), "array of shape (13,), float64"),
        ((1,), "(1,)"),
        ((1, 2), "(1, 2)"),
        ([], "[]"),
        ([1], "[1]"),
        (tuple(range(30)), "a tuple of 30 items"),
        (torch.nn.Linear(2, 3), "Linear(in_features=2, out_features=3, bias=True)"),
        (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1)), "Sequential(...)"),
        (DataLoader(TensorDataset(torch.ones(10)), batch_size=4), "DataLoader(batch_size=4 over 10 examples)"),
        (DataLoader(_NoLength(), batch_size=4), "DataLoader(batch_size=4)"),
    ]
    for value, text in cases:
        assert short_repr(value) == text, value
    # values that do not fit the limit are described by their shape
    assert short_repr(torch.ones(5), limit=10) == "tensor of shape (5,), float32"
    assert short_repr(np.ones(5), limit=10) == "array of shape (5,), float64"
    assert short_repr(list(range(100)), limit=20) == "a list of 100 items"
    assert short_repr(torch.nn.Linear(2, 3), limit=20) == "Linear(...)"
    long = short_repr("a" * 100)
    assert long.startswith("'aaaa") and "..." in long and len(long) == 80
    assert short_repr("a" * 100, limit=10) == "'aa...aaa'"
    # a text exactly as long as the limit is shown in full
    assert short_repr(list(range(5)), limit=15) == "[0, 1, 2, 3, 4]"
    assert short_repr(torch.ones(2), limit=16) == "tensor([1., 1.])"
    assert short_repr(torch.ones(2), limit=15) == "tensor of shape (2,), float32"
    assert short_repr(np.array([1.0, 2.0]), limit=15) == "array([1., 2.])"
    assert short_repr(torch.nn.Linear(2, 3), limit=48) == "Linear(in_features=2, out_features=3, bias=True)"
    # a module over several lines is shown on one
    assert short_repr(torch.nn.Sequential(torch.nn.Linear(1, 1)), limit=200) == (
        "Sequential( (0): Linear(in_features=1, out_features=1, bias=True) )"
    )
    # a meta tensor has no values to show (this raised before the mutation run)
    assert short_repr(torch.zeros(2, device="meta")) == "tensor of shape (2,), float32, on meta"
    # the limit of the items is the caller's limit
    assert short_repr(["a" * 100], limit=200) == "['" + "a" * 100 + "']"


def test_index_text_and_at():
    assert _index_text(()) == ""
    assert _index_text((3,)) == "index 3"
    assert _index_text((1, 2)) == "index (1, 2)"
    assert _at("result", ()) == "result"
    assert _at("result", (0, 4)) == "result at index (0, 4)"


# --------------------------------------------------------------------------- _compare: hints


@pytest.mark.parametrize(
    "expected, got, hint",
    [
        (1.0, torch.ones(1), "hint: a one-element tensor is not a number; return `t.item()` (or `float(t)`)"),
        (1.0, torch.ones(2, 3), "hint: expected one number, got a tensor of shape (2, 3)"),
        (torch.ones(1), np.ones(1), "hint: compute with torch instead of numpy, or convert with `torch.from_numpy(a)`"),
        (np.ones(1), torch.ones(1), "hint: convert with `t.detach().cpu().numpy()`"),
        (torch.ones(1), 1.0, "hint: return a tensor, e.g. keep the computation in torch instead of calling .item()"),
        ((1, 2), 1.0, "hint: return 2 results, e.g. `return a, b`"),
        ((1, 2, 3), torch.ones(3), "hint: return 3 results, e.g. `return a, b`"),
        (torch.ones(1), None, "hint: did you forget the `return` statement?"),
        (1.0, "x", None),
        ([1], (1,), None),
    ],
)
def test_type_hints(expected, got, hint):
    assert _type_hint(expected, got) == hint


@pytest.mark.parametrize(
    "expected, got, hint",
    [
        ((2, 3), (3, 2), "hint: same sizes in another order: transposed or permuted?"),
        ((3,), (3, 1), "hint: extra dimension(s) of size 1: use keepdim=False, or .squeeze(dim)"),
        ((3,), (1, 3), "hint: extra dimension(s) of size 1: use keepdim=False, or .squeeze(dim)"),
        ((3, 1), (3,), "hint: missing dimension(s) of size 1: use keepdim=True, or .unsqueeze(dim)"),
        ((2, 3), (6,), "hint: fewer dimensions than expected: reduced over the wrong dim, or over all of them?"),
        ((2, 3), (3,), "hint: fewer dimensions than expected: reduced over the wrong dim, or over all of them?"),
        ((6,), (2, 3), "hint: same number of elements in another shape: reshaped or viewed wrongly?"),
        ((2, 3), (1, 6), "hint: same number of elements in another shape: reshaped or viewed wrongly?"),
        ((2,), (3,), None),
        ((2,), (3, 4), None),
    ],
)
def test_shape_hints(expected, got, hint):
    assert _shape_hint(expected, got) == hint


FLOAT_HINT = (
    "hint: keep the input's dtype; a new tensor gets the default float32 unless you "
    "pass dtype=x.dtype (or use torch.zeros_like(x), x.new_tensor(...))"
)
INT_HINT = "hint: an integer/bool result where floats are expected: convert with .to(x.dtype) or .float()"


@pytest.mark.parametrize(
    "expected, got, hint",
    [
        (torch.float64, torch.float32, FLOAT_HINT),
        (np.dtype("float32"), np.dtype("float64"), FLOAT_HINT),
        (torch.float32, torch.int64, INT_HINT),
        (torch.float32, torch.bool, INT_HINT),
        (torch.int64, torch.float32, "hint: indices and counts are integers: convert with .long()"),
        (torch.int64, torch.int32, None),
        (torch.bool, torch.int64, None),
        (torch.int64, torch.bool, None),
        (torch.float32, torch.complex64, None),
    ],
)
def test_dtype_hints(expected, got, hint):
    assert _dtype_hint(expected, got) == hint


def test_number_kinds():
    kinds = [_number_kind(x) for x in (True, np.bool_(False), np.int8(1), np.uint8(1), np.float16(1), np.complex64(1), 1, 1.0, 1j)]
    assert kinds == ["b", "b", "i", "u", "f", "c", "i", "f", "c"]


# --------------------------------------------------------------------------- _compare: verdicts


def lines(expected, got, **kwargs):
    m = compare(expected, got, **kwargs)
    assert m is not None
    return m.kind, m.where, m.lines


def test_python_numbers_of_the_wrong_kind():
    assert lines(1.0, 1j) == ("dtype", "result", ["result: expected a float, got a complex number (1j)"])
    assert lines(True, 1) == ("dtype", "result", ["result: expected a bool, got an int (1)"])
    assert lines(1j, 1.0) == ("dtype", "result", ["result: expected a complex number, got a float (1)"])
    assert lines(1, 2.5) == ("dtype", "result", ["result: expected an int, got a float (2.5)"])
    # an int (signed or not) is a fine float, and ints of any width are ints
    for e, g in [(1.0, 1), (1.0, np.uint8(1)), (1, np.uint8(1)), (np.uint8(1), 1), (np.float32(1), 1.0)]:
        assert compare(e, g) is None, (e, g)
    assert compare(1, 2.0, check_dtype=False) is not None  # the value still counts
    assert compare(1, 1.0, check_dtype=False) is None


def test_integer_and_bool_arrays_are_compared_exactly():
    assert lines(torch.tensor([1, 2, 3]), torch.tensor([1, 5, 3])) == (
        "value",
        "result",
        ["result at index 1: expected 2, got 5 (abs error 3)", "1 of 3 entries differ"],
    )
    assert lines(torch.tensor([True, False]), torch.tensor([True, True])) == (
        "value",
        "result",
        ["result at index 1: expected False, got True", "1 of 2 entries differ"],
    )
    # one entry: no count line; int against bool: no abs error either
    assert lines(np.array([2]), np.array([True]), check_dtype=False)[2] == ["result at index 0: expected 2, got True"]
    assert compare(np.array([1]), np.array([True]), check_dtype=False) is None  # True == 1
    assert lines(np.array([4], dtype=np.uint8), np.array([2], dtype=np.uint8))[2] == ["result at index 0: expected 4, got 2 (abs error 2)"]
    assert lines(np.array(7), np.array(8))[2] == ["result: expected 7, got 8 (abs error 1)"]
    assert compare(torch.tensor([1, 2]), torch.tensor([1, 2])) is None
    # integers are never compared with a tolerance
    assert compare(torch.tensor([1000000]), torch.tensor([1000001]), atol=10.0) is not None


def test_nonfinite_lines():
    kind, where, text = lines(torch.tensor([0.0, 1.0, 2.0]), torch.tensor([0.0, float("nan"), float("inf")]))
    assert (kind, where) == ("nonfinite", "result")
    assert text == [
        "result at index 1: got nan where the expected value is 1",
        "2 of 3 entries are NaN or inf",
        "hint: typical causes are exp() overflowing (subtract the max first), log(0), 0/0",
    ]
    assert lines(torch.tensor(1.0), torch.tensor(-math.inf))[2][:1] == ["result: got -inf where the expected value is 1"]
    assert len(lines(torch.tensor([1.0]), torch.tensor([math.inf]))[2]) == 2  # no count for one entry
    # the same specials are equal; another inf is a value error where inf is expected
    assert compare(torch.tensor([math.nan, math.inf, -math.inf]), torch.tensor([math.nan, math.inf, -math.inf])) is None
    assert lines(torch.tensor([math.inf]), torch.tensor([-math.inf]))[0] == "nonfinite"
    assert lines(torch.tensor([math.nan]), torch.tensor([math.inf]))[0] == "nonfinite"
    # a finite answer where inf is expected is wrong, however large the tolerance (the
    # tolerance atol + rtol*|inf| is infinite; this passed before the mutation run)
    kind, _, text = lines(torch.tensor([math.inf]), torch.tensor([1.0]))
    assert kind == "value" and text == ["result at index 0: expected inf, got 1 (abs error inf)"]
    kind, _, text = lines(torch.tensor([math.nan]), torch.tensor([1.0]))
    assert kind == "value" and text == ["result at index 0: expected nan, got 1 (abs error inf)"]


def test_value_lines_name_the_worst_entry():
    e = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], dtype=torch.float64)
    g = e + torch.tensor([[0.0, 0.5, 0.0], [0.0, -3.0, 0.0]], dtype=torch.float64)
    assert lines(e, g) == (
        "value",
        "result",
        [
            "result at index (0, 1): expected 1, got 1.5 (abs error 0.5, rel error 0.5)",
            "2 of 6 entries differ by more than atol + rtol*|expected| (atol=1e-06, rtol=1e-05); "
            "the largest error is 3 at index (1, 1)",
        ],
    )
    # expected 0: no relative error; one entry: no summary line
    assert lines(torch.tensor([0.0]), torch.tensor([0.25]))[2] == ["result at index 0: expected 0, got 0.25 (abs error 0.25)"]
    # the tolerance is atol + rtol * |expected|, both inclusive
    e = torch.tensor([100.0], dtype=torch.float64)
    assert compare(e, e + 1.0, atol=0.5, rtol=0.005) is None
    assert compare(e, e - 1.0, atol=0.5, rtol=0.005) is None
    assert compare(e, e + 1.0001, atol=0.5, rtol=0.005) is not None
    assert compare(e, e + 1.0, atol=0.0, rtol=0.0) is not None
    assert compare(-e, -e - 1.0, atol=0.0, rtol=0.01) is None  # |expected| for negative values
    # a NaN where a number is expected: an error larger than any finite one
    e = torch.tensor([1.0, 1.0, 1.0])
    _, _, text = lines(torch.tensor([math.nan, 1.0, 1.0]), torch.tensor([1.0, 1.0, 1.0 + 1e3]))
    assert text[1].endswith("the largest error is inf at index 0")


def test_complex_values_are_compared_as_complex():
    e = torch.tensor([1 + 1j, 2 + 0j])
    assert compare(e, e.clone()) is None
    assert lines(e, torch.tensor([1 + 1j, 2 + 1j]))[2][0] == "result at index 1: expected (2+0j), got (2+1j) (abs error 1, rel error 0.5)"


def test_tensor_layouts_dtypes_and_devices():
    dense, sparse = torch.ones(3), torch.ones(3).to_sparse()
    assert lines(dense, sparse) == (
        "type",
        "result",
        ["result: expected a strided (dense) tensor, got a sparse_coo tensor", "hint: return a dense tensor (`t.to_dense()`), as the reference does"],
    )
    assert compare(sparse, torch.ones(3).to_sparse()) is None
    kind, _, text = lines(sparse, (2 * torch.ones(3)).to_sparse())
    assert kind == "value" and text[0] == "result at index 0: expected 1, got 2 (abs error 1, rel error 1)"
    assert lines(torch.ones(2, 3), torch.ones(3, 2))[2] == [
        "result: expected shape (2, 3), got (3, 2)",
        "hint: same sizes in another order: transposed or permuted?",
    ]
    assert lines(torch.ones(2), torch.ones(3))[2] == ["result: expected shape (2,), got (3,)"]
    assert lines(torch.ones(2), torch.ones(2, dtype=torch.float64))[:2] == ("dtype", "result")
    assert lines(torch.ones(2), torch.ones(2, dtype=torch.float64))[2][0] == "result: expected torch.float32, got torch.float64"
    assert lines(torch.ones(2, dtype=torch.int64), torch.ones(2, dtype=torch.int32))[2] == ["result: expected torch.int64, got torch.int32"]
    assert compare(torch.ones(2), torch.ones(2, dtype=torch.float64), check_dtype=False) is None
    assert lines(torch.zeros(2), torch.zeros(2, device="meta")) == (
        "device",
        "result",
        [
            "result: expected a tensor on cpu, got one on meta",
            "hint: create new tensors on the input's device (device=x.device, torch.zeros_like(x), x.new_zeros(...))",
        ],
    )
    # a tensor that requires grad is compared by value
    assert compare(torch.ones(2), torch.ones(2, requires_grad=True) * 1) is None


def test_arrays_shapes_dtypes_and_other_kinds():
    assert lines(np.ones((2, 3)), np.ones((3, 2)))[:2] == ("shape", "result")
    assert lines(np.ones((2, 3)), np.ones((3, 2)))[2] == [
        "result: expected shape (2, 3), got (3, 2)",
        "hint: same sizes in another order: transposed or permuted?",
    ]
    assert lines(np.ones(2), np.ones(3))[2] == ["result: expected shape (2,), got (3,)"]
    assert lines(np.ones(2), np.ones(2, dtype=np.int64)) == (
        "dtype",
        "result",
        ["result: expected dtype float64, got int64", INT_HINT],
    )
    assert lines(np.ones(2, dtype=np.int64), np.ones(2, dtype=np.int32))[2] == ["result: expected dtype int64, got int32"]
    assert compare(np.ones(2), np.ones(2, dtype=np.int64), check_dtype=False) is None
    words = np.array(["a", "b"])
    assert compare(words, np.array(["a", "b"])) is None
    assert lines(words, np.array(["a", "c"])) == ("value", "result", ["result: expected array(['a', 'b'], dtype=<U1), got array(['a', 'c'], dtype=<U1)"])
    objects = np.array([1, "a"], dtype=object)
    assert compare(objects, np.array([1, "a"], dtype=object)) is None
    assert lines(objects, np.array([2, "a"], dtype=object))[0] == "value"
    # a numeric array against an object array of the same numbers: compared as objects
    assert compare(np.array([1, 2], dtype=object), np.array([1, 2]), check_dtype=False) is None


def test_containers_keys_and_modules():
    assert lines((1.0,), (1.0, 2.0)) == ("length", "result", ["result: expected 1 item, got 2"])
    assert lines([1.0, 2.0], [1.0]) == ("length", "result", ["result: expected 2 items, got 1"])
    assert lines((1.0, (2.0, 3.0)), (1.0, (2.0, 4.0)))[:2] == ("value", "result[1][1]")
    assert lines({"a": 1, "b": 2}, {"a": 1, "c": 2}) == (
        "keys",
        "result",
        ["result: missing keys ['b']", "result: unexpected keys ['c']"],
    )
    assert lines({"a": 1}, {"a": 1, "c": 2})[2] == ["result: unexpected keys ['c']"]
    assert lines({"a": 1, "b": 2}, {"a": 1})[2] == ["result: missing keys ['b']"]
    assert lines({"a": 1, "b": 2}, {"a": 1, "b": 3})[:2] == ("value", "result['b']")
    torch.manual_seed(0)
    m1, m2 = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
    assert compare(m1, m1) is None
    kind, where, _ = lines(m1, m2)
    assert (kind, where) == ("value", "result.weight")
    assert lines(m1, torch.nn.Linear(2, 1, bias=False))[:2] == ("keys", "result")
    # where= names the top level; the tolerance and dtype switch reach nested values
    assert lines((1.0,), (2.0,), where="out")[2][0] == "out[0]: expected 1, got 2 (abs error 1, rel error 1)"
    assert compare((torch.ones(1),), (torch.ones(1) + 0.1,), atol=0.2) is None
    assert compare({"a": torch.ones(1)}, {"a": torch.ones(1) + 0.1}, rtol=0.2) is None
    assert compare([torch.ones(1)], [torch.ones(1, dtype=torch.float64)], check_dtype=False) is None
    assert compare({"a": torch.ones(1)}, {"a": torch.ones(1, dtype=torch.float64)}, check_dtype=False) is None


class _Unequal:
    def __eq__(self, other):
        raise RuntimeError("no")


def test_other_objects():
    assert lines("abc", "abd") == ("value", "result", ["result: expected 'abc', got 'abd'"])
    assert lines("abc", b"abc") == ("type", "result", ["result: expected a str, got a bytes"])
    assert compare("abc", "abc") is None
    assert compare(None, None) is None
    assert lines(None, 1.0) == ("type", "result", ["result: expected None, got a float"])
    thing = _Unequal()
    assert lines(thing, thing)[0] == "value"
    # skip_unknown ignores other objects only (an optimizer is not compared after a call)
    assert compare("abc", "abd", skip_unknown=True) is None
    assert compare(("abc", 1.0), ("abd", 1.0), skip_unknown=True) is None
    assert compare(("abc", 1.0), ("abd", 2.0), skip_unknown=True) is not None
    assert compare({"k": "abc"}, {"k": "x"}, skip_unknown=True) is None
    assert compare(1.0, 2.0, skip_unknown=True) is not None


# --------------------------------------------------------------------------- _checks: helpers


def failure_of(call, *args, **kwargs) -> ExerciseFailure:
    with pytest.raises(ExerciseFailure) as info:
        call(*args, **kwargs)
    return info.value


def test_messages_of_exceptions_are_cut():
    text = _checks._message_of(ValueError("x" * 400))
    assert text == "ValueError: " + "x" * 297 + "..."
    assert _checks._message_of(ValueError("x" * 300)) == "ValueError: " + "x" * 300
    assert _checks._message_of(ValueError("a\nb\nc\nd")) == "ValueError: a\nb\nc ..."
    assert _checks._message_of(ValueError("a\nb\nc")) == "ValueError: a\nb\nc"
    assert _checks._message_of(ValueError("  ")) == "ValueError"
    assert _checks._message_of(KeyError("k")) == "KeyError: 'k'"
    assert _checks._message_of(ValueError("  padded  ")) == "ValueError: padded"


def _many(a, b=1, *args, c):
    pass


def _positional(a, /, b, **kw):
    pass


def test_parameter_names_for_the_input_line():
    assert _checks._param_names(_many, 4) == ["a", "b", "arg2", "arg3"]  # *args: unnamed from there on
    assert _checks._param_names(_positional, 3) == ["a", "b", "arg2"]
    assert _checks._param_names(_many, 1) == ["a"]
    assert _checks._param_names(print, 2) == ["arg0", "arg1"]  # no usable signature
    assert _checks._param_names(functools.partial(_many, 1), 2) == ["b", "arg1"]
    assert _checks._param_names(3, 1) == ["arg0"]  # not a function at all
    assert _checks._describe_args(["x", "y"], [torch.ones(100), "a" * 100]) == (
        "x=tensor of shape (100,), float32, y='aaaaaaaaaaaaaaaaaaaaaaaaaaa...aaaaaaaaaaaaaaaaaaaaaaaaaaaa'"
    )
    assert _checks._describe_args([], []) == ""


def test_names_in_verdicts():
    assert _checks._name_of(None, lambda: 0, len) == "len"
    assert _checks._name_of(None, lambda: 0) == "your function"
    assert _checks._name_of(None, object()) == "your function"
    assert _checks._name_of("n", len) == "n"
    assert _checks._name_of(3, len) == "3"
    assert _checks._name_of("", len) == "len"


def test_library_files_are_told_from_student_code():
    assert _checks._is_library_file(_checks.__file__)
    assert _checks._is_library_file(os.__file__)
    assert _checks._is_library_file("/x/site-packages/a.py")
    assert _checks._is_library_file("/x/dist-packages/a.py")
    assert not _checks._is_library_file("/tmp/mine.py")
    assert not _checks._is_library_file(_checks._PACKAGE_DIR + "x/a.py")  # a sibling folder, not the package
    assert not _checks._is_library_file(__file__)
    assert not _checks._is_library_file("<cell-3>")


def test_verdict_rendering():
    empty = ExerciseFailure("")
    assert empty._render_traceback_() == ["\x1b[1;31m\x1b[0m"] and str(empty) == "" and empty.kind is None
    err = ExerciseFailure("✗ f: bad\n  one\n  two", kind="value")
    assert err.args == ("✗ f: bad\n  one\n  two",) and err.verdict == str(err)
    assert err._render_traceback_() == ["\x1b[1;31m✗ f: bad\x1b[0m", "  one", "  two"]
    fail = _checks._fail("f", "bad", ["a", "b"], "value")
    assert fail.verdict == "✗ f: bad\n  a\n  b" and fail.kind == "value"


@pytest.mark.parametrize("bad", [-1, True, float("nan"), "1", None])
def test_tolerance_messages(bad):
    with pytest.raises(ValueError, match=rf"^atol must be a non-negative number, got {bad!r}$".replace("(", r"\(").replace(")", r"\)")):
        _checks._check_tolerances(bad, 0)
    with pytest.raises(ValueError, match=r"^rtol must be a non-negative number, got "):
        _checks._check_tolerances(0, bad)
    _checks._check_tolerances(0, 0.0)  # zero tolerances are allowed


def test_input_and_timeout_messages():
    for bad, word in [("ab", "str"), (b"x", "bytes"), (3, "int")]:
        with pytest.raises(TypeError, match=rf"^inputs must be a list of argument tuples, got {word}$"):
            _checks._check_inputs(bad)
    with pytest.raises(ValueError, match=r"^inputs must hold at least one argument tuple, got an empty list$"):
        _checks._check_inputs([])
    with pytest.raises(TypeError, match=r"^inputs\[1\] must be a tuple of arguments, got int; write \[\(x,\)\] for a function of one argument$"):
        _checks._check_inputs([(1,), 3])
    assert _checks._check_inputs([[1, 2], (3,)]) == [(1, 2), (3,)]
    for bad in (0, -1, True, "1", float("nan")):
        with pytest.raises(ValueError, match=r"^timeout must be a positive number of seconds or None, got "):
            _checks._check_timeout(bad)
    _checks._check_timeout(float("inf"))
    _checks._check_timeout(1)
    _checks._check_timeout(None)


def test_seeded_restores_every_generator():
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    before = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    with _checks._seeded(3):
        inside = (random.random(), np.random.rand(), torch.rand(1).item())
    after = (random.random(), np.random.rand(), torch.rand(1).item())
    assert after == before  # the states were put back
    random.seed(3)
    np.random.seed(3)
    torch.manual_seed(3)
    assert inside == (random.random(), np.random.rand(), torch.rand(1).item())  # every generator was seeded
    random.seed(5)
    with _checks._seeded(None):
        unseeded = random.random()
    assert unseeded == before[0]


# --------------------------------------------------------------------------- _checks: output, time limits, verdicts


def double(x):
    return 2 * x


def test_exactly_the_shown_number_of_lines_is_not_called_cut(capsys):
    def hundred(x):
        for i in range(_checks.MAX_OUTPUT_LINES):
            print(i)
        return 2 * x

    check_function(hundred, double, [(torch.ones(1),)], name="f")
    out = capsys.readouterr().out
    assert "output cut" not in out  # said "cut" for exactly 100 lines before the mutation run
    assert out == "".join(f"{i}\n" for i in range(100)) + "✓ f: correct on 1 input\n"

    def hundred_and_one(x):
        for i in range(101):
            print(i)
        return 2 * x

    check_function(hundred_and_one, double, [(torch.ones(1),)], name="f")
    out = capsys.readouterr().out
    assert out == "".join(f"{i}\n" for i in range(100)) + (
        "[output cut: your code printed 101 lines (294 characters); only the first 100 lines or 20000 characters are shown]\n"
        "✓ f: correct on 1 input\n"
    )


def test_cut_note_of_one_long_line(capsys):
    def one_line(x):
        sys.stdout.write("x" * 30000 + "\n")
        return 2 * x

    check_function(one_line, double, [(torch.ones(1),)], name="f")
    out = capsys.readouterr().out
    assert out == "x" * 20000 + (
        "\n[output cut: your code printed 1 line (30001 characters); only the first 100 lines or 20000 characters are shown]\n"
        "✓ f: correct on 1 input\n"
    )


def test_limited_output_stream_edges():
    stream = _checks._LimitedOutput(max_lines=2, max_chars=100)
    for text in ("a", "\n", "b", "\n"):  # print() writes the line end separately
        stream.write(text)
    assert not stream.cut and stream.text() == "a\nb\n"
    stream.write("")
    assert not stream.cut
    stream.write("c")
    assert stream.cut and stream.text() == "a\nb\n" and stream.lines_seen == 2 and stream.chars_seen == 5
    stream = _checks._LimitedOutput(max_lines=2, max_chars=4)
    stream.write("abcd")
    assert not stream.cut
    stream.write("e")
    assert stream.cut and stream.text() == "abcd"
    stream = _checks._LimitedOutput(max_lines=2, max_chars=100)
    stream.write("a\nb\nc\n")
    assert stream.cut and stream.text() == "a\nb\n"
    stream.flush()  # a no-op that must exist
    assert stream.text() == "a\nb\n"


class _Endless(tuple):
    def __len__(self):
        while True:
            pass


class _BadLength(tuple):
    def __len__(self):
        raise RuntimeError("secret")


def _spin(x):
    while True:
        pass


def test_verdicts_word_for_word():
    assert failure_of(check_function, lambda x: _Endless((x,)), lambda x: (x,), [(torch.ones(1),)], timeout=0.3, name="f").verdict == (
        "✗ f: too slow: timed out\n  input 1 of 1: x=tensor([1.])\n"
        "  the check could not finish inspecting your result within 0.3 s (does it override __len__, __eq__ or __bool__?)"
    )
    err = failure_of(check_function, _spin, lambda x: x, [(1,)], timeout=0.25, name="f")
    assert err.kind == "timeout" and err.verdict == (
        "✗ f: too slow: timed out\n  input 1 of 1: x=1\n  did not return within 0.25 s: an endless loop, or far more work than needed?"
    )
    err = failure_of(check_function, lambda x: _BadLength((x,)), lambda x: (x,), [(torch.ones(1),)], name="f")
    assert err.kind == "uninspectable" and err.verdict == (
        "✗ f: wrong result\n  input 1 of 1: x=tensor([1.])\n  the check could not inspect your result: RuntimeError: secret"
    )

    def stub(x):
        raise NotImplementedError("write me")

    err = failure_of(check_function, stub, lambda x: x, [(1,)], name="f")
    lines = err.verdict.splitlines()
    assert err.kind == "not_implemented" and lines[:3] == [
        "✗ f: not implemented yet",
        "  your code raised NotImplementedError (write me)",
        "  replace the lines `# YOUR CODE HERE` and `raise NotImplementedError` by your solution, run that cell, then run this check again",
    ]
    assert lines[3].startswith("  in stub, line ") and lines[3].endswith(': raise NotImplementedError("write me")')
    assert failure_of(check_value, ..., 1).verdict == "✗ value: not implemented yet\n  replace `...` by your value of value"
    assert failure_of(check_value, NotImplemented, 1, name="n").kind == "not_implemented"
    err = failure_of(check_function, NotImplemented, lambda x: x, [(1,)], name="f")
    assert err.kind == "not_implemented" and err.verdict == "✗ f: not implemented yet\n  replace `...` by your solution"
    err = failure_of(check_function, 3, lambda x: x, [(1,)], name="f")
    assert err.kind == "type" and err.verdict == "✗ f: wrong type of result\n  expected a function, got 3"
    err = failure_of(check_true, lambda: torch.ones(2), "m", name="c")
    assert err.kind == "condition" and err.verdict.startswith(
        "✗ c: not a yes/no answer\n  tensor([1., 1.]) cannot be read as True/False: RuntimeError: Boolean value of Tensor"
    )
    err = failure_of(check_true, False, "m")
    assert err.kind == "condition" and err.verdict == "✗ check: m"
    err = failure_of(check_property, lambda n: n, lambda r, n: r.foo, [(1,)])
    assert err.kind == "property" and err.verdict == (
        "✗ your function: wrong result\n  input 1 of 1: n=1\n"
        "  the check could not use your result 1: AttributeError: 'int' object has no attribute 'foo'"
    )


def test_exception_verdict_lines():
    def broken(x):
        return {}["missing"]

    err = failure_of(check_function, broken, double, [(torch.ones(1),)], name="f")
    lines = err.verdict.splitlines()
    assert err.kind == "exception"
    assert lines[:3] == ["✗ f: your code raised an exception", "  input 1 of 1: x=tensor([1.])", "  KeyError: 'missing'"]
    assert lines[3].startswith("  in broken, line ") and lines[3].endswith(': return {}["missing"]')
    assert len(lines) == 4
    # raised inside a library: no student line to show, but the message is kept
    err = failure_of(check_function, lambda x: torch.ones(2) @ torch.ones(3), double, [(torch.ones(1),)], name="f")
    assert "RuntimeError" in err.verdict
    # a NotImplementedError raised by a library is an exception, not a stub
    err = failure_of(check_function, lambda x: torch.nn.Module()(x), double, [(torch.ones(1),)], name="f")
    assert err.kind == "exception"


def test_check_value_and_check_true_options(capsys):
    check_value(1.05, 1.0, atol=0.1)
    check_value(1.05, 1.0, rtol=0.1)
    assert failure_of(check_value, 1.05, 1.0, rtol=0.01).verdict.startswith("✗ value: wrong value\n  value: expected 1")
    check_value(torch.ones(2, dtype=torch.float64), torch.ones(2), check_dtype=False)
    assert failure_of(check_value, torch.ones(2, dtype=torch.float64), torch.ones(2)).kind == "dtype"
    check_value(torch.ones(2), torch.ones(2), timeout=None)
    check_true(lambda: True, "never", name="c", timeout=None)
    check_true(np.array([True]), "a one-element array is a bool")
    assert capsys.readouterr().out == "✓ value: correct\n" * 4 + "✓ c: correct\n✓ check: correct\n"
    with pytest.raises(ValueError, match="timeout"):
        check_true(True, "m", timeout=0)
    with pytest.raises(TypeError, match="^message must be a str, got int$"):
        check_true(True, 3)  # type: ignore[arg-type]
    # a tensor condition is read, never called
    assert failure_of(check_true, torch.tensor(False), "m", name="t").verdict == "✗ t: m"
    assert failure_of(check_true, np.array(False), "m", name="t").verdict == "✗ t: m"


def test_check_property_options(capsys):
    seen = []

    def record(result, n):
        seen.append(result)

    check_property(lambda n: torch.rand(n), record, [(2,)], seed=4)
    torch.manual_seed(4)
    assert torch.equal(seen[0], torch.rand(2))
    check_property(lambda n: n, lambda r, n: None, [(1,), (2,)], name="p", timeout=None)
    assert capsys.readouterr().out == "✓ your function: correct on 1 input\n✓ p: correct on 2 inputs\n"
    with pytest.raises(ValueError, match="timeout"):
        check_property(lambda n: n, record, [(1,)], timeout=-1)
    with pytest.raises(TypeError, match="inputs"):
        check_property(lambda n: n, record, 3)
    # the property gets its own copy of the arguments, and the student's names
    args = []

    def keep(result, xs):
        args.append(xs)

    def student(values):
        values.append(99)
        return values

    original = [1, 2]
    check_property(student, keep, [(original,)])
    assert args == [[1, 2]] and original == [1, 2]
    err = failure_of(check_property, lambda values: values, lambda r, xs: (_ for _ in ()).throw(AssertionError("no")), [([1],)], name="p")
    assert err.verdict == "✗ p: wrong result\n  input 1 of 1: values=[1]\n  no"
    assert failure_of(check_property, ..., record, [(1,)], name="p").kind == "not_implemented"


# --------------------------------------------------------------------------- check_gradient


def _square_sum(x):
    return (x**2).sum()


def square_sum_grad(x):
    return 2 * x


def test_defaults_of_the_checks():
    import inspect

    defaults = {
        name: {k: p.default for k, p in inspect.signature(fn).parameters.items() if p.default is not p.empty}
        for name, fn in [("function", check_function), ("gradient", check_gradient), ("property", check_property), ("value", check_value), ("true", check_true)]
    }
    assert defaults["function"] == {"name": None, "atol": 1e-6, "rtol": 1e-5, "timeout": 10.0, "check_dtype": True, "check_args": True, "seed": 0}
    assert defaults["gradient"] == {"wrt": 0, "name": None, "atol": 1e-6, "rtol": 1e-5, "timeout": 10.0, "check_dtype": True}
    assert defaults["property"] == {"name": None, "timeout": 10.0, "seed": 0}
    assert defaults["value"] == {"name": "value", "atol": 1e-6, "rtol": 1e-5, "check_dtype": True, "timeout": 10.0}
    assert defaults["true"] == {"name": "check", "timeout": 10.0}


def test_gradient_verdicts_word_for_word(capsys):
    x = torch.ones(2)
    check_gradient(square_sum_grad, _square_sum, [(x,), (x,)])
    assert capsys.readouterr().out == "✓ square_sum_grad: correct on 2 inputs\n"
    err = failure_of(check_gradient, lambda t: 3 * t, _square_sum, [(x,)], name="g")
    assert err.verdict == (
        "✗ g: wrong gradient\n  input 1 of 1: x=tensor([1., 1.])\n"
        "  gradient w.r.t. x at index 0: expected 2, got 3 (abs error 1, rel error 0.5)\n"
        "  2 of 2 entries differ by more than atol + rtol*|expected| (atol=1e-06, rtol=1e-05); the largest error is 1 at index 0"
    )
    err = failure_of(check_gradient, lambda t: 2 * t.double(), _square_sum, [(x,)], name="g")
    assert err.kind == "dtype" and err.verdict.startswith(
        "✗ g: wrong dtype\n  input 1 of 1: x=tensor([1., 1.])\n  gradient w.r.t. x: expected torch.float32, got torch.float64\n  hint: keep"
    )
    check_gradient(lambda t: 2 * t.double(), _square_sum, [(x,)], check_dtype=False)
    err = failure_of(check_gradient, lambda t: None, _square_sum, [(x,)], name="g")
    assert err.verdict == (
        "✗ g: wrong type of result\n  input 1 of 1: x=tensor([1., 1.])\n"
        "  gradient w.r.t. x: expected a torch.Tensor, got None\n  hint: did you forget the `return` statement?"
    )
    err = failure_of(check_gradient, _spin, _square_sum, [(x,)], name="g", timeout=0.2)
    assert err.verdict == (
        "✗ g: too slow: timed out\n  input 1 of 1: x=tensor([1., 1.])\n"
        "  did not return within 0.2 s: an endless loop, or far more work than needed?"
    )
    err = failure_of(check_gradient, lambda t: _Endless((t,)), _square_sum, [(x,)], name="g", timeout=0.3)
    assert err.kind == "timeout" and "could not finish inspecting your result within 0.3 s" in err.verdict
    err = failure_of(check_gradient, 3, _square_sum, [(x,)], name="g")
    assert err.verdict == "✗ g: wrong type of result\n  expected a function, got 3"


def test_gradient_tolerances():
    x = torch.ones(2)
    check_gradient(lambda t: 2 * t + 0.05, _square_sum, [(x,)], atol=0.1)
    check_gradient(lambda t: 2 * t * 1.01, _square_sum, [(x,)], rtol=0.02)
    assert failure_of(check_gradient, lambda t: 2 * t + 0.05, _square_sum, [(x,)], rtol=0.01).kind == "gradient"
    assert failure_of(check_gradient, lambda t: 2 * t * 1.01, _square_sum, [(x,)], atol=0.001).kind == "gradient"


def _loss_of_first(x, y):
    return (x**2).sum()


def test_gradient_with_respect_to_several_or_unused_arguments():
    x, y = torch.ones(2), torch.ones(3)
    # y does not enter the loss: its gradient is zero
    check_gradient(lambda x, y: (2 * x, torch.zeros(3)), _loss_of_first, [(x, y)], wrt=(0, 1))
    err = failure_of(check_gradient, lambda x, y: (2 * x, torch.ones(3)), _loss_of_first, [(x, y)], wrt=(0, 1), name="g")
    assert err.kind == "gradient" and "gradient w.r.t. y at index 0: expected 0, got 1" in err.verdict
    # ... also when the loss does not depend on any argument named by wrt (this raised a
    # RuntimeError of autograd before the mutation run)
    check_gradient(lambda x, y: torch.zeros(3), _loss_of_first, [(x, y)], wrt=1)
    check_gradient(lambda x: torch.zeros(2), lambda x: torch.tensor(3.0), [(x,)])
    assert failure_of(check_gradient, lambda x, y: torch.ones(3), _loss_of_first, [(x, y)], wrt=1).kind == "gradient"
    check_gradient(lambda x, y: 2 * x, _loss_of_first, [(x, y)], wrt=-2)  # counted from the end
    check_gradient(lambda x, y: 2 * x, _loss_of_first, [(x, y)], wrt=np.int64(0))
    check_gradient(lambda x, y: [2 * x, torch.zeros(3)], _loss_of_first, [(x, y)], wrt=[0, 1])
    # several positions want a tuple of gradients
    err = failure_of(check_gradient, lambda x, y: torch.ones(2, 2), _loss_of_first, [(torch.ones(2), torch.ones(2))], wrt=(0, 1), name="g")
    assert err.verdict == (
        "✗ g: wrong type of result\n  input 1 of 1: x=tensor([1., 1.]), y=tensor([1., 1.])\n"
        "  result: expected a tuple of 2 items, got a torch.Tensor\n  hint: return 2 results, e.g. `return a, b`"
    )
    err = failure_of(check_gradient, lambda x, y: (2 * x,), _loss_of_first, [(x, y)], wrt=(0, 1), name="g")
    assert err.verdict == "✗ g: wrong number of results\n  input 1 of 1: x=tensor([1., 1.]), y=tensor([1., 1., 1.])\n  result: expected 2 items, got 1"
    err = failure_of(check_gradient, lambda x, y: (2 * x, torch.zeros(2)), _loss_of_first, [(x, y)], wrt=(0, 1), name="g")
    assert err.kind == "shape" and err.verdict.startswith("✗ g: wrong shape\n  input 1 of 1: x=tensor([1., 1.]), y=tensor([1., 1., 1.])\n  gradient w.r.t. y: expected shape (3,), got (2,)")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"wrt": True}, TypeError, r"^wrt must be an int or a non-empty tuple of ints, got True$"),
        ({"wrt": 1.5}, TypeError, r"^wrt must be an int or a non-empty tuple of ints, got 1.5$"),
        ({"wrt": ()}, TypeError, r"^wrt must be an int or a non-empty tuple of ints, got \(\)$"),
        ({"wrt": (0, True)}, TypeError, r"^wrt must be an int"),
        ({"wrt": (0, "a")}, TypeError, r"^wrt must be an int"),
        ({"wrt": -3}, ValueError, r"^wrt=-3 is out of range for inputs\[0\], which has 2 arguments$"),
        ({"wrt": 2}, ValueError, r"^wrt=2 is out of range for inputs\[0\], which has 2 arguments$"),
        ({"timeout": 0}, ValueError, r"^timeout must be a positive number"),
        ({"atol": -1}, ValueError, r"^atol must be"),
        ({"rtol": -1}, ValueError, r"^rtol must be"),
    ],
)
def test_gradient_misuse_messages(kwargs, error, message):
    with pytest.raises(error, match=message):
        check_gradient(lambda x, y: x, _loss_of_first, [(torch.ones(2), torch.ones(3))], **kwargs)


def test_gradient_reference_messages():
    with pytest.raises(TypeError, match=r"^wrt=1: argument y of inputs\[1\] must be a floating-point tensor, got 3$"):
        check_gradient(lambda x, y: 2 * y, lambda x, y: (y**2).sum(), [(torch.ones(2), torch.ones(2)), (torch.ones(2), 3)], wrt=1)
    with pytest.raises(ValueError, match=r"^fn must return a scalar tensor, got tensor\(\[2., 2.\]\) on inputs\[1\]$"):
        check_gradient(square_sum_grad, lambda x: x * 2 if x.numel() == 2 else (x**2).sum(), [(torch.ones(1),), (torch.ones(2),)])
    with pytest.raises(ValueError, match=r"^fn must return a scalar tensor, got 3.0 on inputs\[0\]$"):
        check_gradient(square_sum_grad, lambda x: 3.0, [(torch.ones(2),)])
    check_gradient(square_sum_grad, lambda x: (x**2).sum().reshape(1, 1), [(torch.ones(2),)])  # one element is a scalar
    with pytest.raises(ValueError, match=r"^fn raised ZeroDivisionError: division by zero on inputs\[1\]; every input must be valid for it$"):
        check_gradient(square_sum_grad, lambda x: (x**2).sum() if x.numel() == 1 else 1 / 0, [(torch.ones(1),), (torch.ones(2),)])
    with pytest.raises(ValueError, match=r"^inputs\[1\] cannot be deep-copied"):
        check_gradient(square_sum_grad, _square_sum, [(torch.ones(1),), (torch.ones(2, requires_grad=True) * 2,)])
    with pytest.raises(ValueError, match=r"^reference_fn raised ZeroDivisionError: division by zero on inputs\[0\]; every input must be valid for it$"):
        check_function(double, lambda x: 1 / 0, [(torch.ones(1),)])


def test_where_the_student_code_failed():
    # raised in C code called directly (no frame of the student's): no location line
    err = failure_of(check_function, len, lambda x: 1, [(3,)], name="f")
    assert err.verdict == "✗ f: your code raised an exception\n  input 1 of 1: x=3\n  TypeError: object of type 'int' has no len()"
    # code whose source is unknown: the line number without the text
    namespace: dict = {}
    exec(compile("def nosource(x):\n    raise ValueError('v')\n", "<no-source>", "exec"), namespace)
    err = failure_of(check_function, namespace["nosource"], double, [(torch.ones(1),)], name="f")
    assert err.verdict.splitlines()[-2:] == ["  ValueError: v", "  in nosource, line 2"]

    def stub(x):
        raise NotImplementedError

    lines = failure_of(check_function, stub, double, [(torch.ones(1),)], name="f").verdict.splitlines()
    assert lines[1] == "  your code raised NotImplementedError"


def test_limited_output_counts_what_it_kept():
    stream = _checks._LimitedOutput(max_lines=100, max_chars=5)
    for text in ("abc", "defgh", "xyz"):
        stream.write(text)
    assert stream.text() == "abcde" and stream.cut and stream.kept_chars == 5


# --------------------------------------------------------------------------- _compare: details found by the run


def test_more_number_formatting_and_names():
    # two neighbouring doubles: 17 significant digits tell them apart, as short as possible
    assert format_number(0.1, float(np.nextafter(0.1, 1.0))) == "0.10000000000000001"

    class Xylophone:
        pass

    assert _kind_name(Xylophone()) == "a Xylophone"


def test_half_precision_and_complex_half_are_compared():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # complex32 is "experimental" in torch
        assert compare(torch.ones(2, dtype=torch.complex32), torch.ones(2, dtype=torch.complex32)) is None
        assert lines(torch.ones(2, dtype=torch.complex32), 2 * torch.ones(2, dtype=torch.complex32))[0] == "value"
    assert compare(torch.ones(2, dtype=torch.bfloat16), torch.ones(2, dtype=torch.bfloat16)) is None
    assert lines(torch.ones(2, dtype=torch.bfloat16), 2 * torch.ones(2, dtype=torch.bfloat16))[2][0] == (
        "result at index 0: expected 1, got 2 (abs error 1, rel error 1)"
    )


def test_mixed_kinds_without_dtype_check():
    # a float reference and an integer answer are compared with the tolerance, not exactly
    assert compare(np.array([1.0000001]), np.array([1]), check_dtype=False) is None
    assert compare(np.array([1]), np.array([1.0000001]), check_dtype=False) is None
    # bool against int: no "abs error" for a bool reference
    assert lines(np.array([True]), np.array([2]), check_dtype=False)[2] == ["result at index 0: expected True, got 2"]
    assert lines(np.array([2]), np.array([True]), check_dtype=False)[2] == ["result at index 0: expected 2, got True"]
    # complex on either side: the imaginary part counts
    assert lines(np.array([1 + 1j]), np.array([1.0]), check_dtype=False)[0] == "value"
    assert lines(np.array([1.0]), np.array([1 + 1j]), check_dtype=False)[0] == "value"


def test_comparing_infinities_warns_nothing():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compare(torch.tensor([math.inf, -math.inf, math.nan]), torch.tensor([math.inf, -math.inf, math.nan])) is None
        assert lines(torch.tensor([math.inf, 1.0]), torch.tensor([1.0, 1.0]))[0] == "value"


def test_two_entries_get_the_summary_line():
    assert lines(torch.tensor([1.0, 1.0]), torch.tensor([1.0, 2.0]))[2] == [
        "result at index 1: expected 1, got 2 (abs error 1, rel error 1)",
        "1 of 2 entries differ by more than atol + rtol*|expected| (atol=1e-06, rtol=1e-05); the largest error is 1 at index 1",
    ]
    assert lines(torch.tensor([1.0, 1.0]), torch.tensor([1.0, math.nan]))[2][1] == "1 of 2 entries are NaN or inf"
    assert lines(torch.tensor([1, 1]), torch.tensor([1, 2]))[2][1] == "1 of 2 entries differ"


def test_close_values_are_printed_with_enough_digits():
    e = torch.tensor([1.0000001], dtype=torch.float64)
    g = torch.tensor([1.0000003], dtype=torch.float64)
    assert lines(e, g, atol=0.0, rtol=0.0)[2] == ["result at index 0: expected 1.0000001, got 1.0000003 (abs error 2e-07, rel error 2e-07)"]


def test_the_largest_error_is_among_the_wrong_entries():
    e = torch.tensor([0.0, 0.0], dtype=torch.float64)
    g = torch.tensor([0.05, 0.5], dtype=torch.float64)
    assert lines(e, g, atol=0.1, rtol=0.0)[2][1].endswith("the largest error is 0.5 at index 1")


# --------------------------------------------------------------------------- check_function / property / value / true: options and words


def test_check_function_tolerances_reach_results_and_arguments():
    check_function(lambda x: x * 1.05, lambda x: x, [(torch.ones(2),)], rtol=0.1)
    check_function(lambda x: x + 0.05, lambda x: x, [(torch.ones(2),)], atol=0.1)

    def ref_add(x):
        x.add_(1.0)

    def add_a_bit_more(x):
        x.add_(1.05)

    check_function(add_a_bit_more, ref_add, [(torch.ones(2),)], atol=0.1)
    check_function(add_a_bit_more, ref_add, [(torch.ones(2),)], rtol=0.1)
    assert failure_of(check_function, add_a_bit_more, ref_add, [(torch.ones(2),)]).kind == "argument"


def test_arguments_are_compared_with_the_dtype_switch():
    def ref_append(xs):
        xs.append(1)

    def student_append(xs):
        xs.append(1.0)

    err = failure_of(check_function, student_append, ref_append, [([0],)], name="f")
    assert err.kind == "argument" and err.verdict == (
        "✗ f: wrong argument xs after the call (it is updated in place)\n  input 1 of 1: xs=[0]\n  argument xs[1]: expected an int, got a float (1)"
    )
    check_function(student_append, ref_append, [([0],)], check_dtype=False)


def test_every_argument_is_checked_for_changes_in_place():
    def changes_second(a, b):
        b.mul_(2)
        return a + b

    err = failure_of(check_function, changes_second, lambda a, b: a + 2 * b, [(torch.ones(1), torch.ones(1))], name="f")
    assert err.kind == "inplace"
    assert err.verdict.startswith("✗ f: changed its input in place\n  input 1 of 1: a=tensor([1.]), b=tensor([1.])\n")
    assert err.verdict.endswith(
        "  your function modified argument b, which must stay unchanged:\n"
        "  argument b at index 0: expected 1, got 2 (abs error 1, rel error 1)\n"
        "  hint: work on a copy: write `x = x - m` rather than `x -= m`, or start from x.clone()"
    )


def test_in_place_verdict_needs_the_reference_to_leave_the_argument_exactly_alone():
    # the reference changes the argument by a hair: any change counts as "updated in place"
    def ref_nudge(x):
        x.add_(1e-7)

    def student_big(x):
        x.add_(1.0)

    err = failure_of(check_function, student_big, ref_nudge, [(torch.ones(1, dtype=torch.float64),)], name="f")
    assert err.kind == "argument" and err.verdict.startswith("✗ f: wrong argument x after the call (it is updated in place)\n  input 1 of 1: x=")
    # objects inside an argument are not compared (a deep copy of object() is not == to it)
    marker = object()

    def student_scales(pair):
        pair[0].mul_(2)
        return pair[0]

    err = failure_of(check_function, student_scales, lambda pair: 2 * pair[0], [([torch.ones(1), marker],)], name="f")
    assert err.kind == "inplace"


def _helper_source() -> dict:
    import linecache

    source = "def helper(r):\n    assert r > 5\n\ndef via_helper(r, n):\n    helper(r)\n\ndef silent(r, n):\n    raise AssertionError\n"
    linecache.cache["<cell-helper>"] = (len(source), None, source.splitlines(keepends=True), "<cell-helper>")
    namespace: dict = {}
    exec(compile(source, "<cell-helper>", "exec"), namespace)
    return namespace


def test_property_verdicts_word_for_word():
    ns = _helper_source()
    err = failure_of(check_property, lambda n: n, ns["via_helper"], [(1,)], name="p")
    assert err.kind == "property" and err.verdict == "✗ p: wrong result\n  input 1 of 1: n=1\n  this condition does not hold: assert r > 5"
    exec(compile("def nosrc(r, n):\n    assert r > 5\n", "<no-source-2>", "exec"), ns)
    err = failure_of(check_property, lambda n: n, ns["nosrc"], [(1,)], name="p")
    assert err.verdict == "✗ p: wrong result\n  input 1 of 1: n=1\n  a condition of the check does not hold"
    err = failure_of(check_property, lambda n: n, lambda r, n: r.foo, [(1,)], name="p")
    assert err.kind == "property" and err.verdict.startswith("✗ p: wrong result\n  input 1 of 1: n=1\n  the check could not use your result 1: AttributeError")
    err = failure_of(check_property, 3, lambda r, n: None, [(1,)], name="p")
    assert err.verdict == "✗ p: wrong type of result\n  expected a function, got 3"
    err = failure_of(check_property, _spin, lambda r, n: None, [(1,)], name="p", timeout=0.2)
    assert err.verdict == "✗ p: too slow: timed out\n  input 1 of 1: x=1\n  did not return within 0.2 s: an endless loop, or far more work than needed?"
    with pytest.raises(ValueError, match=r"^inputs\[1\] cannot be deep-copied"):
        check_property(lambda x: x, lambda r, x: None, [(torch.ones(1),), (torch.ones(1, requires_grad=True) * 2,)])


def test_check_value_words_and_switches(capsys):
    check_value(1, 1)
    assert capsys.readouterr().out == "✓ value: correct\n"
    err = failure_of(check_value, ..., 1, name="n")
    assert err.kind == "not_implemented" and err.verdict == "✗ n: not implemented yet\n  replace `...` by your value of n"
    assert failure_of(check_value, 1.0, 1).verdict == "✗ value: wrong dtype\n  value: expected an int, got a float (1)"
    check_value(1.0, 1, check_dtype=False)
    check_value(1.05, 1.0, rtol=0.1)
    err = failure_of(check_value, _Endless((1,)), (1,), name="v", timeout=0.3)
    assert err.verdict == "✗ v: too slow: timed out\n  the check could not finish inspecting your result within 0.3 s (does it override __len__, __eq__ or __bool__?)"


def test_check_true_words():
    with pytest.raises(TypeError, match=r"^message must be a str, got bytes$"):
        check_true(True, b"m")  # type: ignore[arg-type]
    err = failure_of(check_true, _EndlessTruth(), "m", name="c", timeout=0.3)
    assert err.verdict == "✗ c: too slow: timed out\n  the check could not finish inspecting your result within 0.3 s (does it override __len__, __eq__ or __bool__?)"
    err = failure_of(check_true, lambda: _spin(0), "m", name="c", timeout=0.2)
    assert err.verdict == "✗ c: too slow: timed out\n  did not return within 0.2 s: an endless loop, or far more work than needed?"


class _EndlessTruth:
    def __bool__(self):
        while True:
            pass


def test_call_timed_out_exception():
    from companion.exercises._timeout import CallTimedOut

    err = CallTimedOut()
    assert str(err) == "call timed out" and err.still_running is False
    assert CallTimedOut(still_running=True).still_running is True
    assert not isinstance(err, Exception)  # a student's `except Exception:` cannot swallow it


def test_a_loop_that_catches_exception_is_still_stopped():
    """The stop request is a CallTimedOut, which a student's ``except Exception:`` lets through."""
    from companion.exercises._timeout import CallTimedOut, call_with_timeout

    def stubborn() -> None:
        while True:
            try:
                sum(range(100))
            except Exception:  # noqa: BLE001 - what a student may write
                pass

    with pytest.raises(CallTimedOut) as info:
        call_with_timeout(stubborn, timeout=0.2)
    assert info.value.still_running is False


def test_nested_values_keep_every_switch():
    kind, where, _ = lines(torch.ones(2, 3), torch.ones(3, 2))
    assert (kind, where) == ("shape", "result")
    # a numeric reference and a text answer: compared as objects, not converted
    assert lines(np.array([1.0]), np.array(["a"]), check_dtype=False)[0] == "value"
    assert lines([torch.ones(1)], [torch.ones(1, dtype=torch.float64)])[0] == "dtype"
    assert lines({"a": torch.ones(1)}, {"a": torch.ones(1, dtype=torch.float64)})[0] == "dtype"
    assert compare((torch.ones(1),), (torch.ones(1) * 1.1,), rtol=0.2) is None
    assert compare({"a": torch.ones(1)}, {"a": torch.ones(1) + 0.1}, atol=0.2) is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_short_repr_names_the_device():
    assert short_repr(torch.ones(2, device="cuda")) == "tensor([1., 1.], device='cuda:0')"
    assert short_repr(torch.ones(13, device="cuda")) == "tensor of shape (13,), float32, on cuda:0"


def test_default_time_limits_and_seeds(monkeypatch):
    limits = []

    def record(fn, args=(), timeout=None):
        limits.append(timeout)
        return fn(*args)

    monkeypatch.setattr(_checks, "call_with_timeout", record)
    check_function(double, double, [(torch.ones(1),)])
    check_gradient(square_sum_grad, _square_sum, [(torch.ones(1),)])
    check_property(double, lambda r, x: None, [(torch.ones(1),)])
    check_value(1, 1)
    check_true(True, "m")
    assert limits == [10.0] * 5
    # the default seed is 0, for the student's function and for the property check
    seen = []
    check_function(lambda n: seen.append(torch.rand(n)) or 1, lambda n: 1, [(2,)])
    check_property(lambda n: seen.append(torch.rand(n)) or 1, lambda r, n: None, [(2,)])
    torch.manual_seed(0)
    expected = torch.rand(2)
    assert torch.equal(seen[0], expected) and torch.equal(seen[1], expected)


def test_long_messages_are_cut_just_past_300_characters():
    assert _checks._message_of(ValueError("x" * 301)) == "ValueError: " + "x" * 297 + "..."


def test_an_infinite_grader_limit_is_ignored(monkeypatch):
    monkeypatch.setenv("COMPANION_CHECK_TIMEOUT", "inf")
    assert _checks._timeout_limit(None) is None
    monkeypatch.setenv("COMPANION_CHECK_TIMEOUT", " 2.5 ")
    assert _checks._timeout_limit(None) == 2.5 and _checks._timeout_limit(9.0) == 2.5


def test_a_stopped_call_leaves_no_error_in_its_thread(monkeypatch):
    import threading

    from companion.exercises._timeout import CallTimedOut, call_with_timeout

    escaped = []
    monkeypatch.setattr(threading, "excepthook", lambda args: escaped.append(args.exc_type))
    with pytest.raises(CallTimedOut) as info:
        call_with_timeout(_spin, (0,), timeout=0.05)
    assert info.value.still_running is False
    assert escaped == []  # the worker ended through CallTimedOut, caught inside it


def test_verdict_when_the_student_code_cannot_be_stopped(monkeypatch):
    from companion.exercises._timeout import CallTimedOut

    def never_stops(fn, args=(), timeout=None):
        raise CallTimedOut(still_running=True)

    monkeypatch.setattr(_checks, "call_with_timeout", never_stops)
    err = failure_of(check_function, double, double, [(torch.ones(1),)], name="f", timeout=2)
    assert err.kind == "timeout" and err.verdict == (
        "✗ f: too slow: timed out\n  input 1 of 1: x=tensor([1.])\n"
        "  did not return within 2 s: an endless loop, or far more work than needed?\n"
        "  it could not be stopped and is still running: restart the kernel before going on"
    )


def test_interrupted_verdict(monkeypatch):
    def interrupted(fn, args=(), timeout=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(_checks, "call_with_timeout", interrupted)
    err = failure_of(check_function, double, double, [(torch.ones(1),)], name="f")
    assert err.kind == "interrupted" and err.verdict == (
        "✗ f: interrupted\n  input 1 of 1: x=tensor([1.])\n"
        "  the check was stopped before it finished (the stop button, or a time limit of the grader)"
    )


# --------------------------------------------------------------------------- _timeout


def test_call_with_timeout_refuses_bad_limits():
    from companion.exercises._timeout import call_with_timeout

    for bad in (0, -1.0, True, "1", float("nan")):
        with pytest.raises(ValueError, match=r"^timeout must be a positive number of seconds or None, got "):
            call_with_timeout(sum, ([1],), timeout=bad)
    assert call_with_timeout(sum, ([1],), timeout=None) == 1
    assert call_with_timeout(sum, ([1],), timeout=1) == 1


def test_the_worker_is_a_named_daemon_thread_waited_for_ten_seconds(monkeypatch):
    import threading

    from companion.exercises._timeout import call_with_timeout

    assert call_with_timeout(lambda: threading.current_thread().name, timeout=1.0) == "companion-exercise-call"
    assert call_with_timeout(lambda: threading.current_thread().daemon, timeout=1.0) is True
    waits = []
    real_join = threading.Thread.join

    def join(self, timeout=None):
        waits.append(timeout)
        return real_join(self, timeout)

    monkeypatch.setattr(threading.Thread, "join", join)
    assert call_with_timeout(sum, ([2],)) == 2
    assert waits == [10.0]


def test_interrupt_while_waiting_stops_the_worker(monkeypatch):
    import threading

    from companion.exercises._timeout import CallTimedOut, call_with_timeout

    stopped = threading.Event()
    interrupted = []

    def spin_until_stopped():
        try:
            while True:
                pass
        except CallTimedOut:
            stopped.set()
            raise

    real_join = threading.Thread.join

    def join(self, timeout=None):
        if self.name == "companion-exercise-call" and not interrupted:
            interrupted.append(True)
            raise KeyboardInterrupt  # the stop button while the check waits
        return real_join(self, timeout)

    monkeypatch.setattr(threading.Thread, "join", join)
    with pytest.raises(KeyboardInterrupt):
        call_with_timeout(spin_until_stopped, timeout=5.0)
    assert stopped.wait(5.0)  # the worker was asked to stop, with CallTimedOut
