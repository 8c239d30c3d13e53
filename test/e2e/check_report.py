#!/usr/bin/env python3
"""Validates an `llm-compile --report` JSON file against docs/report.schema.json.

Uses a small built-in validator for the subset of JSON Schema the schema uses
(type, const, enum, required, properties, additionalProperties, oneOf,
minimum, maximum, exclusiveMinimum, items, minItems, maxItems), and the `jsonschema` package as well
when it is installed. Then checks what the report must say about the run:

  check_report.py SCHEMA REPORT [--measured] [--min-compression X]
"""
import argparse
import json
import sys

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or
                         (isinstance(v, float) and v.is_integer()),
}
KNOWN = {"$schema", "title", "description", "type", "const", "enum",
         "required", "properties", "additionalProperties", "oneOf", "minimum",
         "maximum", "exclusiveMinimum", "items", "minItems", "maxItems"}


def validate(value, schema, path="$"):
    """Returns a list of error strings."""
    unknown = set(schema) - KNOWN
    if unknown:
        return [f"{path}: the checker does not support {sorted(unknown)}"]
    errors = []
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[k](value) for k in kinds):
            return [f"{path}: expected {' or '.join(kinds)}, got {json.dumps(value)[:60]}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: expected {schema['const']!r}, got {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: expected one of {schema['enum']}, got {value!r}")
    if TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} < minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} > maximum {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append(f"{path}: {value} <= exclusive minimum {schema['exclusiveMinimum']}")
    if "oneOf" in schema:
        matches = [s for s in schema["oneOf"] if not validate(value, s, path)]
        if len(matches) != 1:
            details = [e for s in schema["oneOf"] for e in validate(value, s, path)]
            errors.append(f"{path}: matches {len(matches)} of the oneOf "
                          f"alternatives, expected 1: {details[:3]}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append(f"{path}: {len(value)} items < minItems {schema['minItems']}")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{path}: {len(value)} items > maxItems {schema['maxItems']}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], f"{path}[{i}]")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}: missing required key '{key}'")
        props = schema.get("properties", {})
        for key, child in value.items():
            if key in props:
                errors += validate(child, props[key], f"{path}.{key}")
            elif schema.get("additionalProperties", True) is False:
                errors.append(f"{path}: unexpected key '{key}'")
    return errors


def check_budget(report):
    """Errors of the `budget` section of a budgeted, measured build."""
    budget = report.get("budget")
    if budget is None:
        return ["no budget section"]
    errors = []
    if not budget["met"]:
        errors.append("budget.met is false")
    for c in budget["constraints"]:
        value = c["measured"] if c["measured"] is not None else c["predicted"]
        # Energy has no meter on CPU: it is judged on the prediction.
        if c["measured"] is None and c["metric"] != "energy":
            errors.append(f"budget term {c['term']}: not measured")
        if value is None:
            errors.append(f"budget term {c['term']}: no value")
            continue
        ok = value >= c["limit"] if c["metric"] == "tokens/s" else value <= c["limit"]
        if ok != c["met"] or not ok:
            errors.append(f"budget term {c['term']}: value {value} vs limit "
                          f"{c['limit']}, met={c['met']}")
    return errors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("schema")
    parser.add_argument("report")
    parser.add_argument("--measured", action="store_true",
                        help="the report must hold measured figures")
    parser.add_argument("--min-compression", type=float, default=0.0)
    parser.add_argument("--budget-met", action="store_true",
                        help="the report must hold a budget section whose "
                             "every constraint is met, measured where the "
                             "build can measure it")
    args = parser.parse_args()
    schema = json.load(open(args.schema))
    report = json.load(open(args.report))

    errors = validate(report, schema)
    try:
        import jsonschema
        validator = jsonschema.Draft202012Validator(schema)
        errors += [f"jsonschema: {e.json_path}: {e.message}"
                   for e in validator.iter_errors(report)]
    except ImportError:
        pass

    model, predicted = report.get("model", {}), report.get("predicted", {})
    if not errors:
        if predicted["decode_tokens_per_second"] <= 0:
            errors.append("predicted decode rate is not positive")
        if predicted["decode_tokens_per_second"] > predicted["decode_roofline_tokens_per_second"] * 1.0001:
            errors.append("predicted decode rate exceeds the bandwidth roofline")
        if abs(model["compression_ratio"] * model["weight_bytes"] - model["f32_weight_bytes"]) > 1:
            errors.append("compression_ratio != f32_weight_bytes / weight_bytes")
        if model["compression_ratio"] < args.min_compression:
            errors.append(f"compression ratio {model['compression_ratio']:.2f} "
                          f"< {args.min_compression}")
        measured = report["measured"]
        if args.measured:
            if measured is None:
                errors.append("measured is null after --measure")
            elif measured["decode_tokens_per_second"] <= 0 or measured["peak_rss_bytes"] <= 0:
                errors.append("measured decode rate or peak RSS is not positive")
    if not errors and args.budget_met:
        errors += check_budget(report)
    for e in errors:
        print(f"{args.report}: {e}", file=sys.stderr)
    if errors:
        return 1
    print(f"{args.report}: valid ({model['quantization']}, predicted "
          f"{predicted['decode_tokens_per_second']:.1f} tok/s decode)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
