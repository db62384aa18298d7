"""`bedrock-watch serve` end to end: the real binary against moto's server, driven by headless
Chromium through Playwright (Debian's Chromium, never a downloaded browser).

The stack is made as in test_quota_cli.py (the quota tables, key and topic of
examples/quotas.yaml, created by CloudFormation on moto) plus the invocation log group, so
that the Details page can run `report`'s queries. CloudWatch is reached through
`cbor_adapter.CborAdapter` exactly as in test_report.py (moto speaks only awsQuery).

What is checked for real: login with the printed token (HttpOnly SameSite=Strict cookie),
refusals (403) without token or CSRF token and that they change nothing, block and unblock
through the confirmation pages with the IAM policy and the audit table read back with boto3,
the Users CSV against `quota status --format json`, a page per screenshot with content, and
the first page's time with 1,000 principals and 100,000 usage items (logged; the bound
asserted is generous so a loaded machine does not fail it: the measurement is the log line
and `cargo bench --bench console`).
"""
import csv
import datetime
import importlib.util
import io
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from cbor_adapter import CborAdapter

REPO = Path(__file__).resolve().parents[2]


def _load(name, path):
    """A conftest as a module of its own name (both folders' files are called conftest.py)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_e2e = _load("bw_e2e_conftest", REPO / "tests" / "e2e" / "conftest.py")
CHROMIUM_FLAGS = _load("bw_browser_conftest", REPO / "tests" / "browser" / "conftest.py").CHROMIUM_FLAGS

REGION = "eu-central-1"
STACK = "bedrock-quotas-eu-central-1"
CONFIG = str(REPO / "examples" / "quotas.yaml")
TAG = [{"Key": "bedrock-watch-quota", "Value": "managed"}]
TZ = ZoneInfo("Europe/Berlin")  # quotas.time_zone of examples/quotas.yaml
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
PRINCIPALS = 1000
DAYS = 99  # + one month item: 100 items per principal, 100,000 in all
SHOTS = Path(os.environ.get("BEDROCK_WATCH_SHOTS", "/tmp/bedrock-watch-console-shots"))


def _chromium():
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        pytest.fail(f"Chromium not found at {path}: apt-get install chromium, or set CHROMIUM", pytrace=False)
    return path


@pytest.fixture
def deployed(reset, bw, aws):
    res = bw("synth", "--config", CONFIG, "--stdout", "--format", "json")
    assert res.returncode == 0, res.stderr
    template = json.loads(res.stdout)
    resources = {k: template["Resources"][k] for k in ("EncryptionKey", "QuotaUsageTable", "QuotaAuditTable", "AlertTopic",
                                                       "QuotaBlockPolicy", "QuotaSessionBlockPolicy")}
    resources["InvocationLogGroup"] = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/aws/bedrock/modelinvocations", "RetentionInDays": 30}}
    cf = aws("cloudformation", REGION)
    cf.create_stack(StackName=STACK, TemplateBody=json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}))
    tables = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in cf.describe_stack_resources(StackName=STACK)["StackResources"]}
    iam = aws("iam", REGION)
    for user in ("alice", "bob"):
        iam.create_user(UserName=user, Tags=TAG)
    return {"usage": tables["QuotaUsageTable"], "audit": tables["QuotaAuditTable"], "block_policy": tables["QuotaBlockPolicy"]}


def attached(aws, user):
    """The managed policies attached to `user`; a block never writes an inline policy."""
    iam = aws("iam", REGION)
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == [], "no inline policy is written"
    return [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]]


def _seed_usage(aws, table):
    """1,000 principals × (today and 98 earlier days + this month) = 100,000 counter items,
    written with BatchWriteItem as the accounting function's counters look."""
    ddb = aws("dynamodb", REGION)
    now = datetime.datetime.now(TZ)
    month = now.strftime("%Y-%m")
    days = [(now - datetime.timedelta(days=i)).strftime("%Y-%m-%d") for i in range(DAYS)]
    names = [f"user-{i:04d}@example.com" for i in range(PRINCIPALS - 2)] + ["alice", "bob"]

    def item(name, sk, i, n):
        return {"pk": {"S": f"PRINCIPAL#{name}"}, "sk": {"S": sk}, "calls": {"N": str(n)},
                "input_tokens": {"N": str(1000 * n + i)}, "output_tokens": {"N": str(100 * n)},
                "cache_read_tokens": {"N": "0"}, "cache_write_tokens": {"N": "0"}, "cost_usd": {"N": "0.001"}}

    batch, written = [], 0
    for i, name in enumerate(names):
        todays = 1 + i % 7
        month_calls = sum(1 + (i + d) % 7 for d, day in enumerate(days) if day.startswith(month))
        batch.append(item(name, f"MONTH#{month}", i, month_calls))
        for d, day in enumerate(days):
            batch.append(item(name, f"DAY#{day}", i, 1 + (i + d) % 7 if d else todays))
        while len(batch) >= 25:
            chunk, batch = batch[:25], batch[25:]
            written += _write(ddb, table, chunk)
    if batch:
        written += _write(ddb, table, batch)
    return written


