"""Draft sources and the adaptive draft length, without a model."""

from __future__ import annotations

from copilot_ls.backends.drafting import CALIBRATION_SIZES, DraftPolicy
from copilot_ls.backends.lookup import TRUSTED_TOKENS, PromptLookup, match_kind


def test_lookup_proposes_what_followed_the_earlier_occurrence_of_the_last_tokens():
    lookup = PromptLookup()
    prompt = [1, 2, 3, 4, 5, 6, 9, 9, 1, 2, 3]
    lookup.begin(prompt)
    draft = lookup.propose(prompt, 3)
    assert draft is not None and draft.tokens == (4, 5, 6)
    assert draft.kind == match_kind(3)


def test_lookup_prefers_the_occurrence_agreeing_over_the_longest_stretch():
    """`7 1 2` agrees with the recent `1 2` (then 8) over 2 tokens, the older (then 5) over 3."""
    history = [7, 1, 2, 5, 5, 0, 1, 2, 8, 8, 7, 1, 2]
    lookup = PromptLookup()
    lookup.begin(history)
    draft = lookup.propose(history, 2)
    assert draft is not None and draft.tokens == (5, 5)


def test_lookup_prefers_the_most_recent_occurrence_among_equal_matches():
    history = [3, 4, 10, 0, 3, 4, 11, 0, 3, 4]
    lookup = PromptLookup()
    lookup.begin(history)
    draft = lookup.propose(history, 1)
    assert draft is not None and draft.tokens == (11,)


def test_lookup_proposes_nothing_without_an_earlier_match_or_room():
    lookup = PromptLookup()
    history = [1, 2, 3, 4, 5]
    lookup.begin(history)
    assert lookup.propose(history, 4) is None
    assert lookup.propose([*history, 1, 2], 0) is None


def test_lookup_needs_the_minimum_match_length():
    history = [1, 2, 3, 9, 2, 3]
    strict = PromptLookup(min_match=3)
    strict.begin(history)
    assert strict.propose(history, 2) is None
    loose = PromptLookup(min_match=2)
    loose.begin(history)
    assert loose.propose(history, 2) is not None


def test_lookup_follows_tokens_appended_during_generation():
    lookup = PromptLookup()
    prompt = [5, 6, 7, 8, 0]
    lookup.begin(prompt)
    history = [*prompt, 5, 6]
    draft = lookup.propose(history, 2)
    assert draft is not None and draft.tokens == (7, 8)
    history += [7, 1, 6]  # diverged from the copy: `1 6` never occurred before
    assert lookup.propose(history, 2) is None
    history += [7]  # `6 7` did, followed by 8 and (now) by 1
    draft = lookup.propose(history, 1)
    assert draft is not None and draft.tokens == (1,)


def test_lookup_copies_from_extra_sequences_supplied_by_the_caller():
    lookup = PromptLookup()
    prompt = [40, 41, 42]
    lookup.begin(prompt, extras=[[1, 41, 42, 43, 44]])
    draft = lookup.propose(prompt, 5)
    assert draft is not None and draft.tokens == (43, 44)


def test_lookup_starts_over_when_the_history_is_not_a_continuation():
    lookup = PromptLookup()
    lookup.begin([1, 2, 3, 1, 2])
    other = [9, 8, 7, 9, 8]
    draft = lookup.propose(other, 1)
    assert draft is not None and draft.tokens == (7,)


def test_match_kinds_bucket_agreement_lengths():
    assert match_kind(2) == "lookup:2"
    assert match_kind(5) == "lookup:4"
    assert match_kind(100) == "lookup:32"


def _cpu_policy(prior: float) -> DraftPolicy:
    """Costs like this 2-core CPU: each extra batched token costs half a one-token step."""
    policy = DraftPolicy({"*": prior})
    for batch in range(1, 18):
        for _ in range(3):
            policy.record_cost(batch, 0.02 * (1 + 0.5 * (batch - 1)))
    return policy


def test_poor_acceptance_means_plain_steps():
    policy = _cpu_policy(0.2)
    assert policy.length("lookup:2", 8) == 0


