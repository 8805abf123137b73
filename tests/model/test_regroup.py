import pytest

from model.actors import ActorRegistry
from model.extraction import Document, PairExtractor
from model.regroup import net_stance, regroup
from model.types import Prediction, TaskPrediction


def test_net_stance():
    assert net_stance([{"against": 1.0, "neutral": 0.0, "favor": 0.0}]) == -1
    assert net_stance(
        [{"against": 0.2, "neutral": 0.2, "favor": 0.6}, {"against": 0.6, "neutral": 0.2, "favor": 0.2}]
    ) == pytest.approx(0)
    assert net_stance([{"neg": 1.0}]) is None


def test_predictions_go_back_to_their_sentences_and_documents():
    extraction = PairExtractor(ActorRegistry.default()).extract(
        [Document("a", "Turkey shelled Syria. Nothing else."), Document("b", "Washington met Ankara.")]
    )
    labels = ("against", "neutral", "favor")

    def stance(label):
        return Prediction({"stance": TaskPrediction(label, {k: float(k == label) for k in labels})})

    per_pair = [stance(labels[i % 3]) for i in range(len(extraction.pairs))]
    per_sentence = [Prediction({}) for _ in extraction.sentence_texts]
    a, b = regroup(extraction, per_pair, per_sentence, labels)
    assert [(x.actor, x.stance.label) for x in a.sentences[0].actors] == [("Syria", "against"), ("Turkey", "neutral")]
    assert a.sentences[1].actors == () and a.actors["Syria"].net_stance == -1
    assert [(x.actor, x.stance.label) for x in b.sentences[0].actors] == [
        ("Turkey", "favor"),
        ("United States", "against"),
    ]
    with pytest.raises(ValueError, match="2 sentence predictions for 3 sentences"):
        regroup(extraction, per_pair, per_sentence[:2], labels)
