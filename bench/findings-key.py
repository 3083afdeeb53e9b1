#!/usr/bin/env python3
"""(rule, path, line) of every finding in a shiplint JSON report, sorted, one
per line: `diff` two of them to show that a change kept the findings."""
import json
import sys

report = json.load(open(sys.argv[1]))
rows = sorted(
    (f["rule"], f["path"], f["span"]["line"], f.get("message", "") if "--messages" in sys.argv else "")
    for f in report["findings"]
)
for rule, path, line, msg in rows:
    print(f"{rule}\t{path}\t{line}" + (f"\t{msg}" if msg else ""))
