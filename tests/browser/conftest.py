"""Fixtures for the browser tests: the built `bedrock-watch` binary and headless Chromium.

Chromium is Debian's (`.ci/test.sh` stage 8 installs it); CHROMIUM overrides the path. A missing
browser or binary fails the test run loudly: a browser test that skips proves nothing.
"""
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# No network, no first-run work, a fresh profile per run (see chromium()).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def binary():
    """Path of the bedrock-watch binary (BEDROCK_WATCH_BIN, else target/debug/bedrock-watch)."""
    path = Path(os.environ.get("BEDROCK_WATCH_BIN", REPO_ROOT / "target" / "debug" / "bedrock-watch"))
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"bedrock-watch binary not found at {path}: run `cargo build` or set BEDROCK_WATCH_BIN")
    return path


@pytest.fixture(scope="session")
def chromium_path():
    path = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"Chromium not found at {path}: apt-get install chromium, or set CHROMIUM=/path/to/chromium")
    return path


@pytest.fixture
def chromium(chromium_path):
    """Runs headless Chromium on a file with extra arguments; returns the completed process.

    Each call gets its own throw-away profile directory so runs never share state.
    """

    def run(page: Path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory(prefix="bw-chromium-") as profile:
            cmd = [str(chromium_path), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            pytest.fail(f"chromium exited {proc.returncode} on {page.name}:\n{proc.stderr[-2000:]}")
        return proc

    return run
