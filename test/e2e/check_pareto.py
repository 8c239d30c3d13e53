#!/usr/bin/env python3
"""Validates the result of `llm-compile --pareto DIR`.

  check_pareto.py SCHEMA DIR --configs NAME,NAME,... [--no-plot-expected]

DIR/pareto.json must match docs/pareto.schema.json (check_report.py's
validator) and hold one point per configuration; the frontier flags must
equal the non-dominated sets recomputed here; the frontier's binaries must
exist and run, the others' must be gone (their reports stay). The plot must
exist when some python3 can import matplotlib; otherwise a SKIP line says so.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_report import validate  # noqa: E402


def non_dominated(coords):
    """Flags of the points no other point dominates (both minimized)."""
    flags = []
    for i, (px, py) in enumerate(coords):
        flags.append(not any(
            j != i and qx <= px and qy <= py and (qx < px or qy < py)
            for j, (qx, qy) in enumerate(coords)))
    return flags


def matplotlib_pythons():
    found = []
    for python in ("python3", "/usr/bin/python3"):
        try:
            if subprocess.run([python, "-c", "import matplotlib"],
                              capture_output=True).returncode == 0:
                found.append(python)
        except OSError:
            pass
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("schema")
    parser.add_argument("dir")
    parser.add_argument("--configs", required=True,
                        help="the point names the sweep must hold")
    parser.add_argument("--no-plot-expected", action="store_true",
                        help="the plot must have been skipped")
    args = parser.parse_args()
    path = os.path.join(args.dir, "pareto.json")
    sweep = json.load(open(path))
    errors = validate(sweep, json.load(open(args.schema)))
    if errors:
        for e in errors:
            print(f"{path}: {e}", file=sys.stderr)
        return 1

    points = sweep["points"]
    names = [p["name"] for p in points]
    expected = args.configs.split(",")
    if sorted(names) != sorted(expected):
        errors.append(f"points {names}, expected {expected}")
    if sweep["failed"]:
        errors.append(f"failed configurations: {sweep['failed']}")
    ref = [p for p in points if p["name"] == "f32"]
    if not ref or abs(ref[0]["perplexity_delta_pct"]) > 1e-6:
        errors.append("the f32 reference point is missing or has a "
                      "perplexity delta")
    for p in points:
        delta = 100 * (p["perplexity"] - p["reference_perplexity"]) / p["reference_perplexity"]
        if abs(delta - p["perplexity_delta_pct"]) > 1e-6:
            errors.append(f"{p['name']}: perplexity_delta_pct "
                          f"{p['perplexity_delta_pct']} != {delta}")
        if p["decode_tokens_per_second"]["measured"] <= 0:
            errors.append(f"{p['name']}: no measured decode rate")
        if abs(p["file_mb"] * 1048576 - p["file_bytes"]) > 1:
            errors.append(f"{p['name']}: file_mb != file_bytes / 2^20")
        if not os.path.isfile(p["report"]):
            errors.append(f"{p['name']}: report {p['report']} is missing")

    energy = non_dominated([(p["energy_joules_per_token"], p["perplexity_delta_pct"]) for p in points])
    speed = non_dominated([(-p["decode_tokens_per_second"]["measured"], p["perplexity_delta_pct"]) for p in points])
    for p, e, s in zip(points, energy, speed):
        if p["frontier"] != {"energy": e, "speed": s}:
            errors.append(f"{p['name']}: frontier {p['frontier']}, recomputed "
                          f"energy={e} speed={s}")
        if p["kept"] != (e or s):
            errors.append(f"{p['name']}: kept={p['kept']} for frontier {e}/{s}")
    for axis, flags in (("energy", energy), ("speed", speed)):
        want = [p["name"] for p, f in zip(points, flags) if f]
        if sweep["frontiers"][axis] != want:
            errors.append(f"frontiers.{axis} {sweep['frontiers'][axis]} != {want}")
    if not any(energy) or not any(speed):
        errors.append("an empty frontier")

    # Kept builds run; removed ones are gone.
    for p in points:
        build = os.path.join(args.dir, p["name"], "model")
        if p["kept"]:
            if p["executable"] != build or p["weights_file"] != build + ".fgw":
                errors.append(f"{p['name']}: kept paths {p['executable']}, "
                              f"{p['weights_file']}")
            try:
                run = subprocess.run([build, "--ids", "1,2,3", "-n", "4",
                                      "--quiet"], capture_output=True,
                                     text=True)
            except OSError as e:
                errors.append(f"{p['name']}: cannot run {build}: {e}")
                continue
            if run.returncode != 0:
                errors.append(f"{p['name']}: {build} exited {run.returncode}: "
                              f"{run.stderr.strip()[-300:]}")
        else:
            if p["executable"] is not None or p["weights_file"] is not None:
                errors.append(f"{p['name']}: removed build has paths")
            for f in (build, build + ".fgw"):
                if os.path.exists(f):
                    errors.append(f"{p['name']}: {f} was not removed")

    # The plot.
    plot = sweep["plot"]
    pythons = matplotlib_pythons()
    if plot is not None:
        for kind, magic in (("png", b"\x89PNG"), ("svg", b"<?xml")):
            f = plot[kind]
            if not os.path.isfile(f) or open(f, "rb").read(5)[:len(magic)] != magic:
                errors.append(f"plot {f} is missing or not a {kind}")
        if args.no_plot_expected:
            errors.append("a plot was drawn where none was expected")
        print(f"{path}: plot {plot['png']}")
    else:
        if not sweep["plot_note"] or "plot skipped" not in sweep["plot_note"]:
            errors.append("no plot and no plot_note")
        if pythons and not args.no_plot_expected:
            errors.append(f"no plot although {pythons[0]} has matplotlib: "
                          f"{sweep['plot_note']}")
        elif not args.no_plot_expected:
            print(f"SKIP: plot part (matplotlib is not installed: "
                  f"{sweep['plot_note']})")

    for e in errors:
        print(f"{path}: {e}", file=sys.stderr)
    if errors:
        return 1
    removed = [p["name"] for p in points if not p["kept"]]
    print(f"{path}: valid ({len(points)} points; energy frontier "
          f"{sweep['frontiers']['energy']}, speed frontier "
          f"{sweep['frontiers']['speed']}; removed builds: "
          f"{', '.join(removed) if removed else 'none, every point is on a frontier'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
