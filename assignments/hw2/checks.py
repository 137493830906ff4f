"""The hidden checks of homework 2: for each of the 12 functions, several weighted properties.

Written with the authoring API alone (grader.authoring): each function is declared once, with
its outputs and usual cases, and its checks are attached to it. Kinds of check: output shapes
and dtypes; agreement with the reference on generated inputs; properties of the output (the
algebra of affine maps, the scan's recurrence, heads undone, rotations, attention rows);
numerical stability at large magnitudes (agreement on large inputs); gradients against central
finite differences of the reference forward; the ValueErrors the contract requires; invariances.
Only agreement and gradients are evidence: the other checks pay once the function has some
(an answer that ignores its inputs passes many of them). Points per function come from
assignment.json; within a function they are shared out by the checks' weights.
"""

from __future__ import annotations

import numpy as np

from grader.authoring import (Assignment, CheckFailure, as_float_array, causal_zeros, compare_array,
                              rows_are_distributions)

from . import cases as c
from .misconceptions import build as build_misconceptions


def build(ref):
    """(checks, misconceptions) for homework 2, given the reference module `ref`."""
    hw = Assignment(ref)

    # --- Part A: a linear RNN, computed in parallel ----------------------------------------
    forward = hw.function("linear_rnn_forward", outputs="H", cases=c.linear_rnn_cases())
    forward.shapes(max_examples=10)
    forward.agrees("matches the reference on random sequences (T = 1..8)", weight=3, max_examples=40)
    forward.agrees("works with one initial state h0 of shape (d_h,) shared by the batch",
                   cases=c.linear_rnn_cases(shared_h0=True), max_examples=15)

    compose = hw.function("compose_affine", outputs=("M", "b"), cases=c.compose_cases())
    compose.shapes(max_examples=10)
    compose.agrees("matches the reference, batch dimensions of all four arrays broadcast", weight=3, max_examples=40)
    compose.check("is associative: (f1 then f2) then f3 equals f1 then (f2 then f3)", _is_associative,
                  cases=c.three_maps_cases(), max_examples=10)

    scan = hw.function("prefix_scan", outputs=("P", "q"), cases=c.scan_cases())
    scan.shapes(max_examples=10)
    scan.agrees("matches the reference's inclusive prefixes (T = 1..10)", weight=3, max_examples=40)
    scan.agrees("matches the reference on 9 to 40 maps (4 to 6 rounds)", cases=c.scan_cases(min_T=9, max_T=40),
                weight=2, max_examples=10)
    scan.holds("each prefix is the previous one followed by map t: P_t = M_t P_(t-1), q_t = M_t q_(t-1) + b_t",
               _each_prefix_extends_the_previous, max_examples=15)
    scan.holds("with T = 1 returns the values of (M, b)", _returns_its_one_map, cases=c.scan_cases(max_T=1),
               max_examples=10)

    rnn_scan = hw.function("linear_rnn_scan", outputs="H", cases=c.linear_rnn_cases())
    rnn_scan.shapes(max_examples=10)
    rnn_scan.agrees("matches linear_rnn_forward's states (T = 1..8)", weight=3, max_examples=40)
    rnn_scan.agrees("works with one initial state h0 of shape (d_h,) shared by the batch",
                    cases=c.linear_rnn_cases(shared_h0=True), max_examples=15)
    rnn_scan.agrees("matches linear_rnn_forward's states on sequences of 9 to 40 steps",
                    cases=c.linear_rnn_cases(min_T=9, max_T=40, max_batch=2), weight=2, max_examples=10)
    rnn_scan.check("is h_t = P_t h0 + q_t from your prefix_scan of the maps (W_h, W_c c_t)",
                   _is_your_prefix_scan_applied_to_h0, uses=["prefix_scan"], max_examples=10)

    kernel = hw.function("linear_rnn_kernel", outputs="K", cases=c.kernel_cases())
    kernel.shapes(max_examples=10)
    kernel.agrees("matches the reference kernel W_h^k W_c", weight=3, max_examples=40)
    kernel.holds("starts with K[0] = W_c and each entry is W_h times the previous one", _kernel_recurrence,
                 max_examples=10)

    # --- Part B: multi-head attention --------------------------------------------------------
    split = hw.function("split_heads", outputs="heads", cases=c.split_cases())
    split.shapes(max_examples=10)
    split.agrees("gives head h the features [h*d/n_heads, (h+1)*d/n_heads)", weight=3, max_examples=40, rtol=0, atol=0)
    split.holds("is undone by merge_heads: merge_heads(split_heads(X, n_heads)) gives X back", _merge_undoes(ref),
                max_examples=15)
    split.raises("raises ValueError when n_heads does not divide d", cases=c.indivisible_split_cases(), max_examples=10)

    merge = hw.function("merge_heads", outputs="X", cases=c.merge_cases())
    merge.shapes(max_examples=10)
    merge.agrees("puts the heads side by side in order", weight=3, max_examples=40, rtol=0, atol=0)
    merge.holds("is undone by split_heads: split_heads(merge_heads(X), n_heads) gives X back", _split_undoes(ref),
                max_examples=15)

    attention = hw.function("multi_head_attention", outputs=("H", "A"), cases=c.attention_cases())
    attention.shapes(max_examples=10)
    attention.agrees("matches the reference (H, A) for 1 to 4 heads, causal and not", weight=4, max_examples=50)
    attention.holds("rows of A are distributions: entries in [0, 1] summing to 1", rows_are_distributions("A"),
                    output="A", max_examples=15)
    attention.holds("with causal=True, no head gives weight to a later position", causal_zeros("A"), output="A",
                    cases=c.attention_cases(causal=True), max_examples=15)
    attention.holds("H is merge_heads(A V) W_o^T with your A", _h_mixes_the_values_with_your_weights(ref),
                    max_examples=15)
    attention.agrees("is finite and right for scores of magnitude 1e3", cases=c.attention_cases(scale=30.0),
                     max_examples=15, visibility="after_due_date")
    attention.raises("raises ValueError when n_heads does not divide d_k or d_v",
                     cases=c.attention_cases(indivisible=True), max_examples=10)

    attention_back = hw.function("multi_head_attention_backward", outputs=("dC", "dW_q", "dW_k", "dW_v", "dW_o"),
                                 cases=c.attention_backward_cases())
    attention_back.shapes(max_examples=10)
    attention_back.agrees("matches the reference gradients for 1 to 4 heads, causal and not", weight=4,
                          max_examples=50)
    attention_back.gradient("agrees with finite differences of multi_head_attention", of="multi_head_attention",
                            output="H", wrt=("C", "W_q", "W_k", "W_v", "W_o"),
                            cases=c.attention_backward_cases(max_T=4, max_batch=2), weight=3, max_examples=24)
    attention_back.raises("raises ValueError when n_heads does not divide d_k or d_v",
                          cases=c.attention_backward_cases(indivisible=True), max_examples=5)

    # --- Part C: position information --------------------------------------------------------
    table = hw.function("sinusoidal_positions", outputs="P", cases=c.position_table_cases())
    table.shapes(max_examples=10)
    table.agrees("matches the reference table", weight=3, max_examples=30)
    table.holds("each pair turns by the fixed angle w_i from one position to the next", _pairs_turn_by_w,
                cases=c.position_table_cases(min_T=2), max_examples=10)
    table.raises("raises ValueError for an odd d", cases=c.position_table_cases(odd=True), max_examples=10)

    rotary = hw.function("rotary", outputs="X_rotated", cases=c.rotary_cases())
    rotary.shapes(max_examples=10)
    rotary.agrees("matches the reference rotation of each adjacent pair", weight=3, max_examples=40)
    rotary.agrees("is right for positions up to 99999", cases=c.rotary_cases(max_position=100000), max_examples=15,
                  visibility="after_due_date")
    rotary.holds("with every position 0 returns the values of X", _returns_X, cases=c.rotary_cases(zero_positions=True),
                 max_examples=10)
    rotary.check("makes rotary(q, m) . rotary(k, n) depend only on m - n", _scores_depend_on_offsets_only,
                 cases=c.query_key_cases(), max_examples=10)
    rotary.raises("raises ValueError for an odd d", cases=c.rotary_cases(odd=True), max_examples=10)

    lm = hw.function("transformer_lm_loss", outputs="loss", cases=c.transformer_cases())
    lm.shapes(max_examples=10)
    lm.agrees("matches the reference on padded batches", weight=3, max_examples=40)
    lm.unchanged_when("ignores the padding after <eos> but not the words", _another_pad_embedding,
                      says="changing the embedding of <pad>", changed_when=_another_bos_embedding,
                      changed_says="changing the embedding of <bos>, which every sentence reads", max_examples=10)
    lm.agrees("is finite and right with embeddings of magnitude 1e3 (target probabilities far below 1e-12)",
              cases=c.transformer_cases(embedding_scale=1e3), max_examples=10, visibility="after_due_date")
    lm.raises("raises ValueError when no position counts", cases=c.transformer_cases(nothing_counts=True),
              max_examples=5)
    lm.raises("raises ValueError for an odd d_c", cases=c.transformer_cases(odd=True), max_examples=5)

    return hw.checks(), build_misconceptions(ref)


