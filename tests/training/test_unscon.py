"""training/unscon.py: UNSCon sentences that criticise a named country."""

from __future__ import annotations

from training import unscon


def test_the_unscon_benchmark_finds_the_named_countries():
    items = unscon.pairs()
    negative = [i for i in items if i["negative"]]
    assert (len(negative), len(items) - len(negative)) == (190, 590)
    first = negative[0]
    span = first["pair"].spans[0]
    assert first["pair"].text[span.start : span.end] == first["mention"]
    assert {i["pair"].target for i in items} == {"Russia", "Ukraine", "United States"}
    halves = [unscon.pairs(half=h) for h in (0, 1)]  # the speeches split in two, every item in exactly one half
    assert sorted(i["line"] for h in halves for i in h) == sorted(i["line"] for i in items)
    assert all(sum(i["negative"] for i in h) > 50 for h in halves)