def test_near_certain_drafts_are_verified_in_long_batches():
    policy = _cpu_policy(0.98)
    assert policy.length("lookup:32", 16) >= 8


def test_the_length_never_exceeds_what_is_available_or_the_cap():
    policy = _cpu_policy(0.999)
    assert policy.length("k", 3) == 3
    assert policy.length("k", 100) <= policy.max_draft


def test_rejections_shrink_and_acceptances_grow_the_draft_length():
    policy = _cpu_policy(0.8)
    start = policy.length("k", 16)
    for _ in range(10):
        policy.record("k", 0, rejected=True)
    assert policy.length("k", 16) < start
    for _ in range(40):
        policy.record("k", 8, rejected=False)
    assert policy.length("k", 16) > start


def test_flat_batch_costs_as_on_a_gpu_make_long_drafts_pay_even_when_often_wrong():
    policy = DraftPolicy({"*": 0.6})
    for batch in range(1, 18):
        for _ in range(3):
            policy.record_cost(batch, 0.01)
    assert policy.length("k", 16) >= 4
    assert _cpu_policy(0.6).length("k", 16) <= 1


def test_a_costly_draft_source_must_pay_for_its_own_tokens():
    policy = _cpu_policy(0.9)
    assert policy.length("model", 8, draft_cost=0.0) > 0
    assert policy.length("model", 8, draft_cost=0.05) == 0


def test_unmeasured_batch_sizes_are_interpolated_from_measured_ones():
    policy = DraftPolicy()
    for _ in range(3):
        policy.record_cost(1, 0.01)
        policy.record_cost(5, 0.03)
    assert abs(policy.cost(3) - 0.02) < 1e-12
    assert policy.cost(5) == 0.03


def test_a_batch_timed_once_under_contention_does_not_stay_too_dear_to_try():
    """The fastest recent timing counts: one slow sample no longer shuts drafting off."""
    policy = _cpu_policy(0.9)
    policy.record_cost(2, 1.0)  # a stall while another process held the CPU
    assert policy.cost(2) < 0.05
    assert policy.length("lookup:16", 8) > 0


def test_calibration_times_every_batch_size_and_marks_the_policy_calibrated():
    policy = DraftPolicy({"*": 0.9})
    timed: list[int] = []

    def measure(batch: int) -> float:
        timed.append(batch)
        return 0.02 * (1 + 0.5 * (batch - 1))

    policy.calibrate(measure, repeats=2)
    assert policy.calibrated
    assert sorted(set(timed)) == sorted(set(CALIBRATION_SIZES))
    assert policy.cost(9) == 0.02 * 5
    assert policy.length("k", 8) > 0


def test_a_refused_kind_drifts_back_to_its_prior_and_is_drafted_again():
    policy = _cpu_policy(0.9)
    for _ in range(30):
        policy.record("k", 0, rejected=True)
    assert policy.length("k", 8) == 0
    for _ in range(60):
        policy.length("k", 8)
    assert policy.length("k", 8) > 0


def test_a_trusted_draft_is_verified_until_its_kind_fails_too_often():
    policy = DraftPolicy({"*": 0.9})
    for batch in (1, 2, 9):  # costs at which no draft would pay
        policy.record_cost(batch, 0.02 * batch)
    assert policy.length("lookup:8", 8) == 0
    assert policy.trusted_length("lookup:8", 5, 8) == 5
    assert policy.trusted_length("lookup:8", 5, 0) == 0
    for _ in range(20):
        policy.record("lookup:8", 0, rejected=True)
    assert policy.trusted_length("lookup:8", 5, 8) == 0


def test_a_long_lookup_match_is_marked_trusted_and_a_short_one_is_not():
    lookup = PromptLookup()
    body = list(range(100, 120))
    lookup.begin([*body, 1, 2, 3])
    long_match = lookup.propose([*body, 1, 2, 3, *body[:10]], 4)
    assert long_match is not None and long_match.trusted == TRUSTED_TOKENS
    short = lookup.propose([*body, 1, 2, 3, *body[:10], 7, 1, 2], 4)
    assert short is not None and short.tokens == (3, 100, 101, 102) and short.trusted == 0