def _write(ddb, table, chunk):
    pending = {table: [{"PutRequest": {"Item": it}} for it in chunk]}
    while pending:
        pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or None
    return len(chunk)


class Serve:
    """`bedrock-watch serve` as a child process on a free port; `url` and `login` from its output."""

    def __init__(self, endpoint, config=CONFIG, region=REGION):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(_e2e.DUMMY_ENV)
        env.update({"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": region, "AWS_DEFAULT_REGION": region, "NO_COLOR": "1"})
        args = [_e2e._binary(), "serve", "--listen", "127.0.0.1:0"] + (["--config", config] if config else [])
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        deadline = time.monotonic() + 600
        self.login = None
        while self.login is None:
            line = self.proc.stdout.readline()
            if not line:
                pytest.fail(f"serve exited {self.proc.wait()}: {self.proc.stderr.read()}\n{''.join(self.lines)}")
            self.lines.append(line)
            m = re.match(r"log in: (http://127\.0\.0\.1:\d+)/login\?token=([0-9a-f]{64})$", line.strip())
            if m:
                self.url, self.token = m.group(1), m.group(2)
                self.login = m.group(0)[len("log in: "):]
            assert time.monotonic() < deadline, "serve did not print its URL within 10 minutes"

    def stop(self):
        self.proc.send_signal(2)  # Ctrl-C: graceful shutdown
        try:
            assert self.proc.wait(timeout=30) == 0, self.proc.stderr.read()
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def http(url, method="GET", data=None, cookie=None):
    """(status, headers, body) without following redirects."""
    req = urllib.request.Request(url, method=method, data=urllib.parse.urlencode(data).encode() if data is not None else None)
    if cookie:
        req.add_header("Cookie", cookie)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)
    try:
        with opener.open(req, timeout=120) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def audit(aws, table):
    return sorted(aws("dynamodb", REGION).scan(TableName=table)["Items"], key=lambda i: i["sk"]["S"])


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    img = Image.open(path).convert("RGB")
    colours = img.getcolors(maxcolors=1 << 20) or []
    assert img.size[0] >= 800 and img.size[1] >= 300, img.size
    assert len(colours) > 20, f"{name}: a near-blank screenshot ({len(colours)} colours)"
    return path


def test_console_in_a_browser(deployed, aws, bw, endpoint):
    t0 = time.monotonic()
    written = _seed_usage(aws, deployed["usage"])
    assert written == PRINCIPALS * (DAYS + 1) == 100_000
    print(f"seeded {written} usage items in {time.monotonic() - t0:.1f} s")
    cw = aws("cloudwatch", REGION)
    cw.put_metric_data(Namespace="AWS/Bedrock", MetricData=[
        {"MetricName": m, "Dimensions": [{"Name": "ModelId", "Value": HAIKU}], "Timestamp": datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2), "Value": v, "Unit": "Count"}
        for m, v in (("Invocations", 7.0), ("InputTokenCount", 7000.0), ("OutputTokenCount", 700.0))])
    operator = aws("sts", REGION).get_caller_identity()["Arn"]

    with CborAdapter(endpoint, region=REGION) as adapter:
        t0 = time.monotonic()
        srv = Serve(adapter.url)
        print(f"serve ready in {time.monotonic() - t0:.1f} s: {''.join(srv.lines).strip()}")
        try:
            _refusals(srv, aws, deployed)
            _browse(srv, aws, bw, deployed, operator, adapter)
        finally:
            srv.stop()


