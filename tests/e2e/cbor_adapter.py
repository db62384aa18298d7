"""A protocol adapter between the AWS SDK for Rust's CloudWatch client and moto's server.

aws-sdk-cloudwatch 1.140 speaks Smithy RPC v2 CBOR (`POST /service/GraniteServiceVersion20100801/
operation/<Op>`); moto 5.2.5 implements CloudWatch only in the awsQuery protocol and answers 404.
This adapter decodes each CBOR request, makes the same call on moto with boto3 (query protocol)
and encodes moto's answer (or error) back as CBOR. Everything else is forwarded unchanged. The
figures come from moto's own GetMetricData/ListMetrics; the adapter only re-encodes them,
except percentile queries, which moto cannot compute: they are answered with no datapoints.
"""
import datetime
import http.server
import re
import struct
import threading

import boto3
from botocore.exceptions import ClientError

from http_forward import forward

_PATH = re.compile(r"^/service/GraniteServiceVersion20100801/operation/(\w+)$")


# --- a minimal CBOR codec (RFC 8949): what Smithy RPC v2 CBOR uses -----------------------------
def decode(data):
    value, pos = _decode(data, 0)
    return value


def _length(data, pos, info):
    if info < 24:
        return info, pos
    n = {24: 1, 25: 2, 26: 4, 27: 8}.get(info)
    if n is None:
        return None, pos  # 31: indefinite
    return int.from_bytes(data[pos:pos + n], "big"), pos + n


def _decode(data, pos):
    b = data[pos]
    pos += 1
    major, info = b >> 5, b & 31
    if major == 7:
        if info == 20:
            return False, pos
        if info == 21:
            return True, pos
        if info in (22, 23):
            return None, pos
        if info == 25:
            return struct.unpack(">e", data[pos:pos + 2])[0], pos + 2
        if info == 26:
            return struct.unpack(">f", data[pos:pos + 4])[0], pos + 4
        if info == 27:
            return struct.unpack(">d", data[pos:pos + 8])[0], pos + 8
        raise ValueError(f"unsupported simple value {info}")
    n, pos = _length(data, pos, info)
    if major == 0:
        return n, pos
    if major == 1:
        return -1 - n, pos
    if major in (2, 3):
        if n is None:
            chunks = []
            while data[pos] != 0xFF:
                c, pos = _decode(data, pos)
                chunks.append(c)
            return ("" if major == 3 else b"").join(chunks), pos + 1
        raw = data[pos:pos + n]
        return (raw.decode() if major == 3 else bytes(raw)), pos + n
    if major == 4:
        out = []
        while (n is None and data[pos] != 0xFF) or (n is not None and len(out) < n):
            v, pos = _decode(data, pos)
            out.append(v)
        return out, pos + (1 if n is None else 0)
    if major == 5:
        out = {}
        while (n is None and data[pos] != 0xFF) or (n is not None and len(out) < n):
            k, pos = _decode(data, pos)
            v, pos = _decode(data, pos)
            out[k] = v
        return out, pos + (1 if n is None else 0)
    if major == 6:
        v, pos = _decode(data, pos)
        if n == 1:  # epoch-seconds timestamp
            return datetime.datetime.fromtimestamp(v, datetime.timezone.utc), pos
        return v, pos
    raise ValueError(f"bad CBOR major type {major}")


def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")
    raise ValueError("too long")


def encode(v):
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return _head(0, v) if v >= 0 else _head(1, -1 - v)
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, str):
        raw = v.encode()
        return _head(3, len(raw)) + raw
    if isinstance(v, bytes):
        return _head(2, len(v)) + v
    if isinstance(v, datetime.datetime):
        return b"\xc1" + encode(float(v.timestamp()))
    if isinstance(v, (list, tuple)):
        return _head(4, len(v)) + b"".join(encode(x) for x in v)
    if isinstance(v, dict):
        return _head(5, len(v)) + b"".join(encode(k) + encode(x) for k, x in v.items())
    raise TypeError(type(v))


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class CborAdapter:
    """`with CborAdapter(moto_url) as a:` then point AWS_ENDPOINT_URL at `a.url`.
    `a.calls` lists the CloudWatch operations translated, with their query counts."""

    def __init__(self, upstream, region="us-east-1"):
        self.upstream = upstream.rstrip("/")
        self.calls = []
        cw = boto3.client("cloudwatch", region_name=region, endpoint_url=self.upstream,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        adapter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, headers, body):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                m = _PATH.match(self.path)
                if not m:
                    return self._forward(body)
                op = m.group(1)
                params = decode(body) if body else {}
                adapter.calls.append((op, len(params.get("MetricDataQueries", []))))
                cbor = [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
                # moto computes no percentiles (it fails serializing the empty value): such
                # queries get no datapoints, as CloudWatch answers for a metric without data.
                percentile = []
                if op == "GetMetricData":
                    queries = params.get("MetricDataQueries", [])
                    percentile = [q for q in queries if q.get("MetricStat", {}).get("Stat", "").startswith("p")]
                    params["MetricDataQueries"] = [q for q in queries if q not in percentile]
                try:
                    result = getattr(cw, _snake(op))(**params) if params.get("MetricDataQueries", True) else {"MetricDataResults": []}
                    for q in percentile:
                        result["MetricDataResults"].append({"Id": q["Id"], "Label": q["Id"], "Timestamps": [], "Values": [], "StatusCode": "Complete"})
                except ClientError as err:
                    e = err.response.get("Error", {})
                    payload = {"__type": f"com.amazonaws.cloudwatch#{e.get('Code', 'InternalFailure')}", "message": e.get("Message", "")}
                    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
                    return self._reply(status, cbor, encode(payload))
                result.pop("ResponseMetadata", None)
                return self._reply(200, cbor, encode(result))

            def _forward(self, body):
                forward(self, adapter.upstream, body)

            def _other(self):
                self._forward(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            do_GET = do_PUT = do_DELETE = _other

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
