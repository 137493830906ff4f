"""The hidden checks of homework 1: for each of the 15 functions, several weighted properties.

Written with the authoring API (grader.authoring): each function is declared once, with its
outputs and usual cases, and its checks are attached to it. Kinds of check: output shapes and
dtypes; agreement with the reference on generated inputs; properties of the output;
numerical stability at large magnitudes (agreement on large inputs); gradients against
central finite differences of the reference forward; the ValueErrors the contract requires;
invariances (what must not change the answer). Points per function come from
assignment.json; within a function they are shared out by the checks' weights.
"""

from __future__ import annotations

import numpy as np

from grader.authoring import Assignment, as_float_array, causal_zeros, compare_array, rows_are_distributions

from . import cases as c
from .misconceptions import build as build_misconceptions


def build(ref):
    """(checks, misconceptions) for homework 1, given the reference module `ref`."""
    hw = Assignment(ref)

    # --- Part A: recurrent composition ---------------------------------------------------
    step = hw.function("rnn_step", outputs="h_t", cases=c.rnn_step_cases())
    step.shapes(max_examples=15)
    step.agrees("matches the reference on random inputs (tanh and ReLU)", weight=3, max_examples=60)
    step.agrees("stays right at large magnitudes (1e3)", cases=c.rnn_step_cases(scale=1e3), max_examples=20,
                visibility="after_due_date")
    step.raises("raises ValueError for an unknown nonlinearity", cases=c.unknown_nonlinearity_cases(4), max_examples=10)

    forward = hw.function("rnn_forward", outputs="H", cases=c.rnn_forward_cases())
    forward.shapes(max_examples=15)
    forward.agrees("matches the reference on random sequences (T = 1..8)", weight=3, max_examples=65)
    forward.agrees("works with one initial state h0 of shape (d_h,) shared by the batch",
                   cases=c.rnn_forward_cases(shared_h0=True), max_examples=20)
    forward.agrees("stays right at large magnitudes (pre-activations of 1e3)", cases=c.rnn_forward_cases(scale=1e3),
                   max_examples=20, visibility="after_due_date")

    step_back = hw.function("rnn_step_backward", outputs=("dh_prev", "dc_t", "dW_h", "dW_c"),
                            cases=c.rnn_step_backward_cases())
    step_back.shapes(max_examples=15)
    step_back.agrees("matches the reference gradients on random inputs", weight=3, max_examples=60)
    step_back.gradient("agrees with finite differences of rnn_step", of="rnn_step", wrt=("h_prev", "c_t", "W_h", "W_c"),
                       weight=2, max_examples=15)
    step_back.agrees("uses ReLU'(0) = 0 where a_t is exactly 0", cases=c.rnn_step_backward_cases(zero_preactivations=True),
                     max_examples=10)

    bptt = hw.function("rnn_backward", outputs=("dh0", "dC", "dW_h", "dW_c"), cases=c.rnn_backward_cases())
    bptt.shapes(max_examples=15)
    bptt.agrees("matches the reference gradients through time", weight=3, max_examples=65)
    bptt.agrees("works with one initial state h0 of shape (d_h,) shared by the batch",
                cases=c.rnn_backward_cases(shared_h0=True), max_examples=20)
    bptt.gradient("agrees with finite differences of rnn_forward", of="rnn_forward", wrt=("h0", "C", "W_h", "W_c"),
                  cases=c.rnn_backward_cases(max_T=4, max_batch=2), weight=2, max_examples=12)

    # --- Part B: self-attention ----------------------------------------------------------
    softmax = hw.function("softmax", outputs="A", cases=c.softmax_cases())
    softmax.shapes(max_examples=10)
    softmax.agrees("matches the reference along the given axis", weight=2, max_examples=40)
    softmax.holds("entries lie in [0, 1] and sum to 1 along the axis",
                  rows_are_distributions("A", axis=lambda case: case.kwargs.get("axis", -1)), max_examples=20)
    softmax.agrees("is finite and right for inputs of magnitude 1e3 to 1e5", cases=c.softmax_cases(scale=1e4),
                   weight=2, max_examples=20)
    softmax.agrees("gives weight 0 to -inf entries", cases=c.softmax_cases(with_minus_infinity=True), max_examples=10)

    softmax_back = hw.function("softmax_backward", outputs="dx", cases=c.softmax_backward_cases())
    softmax_back.shapes(max_examples=10)
    softmax_back.agrees("matches the reference gradient", weight=2, max_examples=60)
    softmax_back.gradient("agrees with finite differences of softmax", of="softmax", wrt=("x",),
                          inputs=lambda dA, A, axis: (dA, (np.log(A),), {"axis": axis}),  # softmax(log A) = A
                          weight=2, max_examples=30)

    qkv = hw.function("qkv", outputs=("Q", "K", "V"), cases=c.qkv_cases())
    qkv.shapes(max_examples=20)
    qkv.agrees("matches the reference projections", weight=3, max_examples=80)

    weights = hw.function("attention_weights", outputs="A", cases=c.attention_weights_cases())
    weights.shapes(max_examples=10)
    weights.agrees("matches the reference (causal and not)", weight=3, max_examples=50)
    weights.holds("rows are distributions: entries in [0, 1] summing to 1", rows_are_distributions("A"), max_examples=15)
    weights.holds("with causal=True, weights above the diagonal are 0", causal_zeros("A"),
                  cases=c.attention_weights_cases(causal=True), weight=2, max_examples=15)
    weights.agrees("is finite and right for queries and keys of magnitude 1e3", cases=c.attention_weights_cases(scale=1e3),
                   max_examples=10, visibility="after_due_date")

    attention = hw.function("self_attention", outputs=("H", "A"), cases=c.self_attention_cases())
    attention.shapes(max_examples=15)
    attention.agrees("matches the reference (H, A)", weight=3, max_examples=55)
    attention.holds("with causal=True, h_i mixes only v_1 .. v_i", causal_zeros("A"), output="A",
                    cases=c.self_attention_cases(causal=True), max_examples=15)
    attention.holds("H is the A-weighted sum of the values", _h_is_weighted_sum_of_values(ref), max_examples=15)

    attention_back = hw.function("self_attention_backward", outputs=("dC", "dW_q", "dW_k", "dW_v"),
                                 cases=c.self_attention_backward_cases())
    attention_back.shapes(max_examples=15)
    attention_back.agrees("matches the reference gradients (causal and not)", weight=3, max_examples=70)
    attention_back.gradient("agrees with finite differences of self_attention", of="self_attention", output="H",
                            wrt=("C", "W_q", "W_k", "W_v"), cases=c.self_attention_backward_cases(max_T=4, max_batch=2),
                            weight=2, max_examples=15)

    # --- Part C: averaged negative log-likelihood ----------------------------------------
    log_softmax = hw.function("log_softmax", outputs="log_p", cases=c.softmax_cases())
    log_softmax.shapes(max_examples=10)
    log_softmax.agrees("matches the reference along the given axis", weight=2, max_examples=50)
    log_softmax.agrees("is finite and right for inputs of magnitude 1e3 to 1e5", cases=c.softmax_cases(scale=1e4),
                       weight=2, max_examples=30)
    log_softmax.agrees("gives -inf to -inf entries and stays right elsewhere",
                       cases=c.softmax_cases(with_minus_infinity=True), max_examples=10)

    nll = hw.function("nll_loss", outputs="loss", cases=c.nll_cases())
    nll.shapes(max_examples=10)
    nll.agrees("matches the reference without a mask", cases=c.nll_cases(masked=False), weight=2, max_examples=30)
    nll.agrees("matches the reference with padding masked", cases=c.nll_cases(masked=True), weight=3, max_examples=30)
    nll.unchanged_when("depends on the targets of counted positions only", _other_targets_at_masked_positions,
                       says="changing the targets at masked positions",
                       changed_when=_another_target_at_a_counted_position,
                       changed_says="changing the target of a counted position",
                       cases=c.nll_cases(masked=True), max_examples=10)
    nll.agrees("is finite and right for logits of magnitude 1e3", cases=c.nll_cases(scale=1e3), max_examples=10,
               visibility="after_due_date")
    nll.raises("raises ValueError when no position counts", cases=c.nothing_counts_cases(), max_examples=5)

    nll_back = hw.function("nll_loss_backward", outputs="dlogits", cases=c.nll_cases())
    nll_back.shapes(max_examples=10)
    nll_back.agrees("matches the reference gradient (with and without a mask)", weight=3, max_examples=60)
    nll_back.gradient("agrees with finite differences of nll_loss", of="nll_loss", wrt=("logits",),
                      inputs=lambda *args: (1.0, args, {}),  # a loss: no upstream gradient
                      cases=c.nll_cases(max_batch=2, max_T=4), weight=2, max_examples=20)
    nll_back.agrees("is finite and right for logits of magnitude 1e3 and more", cases=c.nll_cases(scale=1e3),
                    max_examples=10, visibility="after_due_date")
    nll_back.raises("raises ValueError when no position counts", cases=c.nothing_counts_cases(), max_examples=5)

    lm_inputs = hw.function("lm_inputs_and_targets", outputs=("inputs", "targets", "mask"), cases=c.lm_inputs_cases())
    lm_inputs.shapes(max_examples=20)
    lm_inputs.agrees("shifts by one word and masks padding targets", weight=3, max_examples=80, rtol=0, atol=0)

    lm = hw.function("rnn_lm_loss", outputs="loss", cases=c.rnn_lm_cases())
    lm.shapes(max_examples=10)
    lm.agrees("matches the reference on padded batches", weight=3, max_examples=70)
    lm.unchanged_when("ignores the padding after <eos> but not the words", _another_pad_embedding,
                      says="changing the embedding of <pad>", changed_when=_another_bos_embedding,
                      changed_says="changing the embedding of <bos>, which every sentence reads", max_examples=15)
    lm.agrees("is finite and right for logits of magnitude 1e3 (target probabilities far below 1e-12)",
              cases=c.rnn_lm_cases(logit_scale=1e3), max_examples=10, visibility="after_due_date")

    return hw.checks(), build_misconceptions(ref)


