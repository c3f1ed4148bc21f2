"""Helpers the tests share: run the real CLI entry in-process and read its JSON."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

from akslbctl.cli.app import Terminal, run_cli


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self):
        return json.loads(self.stdout)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def cli(*argv: str, prog: str = "akslbctl") -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = run_cli(list(argv), prog, Terminal(out, err, prog=prog))
    return Result(int(code), out.getvalue(), err.getvalue())


def node_rows(doc: dict, rule: int = 0) -> dict[str, dict]:
    return {n["name"]: n for n in doc["rules"][rule]["nodes"]}


def codes(doc: dict) -> list[str]:
    return [f["code"] for f in doc["findings"]]
