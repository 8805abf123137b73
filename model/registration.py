"""Registering the model's classes with transformers as soon as transformers loads them, without loading it first.

``import model`` stays light (no torch, no transformers); yet after it, ``AutoConfig`` / ``AutoModel`` /
``pipeline("actor-stance", ...)`` know the model directory's ``"model_type": "actor-stance"``. Each registration
runs right after the transformers module it needs has been imported (or at once, when it already is): a finder on
``sys.meta_path`` wraps that one module's loader, runs the registration after the module's code, and steps aside.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
import warnings
from types import ModuleType

# transformers module -> the module of this package whose register() needs it
REGISTRATIONS = {
    "transformers.models.auto.configuration_auto": "model.hf_config",
    "transformers.models.auto.modeling_auto": "model.hf_model",
    "transformers.pipelines": "model.hf_pipeline",
}


def _register(ours: str) -> None:
    try:
        importlib.import_module(ours).register()
    except Exception as exc:  # a failed registration must not break the user's import of transformers
        warnings.warn(f"actor-stance: could not register {ours} with transformers ({exc!r})", stacklevel=3)


class _RegisterAfter(importlib.abc.Loader):
    """The module's own loader, then the registration."""

    def __init__(self, loader: importlib.abc.Loader, ours: str) -> None:
        self.loader, self.ours = loader, ours

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        module.__loader__ = self.loader  # what inspect and importlib.resources read
        _register(self.ours)

    def __getattr__(self, name: str):
        return getattr(self.loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        ours = PENDING.pop(fullname, None)
        if ours is None:
            return None
        if not PENDING and self in sys.meta_path:
            sys.meta_path.remove(self)
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _RegisterAfter(spec.loader, ours)
                return spec
        return None


PENDING: dict[str, str] = {}


def install() -> None:
    """Register now with what transformers has already loaded; the rest as it loads."""
    for theirs, ours in REGISTRATIONS.items():
        if theirs in sys.modules:
            _register(ours)
        else:
            PENDING[theirs] = ours
    if PENDING and not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
