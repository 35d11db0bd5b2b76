"""Exact tests of :class:`companion.research.ReviewForm` and :class:`ReviewReport`.

tests/test_research_writing.py breaks each rule of :meth:`ReviewForm.check` alone and looks
for words of its message; here every message, the whole Markdown rendering and the printed
report are compared in full, each threshold of the rules is probed on both sides of its
boundary, and the constructor's normalization and its error messages are pinned down.
"""

from __future__ import annotations

import numpy as np
import pytest

from companion.research import Finding, ReadingPlan, ReviewForm, ReviewReport

SUMMARY = ("The paper trains a residual network on ImageNet with mini-batches of up to 8192 images and "
           "keeps the accuracy of small batches, by scaling the learning rate with the batch size and "
           "warming it up over the first five epochs of training.")
S1, S2 = "A simple rule that practitioners can apply at once.", "Tested at scale against a strong baseline."
W1 = "The warmup length of Section 2.2 is chosen by hand, with no rule for other models."
W2 = "The error rises beyond a batch of 8k in Figure 1, and the paper does not say why."
Q1 = "How long must the warmup be for a batch of 16k?"
FORM = dict(
    paper="goyal2017accurate", pages=12, summary=SUMMARY, strengths=[S1, S2], weaknesses=[W1, W2], questions=[Q1],
    soundness=3, presentation=4, contribution=3, overall=7, confidence=3,
    minutes={"triage": 15, "skim": 80, "critical": 200},
)
# ReadingPlan(12): triage 15, skim 90, critical 245 min (350 min in all)
PLAN = "plan: 350 min for 12 pages"


def form(**changes) -> ReviewForm:
    return ReviewForm(**{**FORM, **changes})


def failures(**changes) -> list[tuple[str, str]]:
    return [tuple(f) for f in form(**changes).check().failures]


def words(n: int) -> str:
    return " ".join(["word"] * n)


# ------------------------------------------------------------------------------------------
# the constructor


def test_the_text_fields_are_stripped_and_collapsed():
    review = form(paper="  goyal2017accurate \n", summary="  The paper   trains\ta network.  ")
    assert review.paper == "goyal2017accurate"
    assert review.summary == "The paper trains a network."
    assert review.to_markdown().splitlines()[:3] == ["**Review of goyal2017accurate**", "",
                                                     "**Summary.** The paper trains a network."]


def test_a_numpy_page_count_becomes_an_int():
    review = form(pages=np.int64(12))
    assert type(review.pages) is int and review.pages == 12
    assert review.check().plan.pages == 12


@pytest.mark.parametrize(
    "changes, error, message",
    [
        ({"summary": 3}, TypeError, "summary must be a str, got int"),
        ({"summary": "  "}, ValueError, "summary must be a non-empty string, got '  '"),
        ({"paper": None}, TypeError, "paper must be a str, got NoneType"),
        ({"minutes": [15, 80, 200]}, TypeError, "minutes must be a dict of pass name to minutes, got list"),
        ({"minutes": (15, 80, 200)}, TypeError, "minutes must be a dict of pass name to minutes, got tuple"),
        ({"minutes": {"triage": 15, "skim": 80}}, ValueError,
         "minutes lacks the passes ['critical'] (write 0 for a pass you skipped)"),
        ({"minutes": {"triage": 15, "skim": 80, "critical": 200, "coffee": 10}}, ValueError,
         "minutes has unknown passes ['coffee']; the passes are ['triage', 'skim', 'critical']"),
    ],
)
def test_constructor_errors_say_exactly_what_is_wrong(changes, error, message):
    with pytest.raises(error) as info:
        form(**changes)
    assert str(info.value) == message


# ------------------------------------------------------------------------------------------
# check: every message in full


