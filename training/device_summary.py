"""Gather the metrics of every variant the device run trained into one JSON, and print a short
table (the device tool returns only the end of the output, so the table comes last).

    python training/device_summary.py WORK_DIR OUT_JSON
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _get(d: dict, *keys: str) -> float | None:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def row(name: str, metrics: dict) -> list[str]:
    last = metrics["epochs"][-1] if metrics.get("epochs") else {}
    ev = last.get("eval", {})

    def f(*keys: str) -> str:
        value = _get(ev, *keys)
        return "-" if value is None else f"{value:.1f}"

    return [name, str(metrics.get("total_steps", "-")), f"{last.get('mean_loss') or 0:.3f}",
            f("squad_v1.1_dev", "f1"), f("squad_v2.0_dev_half", "HasAns_f1"), f("squad_v2.0_dev_half", "NoAns_f1"),
            f("nq", "answer_all", "f1"), f("hotpotqa", "answer_all", "f1"),
            f("doqa", "margin_0", "HasAns_f1"), f("doqa", "margin_0", "NoAns_f1"),
            f("clapnq", "margin_0", "HasAns_f1"), f("clapnq", "margin_0", "NoAns_f1")]


HEADER = ["variant", "steps", "loss", "v1 F1", "v2 HasF1", "v2 NoAns", "NQ F1", "Hotpot F1",
          "DoQA HasF1", "DoQA NoAns", "ClapNQ HasF1", "ClapNQ NoAns"]


def main(work: Path, out: Path) -> None:
    variants = {}
    for path in sorted(work.glob("*/export/metrics.json")):
        variants[path.parent.parent.name] = json.loads(path.read_text())
    export = {p.stem: json.loads(p.read_text()) for p in sorted((work / "onnx").glob("*.json"))}  # fp32 vs int8
    out.write_text(json.dumps({"variants": variants, "export": export}, indent=1))
    rows = [HEADER] + [row(name, m) for name, m in variants.items()]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    print("gold-paragraph figures after training (margin 0 where a set has unanswerable questions):")
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    for name in ("eval-fp32", "eval-int8"):
        if name in export:
            print(f"main, exported {name[5:]}, v1.1 dev through SpanModel: {export[name]['squad_v1.1_dev']}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
