"""Builds a quota handler module exactly as the Rust side deploys it (src/quotas/mod.rs,
``handler_source``): the generated CONFIG prelude (JSON with "none" for null, mapped back by
``_none``), then quota_core.py, then the handler file, executed as one module."""
import json
import types
from pathlib import Path

QUOTAS = Path(__file__).resolve().parents[2] / "src" / "quotas"

PRELUDE = ("import json\n\n\ndef _none(v):\n    if v == \"none\":\n        return None\n"
           "    if isinstance(v, dict):\n        return {k: _none(x) for k, x in v.items()}\n"
           "    return v\n\n\nCONFIG = _none(json.loads(r\"\"\"")


def _with_none(v):
    if v is None:
        return "none"
    if isinstance(v, dict):
        return {k: _with_none(x) for k, x in v.items()}
    return v


def source(handler, config):
    """The inline code of ``handler`` ("accounting" or "reset") for ``config``."""
    core = (QUOTAS / "quota_core.py").read_text()
    body = (QUOTAS / f"{handler}_handler.py").read_text()
    return (PRELUDE + json.dumps(_with_none(config), indent=2) + "\"\"\"))\n\n"
            + core + "\n\n" + body)


def build(handler, config):
    """A fresh module object running that code (``index`` as in Lambda)."""
    code = source(handler, config)
    module = types.ModuleType("index")
    module.__file__ = f"<quota {handler}>"
    exec(compile(code, f"<quota {handler}_handler>", "exec"), module.__dict__)
    return module
