"""The hidden checks of homework 1: for each of the 15 functions, several weighted properties.

Kinds of check (grader.authoring.checks): output shapes and dtypes; agreement with the reference on
generated inputs; properties of the output; numerical stability at large magnitudes;
gradients against central finite differences of the reference forward; the ValueErrors the
contract requires. Points per function come from assignment.json; within a function they
are shared out by the checks' weights.
"""

from __future__ import annotations

import numpy as np

from grader.authoring.checks import (GRADIENT_ERROR_FLOOR, GRADIENT_TOLERANCE, Case, Check, CheckFailure, agreement,
                                     gradient, property_holds, raises, shape_and_dtype)
from grader.authoring.compare import ATOL, RTOL, as_float_array, compare_array

from . import cases as c
from .misconceptions import build as build_misconceptions


def _rows_are_distributions(name: str, axis_of=lambda case: case.kwargs.get("axis", -1)):
    """Entries in [0, 1] that sum to 1 along the axis, within the tolerance of the agreement
    checks: each entry may be off by ATOL + RTOL * entry, so a sum of n by n * ATOL + RTOL."""
    def predicate(got, case: Case):
        A, problem = as_float_array(name, got if not isinstance(got, tuple) else got[-1])
        if problem:
            return problem
        axis = axis_of(case)
        if A.ndim == 0:
            return f"{name}: expected an array of distributions, got a single number"
        if not np.all(np.isfinite(A)):
            return f"{name} has entries that are not finite"
        if A.min() < -ATOL or A.max() > 1 + ATOL + RTOL:
            return f"{name} has entries outside [0, 1] (min {A.min():.3g}, max {A.max():.3g})"
        sums = A.sum(axis=axis)
        worst = float(np.max(np.abs(sums - 1.0))) if sums.size else 0.0
        if worst > A.shape[axis] * ATOL + RTOL:
            return f"{name}: entries along axis {axis} sum to {1.0 + worst:.6g} or so, not 1 (off by up to {worst:.3g})"
        return None
    return predicate


def _causal_zeros(got, case: Case):
    A, problem = as_float_array("A", got[1] if isinstance(got, tuple) and len(got) == 2 else got)
    if problem:
        return problem
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        return f"A: expected a square (..., T, T) array, got shape {A.shape}"
    T = A.shape[-1]
    future = np.triu(np.ones((T, T), dtype=bool), k=1)
    leaked = np.abs(A[..., future]) if T > 1 else np.zeros(0)
    if leaked.size and leaked.max() > 0:
        return f"A: position i gives weight up to {leaked.max():.3g} to later positions j > i (should be 0)"
    return None


