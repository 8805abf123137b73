"""`stance analyze | summarize`: label a corpus sentence by sentence, then aggregate the labels."""

from __future__ import annotations

import argparse
import sys

from stance_cli.options import EXIT_BAD_INPUT, add_backend, add_batching, add_model, at_least


def add_commands(sub: argparse._SubParsersAction) -> None:
    analyze = sub.add_parser(
        "analyze",
        help="label every sentence of documents or a corpus: actors, their stance, sentence sentiment",
        description="Input: a .txt file (one document), a folder of .txt files, or JSONL/CSV/Parquet with id and "
        "text columns (other columns are carried through). Output by suffix: .jsonl (one document a line; the "
        "default, to stdout) or .csv/.parquet (one row per sentence and actor).",
    )
    add_model(analyze, "model directory")
    add_backend(analyze)
    analyze.add_argument("--input", required=True, help="text file, folder of .txt, or .jsonl/.csv/.parquet")
    analyze.add_argument(
        "--output", metavar="FILE", help="output .jsonl, .csv or .parquet file (default: JSONL on stdout)"
    )
    analyze.add_argument(
        "--output-dir", metavar="DIR", help="write a folder of parts with a manifest instead of one file: a rerun of "
        "the same command skips the finished parts (a crash loses only the part being written); docs/analysis.md",
    )  # fmt: skip
    analyze.add_argument(
        "--part-format", choices=("parquet", "jsonl"), default="parquet",
        help="--output-dir: parts as Parquet (one row per sentence and actor) or JSONL (one document a line)",
    )  # fmt: skip
    analyze.add_argument(
        "--part-size", type=at_least(1), default=1000, metavar="N", help="--output-dir: input rows per part"
    )
    analyze.add_argument(
        "--shard", metavar="K/N", help="--output-dir: do only the K-th of N deterministic shares of the parts (SLURM "
        "arrays, GNU parallel); the N shards' parts together are one run",
    )  # fmt: skip
    analyze.add_argument(
        "--engine", choices=("local", "ray"), default="local",
        help="local: this process; ray: a Ray Data actor pool (pip install 'actor-stance[ray]'; needs --output-dir, "
        "writes Parquet parts; the input may be on any filesystem pyarrow reaches)",
    )  # fmt: skip
    analyze.add_argument(
        "--ray-address", metavar="ADDR",
        help="--engine ray: the cluster to join (default: RAY_ADDRESS, else a local Ray on this machine)",
    )  # fmt: skip
    analyze.add_argument("--workers", type=at_least(1), default=1, help="--engine ray: model workers (Ray actors)")
    analyze.add_argument(
        "--cpus-per-worker", type=float, default=1, help="--engine ray: CPUs (and torch threads) per worker"
    )
    analyze.add_argument("--gpus-per-worker", type=float, default=0, help="--engine ray: GPUs per worker (e.g. 1)")
    analyze.add_argument(
        "--actors", help="actor registry YAML, added to the default actors; replace_defaults: true in the file uses "
        "only its own (docs/actors.md)",
    )  # fmt: skip
    analyze.add_argument(
        "--score-all-actors",
        nargs="*",
        metavar="ACTOR",
        help="also score these actors (all registry actors when none are named) in sentences that do not mention them",
    )
    analyze.add_argument(
        "--on-bad-row",
        choices=("skip", "fail"),
        default="skip",
        help="skip rows without usable text (each is reported), or stop at the first and write nothing",
    )
    analyze.add_argument("--text-field", default="text", help="the column with the document text (JSONL/CSV/Parquet)")
    analyze.add_argument(
        "--id-field",
        default="id",
        help="the column with the document id; a column named 'id' besides it is carried as 'input_id'",
    )
    add_batching(analyze)
    analyze.add_argument("--no-progress", action="store_true")
    analyze.set_defaults(run=_analyze)

    summarize = sub.add_parser("summarize", help="aggregate analyze output by actor, outlet, month ...; charts")
    summarize.add_argument("--input", required=True, help="output of stance analyze (.jsonl, .csv or .parquet)")
    summarize.add_argument(
        "--output", required=True, metavar="FOLDER", help="folder for CSV tables, PNG charts and summary.html"
    )
    summarize.add_argument("--by", action="append", default=[], help="a carried column to group by (repeatable)")
    summarize.add_argument("--date-column", help="column with dates for net stance over time (default: date)")
    summarize.add_argument(
        "--date-order",
        choices=("auto", "mdy", "dmy"),
        default="auto",
        help="numeric dates with / or -: month first (mdy), day first (dmy), or auto: day first only when some "
        "value is valid only that way (25/04/2017); 7.4.2017 (dots) is always day first",
    )
    summarize.add_argument("--period", choices=("day", "week", "month", "quarter", "year"), default="month")
    summarize.add_argument("--min-sentences", type=int, default=1, help="leave out groups with fewer sentences")
    summarize.add_argument(
        "--include-unmentioned",
        action="store_true",
        help="also count the pairs of actors a sentence does not mention (from analyze --score-all-actors)",
    )
    summarize.set_defaults(run=_summarize)