SHORT_W = "Figure 1 is unclear."
VAGUE_W = "The experiments are weak and the claims are not well supported."


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"summary": "It scales the learning rate."},
         [("summary", "the summary has 5 words; write 30 to 300: what the paper claims, how it supports the claim, "
                      "and what it finds")]),
        ({"strengths": []},
         [("strengths", "list at least one strength: every paper that is worth a review has one")]),
        ({"strengths": [S1, "Simple and fast."]},
         [("strengths", "strength 2 ('Simple and fast.') is too short to say what is good: use a sentence")]),
        ({"weaknesses": []}, [("weaknesses", "list at least one weakness")]),
        ({"weaknesses": [W1, SHORT_W]},
         [("weaknesses", "weakness 2 ('Figure 1 is unclear. ...') has 4 words: say what is wrong and why it "
                         "matters (8 words at least)")]),
        ({"weaknesses": [VAGUE_W, W2]},
         [("weaknesses", "weakness 1 ('The experiments are weak and the ...') is not specific: say where in the "
                         "paper (a section, figure, table, equation, appendix or page)")]),
        ({"questions": []},
         [("questions", "ask the authors at least one question whose answer could change your score")]),
        ({"questions": [Q1, "Tell us the warmup length."]},
         [("questions", "question 2 ('Tell us the warmup length.') does not end with a question mark")]),
        ({"questions": ["Tell us the warmup length.", Q1]},
         [("questions", "question 1 ('Tell us the warmup length.') does not end with a question mark")]),
        ({"soundness": 2},
         [("scores", "overall 7 (accept) with soundness 2 (fair): do not accept claims that the paper does not "
                     "support (soundness >= 3)")]),
        ({"soundness": 1},
         [("scores", "overall 7 (accept) with soundness 1 (poor): do not accept claims that the paper does not "
                     "support (soundness >= 3)"),
          ("scores", "overall 7 (accept) with soundness 1 (poor)")]),
        ({"contribution": 1}, [("scores", "overall 7 (accept) with contribution 1 (poor)")]),
        ({"presentation": 1, "contribution": 1},
         [("scores", "overall 7 (accept) with presentation, contribution 1 (poor)")]),
        ({"overall": 4},
         [("scores", "overall 4 (borderline reject) but soundness, presentation and contribution are all good or "
                     "excellent: which axis is the reason for the reject?")]),
        ({"overall": 8, "strengths": [S1]},
         [("scores", "overall 8 (strong accept) with more weaknesses (2) than strengths (1)")]),
        ({"overall": 3, "soundness": 2, "weaknesses": [W1]},
         [("scores", "overall 3 (reject) with more strengths (2) than weaknesses (1)")]),
        ({"confidence": 4, "minutes": {"triage": 15, "skim": 45, "critical": 120}},
         [("confidence", "confidence 4 (confident, but not absolutely certain) after 120 min of critical reading, "
                         "less than half of the 245 min planned: lower it, or read again")]),
        ({"minutes": {"triage": 30, "skim": 60, "critical": 200}},
         [("time", "the triage pass took 30 min, over its budget of 15 min")]),
        ({"minutes": {"triage": 15, "skim": 0, "critical": 200}}, [("time", "the skim pass took 0 min: every pass of the plan is needed")]),
    ],
)
def test_each_finding_is_exactly_as_documented(changes, expected):
    assert failures(**changes) == expected


def test_findings_of_several_rules_come_in_the_order_of_the_rules():
    got = failures(summary="Too short.", questions=["Why"], overall=8, strengths=[S1], confidence=5,
                   minutes={"triage": 20, "skim": 100, "critical": 100})
    assert got == [
        ("summary", "the summary has 2 words; write 30 to 300: what the paper claims, how it supports the claim, "
                    "and what it finds"),
        ("questions", "question 1 ('Why') does not end with a question mark"),
        ("scores", "overall 8 (strong accept) with more weaknesses (2) than strengths (1)"),
        ("confidence", "confidence 5 (absolutely certain) after 100 min of critical reading, less than half of the "
                       "245 min planned: lower it, or read again"),
        ("time", "the triage pass took 20 min, over its budget of 15 min"),
        ("time", "comprehension took 55% of the time (plan: at most 30%): reading the paper like a textbook leaves "
                 "too little time to think about it"),
        ("time", "comprehension ran 15 min over its budget of 105 min: are you learning details your question does "
                 "not need (going off track)?"),
    ]


