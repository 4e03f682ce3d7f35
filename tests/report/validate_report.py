#!/usr/bin/python3
"""Validate report.json files against docs/report.schema.json (JSON Schema draft 7): the
reports of hessa analyze ("schema": "hessa-report") and of hessa spectrum ("schema":
"hessa-spectrum-report", complete and partial), and check that the schema is not vacuous:
broken copies of the first analyze report and of the first spectrum report (complete, and
of the first partial analyze and spectrum reports when given) must FAIL. Every kind named must be among the reports given.
Usage: validate_report.py SCHEMA REPORT.json... ; silent on success, exit 1 on failure."""
import copy
import json
import sys

import jsonschema


def main():
    schema_path, reports = sys.argv[1], sys.argv[2:]
    with open(schema_path) as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    failures = []
    docs = []
    for path in reports:
        with open(path) as f:
            doc = json.load(f)
        docs.append(doc)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        for e in errors:
            failures.append(f"{path}: {'/'.join(map(str, e.path))}: {e.message}")

    # Each breakage must be caught: (description, function that breaks a copy).
    def set_in(path, value):
        def edit(d):
            for key in path[:-1]:
                d = d[key]
            d[path[-1]] = value
        return edit

    def delete(path):
        def edit(d):
            for key in path[:-1]:
                d = d[key]
            del d[path[-1]]
        return edit

    breakages = [
        ('verdict.type "maybe"', set_in(["verdict", "type"], "maybe")),
        ("verdict missing", delete(["verdict"])),
        ("version 2", set_in(["version"], 2)),
        ('counts.n a string', set_in(["verdict", "counts", "n"], "12")),
        ("unknown basis", set_in(["verdict", "basis"], "guess")),
        ("extremes.largest[0].converged a string", set_in(["results", "extremes", "largest", 0, "converged"], "yes")),
        ("escape probe without alpha", delete(["results", "escape", "probes", 0, "alpha"])),
        ('operator "laplacian"', set_in(["inputs", "operator"], "laplacian")),
    ]
    spectrum_breakages = [
        ('schema "hessa-report" (a spectrum report has no verdict)', set_in(["schema"], "hessa-report")),
        ('partial "no"', set_in(["partial"], "no")),
        ("missing not empty in a complete report", set_in(["missing"], ["density: probes 3-6 of 6"])),
        ('trace[0].method "hutch"', set_in(["trace", 0, "method"], "hutch")),
        ('results.trace.method "hutchpp" (analyze\'s layout says hutch++)', set_in(["results", "trace", "method"], "hutchpp")),
        ("results.extremes.smallest[0].residual negative", set_in(["results", "extremes", "smallest", 0, "residual"], -1.0)),
        ("results.full_spectrum.values missing", delete(["results", "full_spectrum", "values"])),
        ('inputs.command "analyze"', set_in(["inputs", "command"], "analyze")),
        ("density.probes_done a string", set_in(["density", "probes_done"], "2")),
        ("results missing", delete(["results"])),
        ("provenance.commit missing", delete(["provenance", "commit"])),
    ]
    partial_breakages = [
        ('partial report with "partial": false', set_in(["partial"], False)),
        ("missing a string", set_in(["missing"], "density")),
    ]
    analyze_partial_breakages = [
        ('verdict "stopped" without "partial"', delete(["partial"])),
        ("stopped_before unknown", set_in(["stopped_before"], "lunch")),
        ("stopped verdict without summary", delete(["verdict", "summary"])),
    ]
    analyze = [d for d in docs if d.get("schema") == "hessa-report" and not d.get("partial")]
    analyze_partial = [d for d in docs if d.get("schema") == "hessa-report" and d.get("partial")]
    spectrum = [d for d in docs if d.get("schema") == "hessa-spectrum-report" and not d.get("partial")]
    partial = [d for d in docs if d.get("schema") == "hessa-spectrum-report" and d.get("partial")]
    if not analyze or not spectrum:
        failures.append(f"expected at least one analyze and one complete spectrum report among {reports}")
    for doc, cases in ((analyze, breakages), (analyze_partial, analyze_partial_breakages), (spectrum, spectrum_breakages), (partial, partial_breakages)):
        for what, edit in cases if doc else []:
            broken = copy.deepcopy(doc[0])
            try:
                edit(broken)
            except (KeyError, IndexError, TypeError):
                failures.append(f"cannot apply the breakage '{what}': the report lacks that field")
                continue
            if validator.is_valid(broken):
                failures.append(f"schema accepted a broken {broken.get('schema')} report: {what}")
    if failures:
        print("\n".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
