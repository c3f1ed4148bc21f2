"""The ``Examples:`` section of each command's ``--help``, and the one-line summaries the top-level
help lists (given in full: click would otherwise cut them at the terminal's width with "...")."""

from __future__ import annotations


def _section(*lines: str) -> str:
    # "\b" keeps click from re-wrapping the paragraph that follows it: commands stay one per line.
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" if line else "" for line in lines)


EXAMPLES = {
    "": _section(
        "akslbctl explain svc/web -n default",
        "akslbctl explain -A",
        "akslbctl probe svc/web --watch",
        "kubectl aks-lb explain svc/web          # the same, as a kubectl plugin",
        "akslbctl lab run cluster-tcp            # try it without a cluster",
    ),
    "explain": _section(
        "# Which nodes the LB sends traffic to for svc/web, and why",
        "akslbctl explain svc/web -n default",
        "# Every LoadBalancer Service, one row each; then as one JSON document",
        "akslbctl explain -A",
        "akslbctl explain -A -o json",
        "# Offline, from a case file; without probing; with shorter timeouts",
        "akslbctl explain -f case.json",
        "akslbctl explain svc/web --no-probe",
        "akslbctl explain svc/web --timeout 2s --request-timeout 5s",
    ),
    "probe": _section(
        "# Three rounds, as the LB counts them",
        "akslbctl probe svc/web -n default",
        "# Round after round until Ctrl-C",
        "akslbctl probe svc/web --watch",
        "# One JSON document per round (JSON Lines)",
        "akslbctl probe svc/web --count 5 --interval 2s -o json",
    ),
    "diff": _section(
        "# What differs from what the provider would configure (exit 1: drift)",
        "akslbctl diff svc/web -n default",
        "akslbctl diff -f case.json -o json",
    ),
    "capture": _section(
        "# A case file for a ticket, ids and public IPs replaced by placeholders",
        "akslbctl capture svc/web -n default -f case.json --redact",
        "# Read it back, anywhere",
        "akslbctl explain -f case.json",
    ),
    "completion": _section(
        "# bash (add the line to ~/.bashrc)",
        "source <(akslbctl completion bash)",
        "# zsh",
        'akslbctl completion zsh > "${fpath[1]}/_akslbctl"',
        "# fish",
        "akslbctl completion fish > ~/.config/fish/completions/akslbctl.fish",
    ),
    "version": _section(
        "akslbctl version",
        "akslbctl --version",
        "akslbctl version -o json",
    ),
    "lab": _section(
        "akslbctl lab list",
        "akslbctl lab run cluster-tcp",
        "akslbctl lab run local-http -- explain svc/web -o wide",
        "akslbctl lab up cluster-tcp > lab.env &",
    ),
    "lab list": _section("akslbctl lab list"),
    "lab run": _section(
        "# Explain the scenario's Service",
        "akslbctl lab run cluster-tcp",
        "# Any akslbctl command, after --",
        "akslbctl lab run cluster-tcp -- probe svc/web --count 2",
    ),
    "lab up": _section(
        "# Keep a lab running in the background; point akslbctl (and kubectl) at it",
        "akslbctl lab up cluster-tcp > lab.env &",
        "sleep 3; . ./lab.env",
        "akslbctl explain svc/web",
        "kubectl get svc,nodes,endpointslices",
        "kill %1",
    ),
}


def short_help(command) -> str:
    """The first sentence of a command's docstring, whole."""
    text = " ".join((command.__doc__ or "").split())
    for i, ch in enumerate(text):
        if (
            ch == "."
            and (i + 1 == len(text) or text[i + 1] == " ")
            and not text[max(0, i - 3) : i + 1].endswith("e.g.")
        ):
            return text[: i + 1]
    return text


def for_program(text: str, prog: str) -> str:
    """Help text whose example lines read as ``prog`` is called (``kubectl aks-lb explain …`` when run
    as the kubectl plugin); only lines of the Examples section that start with the program change."""
    if prog == "akslbctl":
        return text
    import re

    head, mark, tail = text.partition("Examples:")
    return head + mark + re.sub(r"(?m)^(\s+)akslbctl ", lambda m: f"{m.group(1)}{prog} ", tail)