# --- Part A ------------------------------------------------------------------------------------

def _affine_map(name: str, value) -> tuple[tuple[np.ndarray, np.ndarray] | None, str | None]:
    """A returned pair (M, b) as float arrays, or None and what is wrong with it."""
    if not isinstance(value, tuple) or len(value) != 2:
        return None, f"{name}: expected a pair (M, b), got {type(value).__name__}"
    M, problem_M = as_float_array(f"{name}[0]", value[0])
    b, problem_b = as_float_array(f"{name}[1]", value[1])
    if problem_M or problem_b:
        return None, problem_M or problem_b
    if M.ndim < 2 or b.ndim < 1 or M.shape[-2:] != (b.shape[-1], b.shape[-1]):
        return None, f"{name}: expected M of shape (..., d, d) and b of shape (..., d), got {M.shape} and {b.shape}"
    return (M, b), None


def _is_associative(student, case) -> None:
    """compose_affine(compose_affine(f1, f2), f3) equals compose_affine(f1, compose_affine(f2, f3))."""
    f1, f2, f3 = case.args
    f12 = _your_composition(student, "compose_affine(f1, f2)", f1, f2)
    M_left, b_left = _your_composition(student, "compose_affine(compose_affine(f1, f2), f3)", f12, f3)
    f23 = _your_composition(student, "compose_affine(f2, f3)", f2, f3)
    M_right, b_right = _your_composition(student, "compose_affine(f1, compose_affine(f2, f3))", f1, f23)
    problem = (compare_array("M of (f1 then f2) then f3, against f1 then (f2 then f3)", M_left, M_right)
               or compare_array("b of (f1 then f2) then f3, against f1 then (f2 then f3)", b_left, b_right))
    if problem:
        raise CheckFailure(problem)


