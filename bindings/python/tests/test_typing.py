"""Stub check (mypy --strict on a typed usage file) and drop-in use of `workos` code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Server

HERE = Path(__file__).resolve().parent


def test_mypy_strict_on_typed_usage(tmp_path: Path) -> None:
    if shutil.which("mypy") is None and not os.path.exists(os.path.join(os.path.dirname(sys.executable), "mypy")):
        pytest.fail("mypy is not installed in the test environment")
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), str(HERE / "typed_usage.py")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_typed_usage_runs(server: Server) -> None:
    code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import typed_usage; raise SystemExit(typed_usage.main({server.url!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_workos_usage_runs_with_the_official_package(server: Server) -> None:
    import workos  # noqa: F401 - run.sh installs the official package; missing it is a failure
    env = dict(os.environ, WORKOS_API_KEY="sk_test_usage", WORKOS_CLIENT_ID="client_usage", WORKOS_BASE_URL=server.url)
    before = server.stats()["events_accepted"]
    out = subprocess.run([sys.executable, str(HERE / "workos_usage.py")], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stdout + out.stderr
    assert server.stats()["events_accepted"] == before + 1


def test_workos_usage_runs_with_only_the_import_changed(server: Server, tmp_path: Path) -> None:
    import workos  # noqa: F401 - run.sh installs the official package; missing it is a failure
    source = (HERE / "workos_usage.py").read_text()
    assert source.count("from workos import WorkOSClient") == 1
    changed = source.replace("from workos import WorkOSClient", "from auditwire import WorkOSClient")
    script = tmp_path / "usage.py"
    script.write_text(changed)
    env = dict(os.environ, WORKOS_API_KEY="sk_test_usage", WORKOS_CLIENT_ID="client_usage", WORKOS_BASE_URL=server.url)
    before = server.stats()["events_accepted"]
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stdout + out.stderr
    assert server.stats()["events_accepted"] == before + 1


def test_mypy_strict_on_the_package(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), "-p", "auditwire"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