def build(ref):
    """(checks, misconceptions) for homework 1, given the reference module `ref`."""

    def one(name):
        return (name,)

    checks: list[Check] = []
    add = checks.append

    # --- Part A: recurrent composition ---------------------------------------------------
    add(shape_and_dtype("rnn_step", c.rnn_step_cases(), ref.rnn_step, one("h_t"), max_examples=15))
    add(agreement("rnn_step", "matches the reference on random inputs (tanh and ReLU)", c.rnn_step_cases(),
                  ref.rnn_step, one("h_t"), weight=3, max_examples=60))
    add(agreement("rnn_step", "stays right at large magnitudes (1e3)", c.rnn_step_cases(scale=1e3),
                  ref.rnn_step, one("h_t"), weight=1, max_examples=20, visibility="after_due_date"))
    add(raises("rnn_step", "raises ValueError for an unknown nonlinearity", c.unknown_nonlinearity_cases(4), max_examples=10))

    add(shape_and_dtype("rnn_forward", c.rnn_forward_cases(), ref.rnn_forward, one("H"), max_examples=15))
    add(agreement("rnn_forward", "matches the reference on random sequences (T = 1..8)", c.rnn_forward_cases(),
                  ref.rnn_forward, one("H"), weight=3, max_examples=65))
    add(agreement("rnn_forward", "works with one initial state h0 of shape (d_h,) shared by the batch",
                  c.rnn_forward_cases(shared_h0=True), ref.rnn_forward, one("H"), weight=1, max_examples=20))
    add(agreement("rnn_forward", "stays right at large magnitudes (pre-activations of 1e3)", c.rnn_forward_cases(scale=1e3),
                  ref.rnn_forward, one("H"), weight=1, max_examples=20, visibility="after_due_date"))

    step_grads = ("dh_prev", "dc_t", "dW_h", "dW_c")
    add(shape_and_dtype("rnn_step_backward", c.rnn_step_backward_cases(), ref.rnn_step_backward, step_grads, max_examples=15))
    add(agreement("rnn_step_backward", "matches the reference gradients on random inputs", c.rnn_step_backward_cases(),
                  ref.rnn_step_backward, step_grads, weight=3, max_examples=60))
    add(gradient("rnn_step_backward", "agrees with finite differences of rnn_step", c.rnn_step_backward_cases(),
                 lambda args, kw: float(np.sum(args[0] * ref.rnn_step(*args[1:], **kw))),
                 [(1, "h_prev"), (2, "c_t"), (3, "W_h"), (4, "W_c")], weight=2, max_examples=15))
    add(agreement("rnn_step_backward", "uses ReLU'(0) = 0 where a_t is exactly 0", c.rnn_step_backward_cases(zero_preactivations=True),
                  ref.rnn_step_backward, step_grads, weight=1, max_examples=10))

    bptt_grads = ("dh0", "dC", "dW_h", "dW_c")
    add(shape_and_dtype("rnn_backward", c.rnn_backward_cases(), ref.rnn_backward, bptt_grads, max_examples=15))
    add(agreement("rnn_backward", "matches the reference gradients through time", c.rnn_backward_cases(),
                  ref.rnn_backward, bptt_grads, weight=3, max_examples=65))
    add(agreement("rnn_backward", "works with one initial state h0 of shape (d_h,) shared by the batch",
                  c.rnn_backward_cases(shared_h0=True), ref.rnn_backward, bptt_grads, weight=1, max_examples=20))
    add(gradient("rnn_backward", "agrees with finite differences of rnn_forward", c.rnn_backward_cases(max_T=4, max_batch=2),
                 lambda args, kw: float(np.sum(args[0] * ref.rnn_forward(*args[1:], **kw))),
                 [(1, "h0"), (2, "C"), (3, "W_h"), (4, "W_c")], weight=2, max_examples=12))

    # --- Part B: self-attention ----------------------------------------------------------
    add(shape_and_dtype("softmax", c.softmax_cases(), ref.softmax, one("A"), max_examples=10))
    add(agreement("softmax", "matches the reference along the given axis", c.softmax_cases(), ref.softmax, one("A"),
                  weight=2, max_examples=40))
    add(property_holds("softmax", "entries lie in [0, 1] and sum to 1 along the axis", c.softmax_cases(),
                       _rows_are_distributions("A"), weight=1, max_examples=20))
    add(agreement("softmax", "is finite and right for inputs of magnitude 1e3 to 1e5", c.softmax_cases(scale=1e4),
                  ref.softmax, one("A"), weight=2, max_examples=20))
    add(agreement("softmax", "gives weight 0 to -inf entries", c.softmax_cases(with_minus_infinity=True),
                  ref.softmax, one("A"), weight=1, max_examples=10))

    add(shape_and_dtype("softmax_backward", c.softmax_backward_cases(), ref.softmax_backward, one("dx"), max_examples=10))
    add(agreement("softmax_backward", "matches the reference gradient", c.softmax_backward_cases(), ref.softmax_backward,
                  one("dx"), weight=2, max_examples=60))
    add(Check("softmax_backward", "agrees with finite differences of softmax", c.softmax_backward_cases(),
              _softmax_backward_against_finite_differences(ref), weight=2, max_examples=30, single_call=True, evidence=True))

    add(shape_and_dtype("qkv", c.qkv_cases(), ref.qkv, ("Q", "K", "V"), max_examples=20))
    add(agreement("qkv", "matches the reference projections", c.qkv_cases(), ref.qkv, ("Q", "K", "V"), weight=3, max_examples=80))

    add(shape_and_dtype("attention_weights", c.attention_weights_cases(), ref.attention_weights, one("A"), max_examples=10))
    add(agreement("attention_weights", "matches the reference (causal and not)", c.attention_weights_cases(),
                  ref.attention_weights, one("A"), weight=3, max_examples=50))
    add(property_holds("attention_weights", "rows are distributions: entries in [0, 1] summing to 1",
                       c.attention_weights_cases(), _rows_are_distributions("A", lambda case: -1), weight=1, max_examples=15))
    add(property_holds("attention_weights", "with causal=True, weights above the diagonal are 0",
                       c.attention_weights_cases(causal=True), _causal_zeros, weight=2, max_examples=15))
    add(agreement("attention_weights", "is finite and right for queries and keys of magnitude 1e3",
                  c.attention_weights_cases(scale=1e3), ref.attention_weights, one("A"), weight=1, max_examples=10,
                  visibility="after_due_date"))

    add(shape_and_dtype("self_attention", c.self_attention_cases(), ref.self_attention, ("H", "A"), max_examples=15))
    add(agreement("self_attention", "matches the reference (H, A)", c.self_attention_cases(), ref.self_attention,
                  ("H", "A"), weight=3, max_examples=55))
    add(property_holds("self_attention", "with causal=True, h_i mixes only v_1 .. v_i", c.self_attention_cases(causal=True),
                       _causal_zeros, weight=1, max_examples=15))
    add(property_holds("self_attention", "H is the A-weighted sum of the values", c.self_attention_cases(),
                       _h_is_weighted_sum_of_values(ref), weight=1, max_examples=15))

    attention_grads = ("dC", "dW_q", "dW_k", "dW_v")
    add(shape_and_dtype("self_attention_backward", c.self_attention_backward_cases(), ref.self_attention_backward,
                        attention_grads, max_examples=15))
    add(agreement("self_attention_backward", "matches the reference gradients (causal and not)",
                  c.self_attention_backward_cases(), ref.self_attention_backward, attention_grads, weight=3, max_examples=70))
    add(gradient("self_attention_backward", "agrees with finite differences of self_attention",
                 c.self_attention_backward_cases(max_T=4, max_batch=2),
                 lambda args, kw: float(np.sum(args[0] * ref.self_attention(*args[1:], **kw)[0])),
                 [(1, "C"), (2, "W_q"), (3, "W_k"), (4, "W_v")], weight=2, max_examples=15))

    # --- Part C: averaged negative log-likelihood ----------------------------------------
    add(shape_and_dtype("log_softmax", c.softmax_cases(), ref.log_softmax, one("log_p"), max_examples=10))
    add(agreement("log_softmax", "matches the reference along the given axis", c.softmax_cases(), ref.log_softmax,
                  one("log_p"), weight=2, max_examples=50))
    add(agreement("log_softmax", "is finite and right for inputs of magnitude 1e3 to 1e5", c.softmax_cases(scale=1e4),
                  ref.log_softmax, one("log_p"), weight=2, max_examples=30))
    add(agreement("log_softmax", "gives -inf to -inf entries and stays right elsewhere", c.softmax_cases(with_minus_infinity=True),
                  ref.log_softmax, one("log_p"), weight=1, max_examples=10))

    add(shape_and_dtype("nll_loss", c.nll_cases(), ref.nll_loss, one("loss"), max_examples=10))
    add(agreement("nll_loss", "matches the reference without a mask", c.nll_cases(masked=False), ref.nll_loss, one("loss"),
                  weight=2, max_examples=30))
    add(agreement("nll_loss", "matches the reference with padding masked", c.nll_cases(masked=True), ref.nll_loss, one("loss"),
                  weight=3, max_examples=30))
    add(Check("nll_loss", "depends on the targets of counted positions only", c.nll_cases(masked=True),
              _masked_targets_do_not_matter, weight=1, max_examples=10))
    add(agreement("nll_loss", "is finite and right for logits of magnitude 1e3", c.nll_cases(scale=1e3), ref.nll_loss,
                  one("loss"), weight=1, max_examples=10, visibility="after_due_date"))
    add(raises("nll_loss", "raises ValueError when no position counts", c.nothing_counts_cases(), max_examples=5))

    add(shape_and_dtype("nll_loss_backward", c.nll_cases(), ref.nll_loss_backward, one("dlogits"), max_examples=10))
    add(agreement("nll_loss_backward", "matches the reference gradient (with and without a mask)", c.nll_cases(),
                  ref.nll_loss_backward, one("dlogits"), weight=3, max_examples=60))
    add(gradient("nll_loss_backward", "agrees with finite differences of nll_loss", c.nll_cases(max_batch=2, max_T=4),
                 lambda args, kw: ref.nll_loss(*args, **kw), [(0, "logits")], weight=2, max_examples=20))
    add(agreement("nll_loss_backward", "is finite and right for logits of magnitude 1e3 and more", c.nll_cases(scale=1e3),
                  ref.nll_loss_backward, one("dlogits"), weight=1, max_examples=10, visibility="after_due_date"))
    add(raises("nll_loss_backward", "raises ValueError when no position counts", c.nothing_counts_cases(), max_examples=5))

    lm_outputs = ("inputs", "targets", "mask")
    add(shape_and_dtype("lm_inputs_and_targets", c.lm_inputs_cases(), ref.lm_inputs_and_targets, lm_outputs, max_examples=20))
    add(agreement("lm_inputs_and_targets", "shifts by one word and masks padding targets", c.lm_inputs_cases(),
                  ref.lm_inputs_and_targets, lm_outputs, weight=3, max_examples=80, rtol=0, atol=0))

    add(shape_and_dtype("rnn_lm_loss", c.rnn_lm_cases(), ref.rnn_lm_loss, one("loss"), max_examples=10))
    add(agreement("rnn_lm_loss", "matches the reference on padded batches", c.rnn_lm_cases(), ref.rnn_lm_loss, one("loss"),
                  weight=3, max_examples=70))
    add(Check("rnn_lm_loss", "ignores the padding after <eos> but not the words", c.rnn_lm_cases(),
              _padding_content_does_not_matter(ref), weight=1, max_examples=15))
    add(agreement("rnn_lm_loss", "is finite and right for logits of magnitude 1e3 (target probabilities far below 1e-12)",
                  c.rnn_lm_cases(logit_scale=1e3), ref.rnn_lm_loss, one("loss"), weight=1, max_examples=10,
                  visibility="after_due_date"))

    return checks, build_misconceptions(ref)


