"""Randomisation: which arm each enrolled dyad gets (simple, permuted blocks, stratified
permuted blocks), from a numpy Generator (the replicate's randomisation stream)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["randomize", "stratum_codes"]


def stratum_codes(values: np.ndarray) -> np.ndarray:
    """Stratum index per dyad from baseline values (n, k): each column split at its sample
    median (above the median = 1), combined as a binary number."""
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    med = np.nanmedian(v, axis=0)
    high = (v > med).astype(np.int64)
    return (high * (2 ** np.arange(v.shape[1]))).sum(axis=1)


def _blocks(n: int, allocation: np.ndarray, block_size: int,
            rng: np.random.Generator) -> np.ndarray:
    per = allocation * (block_size // int(allocation.sum()))
    block = np.repeat(np.arange(len(allocation)), per)
    out = [rng.permutation(block) for _ in range(math.ceil(n / block_size))]
    return np.concatenate(out)[:n] if out else np.zeros(0, dtype=np.int64)


def randomize(n: int, allocation: Sequence[int], method: str, *, rng: np.random.Generator,
              block_size: int | None = None, strata: np.ndarray | None = None) -> np.ndarray:
    """Arm index (0-based, in enrolment = dyad-id order) for ``n`` dyads.

    ``simple``: independent draws with probabilities proportional to ``allocation``.
    ``permuted_block``: consecutive blocks of ``block_size`` (default twice the allocation
    total) each holding every arm in the allocation ratio, in random order (the last block
    may be cut short). ``stratified``: permuted blocks within each stratum (``strata``:
    one integer code per dyad, see :func:`stratum_codes`), strata taken in ascending order.
    """
    alloc = np.asarray(allocation, dtype=np.int64)
    if alloc.ndim != 1 or len(alloc) < 1 or (alloc <= 0).any():
        raise ValueError("allocation must be positive integers, one per arm")
    size = int(block_size) if block_size is not None else 2 * int(alloc.sum())
    if method != "simple" and size % int(alloc.sum()):
        raise ValueError(f"block_size {size} is not a multiple of the allocation total")
    if method == "simple":
        return rng.choice(len(alloc), size=n, p=alloc / alloc.sum()).astype(np.int64)
    if method == "permuted_block":
        return _blocks(n, alloc, size, rng).astype(np.int64)
    if method == "stratified":
        if strata is None or len(strata) != n:
            raise ValueError("stratified randomisation needs one stratum code per dyad")
        codes = np.asarray(strata)
        out = np.empty(n, dtype=np.int64)
        for code in np.unique(codes):
            rows = np.flatnonzero(codes == code)
            out[rows] = _blocks(len(rows), alloc, size, rng)
        return out
    raise ValueError(f"unknown randomisation method {method!r}")
