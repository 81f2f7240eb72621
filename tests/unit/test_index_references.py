"""`References`: a file's referenced names as one blob, behaving as an immutable set of strings."""

import pytest

from copilot_ls.index.model import NO_REFERENCES, References


def test_membership_is_by_whole_name_only() -> None:
    refs = References(b"area\nShape\nmath")
    assert "area" in refs and "Shape" in refs and "math" in refs
    assert "are" not in refs and "hape" not in refs and "math\n" not in refs
    assert "" not in refs and 3 not in refs


def test_a_name_found_first_inside_a_longer_one_is_still_found() -> None:
    assert "pi" in References(b"spin\npi") and "pi" in References(b"pix\npi\nx")


def test_iteration_length_and_truth_follow_the_names() -> None:
    refs = References("Füße\nx".encode())
    assert sorted(refs) == ["Füße", "x"] and len(refs) == 2 and refs
    assert list(NO_REFERENCES) == [] and len(NO_REFERENCES) == 0 and not NO_REFERENCES


def test_equality_ignores_the_order_of_the_blob_and_matches_plain_sets() -> None:
    a, b = References(b"a\nb\nc"), References(b"c\na\nb")
    assert a == b and hash(a) == hash(b)
    assert a == {"a", "b", "c"} and a == frozenset({"a", "b", "c"})
    assert hash(a) == hash(frozenset({"a", "b", "c"}))
    assert a != References(b"a\nb") and a != References(b"a\nb\nd") and a != {"a"}


def test_of_keeps_each_name_once_and_drops_names_that_cannot_be_stored() -> None:
    refs = References.of(["x", "y", "x", "", "two\nlines"])
    assert sorted(refs) == ["x", "y"] and refs.blob.count(b"\n") == 1


def test_set_operators_work_and_give_plain_frozensets() -> None:
    refs = References(b"a\nb")
    assert refs & {"b", "c"} == frozenset({"b"}) and isinstance(refs | {"c"}, frozenset)
    assert References(b"a") <= refs and not refs <= References(b"a")


@pytest.mark.parametrize("blob", [b"\xff\xfe", b"ok\n\xc3"])
def test_a_damaged_blob_still_iterates(blob: bytes) -> None:
    assert len(list(References(blob))) == blob.count(b"\n") + 1
