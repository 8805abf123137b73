"""The model card (README.md in the model directory): data, licences, configuration and scores."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from model.base import base_model_hub_id
from model.model_dir import ModelProject
from model.types import TaskSpec

# Source and licence by a key found in the file's path; the first key found wins, so the more specific come first.
LICENCES = {
    "teacher_pairs_soft": "the teacher's probabilities for the teacher-labelled news pairs (data/README.md)",
    "teacher_pairs": "news sentences (NewsMTSC training sentences, MIT; FA-KES articles, CC BY 4.0) labelled by an "
    "all-mpnet-base-v2 teacher, not by people (data/README.md)",
    "newsmtsc": "NewsMTSC (Hamborg & Donnay, EACL 2021), MIT",
    "tweeteval_stance": "TweetEval stance / SemEval-2016 Task 6 (Mohammad et al.; Barbieri et al. 2020)",
    "tweeteval_sentiment": "TweetEval sentiment / SemEval-2017 Task 4 (Rosenthal et al.; Barbieri et al. 2020)",
    "fakes": "derived from FA-KES (Abu Salem et al., ICWSM 2019), CC BY 4.0",
    "distill": "soft labels of the training rows above by an all-mpnet-base-v2 teacher (data/README.md)",
}


# Hub ids of the public training sets, by a key found in the file's path (front matter ``datasets``).
HUB_DATASETS = {"newsmtsc": "fhamborg/news_sentiment_newsmtsc", "tweeteval": "cardiffnlp/tweet_eval"}
TAGS = {"stance": "stance-detection", "sentiment": "sentiment-analysis"}
TASK_NAMES = {"stance": "Stance toward a named target", "sentiment": "Sentence sentiment"}


def _licence(path: str) -> str:
    for key, text in LICENCES.items():
        if key in path:
            return text
    return "user data"


POLAR_LABELS = {"against", "favor"}  # the SemEval-2016 stance metric averages the F1 of these two


def _polar_f1_applies(task: TaskSpec | None) -> bool:
    """Whether "F1 against+favor" means what it says for this task: its labels are against and favor, and besides
    them at most neutral / none (not, say, 'strongly against', whose rows the figure would leave out)."""
    if task is None:
        return False
    labels = set(task.labels)
    return labels >= POLAR_LABELS and labels <= POLAR_LABELS | {"neutral", "none"}


def _scores(metrics: dict[str, Any], tasks: list[TaskSpec]) -> list[str]:
    """The Scores table (header and rows), with an "F1 against+favor" column only where a task has that figure."""
    by_name = {t.name: t for t in tasks}
    rows = []
    for split, reports in metrics.items():
        if split == "training" or not isinstance(reports, dict):
            continue
        for task, report in reports.items():
            if not isinstance(report, dict) or "macro_f1" not in report:
                continue
            polar = report.get("f1_against_favor") if _polar_f1_applies(by_name.get(task)) else None
            rows.append((split, task, report, polar))
    if not rows:
        return []
    polar_column = any(polar is not None for *_, polar in rows)
    header = "| split | task | n | macro-F1 | accuracy |" + (" F1 against+favor |" if polar_column else "")
    lines = [header, "|---|---|---|---|---|" + ("---|" if polar_column else "")]
    for split, task, report, polar in rows:
        line = f"| {split} | {task} | {report['n']} | {report['macro_f1']:.3f} | {report['accuracy']:.3f} |"
        if polar_column:
            line += f" {polar:.3f} |" if polar is not None else " – |"
        lines.append(line)
    return lines


def _what_it_labels(tasks: list[TaskSpec]) -> str:
    """What the model labels, from its (trained) tasks."""

    def names(kind: str, known: dict[str, str]) -> list[str]:
        return [known.get(t.name, f"`{t.name}` ({', '.join(t.labels)})") for t in tasks if t.input == kind]

    pair = names("pair", {"stance": "the sentence's stance toward the target"})
    sentence = names("sentence", {"sentiment": "its sentiment"})
    parts = []
    if pair:
        parts.append(f"each (sentence, target) pair with {_join(pair)}")
    if sentence:
        parts.append(f"each sentence with {_join(sentence)}")
    return "Labels " + ", and ".join(parts) + "."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def front_matter(project: ModelProject, name: str) -> dict[str, Any]:
    """The Hugging Face card metadata: library, base model, public datasets, licence and the measured scores
    (``model-index``: every figure the model was evaluated with on its dev sets at training time)."""
    meta: dict[str, Any] = {
        "library_name": "actor-stance",
        "pipeline_tag": "text-classification",
        "tags": ["actor-stance"] + [TAGS[t.name] for t in project.tasks if t.name in TAGS],
        # The weights derive from the training data, each set under its own licence (the card's table).
        "license": "other",
        "license_name": "training-data-licences",
        "language": ["en"],
    }
    base = base_model_hub_id(project.base_model)
    if base:
        meta["base_model"] = base
    datasets = sorted({hub for f in project.training_data for key, hub in HUB_DATASETS.items() if key in f["path"]})
    if datasets:
        meta["datasets"] = datasets
    results = _model_index_results(project)
    if results:
        meta["model-index"] = [{"name": name, "results": results}]
    return meta


def _model_index_results(project: ModelProject) -> list[dict[str, Any]]:
    dev_files = ["/".join(Path(f["path"]).parts[-2:]) for f in project.training_data if f.get("split") == "dev"]
    results = []
    for split, reports in project.metrics.items():
        if split == "training" or not isinstance(reports, dict):
            continue
        for task, report in reports.items():
            if not isinstance(report, dict) or "macro_f1" not in report:
                continue
            metrics = [
                {"type": "f1", "name": f"macro-F1 ({split})", "value": round(report["macro_f1"], 4),
                 "args": {"average": "macro"}},
                {"type": "accuracy", "name": f"accuracy ({split})", "value": round(report["accuracy"], 4)},
            ]  # fmt: skip
            actors = report.get("actors") or {}
            if "balanced_macro_f1" in actors:
                metrics.append({"type": "f1", "name": f"actor-balanced macro-F1 ({split})",
                                "value": round(actors["balanced_macro_f1"], 4)})  # fmt: skip
            for actor, figures in (actors.get("per_actor") or {}).items():
                metrics.append({"type": "f1", "name": f"macro-F1 {actor} ({split}, n={figures['n']})",
                                "value": round(figures["macro_f1"], 4)})  # fmt: skip
            dataset = {"type": "json", "name": f"{split} sets: {', '.join(dev_files)}" if dev_files else split,
                       "split": split}  # fmt: skip
            task_name = TASK_NAMES.get(task, f"{task} ({', '.join(project.task(task).labels)})")
            results.append({"task": {"type": "text-classification", "name": task_name}, "dataset": dataset,
                            "metrics": metrics})  # fmt: skip
    return results


def write_model_card(directory: str | os.PathLike, project: ModelProject, name: str | None = None) -> None:
    """The card (README.md): Hugging Face front matter, then what the model labels, how to load it, its data,
    scores, calibration and configuration. ``name``: the model's name in ``model-index`` (default: the folder's)."""
    training = project.metrics.get("training", {})
    meta = yaml.safe_dump(front_matter(project, name or Path(directory).name), sort_keys=False, allow_unicode=True)
    lines = [
        "---",
        meta.rstrip("\n"),
        "---",
        "",
        "# Actor Stance model",
        "",
        f"{_what_it_labels(project.tasks)}",
        "",
        *_how_to_load(),
        "",
        f"- Base encoder: `{project.base_model}`",
        f"- Created: {project.created}",
        f"- Input: mention markers {project.input_format.mention_markers}, target as second segment "
        f"{project.input_format.target_segment}, max {project.input_format.max_length} tokens, pooling "
        f"`{project.pooling}`",
        "",
        "## Tasks",
        "",
    ]
    lines += [f"- `{t.name}` ({t.input} input): {', '.join(t.labels)}" for t in project.tasks]
    lines += [
        "",
        "## Training data",
        "",
        "| split | file | rows | sha256 | source / licence |",
        "|---|---|---|---|---|",
    ]
    for f in project.training_data:
        split, rows, digest = f.get("split", ""), f.get("rows", ""), f["sha256"][:12]
        lines.append(f"| {split} | `{f['path']}` | {rows} | `{digest}` | {_licence(f['path'])} |")
    if training:
        lines += [
            "",
            f"Trained {training.get('steps')} steps on {training.get('train_examples')} examples in "
            f"{training.get('seconds')} s on {training.get('device')} ({training.get('torch_threads')} threads, "
            f"bf16 {training.get('bf16')}).",
        ]
        soup = training.get("soup")
        if soup:
            runs = ", ".join(f"seed {r['seed']} {r['dev_select']:.3f}" for r in soup["runs"])
            lines += [
                "",
                f"A model soup: {len(soup['runs'])} runs differing only in their seed (dev selection score: {runs}); "
                f"the weights of seeds {soup['kept_seeds']} averaged (dev {soup['dev_select']:.3f}), greedily on dev.",
            ]
        kept = training.get("weights")
        if kept:
            lines += ["", f"Weights kept: {kept['kept']} (dev selection score per candidate: {kept['dev_select']})."]
    scores = _scores(project.metrics, project.tasks)
    if scores:
        lines += ["", "## Scores", "", *scores]
        lines += ["", "Scores on dev sets chose the checkpoint, so they lean high; held-out test figures are measured "
                  "apart (for the default model: the project README, `make bench-quality`)."]  # fmt: skip
    if project.calibration:
        lines += ["", "## Calibration", "", *_calibration(project)]
    cfg = project.training_config
    lines += [
        "",
        "## Configuration",
        "",
        f"epochs {cfg.get('epochs')}, learning rate {cfg.get('learning_rate')}"
        f"{_layer_decay(cfg.get('layer_lr_decay'))}{_head_scale(cfg.get('head_lr_scale'))}"
        f"{_reinit(cfg.get('reinit_layers'))}{_frozen(cfg.get('frozen_layers'))}, "
        f"batch {cfg.get('batch_size')}, "
        f"warm-up {cfg.get('warmup_ratio')}, class weighting {cfg.get('class_weighting')}, "
        f"seed {cfg.get('soup_seeds') or cfg.get('seed')}{_distill(cfg)}; "
        "the full configuration is in `stance_model.json`.",
        "",
    ]
    Path(directory, "README.md").write_text("\n".join(lines))


def _how_to_load() -> list[str]:
    return [
        "## Loading it",
        "",
        "With this project installed (`pip install actor-stance`; the classes register themselves with transformers "
        "when `model` is imported, no remote code):",
        "",
        "```python",
        "import model  # registers the actor-stance model type, AutoModel class and pipeline",
        "from transformers import AutoModel, pipeline",
        "",
        'stance = pipeline("actor-stance", model="DIR")  # calibrated probabilities, as the CLI and API give',
        'stance({"text": "Damascus rejected the plan.", "target": "Syria"})  # each task\'s label and probabilities',
        'network = AutoModel.from_pretrained("DIR")  # ActorStanceModel: raw logits of every task head',
        "```",
        "",
        "or `model.predictor.StancePredictor.from_dir(DIR)`, `stance analyze --model DIR`, "
        "`stance evaluate --model DIR`. "
        "Without the project, transformers refuses the folder (unknown model type `actor-stance`) rather than load "
        "the encoder under a random classification head.",
    ]


def _calibration(project: ModelProject) -> list[str]:
    """What every prediction applies on top of the network's logits, and what it was fitted on."""
    lines = []
    for task, c in project.calibration.items():
        fitted = c.fitted
        files = ", ".join(f"`{Path(f).name}`" for f in fitted.get("files", [])) or "dev data"
        bias = f", prior correction {list(c.bias)} added to the logits first" if c.bias else ", no prior correction"
        ece = (
            f"; ECE on those rows {fitted['ece_before']:.3f} before, {fitted['ece_after']:.3f} after"
            if "ece_before" in fitted
            else ""
        )
        lines.append(f"- {task}: temperature {c.temperature:.3f}{bias}; fitted on {files}{ece}.")
    return lines


def _layer_decay(decay) -> str:
    return f" (x{decay} per encoder layer down)" if decay not in (None, 1) else ""


def _reinit(count) -> str:
    return f", top {count} encoder layer(s) re-initialised" if count else ""


def _frozen(count) -> str:
    return f", the {count} lowest encoder layer(s) frozen (embeddings counted as one)" if count else ""


def _head_scale(scale) -> str:
    return f" (x{scale} for the task heads)" if scale not in (None, 1) else ""


def _distill(cfg: dict) -> str:
    if not cfg.get("distill_weight"):
        return ""
    files = ", ".join(Path(f).name for f in cfg.get("soft_labels") or [])
    return (
        f", distilled from soft labels ({files}; weight {cfg['distill_weight']}, "
        f"temperature {cfg.get('distill_temperature', 1.0)})"
    )
