#!/usr/bin/python3
"""Validate report.json files against docs/report.schema.json (JSON Schema draft 7), and
check that the schema is not vacuous: broken copies of the first report must FAIL.
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
    for what, edit in breakages:
        broken = copy.deepcopy(docs[0])
        edit(broken)
        if validator.is_valid(broken):
            failures.append(f"schema accepted a broken report: {what}")
    if failures:
        print("\n".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
