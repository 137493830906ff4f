"""Fingerprints of a token sequence: hashed k-grams, winnowed (Schleimer, Wilkerson and Aiken,
"Winnowing: local algorithms for document fingerprinting", SIGMOD 2003; the method of MOSS).

- Every run of `k` consecutive symbols (a k-gram) gets a 64-bit hash: each symbol's stable id
  (the first 8 bytes of its BLAKE2b digest, never Python's per-process `hash()`), combined as a
  polynomial modulo 2**64 and mixed by splitmix64's finaliser, so equal k-grams hash alike in
  every run and on every machine.
- Of every window of `window` consecutive k-gram hashes, the smallest is kept (the rightmost on a
  tie), each position once. Any passage of at least `k + window - 1` tokens that two sequences
  share gives both at least one common fingerprint; passages shorter than `k` never do.

Arrays are numpy: a sequence of n symbols gives `max(0, n - k + 1)` k-gram hashes.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Sequence

import numpy as np

_BASE = np.uint64(0x100000001B3)  # the FNV prime: odd, so the polynomial loses no bits
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


@functools.lru_cache(maxsize=4096)
def symbol_id(symbol: str) -> int:
    """A stable 64-bit id for `symbol`: the first 8 bytes of its BLAKE2b digest."""
    return int.from_bytes(hashlib.blake2b(symbol.encode("utf-8"), digest_size=8).digest(), "little")


def symbol_ids(symbols: Sequence[str]) -> np.ndarray:
    """`symbol_id` of each symbol, shape (n,), uint64."""
    distinct = {symbol: symbol_id(symbol) for symbol in set(symbols)}
    return np.array([distinct[symbol] for symbol in symbols], dtype=np.uint64)


def kgram_hashes(ids: np.ndarray, k: int) -> np.ndarray:
    """The hash of each k-gram of `ids` (shape (n,), uint64): shape (max(0, n - k + 1),), uint64;
    entry i hashes ids[i : i + k]."""
    count = len(ids) - k + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    hashes = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(k):  # h = (((id_0 B + id_1) B + id_2) B + ...) mod 2**64
            hashes = hashes * _BASE + ids[offset:offset + count]
        return _mix(hashes)


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every bit of the result depends on every bit of the input."""
    values = values ^ (values >> np.uint64(30))
    values = values * _MIX_1
    values = values ^ (values >> np.uint64(27))
    values = values * _MIX_2
    return values ^ (values >> np.uint64(31))


def winnow(hashes: np.ndarray, window: int) -> np.ndarray:
    """The positions winnowing keeps in `hashes` (shape (m,)): the rightmost minimum of every
    window of `window` consecutive hashes, each position once, ascending; int64, shape (<= m,).
    A sequence shorter than one window keeps its rightmost minimum."""
    if len(hashes) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(hashes) <= window:
        return np.array([len(hashes) - 1 - int(np.argmin(hashes[::-1]))], dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(hashes, window)  # (m - window + 1, window)
    rightmost = window - 1 - np.argmin(windows[:, ::-1], axis=1)  # argmin takes the first: reversed, the last
    return np.unique(rightmost + np.arange(len(windows)))

