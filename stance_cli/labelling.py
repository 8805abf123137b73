"""`stance suggest | agreement | labelstudio-import`: choosing what to label, and reading labels back."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from stance_cli.options import add_model, at_least


def add_commands(sub: argparse._SubParsersAction) -> None:
    suggest = sub.add_parser("suggest", help="pick the (sentence, actor) pairs most worth labelling next")
    add_model(suggest, "model directory")
    suggest.add_argument("--input", required=True, help="corpus: .txt, folder of .txt, or .jsonl/.csv/.parquet")
    suggest.add_argument(
        "--n",
        type=at_least(1),
        required=True,
        help="how many pairs: exactly N with a model (fewer if the corpus has fewer); with --random whole articles "
        "until at least N pairs (usually a few more), so that splits never share an article",
    )
    suggest.add_argument(
        "--output", required=True, metavar="FILE", help="a .jsonl / .csv file (to label), or .json (Label Studio "
        "tasks)",
    )  # fmt: skip
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
        "--per-document", type=at_least(1), default=3, help="most suggestions from one document (per actor with "
        "--per-actor)",
    )  # fmt: skip
    suggest.add_argument(
        "--actors", help="actor registry YAML, added to the default actors; replace_defaults: true in the file uses "
        "only its own (docs/actors.md)",
    )  # fmt: skip
    suggest.add_argument("--seed", type=int, default=13)
    suggest.set_defaults(run=_suggest)

    agree = sub.add_parser("agreement", help="inter-annotator agreement and a merged majority file")
    agree.add_argument(
        "files", nargs="*", help="one labelled file per annotator (same items, matched by id), or files whose rows "
        "carry an 'annotator' field (the labelling page's): each annotator in them counts as one, named "
        "file:annotator; or give them as --input",
    )  # fmt: skip
    agree.add_argument("--input", nargs="+", default=[], metavar="FILE", help="the labelled files, as FILES above")
    agree.add_argument(
        "--output", metavar="FOLDER", help="folder for agreement.json/.md, merged.jsonl and no_majority.jsonl"
    )
    agree.add_argument(
        "--labels", action="append", metavar="TASK=L1,L2,...", help="the allowed labels of a task (stance, sentiment "
        "or confidence; repeatable); default: the codebook's, stance against,neutral,favor,na",
    )  # fmt: skip
    agree.set_defaults(run=_agreement)

    ls = sub.add_parser(
        "labelstudio-import",
        help="Label Studio export (JSON, JSON-MIN, CSV/TSV) -> training rows, one file per annotator",
    )
    ls.add_argument("export", nargs="?", help="the export file (or give it as --input)")
    ls.add_argument("--input", metavar="FILE", help="the export file, as EXPORT above")
    ls.add_argument(
        "--output", required=True, metavar="PATH", help="a folder, one labels_<annotator>.jsonl per annotator (or a "
        ".jsonl file when the export has exactly one annotator)",
    )  # fmt: skip
    ls.set_defaults(run=_labelstudio_import)


def _one_spelling(positional: object, flag: object, what: str) -> None:
    """The input given once: as the positional argument or as --input, not both, not neither."""
    if bool(positional) == bool(flag):
        given = "twice (as an argument and as --input)" if positional else "not given"
        raise ValueError(f"{what}: {given}; give it as an argument or as --input")


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

    _one_spelling(args.files, args.input, "the labelled files")
    report = agreement(args.files or args.input, args.output, label_sets=parse_label_sets(args.labels))
    print(render(report))
    return 0


def _labelstudio_import(args: argparse.Namespace) -> int:
    from training.labelstudio import import_export

    _one_spelling(args.export, args.input, "the Label Studio export")
    left_out: Counter = Counter()
    for annotator, path in import_export(args.export or args.input, args.output, left_out).items():
        print(f"{annotator}: {path}")
    for what, count in sorted(left_out.items()):
        print(f"left out: {count} {what}", file=sys.stderr)
    return 0