def _analyze(args: argparse.Namespace) -> int:
    from analysis.analyze import analyze_corpus
    from analysis.parts import parse_shard
    from model.actors import ActorRegistry
    from model.extraction import AnalysisInputError, check_actor_names
    from model.pipeline import DocumentAnalyzer
    from model.predictor import StancePredictor

    registry = ActorRegistry.from_file(args.actors) if args.actors else ActorRegistry.default()
    score_all: bool | list[str] = False
    if args.score_all_actors is not None:
        score_all = args.score_all_actors or True
    try:
        check_actor_names(registry, score_all)  # before the model loads or any document is read
    except AnalysisInputError as exc:
        flag = {"score_all_actors": "--score-all-actors"}.get(exc.field, exc.field)
        print(f"stance analyze: error: {flag}: {str(exc).removeprefix(exc.field + ': ')}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.output_dir and args.output:
        print("stance analyze: error: give --output (one file) or --output-dir (a folder of parts), not both",
              file=sys.stderr)  # fmt: skip
        return EXIT_BAD_INPUT
    if not args.output_dir and args.shard:
        print("stance analyze: error: --shard needs --output-dir (the shards' parts go to one folder)", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        shard = parse_shard(args.shard) if args.shard else (1, 1)
    except ValueError as exc:
        print(f"stance analyze: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.engine == "ray":
        if not args.output_dir or args.shard or args.part_format != "parquet":
            print("stance analyze: error: --engine ray needs --output-dir and writes Parquet parts (no --shard: Ray "
                  "shares the work out itself; no --part-format jsonl)", file=sys.stderr)  # fmt: skip
            return EXIT_BAD_INPUT
        return _analyze_with_ray(args, registry, score_all)
    predictor = StancePredictor.from_dir(args.model, backend=args.backend, max_tokens=args.max_batch_tokens)
    analyzer = DocumentAnalyzer.from_predictor(predictor, registry, args.batch_size)
    if args.output_dir:
        return _analyze_to_parts(args, analyzer, predictor, registry, score_all, shard)
    stats = analyze_corpus(
        analyzer,
        args.input,
        args.output,
        on_bad_row=args.on_bad_row,
        score_all_actors=score_all,
        progress=not args.no_progress,
        text_field=args.text_field,
        id_field=args.id_field,
    )
    print(stats.line(), file=sys.stderr)
    return 0


def _run_spec(args, model: dict, registry, score_all, engine: str):
    from analysis.parts import RunSpec, input_fingerprint

    return RunSpec(
        input=input_fingerprint(args.input) if "://" not in args.input else {"path": args.input, "sha256": None},
        model=model,
        options={
            "actors": registry.fingerprint(),
            "score_all_actors": score_all,
            "text_field": args.text_field,
            "id_field": args.id_field,
            "on_bad_row": args.on_bad_row,
            "engine": engine,
        },
        part_size=args.part_size,
        part_format=args.part_format if engine == "local" else "parquet",
    )


def _analyze_with_ray(args, registry, score_all) -> int:
    import logging

    import ray
    import ray.data

    from analysis.parts import PartFolder
    from analysis.ray_engine import read_input, run_to_parts
    from model.model_dir import read_project

    project = read_project(args.model)
    spec = _run_spec(args, {"weights_sha256": project.weights_sha256, "backend": args.backend}, registry, score_all,
                     "ray")  # fmt: skip
    folder = PartFolder(args.output_dir, spec)
    started = not ray.is_initialized()  # a Ray this process already joined (a notebook, a test) is used as it is
    if started:
        ray.init(address=args.ray_address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    ray.data.DataContext.get_current().enable_progress_bars = not args.no_progress
    try:
        status = run_to_parts(
            read_input(args.input), folder, model_dir=args.model, actors=registry, workers=args.workers,
            cpus_per_worker=args.cpus_per_worker, gpus_per_worker=args.gpus_per_worker, backend=args.backend,
            documents_per_batch=args.part_size, on_bad_row=args.on_bad_row,
            text_field=args.text_field, id_field=args.id_field, score_all_actors=score_all,
        )  # fmt: skip
    finally:
        if started:
            ray.shutdown()
    print(f"{args.output_dir}: {status.parts_total} Parquet parts written by {args.workers} Ray workers",
          file=sys.stderr)  # fmt: skip
    return 0


def _analyze_to_parts(args, analyzer, predictor, registry, score_all, shard: tuple[int, int]) -> int:
    from analysis.parts import PartFolder, read_status
    from analysis.sharded import analyze_to_parts

    model = {"weights_sha256": predictor.project.weights_sha256, "backend": predictor.backend}
    spec = _run_spec(args, model, registry, score_all, "local")
    folder = PartFolder(args.output_dir, spec)
    stats = analyze_to_parts(
        analyzer, args.input, folder, shard, on_bad_row=args.on_bad_row, score_all_actors=score_all,
        progress=not args.no_progress, text_field=args.text_field, id_field=args.id_field,
    )  # fmt: skip
    print(stats.line(), file=sys.stderr)
    status = read_status(args.output_dir)
    if status.complete:
        print(f"{args.output_dir}: all {status.parts_total} parts finished", file=sys.stderr)
    else:
        print(f"{args.output_dir}: {len(status.finished)} of {status.parts_total} parts finished; the other shards' "
              "parts are still to come", file=sys.stderr)  # fmt: skip
    return 0


def _summarize(args: argparse.Namespace) -> int:
    from analysis.summarize import summarize

    written = summarize(
        args.input, args.output, by=args.by, date_column=args.date_column, period=args.period,
        min_sentences=args.min_sentences, date_order=args.date_order, include_unmentioned=args.include_unmentioned,
    )  # fmt: skip
    for name, path in written.items():
        print(f"{name}: {path}")
    return 0