def _your_composition(student, name: str, first, second) -> tuple[np.ndarray, np.ndarray]:
    """The student's compose_affine(first, second) as float arrays; CheckFailure unless it is a pair (M, b)."""
    pair, problem = _affine_map(name, student(first, second))
    if problem:
        raise CheckFailure(problem)
    return pair


def _each_prefix_extends_the_previous(got, case) -> str | None:
    """prefix_scan's (P, q) satisfy P_0 = M_0, q_0 = b_0 and P_t = M_t P_(t-1), q_t = M_t q_(t-1) + b_t."""
    M, b = case.args
    pair, problem = _affine_map("(P, q)", got)
    if problem:
        return problem
    P, q = pair
    if P.shape != M.shape or q.shape != b.shape:
        return f"(P, q): expected shapes {M.shape} and {b.shape}, got {P.shape} and {q.shape}"
    extended_P = np.concatenate([M[..., :1, :, :], M[..., 1:, :, :] @ P[..., :-1, :, :]], axis=-3)
    extended_q = np.concatenate([b[..., :1, :], (M[..., 1:, :, :] @ q[..., :-1, :, None])[..., 0] + b[..., 1:, :]],
                                axis=-2)
    return (compare_array("P (against M_t times your P_(t-1))", P, extended_P)
            or compare_array("q (against M_t times your q_(t-1) plus b_t)", q, extended_q))


