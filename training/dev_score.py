"""The experiments' scorer: a model directory's scores on the bundled dev sets (NewsMTSC, FA-KES), then, only when
asked, the test sets, plus the selection half of UNSCon (`training.unscon`, half 0).

A decision between recipes is taken on ``names`` of dev sets alone (experiments/seed_rule.py passes only those)
before any test set is read. `experiments/gpu_grid.py --score DIR` prints these scores as JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from model.predictor import StancePredictor
from training.data import load_evaluation_data
from training.evaluate import evaluate_rows
from training.unscon import pairs as unscon_pairs
from training.unscon import score as unscon_score

REPO = Path(__file__).resolve().parents[1]
SCORED = {
    "dev_newsmtsc": ["data/newsmtsc/dev_rw.jsonl", "data/newsmtsc/dev_mt.jsonl"],
    "dev_fakes": ["data/fakes_stance/dev.jsonl"],
    "test_rw": ["data/newsmtsc/test_rw.jsonl"],
    "test_mt": ["data/newsmtsc/test_mt.jsonl"],
    "test_fakes": ["data/fakes_stance/test.jsonl"],
    "test_tweeteval": ["data/tweeteval_stance/test.jsonl"],
}


def score(
    model_dir: Path, predictor: StancePredictor | None = None, names: Sequence[str] = tuple(SCORED)
) -> dict[str, Any]:
    """Dev and test scores of a model directory (``predictor``: the caller's already loaded copy of it; ``names``:
    which of SCORED, so that a decision on dev can be taken before any test set is read)."""
    predictor = predictor or StancePredictor.from_dir(model_dir)
    out: dict[str, Any] = {}
    for name in names:
        data = load_evaluation_data([str(REPO / f) for f in SCORED[name]], predictor.tasks)
        metrics = evaluate_rows(predictor, data.rows)[0]
        stance = metrics["stance"]
        out[name] = {
            "macro_f1": round(stance["macro_f1"], 4),
            "f1_af": round(stance["f1_against_favor"], 4),
            **({"sentiment_f1": round(metrics["sentiment"]["macro_f1"], 4)} if "sentiment" in metrics else {}),
        }
    # UNSCon's selection half: criticism of a named country read as against, and false alarms.
    unscon = unscon_score(str(model_dir), unscon_pairs(half=0), predictor)
    out["unscon_half0"] = {
        "recall_against": unscon["recall_against"]["all"]["rate"],
        "false_against": unscon["false_against"]["all"]["rate"],
    }
    return out
