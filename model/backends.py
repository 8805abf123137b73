"""How the network runs: a backend, checked against float32 before it is used.

- ``torch-fp32``: PyTorch in float32, the reference.
- ``torch-bf16``: PyTorch under bfloat16 autocast; only where the hardware has bfloat16 arithmetic (a CUDA GPU that
  supports it, or a CPU with AVX512-BF16), since elsewhere it is emulated and slower than float32.
- ``onnx-fp32``, ``onnx-int8``: ONNX Runtime on the network exported by `stance export` into ``DIR/onnx/``
  (float32, and int8 weights by dynamic quantization); the check records each file's sha256, and a file that no
  longer matches is not used.
- ``auto`` (the default): the fastest backend whose check, recorded in the model directory by
  `stance export --model DIR` (``backends.json``), passed on this kind of machine; float32 when none was recorded.

A check runs the backend and float32 over a labelled held-out set: stance labels must agree on at least
`MIN_AGREEMENT` of its pairs and stance macro-F1 move by at most `MAX_F1_CHANGE`; its speed is the ratio to float32.
A backend asked for by name whose check failed is refused with the figures.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import platform
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from model.model_dir import file_sha256

BACKENDS = ("torch-fp32", "torch-bf16", "onnx-fp32", "onnx-int8")
ONNX_FILES = {"onnx-fp32": "onnx/model.onnx", "onnx-int8": "onnx/model.int8.onnx"}
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
CHOICES = ("auto", *BACKENDS)
REFERENCE = "torch-fp32"
CHECK_FILE = "backends.json"
MIN_AGREEMENT = 0.99
MAX_F1_CHANGE = 0.005


class BackendError(ValueError):
    """A backend that cannot run here, or whose check against float32 failed."""


@dataclass(frozen=True)
class BackendCheck:
    """One backend against float32 on a held-out set, on one kind of machine."""

    backend: str
    machine: str
    pairs: int
    agreement: float  # share of stance labels equal to float32's
    macro_f1: float
    macro_f1_fp32: float
    speed: float  # pairs a second over float32's, same inputs, same run
    passed: bool
    file_sha256: str | None = None  # the ONNX file checked (onnx backends)

    def line(self) -> str:
        verdict = "passed" if self.passed else "failed"
        return (
            f"{self.backend} {verdict} on {self.machine}: labels agree on {self.agreement:.2%} of {self.pairs} pairs "
            f"(at least {MIN_AGREEMENT:.0%}), stance macro-F1 {self.macro_f1:.4f} vs {self.macro_f1_fp32:.4f} "
            f"(at most {MAX_F1_CHANGE} apart), {self.speed:.2f}x float32's speed"
        )


def machine_kind(device: torch.device | str = "cpu") -> str:
    """What a check holds for: the GPU's name, or the CPU's architecture and bfloat16 support."""
    if torch.device(device).type == "cuda":
        return torch.cuda.get_device_name(torch.device(device))
    return f"{platform.machine()} cpu{' avx512_bf16' if cpu_has_bf16() else ''}"


def cpu_has_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively (AVX512-BF16), rather than emulating it."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
        return torch.backends.cpu.get_cpu_capability() == "AVX512" and "avx512_bf16" in flags
    except Exception:
        return False


def onnxruntime_available() -> bool:
    """Whether ONNX Runtime is installed (found, not imported: a torch backend never loads it)."""
    return importlib.util.find_spec("onnxruntime") is not None


def supported(backend: str, device: torch.device | str = "cpu") -> bool:
    """Whether this machine can run ``backend`` (an ONNX backend also needs its file, see `onnx_file`)."""
    if backend == "torch-bf16":
        return torch.cuda.is_bf16_supported() if torch.device(device).type == "cuda" else cpu_has_bf16()
    if backend in ONNX_FILES:
        return torch.device(device).type == "cpu" and onnxruntime_available()
    return backend == REFERENCE


def onnx_file(directory: str | os.PathLike, backend: str) -> Path:
    return Path(directory) / ONNX_FILES[backend]


class OnnxNetwork:
    """An exported network under ONNX Runtime, called like the PyTorch one: tensors in, logits by name out."""

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()  # one thread setting for every backend
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.inputs = {i.name for i in self.session.get_inputs()}

    def __call__(self, **batch: torch.Tensor) -> dict[str, torch.Tensor]:
        feed = {k: v.cpu().numpy() for k, v in batch.items() if k in self.inputs}
        return {name: torch.from_numpy(v) for name, v in zip(self.outputs, self.session.run(None, feed), strict=True)}


@contextlib.contextmanager
def running(backend: str, device: torch.device) -> Iterator[None]:
    """The context a forward pass of ``backend`` runs in."""
    if backend == "torch-bf16":
        with torch.autocast(device.type, dtype=torch.bfloat16):
            yield
    else:
        yield


def read_checks(directory: str | os.PathLike) -> list[BackendCheck]:
    path = Path(directory) / CHECK_FILE
    if not path.is_file():
        return []
    try:
        return [BackendCheck(**entry) for entry in json.loads(path.read_text(encoding="utf-8"))["checks"]]
    except (ValueError, TypeError, KeyError) as exc:
        raise BackendError(f"{path}: not a backend check file ({exc}); run `stance export --model DIR` again") from exc


def write_checks(directory: str | os.PathLike, checks: list[BackendCheck]) -> Path:
    """Record checks in the model directory, replacing earlier ones for the same backend and machine."""
    kept = [c for c in read_checks(directory) if (c.backend, c.machine) not in {(n.backend, n.machine) for n in checks}]
    path = Path(directory) / CHECK_FILE
    tmp = path.with_suffix(".json.partial")
    tmp.write_text(json.dumps({"checks": [asdict(c) for c in kept + checks]}, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _file_matches(directory: str | os.PathLike, check: BackendCheck) -> bool:
    """A check of an ONNX backend holds only for the very file it checked."""
    if check.backend not in ONNX_FILES:
        return True
    path = onnx_file(directory, check.backend)
    return path.is_file() and check.file_sha256 == file_sha256(path)


def choose(requested: str, directory: str | os.PathLike, device: torch.device) -> tuple[str, BackendCheck | None]:
    """The backend to run and the check behind it. ``auto``: the fastest that passed on this kind of machine, else
    float32. A backend asked for by name must run here and, unless it is float32, have passed its check."""
    if requested not in CHOICES:
        raise BackendError(f"backend {requested!r}: choose one of {', '.join(CHOICES)}")
    here = machine_kind(device)
    checks = {c.backend: c for c in read_checks(directory) if c.machine == here and _file_matches(directory, c)}
    if requested == "auto":
        passed = [c for c in checks.values() if c.passed and supported(c.backend, device) and c.speed > 1]
        best = max(passed, key=lambda c: c.speed, default=None)
        return (best.backend, best) if best else (REFERENCE, None)
    if requested == REFERENCE:
        return REFERENCE, None
    if not supported(requested, device):
        raise BackendError(f"backend {requested}: not supported on this machine ({here}); use torch-fp32 or auto")
    check = checks.get(requested)
    if check is None:
        raise BackendError(
            f"backend {requested}: not checked against float32 on this machine ({here}) for {directory}; run "
            "`stance export --model DIR` first"
        )
    if not check.passed:
        raise BackendError(f"backend {requested} refused: {check.line()}")
    return requested, check
