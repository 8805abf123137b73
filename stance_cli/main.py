"""`stance train | evaluate ...`: argument parsing and error reporting; the work happens in the packages."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

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

    metrics = evaluate_model(args.model, args.data, args.output, batch_size=args.batch_size)
    for task, report in metrics.items():
        extra = f", F1 against+favor {report['f1_against_favor']:.3f}" if "f1_against_favor" in report else ""
        print(f"{task}: macro-F1 {report['macro_f1']:.3f}, accuracy {report['accuracy']:.3f}{extra} (n={report['n']})")
    if args.output:
        print(f"metrics, report and charts written to {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stance", description="Stance toward actors and sentiment in news text.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    from training.config import add_config_arguments

    train = sub.add_parser("train", help="fine-tune a model on labelled files", description="Fine-tune a model.")
    train.add_argument("--config", help="YAML or JSON config file; flags below override it")
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint of an interrupted run")
    add_config_arguments(train)
    train.set_defaults(run=_train)

    evaluate = sub.add_parser("evaluate", help="score a model on labelled files")
    evaluate.add_argument("--model", default=os.environ.get("STANCE_MODEL", "models/default"), help="model directory")
    evaluate.add_argument("--data", nargs="+", required=True, help="labelled JSONL/CSV/Parquet file(s)")
    evaluate.add_argument("--output", help="folder for metrics.json, report.md, confusion PNGs and predictions")
    evaluate.add_argument("--batch-size", type=int, default=64)
    evaluate.set_defaults(run=_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
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
    try:
        return args.run(args)
    except (DataValidationError, ConfigError, ModelDirError, ActorRegistryError, FileNotFoundError, ValueError) as exc:
        print(f"stance {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