# ------------------------------------------------------------------------------------------
# check: both sides of every threshold


@pytest.mark.parametrize("n, ok", [(29, False), (30, True), (300, True), (301, False)])
def test_the_summary_has_30_to_300_words(n, ok):
    assert form(summary=words(n)).check().ok is ok


@pytest.mark.parametrize("n, ok", [(4, False), (5, True)])
def test_a_strength_needs_5_words(n, ok):
    assert form(strengths=[S1, words(n)]).check().ok is ok


@pytest.mark.parametrize("n, ok", [(7, False), (8, True)])
def test_a_weakness_needs_8_words(n, ok):
    weakness = "In Section 2 " + words(n - 3)      # "In", "Section", "2" and n - 3 more
    assert form(weaknesses=[W1, weakness]).check().ok is ok


@pytest.mark.parametrize(
    "changes, ok",
    [
        ({"overall": 6, "soundness": 2}, False),                      # a weak accept is an accept
        ({"overall": 6, "presentation": 1}, False),
        ({"overall": 5, "soundness": 2}, True),                       # borderline: no rule applies
        ({"overall": 5}, True),                                       # not a reject: all axes may be good
        ({"overall": 4, "contribution": 2}, True),
        ({"overall": 8}, True),                                       # as many strengths as weaknesses
        ({"overall": 8, "strengths": [S1]}, False),
        ({"overall": 4, "soundness": 2, "weaknesses": [W1]}, True),   # not a clear reject
        ({"overall": 3, "soundness": 2}, True),                       # as many weaknesses as strengths
        ({"overall": 3, "soundness": 2, "weaknesses": [W1]}, False),
    ],
)
def test_the_score_rules_apply_exactly_from_their_thresholds(changes, ok):
    assert form(**changes).check().ok is ok


def test_confidence_needs_half_the_critical_budget_and_only_when_high():
    # tolerance=1 silences the time rule, to look at the confidence rule alone
    def rules(confidence, critical):
        minutes = {"triage": 15, "skim": 90, "critical": critical}
        return form(confidence=confidence, minutes=minutes).check(tolerance=1.0).rules

    assert rules(4, 122.5) == ()                     # exactly half of 245 min is enough
    assert rules(4, 122) == ("confidence",)
    assert rules(4, 200) == () and rules(5, 245) == ()
    assert rules(3, 10) == ()                        # a modest confidence needs no critical pass
    assert form(confidence=4).check().ok            # 200 of 245 min


def test_a_pass_may_take_exactly_its_budget_with_no_tolerance():
    on_budget = form(minutes={"triage": 15, "skim": 75, "critical": 240})
    assert on_budget.check(tolerance=0.0).ok
    assert form(minutes={"triage": 15.5, "skim": 75, "critical": 240}).check(tolerance=0.0).failures == (
        Finding("time", "the triage pass took 16 min, over its budget of 15 min"),)


def test_the_tolerance_is_passed_to_the_plan():
    # comprehension 95 of 255 min = 37 %: within 30 % + 10 %, not within 30 % + 5 %
    review = form(minutes={"triage": 15, "skim": 80, "critical": 160})
    assert review.check().ok
    assert review.check(tolerance=0.05).failures == (Finding(
        "time", "comprehension took 37% of the time (plan: at most 30%): reading the paper like a textbook "
                "leaves too little time to think about it"),)


def test_no_time_at_all_gives_one_finding_per_pass_and_no_assessment():
    review = form(minutes={"triage": 0, "skim": 0, "critical": 0})
    assert [tuple(f) for f in review.check().failures] == [
        ("time", f"the {name} pass took 0 min: every pass of the plan is needed") for name in ("triage", "skim", "critical")
    ]
    with pytest.raises(ValueError) as info:            # the tolerance is checked even then
        review.check(tolerance=-0.1)
    assert str(info.value) == "tolerance must be >= 0, got -0.1"


