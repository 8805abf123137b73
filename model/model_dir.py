"""The model directory: standard Hugging Face files plus the project file that makes it self-describing.

    config.json                    ``"model_type": "actor-stance"``: the encoder's config nested under ``encoder``,
                                   the task heads and their labels (model/hf_config.py)
    tokenizer files                the encoder's, as ``save_pretrained`` writes them
    model.safetensors              ``encoder.*`` (the encoder's Hugging Face names) and ``heads.<task>.*``: the
                                   state of `StanceNetwork` and of `model.hf_model.ActorStanceModel` alike
    stance_model.json              tasks, labels, input format, pooling, base model, data fingerprints,
                                   training configuration, evaluation metrics, calibration (temperature and
                                   prior correction per task, applied at prediction time)
    README.md                      the model card

Format 1 (before config.json had its own model type) held the encoder's config.json and encoder weights without the
``encoder.`` prefix; it still loads, and `upgrade_model_dir` rewrites it as format 2.

Loading reads safetensors only, never runs remote code and never unpickles. ``stance_model.json`` lists the hash of
every other file the model needs (``files_sha256``; the weights as ``weights_sha256``): a missing or changed file,
a tokenizer file included, is refused with the folder and the file named, before anything is loaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save

from model.calibration import Calibration
from model.formatting import InputFormat
from model.network import StanceNetwork
from model.types import TaskSpec

PROJECT_FILE = "stance_model.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"  # rewritten by `stance calibrate`, so not in the manifest
# Files that hold a tokenizer's vocabulary: a model directory without a manifest (written before it existed) must
# have one of them, or its tokenizer would be rebuilt from the config alone and read every word as unknown.
VOCABULARY_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model",
                    "tokenizer.model")  # fmt: skip
FORMAT_VERSION = 2
CONFIG_FILE = "config.json"
HEAD_PREFIX = "heads."
ENCODER_PREFIX = "encoder."


class ModelDirError(ValueError):
    """A model directory that cannot be loaded, with the reason and the path."""


@dataclass
class ModelProject:
    """Everything inference needs to know about a trained model, saved as ``stance_model.json``."""

    tasks: list[TaskSpec]
    input_format: InputFormat = field(default_factory=InputFormat)
    pooling: str = "mean+marker"
    base_model: str = ""
    training_data: list[dict[str, Any]] = field(default_factory=list)
    training_config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    weights_sha256: str = ""
    format_version: int = FORMAT_VERSION
    calibration: dict[str, Calibration] = field(default_factory=dict)
    files_sha256: dict[str, str] = field(default_factory=dict)

    def task(self, name: str) -> TaskSpec:
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(f"model has no task {name!r}; it has {[t.name for t in self.tasks]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "tasks": [t.to_dict() for t in self.tasks],
            "input_format": self.input_format.to_dict(),
            "pooling": self.pooling,
            "base_model": self.base_model,
            "training_data": self.training_data,
            "training_config": self.training_config,
            "metrics": self.metrics,
            "created": self.created,
            "weights_sha256": self.weights_sha256,
            "calibration": {name: c.to_dict() for name, c in self.calibration.items()},
            "files_sha256": dict(self.files_sha256),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = PROJECT_FILE) -> ModelProject:
        try:
            tasks = [TaskSpec.from_dict(t) for t in data["tasks"]]
            project = cls(
                tasks=tasks,
                input_format=InputFormat.from_dict(data.get("input_format", {})),
                pooling=data.get("pooling", "mean+marker"),
                base_model=data.get("base_model", ""),
                training_data=list(data.get("training_data", [])),
                training_config=dict(data.get("training_config", {})),
                metrics=dict(data.get("metrics", {})),
                created=data.get("created", ""),
                weights_sha256=data.get("weights_sha256", ""),
                format_version=int(data.get("format_version", 1)),
                calibration={
                    str(name): Calibration.from_dict(c) for name, c in dict(data.get("calibration") or {}).items()
                },
                files_sha256={str(k): str(v) for k, v in dict(data.get("files_sha256") or {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelDirError(f"{where}: malformed project file ({exc!r})") from exc
        if not tasks:
            raise ModelDirError(f"{where}: no tasks")
        for task in tasks:
            if len(task.labels) < 2 or len(set(task.labels)) != len(task.labels):
                raise ModelDirError(f"{where}: task {task.name!r} needs two or more distinct labels, has {task.labels}")
            if task.input not in ("pair", "sentence"):
                raise ModelDirError(f"{where}: task {task.name!r} has unknown input kind {task.input!r}")
        names = {t.name: t for t in tasks}
        for name, calibration in project.calibration.items():
            if name not in names:
                raise ModelDirError(f"{where}: calibration for unknown task {name!r}; tasks are {sorted(names)}")
            if calibration.bias and len(calibration.bias) != len(names[name].labels):
                raise ModelDirError(
                    f"{where}: calibration of {name!r} has {len(calibration.bias)} biases for "
                    f"{len(names[name].labels)} labels {list(names[name].labels)}"
                )
        for name in project.files_sha256:
            if Path(name).name != name or name in (PROJECT_FILE, "", ".", ".."):
                raise ModelDirError(f"{where}: files_sha256 may only name files of the model directory, not {name!r}")
        if project.format_version > FORMAT_VERSION:
            raise ModelDirError(f"{where}: format_version {project.format_version} is newer than this code supports")
        return project


def is_model_name(value: str) -> bool:
    """Whether ``value`` names a model by a plain name, looked up under a models root (``default`` ->
    ``models/default``), rather than giving its directory (an existing directory, an absolute path, or any path
    with a folder part). `stance serve` and every other command read ``--model`` / ``STANCE_MODEL`` by this rule."""
    given = Path(value)
    return not (given.is_dir() or given.is_absolute() or len(given.parts) > 1)


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_project(path: str | os.PathLike) -> ModelProject:
    """Read and check ``stance_model.json`` of a model directory."""
    directory = Path(path)
    project_path = directory / PROJECT_FILE
    if not directory.is_dir():
        raise ModelDirError(f"{directory}: not a directory")
    if not project_path.is_file():
        raise ModelDirError(f"{project_path}: missing; this is not a model directory written by `stance train`")
    try:
        data = json.loads(project_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelDirError(f"{project_path}: not valid JSON ({exc})") from exc
    return ModelProject.from_dict(data, where=str(project_path))


def canonical_safetensors(data: bytes) -> bytes:
    """The same safetensors file with its metadata keys in sorted order.

    safetensors writes the metadata from a hash map whose order changes from one process to the next, so the same
    weights would give files (and ``weights_sha256`` fingerprints) that differ. The header keeps its length, so
    the tensor offsets do not move.
    """
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    if "__metadata__" in header:
        header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    if len(text) > length:
        raise ValueError("canonical_safetensors: the rewritten header is longer than the original")
    return data[:8] + text.ljust(length, b" ") + data[8 + length :]


def save_model_dir(directory: str | os.PathLike, network: StanceNetwork, tokenizer, project: ModelProject) -> None:
    """Write a complete model directory into ``directory`` (which should be empty; see `atomic_directory`)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    from model.hf_config import ActorStanceConfig

    config = ActorStanceConfig.from_parts(
        network.encoder.config, network.tasks, network.pooling, network.start_marker_id, network.end_marker_id
    )
    config.save_pretrained(directory)
    # A transformers that does not know the model type may read the folder with its generic tokenizer class, which
    # returns only the inputs it is told to (5.2 dropped token_type_ids): name them in tokenizer_config.json.
    tokenizer.init_kwargs["model_input_names"] = list(tokenizer.model_input_names)
    tokenizer.save_pretrained(directory)
    state = {key: value.detach().to("cpu").contiguous() for key, value in network.state_dict().items()}
    weights = directory / WEIGHTS_FILE
    weights.write_bytes(canonical_safetensors(save(state, metadata={"format": "pt", "producer": "actor-stance"})))
    project.weights_sha256 = file_sha256(weights)
    project.format_version = FORMAT_VERSION
    project.files_sha256 = {
        path.name: file_sha256(path)
        for path in sorted(directory.iterdir())
        if path.is_file() and path.name not in (PROJECT_FILE, WEIGHTS_FILE, CARD_FILE)
    }
    (directory / PROJECT_FILE).write_text(json.dumps(project.to_dict(), indent=2, ensure_ascii=False) + "\n")


