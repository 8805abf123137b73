from __future__ import annotations

import pytest

from model.predictor import StancePredictor
from tests.conftest import write_jsonl
from training.soft_labels import UnlabelledRowsError, build_soft_labels

ROWS = [
    {"id": "u1", "text": "Ankara and Damascus met.", "target": "Turkey", "mention_start": 0, "mention_end": 6},
    {"id": "u2", "text": "A calm day in the city."},  # no target: sentence tasks only
    {"id": "l1", "text": "Turkey praised the deal.", "target": "Turkey", "stance": "favor"},
]


def test_build_soft_labels_counts_what_it_wrote_and_writes_nothing_without_a_place_for_unlabelled_rows(
    tiny_model, tmp_path
):
    teacher = StancePredictor.from_dir(tiny_model)
    data = write_jsonl(tmp_path / "mixed.jsonl", ROWS)
    soft, taught = tmp_path / "soft.jsonl", tmp_path / "taught.jsonl"
    with pytest.raises(UnlabelledRowsError, match=rf"2 row\(s\) have no label \(the first at {data}:1\)"):
        build_soft_labels(teacher, [str(data)], soft)
    assert not soft.exists()
    written = build_soft_labels(teacher, [str(data)], soft, teacher_labelled=taught, only_tasks=["stance"])
    assert (written.labelled, written.unlabelled, written.taught) == (1, 2, 1)  # u2 has no input for stance
    assert len(soft.read_text().splitlines()) == 2 and len(taught.read_text().splitlines()) == 1
