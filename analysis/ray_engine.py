"""`stance analyze --engine ray`: a corpus analyzed by a Ray Data actor pool, one model per worker.

    >>> import ray
    >>> from analysis.ray_engine import analyze_dataset
    >>> ds = ray.data.read_parquet("s3://bucket/news/")            # any filesystem pyarrow reaches
    >>> rows = analyze_dataset(ds, "models/default", workers=8)   # a Dataset: one row per sentence and actor
    >>> rows.write_parquet("s3://bucket/news-stance/")

Each worker (a Ray actor) loads the model directory once and runs `DocumentAnalyzer` on batches of documents: the
same extraction, batching by tokens, prediction and flattened rows as the local engine (analysis/formats.py). The
model directory and the actor registry must be readable at the same path on every node (a shared filesystem).
`run_to_parts` writes the result as the local engine's part folder (analysis/parts.py) so that `stance summarize`
reads either; a Ray run is one job (Ray retries failed tasks; a rerun does the whole input again).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

from analysis.corpus import BadRow, CorpusError, document_from_record
from analysis.formats import flatten
from analysis.parts import PartFolder, RunStatus, read_status

INPUT_SUFFIXES = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
SKIPPED = "skipped_reason"  # a row for an input row that could not be analyzed; dropped before writing


class _Worker:
    """One Ray actor: the model loaded once, then batches of input rows to flattened result rows."""

    def __init__(self, model_dir: str, backend: str, actors: list, text_field: str, id_field: str,
                 score_all_actors: bool | list[str], threads: int | None) -> None:  # fmt: skip
        import torch

        from model.actors import ActorRegistry
        from model.pipeline import DocumentAnalyzer
        from model.predictor import StancePredictor

        if threads:
            torch.set_num_threads(threads)
        predictor = StancePredictor.from_dir(model_dir, backend=backend)
        self.analyzer = DocumentAnalyzer.from_predictor(predictor, ActorRegistry(actors=actors))
        self.text_field, self.id_field, self.score_all_actors = text_field, id_field, score_all_actors

    def __call__(self, batch):
        import pyarrow as pa

        documents, rows = [], []
        for record in batch.to_dict("records"):
            record = {k: (None if _missing(v) else v) for k, v in record.items()}
            source = str(record.pop("path", "") or "")
            where = f"{source} (id {record.get(self.id_field)!r})" if source else f"id {record.get(self.id_field)!r}"
            fallback = f"{Path(source).stem}:{_digest(record.get(self.text_field))}"
            item = document_from_record(record, self.text_field, self.id_field, where, fallback)
            if isinstance(item, BadRow):
                rows.append({SKIPPED: str(item)})
            else:
                documents.append(item)
        labels = self.analyzer.labels
        for result in self.analyzer.analyze(documents, score_all_actors=self.score_all_actors):
            rows.extend(flatten(result, labels.get("sentiment", ()), labels.get("stance", ())))
        # Arrow columns, not pandas: a column with gaps keeps its type (pandas would make a bool column with a gap
        # float, and blocks of the two kinds would not merge). Every block has the skipped column, to drop from all.
        columns = dict.fromkeys([*(key for row in rows for key in row), SKIPPED])
        return pa.table({column: [row.get(column) for row in rows] for column in columns})


def _missing(value: Any) -> bool:
    try:
        return value != value  # NaN, as pandas reads an empty cell
    except (TypeError, ValueError):
        return False


def _digest(text: Any) -> str:
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()[:12]


def read_input(path: str, **read_args: Any):
    """A Ray Dataset of the input rows: JSONL / CSV / Parquet files, or a folder of them (local or any filesystem
    pyarrow reaches: s3://, gs://, hdfs://); a ``path`` column names each row's file."""
    import ray

    local = Path(path)
    suffix = local.suffix.lower()
    if "://" not in path and local.is_dir():
        kinds = {INPUT_SUFFIXES[p.suffix.lower()] for p in local.rglob("*") if p.suffix.lower() in INPUT_SUFFIXES}
        if len(kinds) != 1:
            raise CorpusError(f"{path}: a folder for the Ray engine holds .jsonl, .csv or .parquet files of one kind")
        kind = kinds.pop()
    elif suffix in INPUT_SUFFIXES:
        kind = INPUT_SUFFIXES[suffix]
    else:
        raise CorpusError(f"{path}: the Ray engine reads .jsonl, .csv or .parquet (a file or a folder of them)")
    if "://" not in path and not local.exists():
        raise CorpusError(f"{path}: no such file or folder")
    reader = {"json": ray.data.read_json, "csv": ray.data.read_csv, "parquet": ray.data.read_parquet}[kind]
    # Reading takes no CPU from the budget: the model workers may hold every CPU (one worker per core), and a read
    # waiting for a free CPU would then wait for ever.
    read_args.setdefault("ray_remote_args", {"num_cpus": 0})
    # JSON lines through pyarrow's reader (Ray's lines=True reads with pandas, which turns '4/7/17' into a date).
    return reader(path, include_paths=True, **read_args)


def analyze_dataset(
    dataset,
    model_dir: str | os.PathLike,
    actors=None,
    workers: int = 1,
    cpus_per_worker: float = 1,
    gpus_per_worker: float = 0,
    documents_per_batch: int = 64,
    backend: str = "auto",
    text_field: str = "text",
    id_field: str = "id",
    score_all_actors: bool | list[str] = False,
):
    """One row per (document, sentence, actor) for every document row of ``dataset``, as the local engine flattens
    them, with a ``skipped_reason`` row for each input row without usable text. ``workers`` Ray actors each load the
    model once (``gpus_per_worker`` > 0 puts each on a GPU, where batches are sized by tokens for it)."""
    from model.actors import ActorRegistry

    registry = actors or ActorRegistry.default()
    return dataset.map_batches(
        _Worker,
        fn_constructor_kwargs={
            "model_dir": str(Path(model_dir).resolve()),
            "backend": backend,
            "actors": registry.actors,
            "text_field": text_field,
            "id_field": id_field,
            "score_all_actors": score_all_actors,
            "threads": max(1, int(cpus_per_worker)) if not gpus_per_worker else None,
        },
        batch_size=documents_per_batch,
        batch_format="pandas",
        compute=_pool(workers),
        num_cpus=cpus_per_worker,
        num_gpus=gpus_per_worker,
    )


def _pool(workers: int):
    import ray.data

    return ray.data.ActorPoolStrategy(size=workers)


def run_to_parts(dataset, folder: PartFolder, on_bad_row: str = "skip", **analyze_args: Any) -> RunStatus:
    """Analyze ``dataset`` and write the rows as Parquet parts of ``folder`` with their records; skipped input rows
    go to the records (``on_bad_row="fail"``: the first one stops the run before anything is written). Returns the
    folder's status."""
    rows = analyze_dataset(dataset, **analyze_args).materialize()
    with warnings.catch_warnings():  # Ray suggests expressions for filters; they came after the Ray floor we allow
        warnings.simplefilter("ignore", UserWarning)
        skipped = [r[SKIPPED] for r in rows.filter(lambda r: _has(r, SKIPPED)).take_all()]
        results = rows.filter(lambda r: not _has(r, SKIPPED))
    if skipped and on_bad_row == "fail":
        raise CorpusError(f"{skipped[0]} (run with --on-bad-row skip to skip such rows)")
    results = results.drop_columns([SKIPPED])
    # A Ray run is one job: it replaces the parts of an earlier (failed or finished) run of the same manifest, so
    # that none of them is left beside its own parts.
    staging = folder.directory / ".ray-staging"
    shutil.rmtree(staging, ignore_errors=True)
    for old in [*folder.directory.glob("part-*"), *folder.directory.glob("shard-*-of-*.json")]:
        old.unlink()
    results.write_parquet(str(staging))
    written = sorted(staging.glob("*.parquet"))
    import pyarrow.parquet as pq

    for number, file in enumerate(written):
        os.replace(file, folder.part_path(number))
        table = pq.read_table(folder.part_path(number), columns=["id", "sentence_index", "actor"])
        ids = table.column("id").to_pylist()
        folder.write_record(number, {
            "documents": len(set(ids)), "pairs": sum(a is not None for a in table.column("actor").to_pylist()),
            "skipped": [{"location": s.split(": ", 1)[0], "reason": s.split(": ", 1)[-1]} for s in skipped]
            if number == 0 else [],
        })  # fmt: skip
    for leftover in staging.iterdir():
        leftover.unlink()
    staging.rmdir()
    folder.finish_shard((1, 1), len(written), rows=None)
    return read_status(folder.directory)


def _has(row: dict, column: str) -> bool:
    value = row.get(column)
    return value is not None and not _missing(value)


__all__ = ["analyze_dataset", "read_input", "run_to_parts"]
