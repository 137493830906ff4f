"""The lecture's example batch, as token ids, for the language-model tests of both homeworks."""

from __future__ import annotations

import numpy as np

LECTURE_BATCH = [
    "<bos> students opened their books <eos>",
    "<bos> people walked their dogs <eos>",
    "<bos> the classroom fell silent <eos>",
]


def lecture_vocabulary(sentences: list[str]) -> dict[str, int]:
    """Word -> id, with `<pad>` as id 0 and the other words in sorted order."""
    words = ["<pad>"] + sorted({word for sentence in sentences for word in sentence.split()})
    return {word: i for i, word in enumerate(words)}


def encode(sentences: list[str], vocabulary: dict[str, int], length: int | None = None) -> np.ndarray:
    """Token ids of shape (B, length), each sentence padded with `<pad>` (default length: the longest)."""
    length = length or max(len(sentence.split()) for sentence in sentences)
    rows = []
    for sentence in sentences:
        ids = [vocabulary[word] for word in sentence.split()]
        rows.append(ids + [vocabulary["<pad>"]] * (length - len(ids)))
    return np.array(rows)