def _softmax_backward_against_finite_differences(ref):
    from grader.authoring.gradcheck import numerical_gradient, relative_error

    def verify(student, case: Case):
        dA, A = case.args
        axis = case.kwargs["axis"]
        got = student(dA, A, axis=axis)
        array, problem = as_float_array("dx", got)
        if problem:
            raise CheckFailure(problem, got)
        if array.shape != A.shape:
            raise CheckFailure(f"dx: expected shape {A.shape}, got {array.shape}", got)
        x = np.log(A)  # softmax(log A) = A, so x = log A is an input that gives A
        numeric = numerical_gradient(lambda: float(np.sum(dA * ref.softmax(x, axis=axis))), x)
        error = relative_error(array, numeric, floor=GRADIENT_ERROR_FLOOR)
        if not error < GRADIENT_TOLERANCE:
            raise CheckFailure(f"dx: relative error {error:.2g} against finite differences (needs < {GRADIENT_TOLERANCE:g})", got)

    return verify


def _h_is_weighted_sum_of_values(ref):
    def predicate(got, case: Case):
        if not isinstance(got, tuple) or len(got) != 2:
            return "expected a tuple (H, A)"
        H, problem_h = as_float_array("H", got[0])
        A, problem_a = as_float_array("A", got[1])
        if problem_h or problem_a:
            return problem_h or problem_a
        _, _, V = ref.qkv(*case.args)
        if A.shape != V.shape[:-1] + V.shape[-2:-1]:
            return f"A: expected shape {V.shape[:-1] + V.shape[-2:-1]}, got {A.shape}"
        return compare_array("H (against your A @ V)", H, A @ V)
    return predicate


