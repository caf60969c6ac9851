#!/usr/bin/env python3
"""Gathers the seed corpus of each fuzz target from the project's own examples and tests.

Run from the repository root: `python3 fuzz/gather-seeds.py`. It rewrites every
`fuzz/corpus/<target>/seed-*` file (and leaves what libFuzzer added alone). Seeds are the
small files the project already tests with; see docs/fuzzing.md.
"""

import glob
import gzip
import hashlib
import json
import os
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
# Seeds larger than this are left out (the corpus stays small and fast to replay).
MAX_SEED = 32 * 1024


def rel(*parts):
    return os.path.join(ROOT, *parts)


def reset(target):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for f in glob.glob(os.path.join(d, "seed-*")):
        os.remove(f)
    return d


def put(d, name, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_SEED:
        return
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def short(data):
    return hashlib.sha1(data.encode() if isinstance(data, str) else data).hexdigest()[:12]


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def eval_lines():
    return jsonl(rel("examples", "eval", "requests.jsonl")) + jsonl(
        rel("tests", "conformance", "cases.jsonl")
    )


def policies():
    """Every distinct policy document of the eval examples and the conformance cases."""
    seen = {}
    for line in eval_lines():
        p = json.loads(line).get("policies") or {}
        for layer, v in p.items():
            docs = v if isinstance(v, list) else [v]
            flat = []
            for doc in docs:
                flat.extend(doc if isinstance(doc, list) else [doc])
            for doc in flat:
                if isinstance(doc, dict):
                    text = json.dumps(doc, indent=2)
                    seen.setdefault(text, layer)
    return seen


def main():
    d = reset("policy")
    for text, layer in policies().items():
        put(d, f"{layer}-{short(text)}.json", text)
    for path in sorted(glob.glob(rel("examples", "scenarios", "*.json"))):
        ev = json.load(open(path, encoding="utf-8")).get("evidence", {})
        bp = ev.get("bucket_policy", {})
        if isinstance(bp, dict) and isinstance(bp.get("Policy"), str):
            put(d, "bucket-" + os.path.basename(path), bp["Policy"])

    d = reset("scenario")
    paths = (
        glob.glob(rel("examples", "scenarios", "*.json"))
        + glob.glob(rel("crates", "fixtures-source", "tests", "data", "*.json"))
        + glob.glob(rel("crates", "cli", "tests", "data", "*.json"))
        + glob.glob(rel("tests", "situations", "*.json"))[:30]
    )
    # One fires case of each rule.
    for rule in sorted(glob.glob(rel("crates", "rules", "*"))):
        cases = sorted(glob.glob(os.path.join(rule, "tests", "cases", "fires", "*.json")))
        paths += cases[:1]
    for path in sorted(paths):
        parent = os.path.basename(os.path.dirname(path))
        put(d, f"{parent}-{os.path.basename(path)}", open(path, "rb").read())

    d = reset("errors")
    for path in sorted(glob.glob(rel("crates", "errors", "tests", "messages", "*.txt"))):
        put(d, os.path.basename(path), open(path, "rb").read())

    d = reset("eval")
    put(d, "requests.jsonl", open(rel("examples", "eval", "requests.jsonl"), "rb").read())
    for line in eval_lines():
        put(d, f"line-{short(line)}.jsonl", line + "\n")

    d = reset("triage")
    paths = [rel("examples", "triage", "cloudtrail.json")]
    for path in glob.glob(rel("crates", "triage", "tests", "data", "**", "*"), recursive=True):
        if os.path.isfile(path) and not path.endswith(".md"):
            paths.append(path)
    for path in sorted(paths):
        parent = os.path.basename(os.path.dirname(path))
        data = open(path, "rb").read()
        put(d, f"{parent}-{os.path.basename(path)}", data)
    # Gzip, as CloudTrail delivers its log files (mtime 0: the bytes are reproducible).
    data = open(rel("examples", "triage", "cloudtrail.json"), "rb").read()
    put(d, "cloudtrail.json.gz", gzip.compress(data, mtime=0))
    put(
        d,
        "suppress.txt",
        "# The nightly job may not write outside staging/: expected.\n"
        "caller=arn:aws:iam::111122223333:role/Nightly bucket=amzn-s3-demo-bucket prefix=archive/ # frozen\n"
        "bucket=amzn-s3-demo-logs rule=bucket-policy-explicit-deny\n"
        "code=AccessControlListNotSupported caller=arn:aws:iam::111122223333:role/ConsoleEditor\n"
        "caller=* bucket=amzn-s3-demo-* prefix=tmp/\n",
    )


if __name__ == "__main__":
    main()