def _returns_its_one_map(got, case) -> str | None:
    """prefix_scan of a single map is that map."""
    M, b = case.args
    pair, problem = _affine_map("(P, q)", got)
    if problem:
        return problem
    return compare_array("P (against M)", pair[0], M) or compare_array("q (against b)", pair[1], b)


def _is_your_prefix_scan_applied_to_h0(student, case, others) -> None:
    """linear_rnn_scan's H equals P_t h0 + q_t from the student's own prefix_scan of the maps (W_h, W_c c_t)."""
    h0, C, W_h, W_c = case.args
    got = student(*case.args)
    b = C @ W_c.T  # (..., T, d_h)
    M = np.array(np.broadcast_to(W_h, b.shape[:-1] + W_h.shape))  # (..., T, d_h, d_h)
    pair, problem = _affine_map("your prefix_scan(M, b)", others["prefix_scan"](M, b))
    if problem:
        raise CheckFailure(problem, got)
    P, q = pair
    if P.shape != M.shape or q.shape != b.shape:
        raise CheckFailure(f"your prefix_scan(M, b): expected shapes {M.shape} and {b.shape}, got {P.shape} and "
                           f"{q.shape}", got)
    problem = compare_array("H (against P_t h0 + q_t from your prefix_scan)", got, (P @ h0[..., None, :, None])[..., 0] + q)
    if problem:
        raise CheckFailure(problem, got)


def _kernel_recurrence(got, case) -> str | None:
    """K[0] = W_c and K[k] = W_h K[k-1]."""
    W_h, W_c, T = case.args
    K, problem = as_float_array("K", got)
    if problem:
        return problem
    if K.shape != (T,) + W_c.shape:
        return f"K: expected shape {(T,) + W_c.shape}, got {K.shape}"
    return compare_array("K[0] (against W_c)", K[0], W_c) or compare_array(
        "K[1:] (against W_h times your previous entry)", K[1:], W_h @ K[:-1])


# --- Part B ------------------------------------------------------------------------------------