def load_model_dir(directory: str | os.PathLike, verify: bool = True) -> tuple[StanceNetwork, Any, ModelProject]:
    """Load (network, tokenizer, project) from a model directory, or raise `ModelDirError` saying why not."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    directory = Path(directory)
    project = read_project(directory)
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        pickled = [p.name for p in directory.glob("*.bin")] + [p.name for p in directory.glob("*.pt")]
        if pickled:
            raise ModelDirError(f"{directory}: only pickle weights ({', '.join(pickled)}); safetensors required")
        raise ModelDirError(f"{weights}: missing")
    check_files(directory, project, verify)
    config = _read_config(directory, project) if project.format_version >= 2 else None
    try:
        if config is None:
            config = AutoConfig.from_pretrained(directory, trust_remote_code=False)
        encoder_config = config.encoder_config() if project.format_version >= 2 else config
        # The encoder's config picks the encoder's tokenizer class (not the model type's, which transformers lacks).
        tokenizer = AutoTokenizer.from_pretrained(directory, trust_remote_code=False, config=encoder_config)
    except (OSError, ValueError, KeyError) as exc:
        if "trust_remote_code" in str(exc) or "custom code" in str(exc):
            raise ModelDirError(
                f"{directory}: its config or tokenizer needs code from the model's own files (auto_map), which this "
                "service never runs; use a model whose architecture ships with transformers"
            ) from None
        raise ModelDirError(f"{directory}: cannot read config or tokenizer ({exc})") from exc
    try:
        state = load_file(str(weights))
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise ModelDirError(f"{weights}: unreadable safetensors file ({exc})") from exc
    encoder = AutoModel.from_config(encoder_config, trust_remote_code=False, **encoder_kwargs(encoder_config))
    fmt = project.input_format
    start, end = _marker_ids(tokenizer, fmt)
    if project.format_version >= 2 and (config.start_marker_id, config.end_marker_id) != (start, end):
        raise ModelDirError(
            f"{directory / CONFIG_FILE}: marker token ids {config.start_marker_id}, {config.end_marker_id} differ from "
            f"the tokenizer's {start}, {end}"
        )
    network = StanceNetwork(encoder, project.tasks, pooling=project.pooling, start_marker_id=start, end_marker_id=end)
    if project.format_version < 2:  # format 1 kept the encoder's weights under their own names
        state = {(k if k.startswith(HEAD_PREFIX) else ENCODER_PREFIX + k): v for k, v in state.items()}
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelDirError(f"{weights}: weights do not fit the tasks and labels in {PROJECT_FILE}: {exc}") from exc
    network.eval()
    return network, tokenizer, project


def _read_config(directory: Path, project: ModelProject):
    """``config.json`` as `ActorStanceConfig`, refused unless it describes the same network as ``stance_model.json``
    (the same tasks, labels and pooling)."""
    from model.hf_config import MODEL_TYPE, ActorStanceConfig

    path = directory / CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelDirError(f"{path}: missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelDirError(f"{path}: not valid JSON ({exc})") from exc
    if isinstance(data, dict) and "auto_map" in data:
        raise ModelDirError(
            f"{path}: names code from the model's own files (auto_map), which this service never runs; a model "
            "directory written by `stance train` has none"
        )
    if not isinstance(data, dict) or data.get("model_type") != MODEL_TYPE or not isinstance(data.get("encoder"), dict):
        found = data.get("model_type") if isinstance(data, dict) else None
        raise ModelDirError(
            f"{path}: model_type {found!r}; a model directory of format {project.format_version} has "
            f"{MODEL_TYPE!r} with the encoder's config under 'encoder'"
        )
    try:
        config = ActorStanceConfig.from_dict(data)
        config.encoder_config()
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelDirError(f"{path}: malformed actor-stance config ({exc!r})") from exc
    if config.task_specs != list(project.tasks) or config.pooling != project.pooling:
        raise ModelDirError(
            f"{path}: tasks {[t.to_dict() for t in config.task_specs]} / pooling {config.pooling!r} differ from "
            f"{PROJECT_FILE}'s {[t.to_dict() for t in project.tasks]} / {project.pooling!r}"
        )
    return config


def check_files(directory: Path, project: ModelProject, verify: bool = True) -> None:
    """The weights and every file the manifest lists are there (and, with ``verify``, unchanged); a model directory
    written before the manifest existed must at least hold a tokenizer vocabulary file. Raises `ModelDirError`
    naming folder and file."""
    weights = directory / WEIGHTS_FILE
    if verify and project.weights_sha256 and file_sha256(weights) != project.weights_sha256:
        raise ModelDirError(f"{weights}: content does not match the hash in {PROJECT_FILE} (truncated or replaced?)")
    for name, digest in project.files_sha256.items():
        path = directory / name
        if not path.is_file():
            raise ModelDirError(
                f"{directory}: {name} is missing; {PROJECT_FILE} lists it as part of the model, so the folder is "
                "incomplete (copy the whole model directory again, or retrain)"
            )
        if verify and file_sha256(path) != digest:
            raise ModelDirError(f"{path}: content does not match the hash in {PROJECT_FILE} (truncated or replaced?)")
    if not project.files_sha256 and not any((directory / name).is_file() for name in VOCABULARY_FILES):
        raise ModelDirError(
            f"{directory}: no tokenizer vocabulary ({', '.join(VOCABULARY_FILES)}); the folder is incomplete (copy "
            "the whole model directory again, or retrain)"
        )


def encoder_kwargs(config) -> dict[str, Any]:
    """What ``AutoModel`` needs to build the encoder without a pooler (the heads read mean and marker states, and a
    model directory holds no pooler weights): ``add_pooling_layer=False`` where the encoder class takes it."""
    import inspect

    from transformers import AutoModel

    model_class = AutoModel._model_mapping.get(type(config), None)
    takes_it = model_class is not None and "add_pooling_layer" in inspect.signature(model_class).parameters  # type: ignore[arg-type]
    return {"add_pooling_layer": False} if takes_it else {}


def _token_id(tokenizer, token: str) -> int:
    value = tokenizer.convert_tokens_to_ids(token)
    if not isinstance(value, int) or value == tokenizer.unk_token_id:
        raise ModelDirError(f"tokenizer has no token {token!r}")
    return value


def load_encoder(name_or_path: str, add_pooling_layer: bool = False):
    """A pretrained encoder (no task head) from a local directory or hub id, without its unused pooler."""
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(name_or_path, trust_remote_code=False)
    kwargs: dict[str, Any] = {"add_pooling_layer": add_pooling_layer} if encoder_kwargs(config) else {}
    return AutoModel.from_pretrained(name_or_path, trust_remote_code=False, use_safetensors=None, **kwargs)


class OutputPathError(ModelDirError):
    """An output path that holds something other than a model directory, which writing a model would delete."""


def check_output_path(target: str | os.PathLike) -> None:
    """Raise `OutputPathError` unless a model directory may be written to ``target``: nothing is there, an empty
    directory, or a model directory (with ``stance_model.json``), which `atomic_directory` then replaces.

    Anything else (a file, a directory of other things) would be deleted by the replacement, so it is refused.
    """
    path = Path(target)
    advice = f"choose another output directory (--output-dir), or move or delete {path} yourself first"
    if not path.exists():
        if path.is_symlink():
            raise OutputPathError(f"output path {path}: a broken symbolic link, not a model directory; {advice}")
        return
    if not path.is_dir():
        raise OutputPathError(
            f"output path {path}: exists and is a file, not a model directory; writing the model there would delete "
            f"it: {advice}"
        )
    if (path / PROJECT_FILE).is_file():
        return
    try:
        empty = not any(path.iterdir())
    except OSError as exc:
        raise OutputPathError(f"output path {path}: cannot read it ({exc.strerror or exc}); {advice}") from exc
    if not empty:
        raise OutputPathError(
            f"output path {path}: exists and is not a model directory (it has no {PROJECT_FILE}); writing the "
            f"model there would delete everything in it: {advice}"
        )


@contextlib.contextmanager
def atomic_directory(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh directory beside ``target``; on success it replaces ``target`` in one rename.

    ``target`` must be absent, an empty directory or a model directory (`check_output_path`, checked before
    anything is written): anything else is refused rather than deleted. On any exception the half-written
    directory is removed and ``target`` is left as it was.
    """
    check_output_path(target)
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    try:
        yield building
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        old.rmdir()
        target.rename(old)
    building.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    # mkdtemp makes 0700 directories; a model directory is meant to be shared.
    os.chmod(target, 0o755)


def network_from_base(
    base: str, tasks: list[TaskSpec], fmt: InputFormat, pooling: str, tokenizer, dropout: float = 0.1
) -> StanceNetwork:
    """A fresh network on a pretrained encoder, its embeddings grown for the marker tokens when needed."""
    encoder = load_encoder(base)
    if len(tokenizer) > encoder.get_input_embeddings().num_embeddings:
        encoder.resize_token_embeddings(len(tokenizer))
    start, end = _marker_ids(tokenizer, fmt)
    return StanceNetwork(encoder, tasks, pooling=pooling, start_marker_id=start, end_marker_id=end, dropout=dropout)


def _marker_ids(tokenizer, fmt: InputFormat) -> tuple[int | None, int | None]:
    """Token ids of the mention start and end markers (None without markers)."""
    if not fmt.mention_markers:
        return None, None
    return _token_id(tokenizer, fmt.mention_start), _token_id(tokenizer, fmt.mention_end)
