"""`stance train | evaluate | calibrate | soft-labels | compare | export | upgrade`: making a model and measuring it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stance_cli.options import add_backend, add_batching, add_input, add_model, add_models, at_least


def add_commands(sub: argparse._SubParsersAction) -> None:
    from training.config import add_config_arguments

    train = sub.add_parser(
        "train", help="fine-tune a model on labelled files", description="Fine-tune a model. The defaults "
        "below are the default model's measured recipe; configs/default.yaml adds its data (files, tasks, dev sets).",
    )  # fmt: skip
    train.add_argument(
        "--config", metavar="FILE", help="YAML or JSON config file (it may extend another: `extends: default.yaml`); "
        "flags below override it",
    )  # fmt: skip
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue from the newest complete checkpoint of an interrupted run (none: start again, saying why)",
    )
    add_config_arguments(train)
    train.set_defaults(run=_train)

    evaluate = sub.add_parser("evaluate", help="score a model on labelled files")
    add_model(evaluate, "model directory")
    add_input(evaluate, "labelled JSONL/CSV/Parquet file(s)")
    add_backend(evaluate)
    evaluate.add_argument(
        "--output", metavar="FOLDER", help="folder for metrics.json, report.md, confusion PNGs and predictions"
    )
    add_batching(evaluate)
    evaluate.add_argument(
        "--actors", help="actor registry YAML: whose per-actor scores and balanced mean to report (its actors are "
        "added to the default actors unless it says replace_defaults: true)",
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
    add_model(calibrate, "model directory (its stance_model.json is rewritten)", required=True)
    add_input(calibrate, "labelled dev JSONL/CSV/Parquet file(s)")
    calibrate.add_argument(
        "--prior-correction", choices=_choices("prior_correction"), default="auto",
        help="off, on, or auto: kept only if it wins under two-fold cross-validation",
    )  # fmt: skip
    calibrate.set_defaults(run=_calibrate)

    soft = sub.add_parser(
        "soft-labels",
        help="a teacher model's label probabilities for rows, to distil it (stance train --soft-labels)",
        description="For each row of the labelled files, the model's probabilities for every task the row is "
        "labelled with, keyed by the row's input. Rows without labels need --teacher-labelled. Label rows the "
        "teacher was not trained on (see experiments/teacher_folds.py for out-of-fold soft labels of a whole "
        "training set).",
    )
    add_model(soft, "the teacher's model directory", required=True)
    add_input(soft, "JSONL/CSV/Parquet file(s), labelled or not")
    soft.add_argument("--output", required=True, metavar="FILE", help="the soft-label .jsonl file to write")
    soft.add_argument(
        "--teacher-labelled",
        metavar="FILE",
        help="where unlabelled rows go, as training rows with the teacher's most probable labels "
        "(label_source: teacher); their probabilities go to --output",
    )
    soft.add_argument(
        "--only-tasks", nargs="+", help="label unlabelled rows for these tasks only (default: all the model's)"
    )
    soft.add_argument("--batch-size", type=int, default=64)
    soft.set_defaults(run=_soft_labels)

    comp = sub.add_parser("compare", help="models side by side with bootstrap confidence intervals")
    add_models(comp, "model directories; the first is the baseline")
    add_input(comp, "labelled file(s)")
    comp.add_argument("--output", metavar="FOLDER", help="folder for compare.json and compare.md")
    comp.add_argument(
        "--resamples", type=at_least(100), default=1000, help="bootstrap resamples for the intervals (at least 100)"
    )
    comp.set_defaults(run=_compare)

    export = sub.add_parser(
        "export", help="check the faster backends against float32 and record them in the model directory",
        description="Run each backend this machine supports (torch-bf16 where the CPU or GPU has bfloat16) and "
        "float32 over labelled held-out pairs; a backend passes when stance labels agree on at least 99 %% of them "
        "and stance macro-F1 moves by at most 0.005. The result goes to DIR/backends.json, where --backend auto "
        "reads it.",
    )  # fmt: skip
    add_model(export, "model directory (backends.json is written into it)", required=True)
    add_input(export, "labelled held-out JSONL/CSV/Parquet file(s), never the training data")
    export.set_defaults(run=_export)

    upgrade = sub.add_parser(
        "upgrade", help="rewrite a model directory of an older format in the current one",
        description="Rewrite a model directory written by an older version in place (atomically): the same weights, "
        "labels, calibration and files, with a config.json of model type actor-stance that transformers' AutoModel "
        "and pipeline('actor-stance') load after `import model`, and that plain transformers refuses. A current "
        "directory is left as it is.",
    )  # fmt: skip
    add_model(upgrade, "model directory to rewrite in place", required=True)
    upgrade.set_defaults(run=_upgrade)


def _choices(name: str) -> tuple[str, ...]:
    from training.config import TrainConfig

    return TrainConfig.settings()[name].choices


def _train(args: argparse.Namespace) -> int:
    from training import processes
    from training.config import build_config
    from training.train import train

    config = build_config(args.config, args)
    path = train(config, resume=args.resume)
    if not processes.is_main():  # under torchrun / accelerate launch: the main process reports, once
        return 0
    print(f"model written to {path}")
    dev = json.loads((path / "stance_model.json").read_text())["metrics"].get("dev", {})
    for task, report in dev.items():
        print(f"dev {task}: macro-F1 {report['macro_f1']:.3f}, accuracy {report['accuracy']:.3f} (n={report['n']})")
    return 0


def _export(args: argparse.Namespace) -> int:
    from training.backend_check import check_backends

    checks, path = check_backends(args.model, args.input)
    for check in checks:
        print(check.line())
    if not checks:
        print("no backend besides torch-fp32 runs on this machine; nothing to check")
    print(f"recorded in {path}")
    return 0


def _upgrade(args: argparse.Namespace) -> int:
    from model.model_dir import FORMAT_VERSION, read_project
    from training.export import upgrade_model_dir

    found = upgrade_model_dir(args.model)
    if found is None:
        print(f"{args.model}: already format {FORMAT_VERSION}; nothing to do")
    else:
        digest = read_project(args.model).weights_sha256[:12]
        print(f"{args.model}: format {found} -> {FORMAT_VERSION} (weights sha256 now {digest}; same values)")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from training.evaluate import evaluate_model

    actors = None
    if args.actors:
        from model.actors import ActorRegistry

        actors = ActorRegistry.from_file(args.actors).names
    metrics = evaluate_model(
        args.model, args.input, args.output, batch_size=args.batch_size, actors=actors, backend=args.backend,
        max_tokens=args.max_batch_tokens,
    )  # fmt: skip
    print("(95% bootstrap intervals over the items, in brackets)")
    for task, report in metrics.items():
        ci = {name: f" [{lo:.3f}-{hi:.3f}]" for name, (lo, hi) in report.get("ci95", {}).items()}
        extra = (
            f", F1 against+favor {report['f1_against_favor']:.3f}{ci.get('f1_against_favor', '')}"
            if "f1_against_favor" in report
            else ""
        )
        ece = f", ECE {report['calibration']['ece']:.3f}{ci.get('ece', '')}" if "calibration" in report else ""
        print(
            f"{task}: macro-F1 {report['macro_f1']:.3f}{ci.get('macro_f1', '')}, accuracy {report['accuracy']:.3f}"
            f"{ci.get('accuracy', '')}{extra}{ece} (n={report['n']})"
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
    from training.calibrate import calibrate_model_dir

    calibration = calibrate_model_dir(args.model, args.input, args.prior_correction)
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
    from training.soft_labels import build_soft_labels

    written = build_soft_labels(
        StancePredictor.from_dir(args.model), args.input, args.output, teacher_labelled=args.teacher_labelled,
        only_tasks=args.only_tasks, batch_size=args.batch_size,
    )  # fmt: skip
    print(f"soft labels for {written.labelled} labelled rows written to {args.output}")
    if written.unlabelled:
        print(
            f"{written.taught} unlabelled rows written to {args.teacher_labelled} with the teacher's labels "
            f"(label_source: teacher), their probabilities appended to {args.output}"
        )
    return 0


def _compare(args: argparse.Namespace) -> int:
    from training.compare import compare, render

    print(render(compare(args.models, args.input, args.output, resamples=args.resamples)))
    return 0