def _merge_undoes(ref):
    """split_heads(X, n_heads), merged again by the reference's merge_heads, is X."""
    def predicate(got, case) -> str | None:
        X, n_heads = case.args
        heads, problem = as_float_array("split_heads(X, n_heads)", got)
        if problem:
            return problem
        T, d = X.shape[-2:]
        if heads.shape != X.shape[:-2] + (n_heads, T, d // n_heads):
            return f"split_heads(X, n_heads): expected shape {X.shape[:-2] + (n_heads, T, d // n_heads)}, got {heads.shape}"
        return compare_array("merge_heads(split_heads(X, n_heads)) (against X)", ref.merge_heads(heads), X, rtol=0, atol=0)
    return predicate


def _split_undoes(ref):
    """merge_heads(X), split again by the reference's split_heads, is X."""
    def predicate(got, case) -> str | None:
        (X,) = case.args
        merged, problem = as_float_array("merge_heads(X)", got)
        if problem:
            return problem
        n_heads, T, d_head = X.shape[-3:]
        if merged.shape != X.shape[:-3] + (T, n_heads * d_head):
            return f"merge_heads(X): expected shape {X.shape[:-3] + (T, n_heads * d_head)}, got {merged.shape}"
        return compare_array("split_heads(merge_heads(X), n_heads) (against X)", ref.split_heads(merged, n_heads), X,
                             rtol=0, atol=0)
    return predicate


def _h_mixes_the_values_with_your_weights(ref):
    """multi_head_attention's H equals merge_heads(A V) W_o^T with the student's own A."""
    def predicate(got, case) -> str | None:
        C, W_q, W_k, W_v, W_o, n_heads = case.args
        H, problem_h = as_float_array("H", got[0])
        A, problem_a = as_float_array("A", got[1])
        if problem_h or problem_a:
            return problem_h or problem_a
        V = ref.split_heads(C @ W_v.T, n_heads)  # (..., n_heads, T, d_v / n_heads)
        T = C.shape[-2]
        if A.shape != V.shape[:-1] + (T,):
            return f"A: expected shape {V.shape[:-1] + (T,)}, got {A.shape}"
        return compare_array("H (against merge_heads(A V) W_o^T with your A)", H, ref.merge_heads(A @ V) @ W_o.T)
    return predicate


# --- Part C ------------------------------------------------------------------------------------

def _pairs_turn_by_w(got, case) -> str | None:
    """(P[t, 2i], P[t, 2i+1]) = (sin, cos)(t w_i) turns into (sin, cos)((t+1) w_i): a fixed rotation by w_i."""
    T, d = case.args
    P, problem = as_float_array("P", got)
    if problem:
        return problem
    if P.shape != (T, d):
        return f"P: expected shape {(T, d)}, got {P.shape}"
    w = 10000.0 ** (-2.0 * np.arange(d // 2) / d)  # (d/2,)
    sin_part, cos_part = P[:-1, 0::2], P[:-1, 1::2]  # (T-1, d/2): sin(t w_i), cos(t w_i)
    turned = np.empty((T - 1, d))
    turned[:, 0::2] = sin_part * np.cos(w) + cos_part * np.sin(w)  # sin((t+1) w_i)
    turned[:, 1::2] = cos_part * np.cos(w) - sin_part * np.sin(w)  # cos((t+1) w_i)
    return compare_array("P[1:] (against your P[:-1] with each pair turned by w_i)", P[1:], turned)


def _returns_X(got, case) -> str | None:
    """rotary with every position 0 turns nothing: X's values come back."""
    return compare_array("X rotated by angle 0 (against X)", got, case.args[0])


def _scores_depend_on_offsets_only(student, case) -> None:
    """The scores rotary(q, m) . rotary(k, n) are unchanged when every position moves by the same offset."""
    X, positions = case.args
    offset = 1 + int(positions.sum()) % 89
    scores = []
    for shown in (positions, positions + offset):
        rotated, problem = as_float_array("rotary(X, positions)", student(X, shown))
        if problem:
            raise CheckFailure(problem)
        if rotated.shape != X.shape:
            raise CheckFailure(f"rotary(X, positions): expected shape {X.shape}, got {rotated.shape}", rotated)
        scores.append(rotated[0] @ rotated[1].T)  # (T, T): rotary(q_i, m_i) . rotary(k_j, m_j)
    problem = compare_array(f"the scores q_i . k_j after moving every position by {offset}", scores[1], scores[0])
    if problem:
        raise CheckFailure(problem)


def _another_pad_embedding(case):
    """transformer_lm_loss's arguments with another embedding E[pad_id]: <pad> is only ever an input
    at a position whose target is padding too, and causal attention never lets a counted position see it."""
    ids, E, *weights, n_heads, pad_id = case.args
    other_E = E.copy()
    other_E[pad_id] += np.random.default_rng(int(ids.sum())).standard_normal(E.shape[1])
    return (ids, other_E, *weights, n_heads, pad_id)


def _another_bos_embedding(case):
    """transformer_lm_loss's arguments with another embedding of <bos>, the input every sentence reads."""
    ids, E, *rest = case.args
    changed_E = E.copy()
    changed_E[ids[0, 0]] += 1.0
    return (ids, changed_E, *rest)