def test_a_reading_of_under_a_minute_is_still_assessed():
    review = form(minutes={"triage": 0.5, "skim": 0.25, "critical": 0.25})
    assert [tuple(f) for f in review.check().failures] == [
        ("time", "comprehension took 75% of the time (plan: at most 30%): reading the paper like a textbook leaves "
                 "too little time to think about it"),
    ]


def test_check_errors_say_exactly_what_is_wrong():
    with pytest.raises(TypeError) as info:
        form().check(plan=12)  # type: ignore[arg-type]
    assert str(info.value) == "plan must be a ReadingPlan, got int"
    with pytest.raises(TypeError) as info:
        form().check(tolerance="0.1")  # type: ignore[arg-type]
    assert str(info.value) == "tolerance must be a real number, got str"


# ------------------------------------------------------------------------------------------
# the report and the Markdown


def test_the_report_prints_every_finding():
    report = form(overall=8, strengths=[S1], soundness=2).check()
    assert isinstance(report, ReviewReport) and report.rules == ("scores",)
    assert str(report) == (
        f"review: 2 problems ({PLAN})\n"
        "- [scores] overall 8 (strong accept) with soundness 2 (fair): do not accept claims that the paper does not "
        "support (soundness >= 3)\n"
        "- [scores] overall 8 (strong accept) with more weaknesses (2) than strengths (1)"
    )
    one = form(questions=["Why not"]).check(plan=ReadingPlan(10))
    assert str(one) == ("review: 1 problem (plan: 300 min for 10 pages)\n"
                        "- [questions] question 1 ('Why not') does not end with a question mark")
    assert str(form().check()) == f"review: all checks pass ({PLAN})"


def test_the_markdown_is_exactly_the_review():
    assert form().to_markdown() == "\n".join([
        "**Review of goyal2017accurate**",
        "",
        "**Summary.** " + SUMMARY,
        "",
        "**Strengths**",
        "",
        "- " + S1,
        "- " + S2,
        "",
        "**Weaknesses**",
        "",
        "- " + W1,
        "- " + W2,
        "",
        "**Questions for the authors**",
        "",
        "1. " + Q1,
        "",
        "| score | value | meaning |",
        "|---|---|---|",
        "| soundness | 3 / 4 | good |",
        "| presentation | 4 / 4 | excellent |",
        "| contribution | 3 / 4 | good |",
        "| overall | 7 / 10 | accept |",
        "| confidence | 3 / 5 | fairly confident |",
        "",
        "*Reading time*: triage 15 min, skim 80 min, critical 200 min (295 min in all)",
    ])


def test_the_markdown_of_empty_lists_says_none():
    review = form(paper="a paper", summary="s", strengths=[], weaknesses=[], questions=[], soundness=1, presentation=2,
                  contribution=4, overall=10, confidence=5, minutes={"triage": 0, "skim": 12.4, "critical": 0.6})
    assert review.to_markdown() == "\n".join([
        "**Review of a paper**", "", "**Summary.** s", "",
        "**Strengths**", "", "- (none)", "",
        "**Weaknesses**", "", "- (none)", "",
        "**Questions for the authors**", "", "(none)", "",
        "| score | value | meaning |", "|---|---|---|",
        "| soundness | 1 / 4 | poor |",
        "| presentation | 2 / 4 | fair |",
        "| contribution | 4 / 4 | excellent |",
        "| overall | 10 / 10 | award quality |",
        "| confidence | 5 / 5 | absolutely certain |",
        "",
        "*Reading time*: triage 0 min, skim 12 min, critical 1 min (13 min in all)",
    ])


def test_the_questions_are_numbered_from_1():
    lines = form(questions=[Q1, "Why?", "And then?"]).to_markdown().splitlines()
    start = lines.index("**Questions for the authors**")
    assert lines[start + 1:start + 6] == ["", "1. " + Q1, "2. Why?", "3. And then?", ""]
