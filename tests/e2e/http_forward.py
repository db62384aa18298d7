"""Forwarding one HTTP request to the emulator and relaying its answer: the common part of the
test proxies in front of moto (the fault-injecting proxy in conftest.py, the CBOR adapter)."""
import urllib.error
import urllib.request

# Never through an HTTP proxy from the environment: the emulator is on loopback.
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))

_HOP_REQUEST = ("host", "content-length", "connection", "accept-encoding")
_HOP_RESPONSE = ("content-length", "transfer-encoding", "connection", "server", "date")


def forward(handler, upstream, body):
    """Sends `handler`'s request (method, path, headers, `body`) to `upstream` and writes the
    answer, error statuses included, back through `handler`."""
    data = body if body or handler.command not in ("GET", "HEAD") else None
    req = urllib.request.Request(upstream + handler.path, data=data, method=handler.command)
    for k, v in handler.headers.items():
        if k.lower() not in _HOP_REQUEST:
            req.add_header(k, v)
    try:
        resp = NO_PROXY.open(req, timeout=120)
        status, headers, payload = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, headers, payload = err.code, err.headers, err.read()
    handler.send_response(status)
    for k, v in headers.items():
        if k.lower() not in _HOP_RESPONSE:
            handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(payload)
