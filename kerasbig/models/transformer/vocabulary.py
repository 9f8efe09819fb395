"""A WordPiece vocabulary from word counts, in one pass over the texts.

keras-hub's ``compute_word_piece_vocabulary`` (tensorflow-text's learner)
searches for a count threshold with about a dozen passes over the corpus: 15
to 50 seconds for 2,500 short texts on 2 cores, longer than the training the
text estimators are budgeted for. This module builds a vocabulary that the
same ``WordPieceTokenizer`` reads, from one count of the words:

1. the reserved tokens (``[PAD]``, ``[UNK]``, ``[CLS]``);
2. every character seen, as a word start and as a ``##`` continuation, so
   that any word of the training alphabet tokenizes without ``[UNK]``;
3. the most frequent whole words (seen at least twice), three quarters of
   the room left;
4. the most frequent prefixes and ``##`` suffixes (2 to 6 characters) of the
   words left out, so that a rare word becomes a few pieces, not one per
   character.

Words are split as keras-hub's tokenizer splits them (whitespace and
punctuation, punctuation kept as its own word), after the same lowercasing
and accent stripping. Ties in counts are broken by first appearance, so the
same texts always give the same vocabulary.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

import regex

# keras-hub's split: punctuation (ASCII non-alphanumerics and Unicode \p{P})
# is a word of its own; whitespace and control characters separate words.
_PUNCTUATION = r"[!-/:-@\[-`{-~\p{P}]"
_WORD = regex.compile(rf"{_PUNCTUATION}|[^\s\p{{Cc}}\p{{Cf}}!-/:-@\[-`{{-~\p{{P}}]+")

WHOLE_WORD_SHARE = 0.75  # of the room after the reserved tokens and characters
MIN_WORD_COUNT = 2
PIECE_LENGTHS = range(2, 7)


def words_of(
    text: str, *, lowercase: bool = True, strip_accents: bool = False
) -> list[str]:
    """``text`` split into the words keras-hub's WordPiece tokenizer sees.

    Examples
    --------
    >>> words_of("Hello, World -- it's 9:30!")
    ['hello', ',', 'world', '-', '-', 'it', "'", 's', '9', ':', '30', '!']
    """
    if lowercase:
        text = text.lower()
    if strip_accents:
        text = "".join(
            c
            for c in unicodedata.normalize("NFD", text)
            if unicodedata.category(c) != "Mn"
        )
    return _WORD.findall(text)


def learn_word_pieces(
    texts: Iterable[str],
    size: int,
    *,
    reserved: Sequence[str],
    lowercase: bool = True,
    strip_accents: bool = False,
) -> list[str]:
    """A WordPiece vocabulary of at most ``size`` pieces, ``reserved`` first.

    Examples
    --------
    >>> texts = ["the cat sat", "the cat ran", "a catalogue"]
    >>> vocabulary = learn_word_pieces(texts, 40, reserved=["[PAD]", "[UNK]"])
    >>> vocabulary[:2], "cat" in vocabulary, "##g" in vocabulary
    (['[PAD]', '[UNK]'], True, True)
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(words_of(text, lowercase=lowercase, strip_accents=strip_accents))
    characters: Counter[str] = Counter()
    for word, count in counts.items():
        characters[word[0]] += count
        for character in word[1:]:
            characters["##" + character] += count

    vocabulary = list(dict.fromkeys(reserved))
    taken = set(vocabulary)

    def add(pieces: Iterable[str], limit: int) -> None:
        for piece in pieces:
            if len(vocabulary) >= limit:
                return
            if piece not in taken:
                vocabulary.append(piece)
                taken.add(piece)

    add((piece for piece, _ in characters.most_common()), size)
    room = size - len(vocabulary)
    add(
        (w for w, c in counts.most_common() if c >= MIN_WORD_COUNT),
        len(vocabulary) + int(room * WHOLE_WORD_SHARE),
    )
    pieces: Counter[str] = Counter()
    for word, count in counts.items():
        if word in taken or len(word) < 4:
            continue
        for k in PIECE_LENGTHS:
            if k >= len(word):
                break
            pieces[word[:k]] += count
            pieces["##" + word[-k:]] += count
    add((piece for piece, _ in pieces.most_common()), size)
    return vocabulary
