from __future__ import annotations

from importlib import metadata

import pytest

from stance_cli import main as cli


def test_version_prints_the_installed_package_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"stance {metadata.version('actor-stance')}"


def test_version_without_an_installed_package_says_so(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(cli.metadata, "version", missing)
    assert cli.version().startswith("unknown (not installed")
