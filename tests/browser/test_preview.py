"""`bedrock-watch preview` opened in a real browser: each SVG and HTML file renders to a picture
with content (not one colour, a fair share of drawn pixels) and its widget titles are in the DOM
the browser built, so the files a reviewer opens are well-formed and readable."""
import html
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

# The four dashboards of the default config, and titles each must show.
EXPECTED = {
    "BedrockUsageMonitoring": ["Invocations", "Latency: average, p50, p90 and p99", "Recent invocations", "Alarms (us-east-1)"],
    "BedrockManagement": [],
    "BedrockSecurity": [],
    "BedrockCostAndUsage": [],
}
WINDOW = (1600, 2000)


def generate(binary: Path, out: Path, fmt: str) -> list[Path]:
    proc = subprocess.run([str(binary), "preview", "--format", fmt, "--out", str(out)], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"preview --format {fmt} exited {proc.returncode}: {proc.stderr}")
    files = sorted(out.glob(f"*.{fmt}"))
    names = {f.name.split(".")[1] for f in files}
    assert names == set(EXPECTED), f"one {fmt} file per dashboard expected, got {[f.name for f in files]}"
    assert all(f"wrote {f}" in proc.stdout for f in files), proc.stdout
    return files


def svg_titles(svg_or_html: str) -> list[str]:
    """The widget titles the file itself declares (the <text class="title"> elements)."""
    return [html.unescape(t) for t in re.findall(r'<text class="title"[^>]*>([^<]*)</text>', svg_or_html)]


def check_screenshot(png: Path) -> None:
    assert png.is_file() and png.stat().st_size > 0, f"no screenshot at {png}"
    with Image.open(png) as im:
        img = im.convert("RGB")
    assert img.size == WINDOW, img.size
    colours = img.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20, f"{png.name}: only {len(colours or [])} colours: nothing drawn"
    # Background is the most common colour; the boxes, borders and text are the rest.
    small = img.resize((400, 500))
    raw = small.tobytes()
    pixels = [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]
    background = max(set(pixels), key=pixels.count)
    drawn = sum(1 for p in pixels if sum(abs(a - b) for a, b in zip(p, background)) > 30)
    share = drawn / len(pixels)
    assert 0.01 < share < 0.9, f"{png.name}: {share:.1%} of pixels differ from the background"


@pytest.mark.parametrize("fmt", ["html", "svg"])
def test_previews_render_in_chromium(fmt, binary, chromium, tmp_path):
    files = generate(binary, tmp_path / "preview", fmt)
    for f in files:
        source = f.read_text(encoding="utf-8")
        titles = svg_titles(source)
        dashboard = f.name.split(".")[1]
        assert titles, f"{f.name} declares no widget titles"
        for expected in EXPECTED[dashboard]:
            assert expected in titles, f"{f.name}: `{expected}` not among {titles}"

        png = tmp_path / f"{f.stem}.{fmt}.png"
        chromium(f, f"--screenshot={png}", f"--window-size={WINDOW[0]},{WINDOW[1]}")
        check_screenshot(png)

        dom = chromium(f, "--dump-dom").stdout
        assert "<svg" in dom, f"{f.name}: the browser built no SVG:\n{dom[:500]}"
        rendered = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", dom)]
        for title in titles:
            assert title in rendered, f"{f.name}: title `{title}` missing from the rendered DOM"
        if fmt == "html":
            assert f"<h1>{html.escape(dashboard)}</h1>" in dom, f"{f.name}: page heading missing"


def test_preview_output_is_deterministic(binary, tmp_path):
    a = generate(binary, tmp_path / "a", "svg")
    b = generate(binary, tmp_path / "b", "svg")
    assert [f.read_bytes() for f in a] == [f.read_bytes() for f in b]
