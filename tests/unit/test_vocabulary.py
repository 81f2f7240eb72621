"""Token healing looks up the tokens compatible with the text still to re-type."""

from copilot_ls.backends.vocabulary import Vocabulary


def test_compatible_tokens_start_with_the_text_or_are_a_prefix_of_it():
    pieces = [b"", b"re", b"ret", b"return", b"returns", b"x", b"r", b"ra"]
    vocab = Vocabulary(pieces)
    assert sorted(vocab.compatible(b"ret")) == [1, 2, 3, 4, 6]
    assert vocab.compatible(b"") == []
    assert sorted(vocab.compatible(b"q")) == []
