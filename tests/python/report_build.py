"""Builds the scheduled-report function exactly as the Rust side deploys it
(src/scheduled_reports/mod.rs, ``handler_source``): a generated ``CONFIG = json.loads(...)``
line, then report_handler.py, executed as one module (``index`` as in Lambda)."""
import json
import types
from pathlib import Path

HANDLER = Path(__file__).resolve().parents[2] / "src" / "scheduled_reports" / "report_handler.py"
PRELUDE = "import json\n\nCONFIG = json.loads(r\"\"\""


def source(config):
    return PRELUDE + json.dumps(config, indent=2) + "\"\"\")\n\n" + HANDLER.read_text()


def load(code, name="<scheduled report>"):
    module = types.ModuleType("index")
    module.__file__ = name
    exec(compile(code, name, "exec"), module.__dict__)
    return module


def build(config):
    """A fresh module object for ``config`` (the fixture's settings plus the stack's names)."""
    return load(source(config))
