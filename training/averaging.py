"""Averages of the weights along one training run, kept as candidates beside the best dev checkpoint.

Two kinds, both free at inference time (the result is one ordinary set of weights):
- an exponential moving average (EMA) of the weights after every optimiser step, one per configured decay; until
  ``1 / (1 - decay)`` updates it is the plain running mean of the updates so far (decay ``t / (t + 1)``), so the
  random initial heads do not linger and each decay is in effect within a fine-tuning run of a few thousand steps
  (the TensorFlow warm-up ``(1 + t) / (10 + t)`` stays below 0.996 for the first 2,000 steps, which made every decay
  above that the same average);
- a uniform average of the weights at each dev evaluation from a given share of the training on (stochastic weight
  averaging over the checkpoints, "SWA").

At the end of training every candidate is scored on the dev data with the same selection metric as the checkpoints,
and the best of {best checkpoint, averages} is kept (`training.trainer.keep_best_weights`). Nothing here looks at
test data.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import TrainerCallback

STATE_FILE = "weight_averages.safetensors"


def _float_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v for k, v in model.state_dict().items() if v.is_floating_point()}


class WeightAverages(TrainerCallback):
    """Keeps the averages up to date during `Trainer.train`, saves them with each checkpoint, reloads on resume."""

    def __init__(self, ema_decays: list[float], swa_from_step: int | None) -> None:
        self.ema_decays = [float(d) for d in ema_decays]
        self.swa_from_step = swa_from_step
        self.names: list[str] = []
        self.ema: dict[float, list[torch.Tensor]] = {}
        self.swa: list[torch.Tensor] | None = None
        self.swa_count = 0
        self.updates = 0
        self.closed = False

    @property
    def enabled(self) -> bool:
        return bool(self.ema_decays) or self.swa_from_step is not None

    # -- Trainer events ------------------------------------------------------------------------------------------
    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if model is not None and not self.names:
            self._start(model)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if not self.ema_decays or model is None:
            return
        params = self._params(model)
        self.updates += 1
        for decay, shadow in self.ema.items():
            weight = max(1.0 - decay, 1.0 / (self.updates + 1.0))
            torch._foreach_lerp_(shadow, params, weight)

    def on_evaluate(self, args, state, control, model=None, **kwargs):
        if self.closed or self.swa_from_step is None or model is None or state.global_step < self.swa_from_step:
            return
        params = self._params(model)
        if self.swa is None:
            self.swa = [p.detach().clone().float() for p in params]
        else:
            torch._foreach_lerp_(self.swa, params, 1.0 / (self.swa_count + 1))
        self.swa_count += 1

    def on_save(self, args, state, control, **kwargs):
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        # should_save: the main process alone (every process holds the same averages).
        if args.should_save and folder.is_dir() and self.names:
            save_file(
                self._state(),
                str(folder / STATE_FILE),
                metadata={"updates": str(self.updates), "swa_count": str(self.swa_count)},
            )

    # -- use -----------------------------------------------------------------------------------------------------
    def load(self, checkpoint: Path, model: torch.nn.Module) -> None:
        """Restore the averages saved with ``checkpoint`` (resume); missing file: start them afresh."""
        self._start(model)
        path = Path(checkpoint) / STATE_FILE
        if not path.is_file():
            return
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        saved = load_file(str(path))
        self.updates = int(meta.get("updates", 0))
        self.swa_count = int(meta.get("swa_count", 0))
        for decay, shadow in self.ema.items():
            for i, name in enumerate(self.names):
                key = f"ema_{decay}/{name}"
                if key in saved:
                    shadow[i].copy_(saved[key])
        if self.swa_count and all(f"swa/{n}" in saved for n in self.names):
            self.swa = [saved[f"swa/{n}"].clone() for n in self.names]

    def candidates(self) -> dict[str, dict[str, torch.Tensor]]:
        """Name -> weights (float entries of the state dict) of each average that has seen any update."""
        self.closed = True
        found = {}
        if self.updates:
            for decay, shadow in self.ema.items():
                found[f"ema-{decay:g}"] = dict(zip(self.names, shadow, strict=True))
        if self.swa is not None:
            found[f"swa-{self.swa_count}"] = dict(zip(self.names, self.swa, strict=True))
        return found

    # -- internals -----------------------------------------------------------------------------------------------
    def _start(self, model: torch.nn.Module) -> None:
        weights = _float_state(model)
        self.names = list(weights)
        self.ema = {d: [w.detach().clone().float() for w in weights.values()] for d in self.ema_decays}

    def _params(self, model: torch.nn.Module) -> list[torch.Tensor]:
        weights = _float_state(model)
        return [weights[n].detach().float() for n in self.names]

    def _state(self) -> dict[str, torch.Tensor]:
        state = {}
        for decay, shadow in self.ema.items():
            state.update({f"ema_{decay}/{n}": t.contiguous() for n, t in zip(self.names, shadow, strict=True)})
        if self.swa is not None:
            state.update({f"swa/{n}": t.contiguous() for n, t in zip(self.names, self.swa, strict=True)})
        return state


def swa_start_step(swa_from: float, total_steps: int, eval_every: int, cyclic: bool) -> int | None:
    """First step whose dev evaluation enters the uniform average (None: no SWA).

    With the cyclical schedule the averaging phase starts at the first evaluation at or after ``swa_from`` of the
    steps; the snapshots are taken at the ends of the cycles after it (when the learning rate has decayed).
    """
    if swa_from <= 0:
        return None
    start = round(swa_from * total_steps)
    if not cyclic:
        return start
    return -(-start // eval_every) * eval_every + 1


def lr_factor_fn(total_steps: int, warmup_steps: int, swa_begin: int | None, cycle: int, swa_lr: float):
    """Learning-rate multiplier per optimiser step for `torch.optim.lr_scheduler.LambdaLR`.

    Without ``swa_begin`` (or with ``swa_lr`` 0): linear warm-up, then linear decay to zero at ``total_steps``.
    With them (cyclical SWA): linear warm-up, linear decay from the peak to ``swa_lr`` times the peak at
    ``swa_begin`` (a dev-evaluation step), then cycles of ``cycle`` steps (the evaluation interval), each restarting
    at ``swa_lr`` times the peak and decaying linearly towards zero just before the next evaluation, where the
    weights are averaged. The restarts make the averaged snapshots differ more than along one decaying run.
    """

    def factor(step: int) -> float:
        if step < warmup_steps:
            return step / max(1, warmup_steps)
        if swa_begin is None or swa_lr <= 0:
            return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))
        if step < swa_begin:
            return 1.0 - (1.0 - swa_lr) * (step - warmup_steps) / max(1, swa_begin - warmup_steps)
        return swa_lr * (1.0 - ((step - swa_begin) % cycle) / cycle)

    return factor
