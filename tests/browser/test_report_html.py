"""The HTML report in headless Chromium: re-rendered from the fixed JSON report
(tests/data/report.json) with the real binary, screenshotted and its DOM dumped.

Needs Chromium (CHROMIUM, default /usr/bin/chromium; `.ci/test.sh` stage 8 installs it) and
fails loudly without it. No network: the file is self-contained and Chromium's background
networking is off.
"""
import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE = REPO_ROOT / "tests" / "data" / "report.json"
CHARTS = {
    "tokens-per-day": "Tokens per day (input + output), by model",
    "cost-per-day": "Estimated cost per day (USD), by model",
    "tokens-per-model": "Tokens per model",
    "cost-per-model": "Estimated cost per model (USD)",
}


def _chromium():
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        pytest.fail(f"Chromium not found at {path}: install it (apt-get install chromium) or set CHROMIUM", pytrace=False)
    return path


def _binary():
    path = os.environ.get("BEDROCK_WATCH_BIN") or str(REPO_ROOT / "target" / "debug" / "bedrock-watch")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built: run `cargo build`", pytrace=False)
    return path


def _browser(tmp_path, *args):
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def html(tmp_path):
    out = tmp_path / "report.html"
    r = subprocess.run([_binary(), "report", "--from-json", str(FIXTURE), "--format", "html", "--out", str(out)],
                       capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return out


def test_charts_render_in_chromium(html, tmp_path):
    shot = tmp_path / "report.png"
    r = _browser(tmp_path, "--window-size=1100,1600", f"--screenshot={shot}", html.as_uri())
    assert shot.exists() and shot.stat().st_size > 0, r.stderr
    img = Image.open(shot).convert("RGB")
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 10, "the screenshot is (nearly) one colour"
    # The first chart's bar colour (palette entry 0, #2f6fdf) is painted.
    assert any(c == (0x2F, 0x6F, 0xDF) for _, c in colours), "no chart bar pixels in the screenshot"
    if os.environ.get("BW_KEEP_SCREENSHOT"):
        Path(os.environ["BW_KEEP_SCREENSHOT"]).write_bytes(shot.read_bytes())


def test_dom_has_titles_and_chart_elements(html, tmp_path):
    r = _browser(tmp_path, "--dump-dom", html.as_uri())
    assert r.returncode == 0, r.stderr
    dom = r.stdout
    assert "<title>Bedrock usage report: us-east-1" in dom
    for chart_id, title in CHARTS.items():
        assert f'id="{chart_id}"' in dom, chart_id
        assert f"<figcaption>{title}</figcaption>" in dom, title
    assert dom.count("<svg") == 4
    # 3 day/model segments for tokens and cost per day, 2 models for the per-model charts.
    assert dom.count('class="bar"') == 10
    assert "raj.patel@example.com" in dom and "Projection for a 30-day month" in dom