def _refusals(srv, aws, deployed):
    # Without the cookie: the login page at /, 403 everywhere else, POST included.
    status, headers, body = http(srv.url + "/")
    assert status == 200 and "Session token" in body
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"
    for path in ("/users", "/users.csv", "/blocking", "/teams", "/details", "/principal?name=alice"):
        status, headers, _ = http(srv.url + path)
        assert status == 403, path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert http(srv.url + "/login?token=" + "0" * 64)[0] == 403
    before = audit(aws, deployed["audit"])
    status, _, _ = http(srv.url + "/action", "POST", {"action": "block", "principal": "bob", "until": "2h", "reason": "x"})
    assert status == 403
    # With the cookie but without (or with a wrong) CSRF token: 403, nothing changed.
    cookie = f"bw_console={srv.token}"
    for csrf in (None, "f" * 64):
        form = {"action": "block", "principal": "bob", "until": "2h", "reason": "forged"}
        if csrf:
            form["csrf"] = csrf
        status, _, body = http(srv.url + "/action", "POST", form, cookie=cookie)
        assert status == 403 and "CSRF" in body
    # A GET cannot change state either: /action is POST only.
    assert http(srv.url + "/action?action=block&principal=bob&until=2h&reason=x", cookie=cookie)[0] == 405
    assert attached(aws, "bob") == []
    assert audit(aws, deployed["audit"]) == before
    # A DNS-rebinding page would send its own host name: refused.
    req = urllib.request.Request(srv.url + "/users", headers={"Host": "evil.example", "Cookie": cookie})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=30)
    assert e.value.code == 403


