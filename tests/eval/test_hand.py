"""Figures from hand grades: shares and CRAG's truthfulness per generator, with intervals, from ids and grades only."""

import json

from eval import hand


def row(qid, generator, *, right=False, first=False, misleading=0, refused=False, answerable=True):
    return {"id": qid, "generator": generator, "answerable": answerable, "refused": refused, "right": right, "first": first,
            "misleading": misleading}  # fmt: skip


def grades():
    return [
        row("q1", "local", right=True, first=True),
        row("q2", "local", right=True, misleading=2),
        row("q3", "local", misleading=1),  # a wrong answer
        row("q4", "local", refused=True),  # an answerable question refused
        row("q5", "local", refused=True, answerable=False),  # rightly refused
        row("q1", "extractive", right=True),
        row("q2", "extractive", right=True, first=True),
        row("q5", "extractive", answerable=False),  # answered what the articles don't say
    ]


def test_each_generator_gets_its_shares_truthfulness_and_misleading_counts():
    out = hand.summarise(grades())
    assert set(out) == {"local", "extractive"}
    local = out["local"]
    assert (local["questions"], local["answerable"], local["right"], local["first"]) == (5, 4, 0.5, 0.25)
    assert local["truthfulness"] == (1 + 1 - 1 + 0 + 1) / 5
    assert (local["misleading_claims"], local["answers_misleading"]) == (3, 2)
    low, high = local["right_95"]
    assert 0.0 <= low <= 0.5 <= high <= 1.0
    extractive = out["extractive"]
    assert (extractive["right"], extractive["first"], extractive["truthfulness"]) == (1.0, 0.5, round(1 / 3, 4))


def test_two_generators_are_compared_question_by_question():
    diff = hand.differences(grades())["extractive - local"]
    # q1 +1 - +1, q2 +1 - +1, q5 -1 - +1 (q3 and q4 were graded for local only)
    assert diff["questions"] == 3 and diff["truthfulness"] == round(-2 / 3, 4)
    assert (diff["better"], diff["worse"]) == (0, 1)


def test_the_command_prints_the_summary(tmp_path, capsys):
    path = tmp_path / "grades.json"
    path.write_text(json.dumps({"grader": "by hand", "grades": grades()}))
    assert hand.main([str(path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["grader"] == "by hand" and printed["by_generator"]["local"]["first"] == 0.25
    assert set(printed["differences"]) == {"extractive - local"}
    assert hand.main([]) == 2
