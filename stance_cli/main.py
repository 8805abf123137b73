"""`stance train | evaluate ...`: argument parsing and error reporting; the work happens in the packages."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from pathlib import Path

EXIT_BAD_INPUT = 2


def _train(args: argparse.Namespace) -> int:
    from training.config import build_config
    from training.train import train

    config = build_config(args.config, args)
    path = train(config, resume=args.resume)
    print(f"model written to {path}")
    dev = json.loads((path / "stance_model.json").read_text())["metrics"].get("dev", {})
    for task, report in dev.items():
        print(f"dev {task}: macro-F1 {report['macro_f1']:.3f}, accuracy {report['accuracy']:.3f} (n={report['n']})")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from training.evaluate import evaluate_model

    actors = None
    if args.actors:
        from model.actors import ActorRegistry

        actors = ActorRegistry.from_file(args.actors).names
    metrics = evaluate_model(args.model, args.data, args.output, batch_size=args.batch_size, actors=actors)
    for task, report in metrics.items():
        extra = f", F1 against+favor {report['f1_against_favor']:.3f}" if "f1_against_favor" in report else ""
        ece = f", ECE {report['calibration']['ece']:.3f}" if "calibration" in report else ""
        print(
            f"{task}: macro-F1 {report['macro_f1']:.3f}, accuracy {report['accuracy']:.3f}{extra}{ece} "
            f"(n={report['n']})"
        )
        block = report.get("actors")
        if block:
            low, high = block["balanced_macro_f1_ci95"]
            print(f"  actor-balanced macro-F1 {block['balanced_macro_f1']:.3f} (95% CI {low:.3f}-{high:.3f})")
            for actor, a in block["per_actor"].items():
                recall = ", ".join(f"{label} {v:.2f}" for label, v in a["recall"].items())
                lo, hi = a["macro_f1_ci95"]
                print(f"  {actor}: macro-F1 {a['macro_f1']:.3f} ({lo:.3f}-{hi:.3f}), recall {recall} (n={a['n']})")
    if args.output:
        print(f"metrics, report and charts written to {args.output}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from model.predictor import StancePredictor
    from training.calibrate import fit_calibration, write_calibration
    from training.data import load_evaluation_data

    predictor = StancePredictor.from_dir(args.model)
    rows = load_evaluation_data(args.data, predictor.tasks).rows
    if not rows:
        raise ValueError(f"{', '.join(args.data)}: no rows labelled for the model's tasks")
    calibration = fit_calibration(predictor, rows, bias=args.prior_correction, files=args.data)
    write_calibration(args.model, calibration)
    for task, c in calibration.items():
        fitted = c.fitted
        bias = f", prior correction {list(c.bias)}" if c.bias else ""
        print(
            f"{task}: temperature {c.temperature:.3f}{bias}; ECE on these rows {fitted['ece_before']:.3f} -> "
            f"{fitted['ece_after']:.3f} (n={fitted['rows']})"
        )
        if "prior_correction" in fitted:
            pc = fitted["prior_correction"]
            print(
                f"  prior correction {'kept' if pc['kept'] else 'not kept'}: balanced macro-F1 "
                f"{pc['balanced_macro_f1_without']:.3f} without, {pc['balanced_macro_f1_cross_validated']:.3f} "
                "with (two-fold cross-validated)"
            )
    print(f"calibration written to {Path(args.model) / 'stance_model.json'}; fit it on dev data, never on test")
    return 0


def _soft_labels(args: argparse.Namespace) -> int:
    from model.predictor import StancePredictor
    from training.data import load_evaluation_data
    from training.distill import write_soft_labels, write_teacher_labelled

    predictor = StancePredictor.from_dir(args.model)
    data = load_evaluation_data(args.data, predictor.tasks, keep_unlabelled=True)
    labelled = [r for r in data.rows if r.labels]
    unlabelled = [r for r in data.rows if not r.labels]
    if unlabelled and not args.teacher_labelled:
        first = unlabelled[0]
        print(
            f"error: {len(unlabelled)} row(s) have no label (the first at {first.file}:{first.line}); a soft label "
            "alone does not train a row: give --teacher-labelled FILE to write them as training rows with the "
            "teacher's labels (and their probabilities to --output)",
            file=sys.stderr,
        )
        return 2
    written = write_soft_labels(predictor, labelled, args.output, batch_size=args.batch_size)
    print(f"soft labels for {written} labelled rows written to {args.output}")
    if unlabelled:
        predictions = predictor.predict([r.pair for r in unlabelled], batch_size=args.batch_size)
        probabilities = [{n: t.probabilities for n, t in p.tasks.items()} for p in predictions]
        tasks = [t for t in predictor.tasks if not args.only_tasks or t.name in args.only_tasks]
        taught = write_teacher_labelled(
            unlabelled, probabilities, tasks, args.teacher_labelled, args.output, append_soft=True
        )
        print(
            f"{taught} unlabelled rows written to {args.teacher_labelled} with the teacher's labels "
            f"(label_source: teacher), their probabilities appended to {args.output}"
        )
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from analysis.analyze import analyze_corpus
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
    analyzer = DocumentAnalyzer.from_predictor(StancePredictor.from_dir(args.model), registry, args.batch_size)
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


def _summarize(args: argparse.Namespace) -> int:
    from analysis.summarize import summarize

    written = summarize(
        args.input, args.output, by=args.by, date_column=args.date_column, period=args.period,
        min_sentences=args.min_sentences, date_order=args.date_order, include_unmentioned=args.include_unmentioned,
    )  # fmt: skip
    for name, path in written.items():
        print(f"{name}: {path}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from serve.server import run
    from serve.settings import Settings

    overrides = {k: v for k, v in {"model": args.model, "host": args.host, "port": args.port}.items() if v is not None}
    settings = Settings(**overrides)
    logging.getLogger("stance").setLevel(logging.INFO)
    print(
        f"starting on http://{settings.host}:{settings.port} (demo page at /, API docs at /docs); the model loads in "
        "the background and /readyz answers 200 once it is ready",
        file=sys.stderr,
    )
    for sig in (signal.SIGTERM, signal.SIGHUP):  # the server handles them; after it, they end the process as usual
        signal.signal(sig, signal.SIG_DFL)
    run(settings)
    return 0


def _suggest(args: argparse.Namespace) -> int:
    from model.actors import ActorRegistry
    from training.suggest import suggest

    registry = ActorRegistry.from_file(args.actors) if args.actors else ActorRegistry.default()
    analyzer = None
    if not (args.random or args.per_actor):
        from model.pipeline import DocumentAnalyzer
        from model.predictor import StancePredictor

        analyzer = DocumentAnalyzer.from_predictor(StancePredictor.from_dir(args.model), registry)
    summary = suggest(
        args.input, args.n, args.output, analyzer, registry, exclude=args.exclude, random_mode=args.random,
        per_document=args.per_document, per_actor=args.per_actor, seed=args.seed, output_format=args.format,
    )  # fmt: skip
    print(json.dumps(summary, indent=2))
    if args.per_actor:
        how = f"--per-actor: {args.n} pairs per actor, at most {args.per_document} from one document"
    elif args.random:
        how = f"--random takes whole articles until at least {args.n} pairs"
    else:
        how = f"at most {args.n} pairs"
    print(
        f"{summary['chosen']} pairs from {summary['documents']} documents written to {args.output} ({how})",
        file=sys.stderr,
    )
    return 0


def _agreement(args: argparse.Namespace) -> int:
    from training.agreement import agreement, parse_label_sets, render

    report = agreement(args.files, args.output, label_sets=parse_label_sets(args.labels))
    print(render(report))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from training.compare import compare, render

    print(render(compare(args.models, args.data, args.output, resamples=args.resamples)))
    return 0


def _labelstudio_import(args: argparse.Namespace) -> int:
    from collections import Counter

    from training.labelstudio import import_export

    left_out: Counter = Counter()
    for annotator, path in import_export(args.export, args.output, left_out).items():
        print(f"{annotator}: {path}")
    for what, count in sorted(left_out.items()):
        print(f"left out: {count} {what}", file=sys.stderr)
    return 0


def _at_least(minimum: int):
    """An argparse type: an integer >= ``minimum``."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {number}")
        return number

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stance", description="Stance toward actors and sentiment in news text.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    from training.config import add_config_arguments

    train = sub.add_parser("train", help="fine-tune a model on labelled files", description="Fine-tune a model.")
    train.add_argument("--config", help="YAML or JSON config file; flags below override it")
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue from the newest complete checkpoint of an interrupted run (none: start again, saying why)",
    )
    add_config_arguments(train)
    train.set_defaults(run=_train)

    evaluate = sub.add_parser("evaluate", help="score a model on labelled files")
    evaluate.add_argument("--model", default=os.environ.get("STANCE_MODEL", "models/default"), help="model directory")
    evaluate.add_argument("--data", nargs="+", required=True, help="labelled JSONL/CSV/Parquet file(s)")
    evaluate.add_argument("--output", help="folder for metrics.json, report.md, confusion PNGs and predictions")
    evaluate.add_argument("--batch-size", type=int, default=64)
    evaluate.add_argument(
        "--actors", help="actor registry YAML: whose per-actor scores and balanced mean to report (default: the "
        "default actors)",
    )  # fmt: skip
    evaluate.set_defaults(run=_evaluate)

    calibrate = sub.add_parser(
        "calibrate",
        help="fit temperature scaling (and the stance prior correction) on labelled dev files; stored in the model",
        description="Fits each task's temperature on the files' gold labels and, for stance, a per-label prior "
        "correction that raises the target-balanced macro-F1 (kept with 'auto' only if it wins under two-fold "
        "cross-validation). Both are written into the model directory's stance_model.json and applied to every "
        "prediction. Use dev data: calibrating on a test set makes its scores optimistic.",
    )
    calibrate.add_argument("--model", required=True, help="model directory (its stance_model.json is rewritten)")
    calibrate.add_argument("--data", nargs="+", required=True, help="labelled dev JSONL/CSV/Parquet file(s)")
    calibrate.add_argument("--prior-correction", choices=("off", "auto", "on"), default="auto")
    calibrate.set_defaults(run=_calibrate)

    soft = sub.add_parser(
        "soft-labels",
        help="a teacher model's label probabilities for rows, to distil it (stance train --soft-labels)",
        description="For each row of the labelled files, the model's probabilities for every task the row is "
        "labelled with, keyed by the row's input. Rows without labels need --teacher-labelled. Label rows the "
        "teacher was not trained on (see scripts/teacher_folds.py for out-of-fold soft labels of a whole "
        "training set).",
    )
    soft.add_argument("--model", required=True, help="the teacher's model directory")
    soft.add_argument("--data", nargs="+", required=True, help="JSONL/CSV/Parquet file(s), labelled or not")
    soft.add_argument("--output", required=True, help="the soft-label JSONL file to write")
    soft.add_argument(
        "--teacher-labelled",
        help="where unlabelled rows go, as training rows with the teacher's most probable labels "
        "(label_source: teacher); their probabilities go to --output",
    )
    soft.add_argument(
        "--only-tasks", nargs="+", help="label unlabelled rows for these tasks only (default: all the model's)"
    )
    soft.add_argument("--batch-size", type=int, default=64)
    soft.set_defaults(run=_soft_labels)

    analyze = sub.add_parser(
        "analyze",
        help="label every sentence of documents or a corpus: actors, their stance, sentence sentiment",
        description="Input: a .txt file (one document), a folder of .txt files, or JSONL/CSV/Parquet with id and "
        "text columns (other columns are carried through). Output by suffix: .jsonl (one document a line; the "
        "default, to stdout) or .csv/.parquet (one row per sentence and actor).",
    )
    analyze.add_argument("--model", default=os.environ.get("STANCE_MODEL", "models/default"), help="model directory")
    analyze.add_argument("--input", required=True, help="text file, folder of .txt, or .jsonl/.csv/.parquet")
    analyze.add_argument("--output", help="output .jsonl, .csv or .parquet (default: JSONL on stdout)")
    analyze.add_argument("--actors", help="actor registry YAML (default: the bundled registry)")
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
    analyze.add_argument("--batch-size", type=_at_least(1), default=32, help="(sentence, actor) pairs per forward pass")
    analyze.add_argument("--no-progress", action="store_true")
    analyze.set_defaults(run=_analyze)

    summarize = sub.add_parser("summarize", help="aggregate analyze output by actor, outlet, month ...; charts")
    summarize.add_argument("--input", required=True, help="output of stance analyze (.jsonl, .csv or .parquet)")
    summarize.add_argument("--output", required=True, help="folder for CSV tables, PNG charts and summary.html")
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

    suggest = sub.add_parser("suggest", help="pick the (sentence, actor) pairs most worth labelling next")
    suggest.add_argument("--model", default=os.environ.get("STANCE_MODEL", "models/default"), help="model directory")
    suggest.add_argument("--input", required=True, help="corpus: .txt, folder of .txt, or .jsonl/.csv/.parquet")
    suggest.add_argument(
        "--n",
        type=_at_least(1),
        required=True,
        help="how many pairs: exactly N with a model (fewer if the corpus has fewer); with --random whole articles "
        "until at least N pairs (usually a few more), so that splits never share an article",
    )
    suggest.add_argument("--output", required=True, help=".jsonl / .csv (to label), or .json (Label Studio tasks)")
    suggest.add_argument("--format", choices=("jsonl", "csv", "labelstudio"), help="override the output format")
    suggest.add_argument(
        "--exclude", nargs="*", default=[], help="labelled files: skip their pairs and documents (unreadable lines "
        "are reported)",
    )  # fmt: skip
    suggest.add_argument(
        "--random", action="store_true", help="a random sample of whole documents until at least N pairs (no model)"
    )
    suggest.add_argument(
        "--per-actor",
        action="store_true",
        help="an actor-balanced random sample for evaluation: N pairs per actor, drawn at random within each actor, "
        "at most --per-document per document (no model); keep its documents out of training",
    )
    suggest.add_argument(
        "--per-document", type=_at_least(1), default=3, help="most suggestions from one document (per actor with "
        "--per-actor)",
    )  # fmt: skip
    suggest.add_argument("--actors", help="actor registry YAML")
    suggest.add_argument("--seed", type=int, default=13)
    suggest.set_defaults(run=_suggest)

    agree = sub.add_parser("agreement", help="inter-annotator agreement and a merged majority file")
    agree.add_argument(
        "files", nargs="+", help="one labelled file per annotator (same items, matched by id), or files whose rows "
        "carry an 'annotator' field (the labelling page's): each annotator in them counts as one, named file:annotator",
    )  # fmt: skip
    agree.add_argument("--output", help="folder for agreement.json/.md, merged.jsonl and no_majority.jsonl")
    agree.add_argument(
        "--labels", action="append", metavar="TASK=L1,L2,...", help="the allowed labels of a task (stance, sentiment "
        "or confidence; repeatable); default: the codebook's, stance against,neutral,favor,na",
    )  # fmt: skip
    agree.set_defaults(run=_agreement)

    comp = sub.add_parser("compare", help="models side by side with bootstrap confidence intervals")
    comp.add_argument("--models", nargs="+", required=True, help="model directories; the first is the baseline")
    comp.add_argument("--data", nargs="+", required=True, help="labelled file(s)")
    comp.add_argument("--output", help="folder for compare.json and compare.md")
    comp.add_argument(
        "--resamples", type=_at_least(100), default=1000, help="bootstrap resamples for the intervals (at least 100)"
    )
    comp.set_defaults(run=_compare)

    ls = sub.add_parser("labelstudio-import", help="Label Studio JSON export -> training rows, one file per annotator")
    ls.add_argument("export", help="the JSON export")
    ls.add_argument(
        "--output", required=True, help="a folder, one labels_<annotator>.jsonl per annotator (or a .jsonl file when "
        "the export has exactly one annotator)",
    )  # fmt: skip
    ls.set_defaults(run=_labelstudio_import)

    serve = sub.add_parser(
        "serve", help="run the HTTP API and demo page", description="Settings come from STANCE_* environment "
        "variables (see serve/settings.py and the README); these flags override them.",
    )  # fmt: skip
    serve.add_argument("--model", help="model directory, or a name under the models root (default: models/default)")
    serve.add_argument("--host", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.set_defaults(run=_serve)
    return parser


def _exit_on_signal(signum: int, frame: object) -> None:
    """SIGTERM / SIGHUP end a command as Ctrl-C does, through its cleanup (no ``<output>.partial`` left behind)."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    from analysis.corpus import CorpusError
    from model.actors import ActorRegistryError
    from model.model_dir import ModelDirError
    from training.config import ConfigError
    from training.data import DataValidationError

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("stance").setLevel(logging.INFO)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "info" if args.verbose else "error")
    previous = {sig: signal.signal(sig, _exit_on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return args.run(args)
    except (
        CorpusError,
        DataValidationError,
        ConfigError,
        ModelDirError,
        ActorRegistryError,
        FileNotFoundError,
        FileExistsError,
        NotADirectoryError,
        IsADirectoryError,
        PermissionError,
        ValueError,
    ) as exc:
        print(f"stance {args.command}: error: {_describe(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _describe(exc: Exception) -> str:
    """``<path>: <reason>`` for an OSError about a file ("[Errno 17] File exists: 'x'" otherwise)."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