def _browse(srv, aws, bw, deployed, operator, adapter):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=[f for f in CHROMIUM_FLAGS if f != "--headless"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            t0 = time.monotonic()
            page.goto(srv.login)
            first = time.monotonic() - t0
            print(f"first page (login redirect + Users, {PRINCIPALS} principals): {first * 1000:.0f} ms")
            assert first < 10, "the first page took over 10 s (1 s is the target; see the log line)"
            assert page.url == srv.url + "/users"
            [cookie] = page.context.cookies()
            assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == ("bw_console", True, "Strict")
            assert page.locator("#users tbody tr").count() == 50
            assert f"page 1 of {PRINCIPALS // 50} ({PRINCIPALS} rows)" in page.inner_text(".pages")
            assert page.locator("#top-month rect.bar").count() == 10
            shot(page, "users")
            page.click("text=next »")
            assert "page 2 of" in page.inner_text(".pages")

            # The Users CSV holds what `quota status --format json` reports, principal by principal.
            status, headers, body = http(srv.url + "/users.csv", cookie=f"bw_console={srv.token}")
            assert status == 200 and headers["Content-Type"].startswith("text/csv")
            rows = {r["principal"]: r for r in csv.DictReader(io.StringIO(body))}
            r = bw("quota", "status", "--format", "json", "--config", CONFIG, "--region", REGION, endpoint_url=adapter.url)
            assert r.returncode == 0, r.stderr
            cli = {p["name"]: p for p in json.loads(r.stdout)["principals"]}
            assert len(rows) == len(cli) == PRINCIPALS
            for name, c in cli.items():
                row = rows[name]
                assert float(row["today"]) == c["today"] and float(row["this_month"]) == c["this_month"], name
                assert float(row["daily_limit"]) == c["daily_limit"] and float(row["monthly_limit"]) == c["monthly_limit"], name
                assert row["state"] == c["state"], name

            # Filter, then a principal's details.
            page.fill("input[name=q]", "alice")
            page.click("#filter button")
            assert page.locator("#users tbody tr").count() == 1
            page.click("#users >> text=alice")
            assert page.url.startswith(srv.url + "/principal?name=alice")
            assert page.locator("#days tbody tr").count() >= 1
            shot(page, "principal")

            page.goto(srv.url + "/teams")
            assert "support" in page.inner_text("#teams")
            assert page.locator("#teams a", has_text="jane.doe@example.com").count() == 1
            shot(page, "teams")

            # Block alice through the form and the confirmation page.
            page.goto(srv.url + "/blocking")
            assert "none" in page.inner_text("#blocks")
            shot(page, "blocking-empty")
            page.fill("#block input[name=principal]", "alice")
            page.fill("#block input[name=until]", "2h")
            page.fill("#block input[name=reason]", "runaway notebook (console)")
            page.click("#block button")
            assert "Block alice from Bedrock" in page.inner_text(".confirm")
            assert attached(aws, "alice") == []  # not before confirming
            shot(page, "confirm")
            page.click("#confirm button")
            assert "blocked alice until" in page.inner_text(".notice") and operator in page.inner_text(".notice")
            # The stack's fixed deny policy is attached; nothing else is written (issue 17).
            assert attached(aws, "alice") == [deployed["block_policy"]]
            doc = aws("iam", REGION).get_policy_version(PolicyArn=deployed["block_policy"], VersionId="v1")["PolicyVersion"]["Document"]
            assert doc["Statement"][0]["Effect"] == "Deny" and "bedrock:InvokeModel" in doc["Statement"][0]["Action"]
            trail = audit(aws, deployed["audit"])
            assert [(a["action"]["S"], a["principal"]["S"], a["actor"]["S"], a["result"]["S"], a["reason"]["S"]) for a in trail] == [
                ("block", "alice", operator, "ok", "runaway notebook (console)")]
            page.goto(srv.url + "/blocking")
            assert "alice" in page.inner_text("#blocks") and "runaway notebook (console)" in page.inner_text("#blocks")
            assert "block" in page.inner_text("#audit") and operator in page.inner_text("#audit")
            shot(page, "blocking")

            # Unblock from the Blocking page.
            page.select_option("#unblock select[name=principal]", "alice")
            page.click("#unblock button")
            assert "Unblock alice now?" in page.inner_text(".confirm")
            page.click("#confirm button")
            assert "unblocked alice" in page.inner_text(".notice")
            assert attached(aws, "alice") == []
            assert [a["action"]["S"] for a in audit(aws, deployed["audit"])] == ["block", "unblock"]
            status, _, body = http(srv.url + "/audit.csv", cookie=f"bw_console={srv.token}")
            assert status == 200
            audit_rows = list(csv.DictReader(io.StringIO(body)))
            assert [(a["action"], a["principal"], a["actor"]) for a in audit_rows] == [("unblock", "alice", operator), ("block", "alice", operator)]

            # Details: the report's figures (CloudWatch via the adapter), with its CSV.
            page.goto(srv.url + "/details?by=model")
            main = page.inner_text("main")
            assert page.locator("#breakdown").count() == 1, main
            assert HAIKU in page.inner_text("#breakdown")
            shot(page, "details")
            status, _, body = http(srv.url + "/details.csv?by=model", cookie=f"bw_console={srv.token}")
            [model] = list(csv.DictReader(io.StringIO(body)))
            assert (model["model_id"], model["invocations"], model["input_tokens"]) == (HAIKU, "7", "7000")
        finally:
            browser.close()


def test_console_without_quotas_says_so(reset, aws, endpoint):
    """The default config has no quotas: only the usage pages, and every page says why. The
    stack is not deployed either: the page shows the report's error with the CLI's help."""
    srv = Serve(endpoint, config=None, region="us-east-1")
    try:
        status, headers, _ = http(srv.login)
        assert status == 303 and headers["Location"] == "/users"
        cookie = headers["Set-Cookie"].split(";")[0]
        status, _, body = http(srv.url + "/users", cookie=cookie)
        assert status == 200
        assert "No quota pages: quotas are not enabled" in body
        assert 'href="/blocking"' not in body
        assert "stack `bedrock-watch-us-east-1` does not exist in us-east-1" in body
        assert "deploy it first" in body  # ReportError::StackNotFound's help, as the CLI prints it
        assert http(srv.url + "/blocking", cookie=cookie)[0] == 404
    finally:
        srv.stop()
