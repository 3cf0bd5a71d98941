#!/usr/bin/env python3
"""Turns the JSON that `bench --json FILE` writes (ops or darts suite, CPU or CUDA) into the
markdown table bench/RESULTS.md records. Usage: scripts/bench_table.py FILE [FILE...]"""
import json
import math
import sys


def ops_table(d):
    rows = ["| case | input (NHWC) | fusenas ms | torch ms | torch / fusenas |", "|---|---|---|---|---|"]
    ratios = []
    for c in d["cases"]:
        ours, theirs = c.get("fusenas_ms"), c.get("torch_ms")
        ratio = theirs / ours if ours and theirs else None
        if ratio:
            ratios.append(ratio)
        rows.append(f"| {c['name']} | {c.get('shape', '')} | {ours:.3f} | "
                    f"{'-' if theirs is None else f'{theirs:.3f}'} | "
                    f"{'-' if ratio is None else f'{ratio:.2f}x'} |")
    if ratios:
        geo = math.exp(sum(map(math.log, ratios)) / len(ratios))
        slower = sum(1 for r in ratios if r < 1)
        rows.append(f"\n{len(ratios)} cases; geometric mean {geo:.2f}x; FuseNAS slower in {slower}.")
    return "\n".join(rows)


def darts_table(d):
    rows = ["| case | fusenas ms/step | torch ms/step | torch / fusenas | peak MB | launches | torch launches |",
            "|---|---|---|---|---|---|---|"]
    cuda = d["device"].startswith("cuda")
    for c in d["cases"]:
        t = c.get("torch") or {}
        tm = t.get("median_ms")
        ours = c["fusenas_ms"]
        ratio = "-" if tm is None else "%.2fx" % (tm / ours)
        peak = "%.0f" % c["fusenas_peak_mb"] if cuda else "-"
        launches = "%.0f" % c["fusenas_launches"] if cuda else "-"
        torch_ms = "-" if tm is None else "%.1f" % tm
        rows.append(f"| {c['name']} | {ours:.1f} | {torch_ms} | {ratio} | {peak} | {launches} | "
                    f"{t.get('launches') or '-'} |")
    return "\n".join(rows)


for path in sys.argv[1:]:
    data = json.load(open(path))
    print(f"<!-- {path}: suite {data['suite']}, {data['device']}, {data['threads']} threads -->")
    print(darts_table(data) if data["suite"] == "darts" else ops_table(data))
    print()
