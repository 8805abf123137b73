"""The example corpus end to end: `stance analyze` over the bundled FA-KES articles, then `stance summarize` by
outlet (`make bench-corpus`). Reports the time on this machine: in this process, and end to end as the README runs
it (`stance analyze` in a process of its own: imports, model load and all), and as a baseline in the same process
the time the model alone needs for the same sentences and pairs, so the ratio shows what segmentation, matching and
I/O add.
Writes the per-outlet chart to docs/img/ for the README.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from analysis.analyze import analyze_corpus
from analysis.corpus import iter_documents
from analysis.summarize import summarize
from model.actors import ActorRegistry
from model.extraction import Document
from model.pipeline import DocumentAnalyzer
from model.predictor import StancePredictor

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="models/default")
    parser.add_argument("--corpus", default=str(REPO / "data/fakes/articles.jsonl"))
    parser.add_argument("--work", default=str(REPO / "runs/fakes"))
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    analyzer = DocumentAnalyzer.from_predictor(StancePredictor.from_dir(args.model), ActorRegistry.default())

    started = time.perf_counter()
    stats = analyze_corpus(analyzer, args.corpus, str(work / "analyzed.jsonl"), progress=False)
    analyze_seconds = time.perf_counter() - started
    started = time.perf_counter()
    written = summarize(work / "analyzed.jsonl", work / "summary", by=["source"], min_sentences=5)
    summarize_seconds = time.perf_counter() - started

    command = [sys.executable, "-m", "stance_cli.main", "analyze", "--model", args.model, "--input", args.corpus]
    started = time.perf_counter()
    subprocess.run([*command, "--output", str(work / "cli.jsonl"), "--no-progress"], check=True, cwd=REPO)
    cli_seconds = time.perf_counter() - started

    documents = [d for d in iter_documents(args.corpus) if isinstance(d, Document)]
    extraction = analyzer.extractor.extract(documents)
    started = time.perf_counter()
    analyzer.predict(extraction.pairs, extraction.sentence_texts)
    model_seconds = time.perf_counter() - started

    img = REPO / "docs/img"
    img.mkdir(parents=True, exist_ok=True)
    shutil.copy(written["chart_source"], img / "fakes_stance_by_outlet.png")
    if "chart_over_time" in written:
        shutil.copy(written["chart_over_time"], img / "fakes_net_stance_over_time.png")
    report = {
        "documents": stats.documents,
        "sentences": stats.sentences,
        "pairs": stats.pairs,
        "skipped": len(stats.skipped),
        "analyze_seconds": analyze_seconds,
        "summarize_seconds": summarize_seconds,
        "stance_analyze_end_to_end_seconds": cli_seconds,
        "model_only_seconds": model_seconds,
        "analyze_over_model_only": analyze_seconds / model_seconds,
        "documents_per_second": stats.documents / analyze_seconds,
        "pairs_per_second": stats.pairs / analyze_seconds,
    }
    (REPO / "benchmarks/results").mkdir(parents=True, exist_ok=True)
    (REPO / "benchmarks/results/corpus.json").write_text(json.dumps(report, indent=2) + "\n")
    print(stats.line())
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
