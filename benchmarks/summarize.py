"""Print the JSON reports in benchmarks/out/ as Markdown tables (for benchmarks/RESULTS.md).

    .venv/bin/python benchmarks/summarize.py > /tmp/tables.md
"""

from __future__ import annotations

import json

from common import OUT


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def head(r: dict) -> str:
    load = ", ".join(f"{x:.2f}" for x in r["machine"]["loadavg"])
    return f"\n### {r['benchmark']}\n\n`{r['command']}` — {r['date']}, load average {load}\n"


def latency(r: dict) -> str:
    rows = []
    for corpus, res in r["results"].items():
        for stage, s in res["stages"].items():
            rows.append([corpus, stage, s["p50"], s["p95"], s["p99"]])
        for part in ("floor", "in_process", "http", "server_took_ms"):
            if res[part].get("n"):
                rows.append([corpus, f"**{part}**", res[part]["p50"], res[part]["p95"], res[part]["p99"]])
        rows.append([corpus, "**end-to-end / floor (p50)**", res["ratio_e2e_to_floor"], "", ""])
    return table(["corpus", "stage (ms)", "p50", "p95", "p99"], rows)


def generic(r: dict) -> str:
    return "```json\n" + json.dumps({k: v for k, v in r.items() if k not in ("machine", "command", "date")}, indent=1)[:3000] + "\n```"


def main() -> None:
    for path in sorted(OUT.glob("*.json")):
        r = json.loads(path.read_text())
        if "benchmark" not in r:
            print(f"\n### {path.name}\n\n" + generic({**r, "machine": None, "command": None, "date": None}))
            continue
        print(head(r))
        print(latency(r) if r["benchmark"].startswith("latency") else generic(r))


if __name__ == "__main__":
    main()