def _masked_targets_do_not_matter(student, case: Case):
    logits, targets, mask = case.args
    V = logits.shape[-1]
    other = np.where(mask, targets, (targets + 1 + np.arange(targets.size).reshape(targets.shape)) % V)
    first = student(logits, targets, mask)
    second = student(logits, other, mask)
    a, problem = as_float_array("loss", first)
    if problem:
        raise CheckFailure(problem, first)
    problem = compare_array("loss with other targets at masked positions", second, a)
    if problem:
        raise CheckFailure(problem)
    counted = np.flatnonzero(mask)[0]
    changed = targets.copy()
    changed.reshape(-1)[counted] = (changed.reshape(-1)[counted] + 1) % V
    third, problem = as_float_array("loss", student(logits, changed, mask))
    if problem:
        raise CheckFailure(problem)
    if compare_array("loss", third, a) is None:  # None: the two losses are equal
        raise CheckFailure("loss: changing the target of a counted position did not change the loss")


def _padding_content_does_not_matter(ref):
    return lambda student, case: _padding_check(ref, student, case)


def _padding_check(ref, student, case: Case):
    """The padding token is only ever an input where its target is padding too, so its
    embedding E[pad_id] cannot change a loss that counts only real targets; the embedding of
    <bos>, which every sentence reads, does (whenever it changes the reference's loss)."""
    ids, E, h0, W_h, W_c, W_out, pad_id = case.args
    other_E = E.copy()
    other_E[pad_id] += np.random.default_rng(int(ids.sum())).standard_normal(E.shape[1])
    first = student(*case.args, **case.kwargs)
    loss, problem = as_float_array("loss", first)
    if problem:
        raise CheckFailure(problem, first)
    second = student(ids, other_E, h0, W_h, W_c, W_out, pad_id, **case.kwargs)
    problem = compare_array("loss after changing the embedding of <pad>", second, loss)
    if problem:
        raise CheckFailure(problem)
    first_word = ids[0, 0]  # <bos>: an input that always counts
    changed_E = E.copy()
    changed_E[first_word] += 1.0
    third, problem = as_float_array("loss", student(ids, changed_E, h0, W_h, W_c, W_out, pad_id, **case.kwargs))
    if problem:
        raise CheckFailure(problem)
    reference_moved = compare_array("loss", ref.rnn_lm_loss(ids, changed_E, h0, W_h, W_c, W_out, pad_id, **case.kwargs),
                                    ref.rnn_lm_loss(*case.args, **case.kwargs)) is not None
    if reference_moved and compare_array("loss", third, loss) is None:  # None: the two losses are equal
        raise CheckFailure("loss: changing the embedding of <bos>, which every sentence reads, did not change the loss")
