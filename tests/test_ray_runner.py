"""`--runner ray`: the same recipe on a local 2-CPU Ray instance publishes the same bytes as the local runner, and
a rerun on Ray finds every stage cached. Runs in subprocesses, so each Ray instance ends with its build."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

pytest.importorskip("ray")


def _build(out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = os.environ | {"RAY_AUTH_MODE": "disabled", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "cmedins.build", "--records", "150", "--out", str(out), "--quiet",
                           *extra], capture_output=True, text=True, timeout=600, env=env)


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_ray_runner_publishes_the_local_runners_bytes(tmp_path: Path) -> None:
    local = _build(tmp_path / "local", "--workers", "2")
    assert local.returncode == 0, local.stderr[-2000:]
    ray = _build(tmp_path / "ray", "--runner", "ray", "--workers", "2")
    assert ray.returncode == 0, ray.stderr[-2000:]
    a, b = _digests(tmp_path / "local" / "dataset"), _digests(tmp_path / "ray" / "dataset")
    assert a.keys() == b.keys() and any(k.startswith("data/sft/") for k in a)
    assert [k for k in a if a[k] != b[k]] == []
    again = _build(tmp_path / "ray", "--runner", "ray", "--workers", "2")
    assert again.returncode == 0
    report = json.loads((tmp_path / "ray" / "report" / "build_report.json").read_text(encoding="utf-8"))
    assert all(s["cached"] for s in report["stages"])


def test_ray_runner_without_ray_is_one_line(tmp_path: Path) -> None:
    code = ("import importlib.util, sys; real = importlib.util.find_spec; "
            "importlib.util.find_spec = lambda name, *a: None if name == 'ray' else real(name, *a); "
            "from cmedins.build import main; sys.exit(main(['--runner', 'ray', '--out', sys.argv[1]]))")
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x")], capture_output=True, text=True,
                         env=os.environ | {"PYTHONPATH": str(REPO)}, timeout=120)
    assert res.returncode == 2 and "pip install 'cmedins[ray]'" in res.stderr and "Traceback" not in res.stderr
