"""Fixtures for the end-to-end tests: the real `bedrock-watch` binary against moto's server.

`.ci/test.sh` starts `moto_server` on 127.0.0.1 and exports BEDROCK_WATCH_TEST_ENDPOINT,
AWS_ENDPOINT_URL and dummy credentials. Without them every test here fails at once: no test
may fall back to a real AWS endpoint.

What the emulator models and what it does not is listed in ../shared/aws-facts.md; each test
says which of its assertions the emulator can back.
"""
import http.server
import itertools
import json
import os
import subprocess
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config as BotoConfig
from http_forward import NO_PROXY as _NO_PROXY, forward

REPO_ROOT = Path(__file__).resolve().parents[2]
DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _loopback(url):
    host = urllib.parse.urlsplit(url).hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"


@pytest.fixture(scope="session")
def endpoint():
    """The emulator's URL; fails loudly when none is configured or it is not on loopback."""
    url = os.environ.get("BEDROCK_WATCH_TEST_ENDPOINT")
    if not url:
        pytest.fail("BEDROCK_WATCH_TEST_ENDPOINT is not set: run the end-to-end tests through "
                    "`bash .ci/test.sh`, which starts moto_server on 127.0.0.1. Refusing to reach "
                    "any real AWS endpoint.", pytrace=False)
    if not _loopback(url):
        pytest.fail(f"BEDROCK_WATCH_TEST_ENDPOINT={url} is not a loopback address", pytrace=False)
    if os.environ.get("AWS_ENDPOINT_URL") != url:
        pytest.fail("AWS_ENDPOINT_URL must equal BEDROCK_WATCH_TEST_ENDPOINT", pytrace=False)
    return url


@pytest.fixture
def reset(endpoint):
    """Clears every emulated service, so a test starts from an empty account."""
    req = urllib.request.Request(endpoint + "/moto-api/reset", method="POST", data=b"")
    with _NO_PROXY.open(req, timeout=30) as resp:
        assert resp.status == 200
    return endpoint


def _binary():
    path = os.environ.get("BEDROCK_WATCH_BIN") or str(REPO_ROOT / "target" / "debug" / "bedrock-watch")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built: run `cargo build` (or the whole `bash .ci/test.sh`)", pytrace=False)
    return path


@pytest.fixture
def bw(endpoint, tmp_path):
    """Runs the bedrock-watch binary against the emulator; returns the CompletedProcess.

    `endpoint=` points it elsewhere (the fault proxy), `env=` adds variables, `input=` is
    standard input (the binary sees no terminal: plain progress lines, no prompts)."""

    def run(*args, endpoint_url=None, env=None, input=None, timeout=300, cwd=None):
        e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        e.update(DUMMY_ENV)
        e["AWS_ENDPOINT_URL"] = endpoint_url or endpoint
        e["AWS_REGION"] = e["AWS_DEFAULT_REGION"] = "us-east-1"
        e["NO_COLOR"] = "1"
        if env:
            e.update(env)
        assert _loopback(e["AWS_ENDPOINT_URL"]), e["AWS_ENDPOINT_URL"]
        return subprocess.run([_binary(), *args], env=e, input=input, capture_output=True, text=True,
                              timeout=timeout, cwd=cwd or tmp_path)

    return run


@pytest.fixture
def aws(endpoint):
    """boto3 clients on the emulator: `aws("s3", region="us-east-1")`. They check, through each
    service's own API, what bedrock-watch did."""

    def client(service, region="us-east-1"):
        return boto3.client(service, region_name=region, endpoint_url=endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=BotoConfig(retries={"mode": "standard", "max_attempts": 3}))

    return client


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of the emulator that answers every `every`-th
    request itself, alternating a throttling error and a 500, and forwards the rest.

    A fixed rhythm (not random) keeps runs reproducible, and since a retry is always the next
    request, no call is failed twice in a row: a client with the SDK's standard retries must
    complete every operation."""

    def __init__(self, upstream, every):
        self.upstream = upstream.rstrip("/")
        self.every = every
        self.counter = itertools.count(1)
        self.lock = threading.Lock()
        self.forwarded = 0
        self.throttled = 0
        self.failed = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy.lock:
                    n = next(proxy.counter)
                if n % proxy.every == 0:
                    with proxy.lock:
                        throttle = (n // proxy.every) % 2 == 1
                        if throttle:
                            proxy.throttled += 1
                        else:
                            proxy.failed += 1
                    return self._fault(throttle)
                with proxy.lock:
                    proxy.forwarded += 1
                forward(self, proxy.upstream, body)

            def _fault(self, throttle):
                code, status = ("Throttling", 400) if throttle else ("InternalFailure", 500)
                if self.headers.get("X-Amz-Target"):  # JSON protocols (DynamoDB, CloudWatch Logs, ...)
                    ctype = "application/x-amz-json-1.1"
                    json_code = "ThrottlingException" if throttle else "InternalFailure"
                    data = json.dumps({"__type": json_code, "message": f"{json_code} (injected)"}).encode()
                else:  # query (CloudFormation, IAM, STS) and REST-XML protocols
                    ctype = "text/xml"
                    data = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                            f"<Message>{code} (injected)</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>").encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def injected(self):
        return self.throttled + self.failed

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fault_proxy(endpoint):
    """A FaultProxy answering every 7th request with a fault (about 14% of calls)."""
    with FaultProxy(endpoint, every=7) as proxy:
        yield proxy