def _h_is_weighted_sum_of_values(ref):
    """self_attention's (H, A): H equals the student's own A times the values V = C W_v^T."""
    def predicate(got, case):
        H, problem_h = as_float_array("H", got[0])
        A, problem_a = as_float_array("A", got[1])
        if problem_h or problem_a:
            return problem_h or problem_a
        _, _, V = ref.qkv(*case.args)
        if A.shape != V.shape[:-1] + V.shape[-2:-1]:
            return f"A: expected shape {V.shape[:-1] + V.shape[-2:-1]}, got {A.shape}"
        return compare_array("H (against your A @ V)", H, A @ V)
    return predicate


def _other_targets_at_masked_positions(case):
    """nll_loss's arguments with another target at every position the mask does not count."""
    logits, targets, mask = case.args
    V = logits.shape[-1]
    return logits, np.where(mask, targets, (targets + 1 + np.arange(targets.size).reshape(targets.shape)) % V), mask


def _another_target_at_a_counted_position(case):
    """nll_loss's arguments with another target at the first position that counts."""
    logits, targets, mask = case.args
    counted = np.flatnonzero(mask)[0]
    changed = targets.copy()
    changed.reshape(-1)[counted] = (changed.reshape(-1)[counted] + 1) % logits.shape[-1]
    return logits, changed, mask


def _another_pad_embedding(case):
    """rnn_lm_loss's arguments with another embedding E[pad_id]: the padding token is only ever an
    input where its target is padding too, so it cannot change a loss that counts only real targets."""
    ids, E, h0, W_h, W_c, W_out, pad_id = case.args
    other_E = E.copy()
    other_E[pad_id] += np.random.default_rng(int(ids.sum())).standard_normal(E.shape[1])
    return ids, other_E, h0, W_h, W_c, W_out, pad_id


def _another_bos_embedding(case):
    """rnn_lm_loss's arguments with another embedding of <bos>, the input every sentence reads."""
    ids, E, *rest = case.args
    changed_E = E.copy()
    changed_E[ids[0, 0]] += 1.0
    return (ids, changed_E, *rest)
