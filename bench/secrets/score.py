#!/usr/bin/env python3
"""Score detector reports against a labelled corpus.

usage: score.py CORPUS_DIR TOOL=REPORT.json [TOOL=REPORT.json ...] [--misses TOOL]

A case (one file) counts as found when the tool reports anything in it
(for shiplint: any finding, notes included). Recall = found positives /
positives; false positives = found negatives / negatives.
"""
import json
import os
import sys


def shiplint_files(path, root):
    data = json.load(open(path))
    findings = data.get('findings', data) if isinstance(data, dict) else data
    out = {}
    for f in findings:
        p = f.get('path') or f.get('file') or ''
        out.setdefault(norm(p, root), []).append(f.get('rule', '?'))
    return out


def gitleaks_files(path, root):
    data = json.load(open(path)) if os.path.getsize(path) else []
    out = {}
    for f in data or []:
        out.setdefault(norm(f.get('File', ''), root), []).append(f.get('RuleID', '?'))
    return out


def norm(p, root):
    p = p.replace('\\', '/')
    root = root.rstrip('/') + '/'
    if p.startswith(root):
        p = p[len(root):]
    return p.lstrip('./') if p.startswith('./') else p


def main():
    args = sys.argv[1:]
    misses = None
    if '--misses' in args:
        i = args.index('--misses')
        misses = args[i + 1]
        del args[i:i + 2]
    root = args[0]
    cases = json.load(open(os.path.join(root, 'labels.json')))['cases']
    pos = [c for c in cases if c['label'] == 'tp']
    neg = [c for c in cases if c['label'] == 'fp']
    rows = []
    for spec in args[1:]:
        tool, report = spec.split('=', 1)
        reader = gitleaks_files if tool.startswith('gitleaks') else shiplint_files
        found = reader(report, os.path.abspath(root)) if os.path.exists(report) else {}
        # Reports may hold absolute or root-relative paths.
        found = {norm(k, root): v for k, v in found.items()}
        tp = [c for c in pos if c['file'] in found]
        fp = [c for c in neg if c['file'] in found]
        rows.append((tool, len(tp), len(fp)))
        if misses == tool:
            for c in pos:
                if c['file'] not in found:
                    print(f'  missed  {c["file"]}')
            for c in fp:
                print(f'  FP      {c["file"]}: {",".join(sorted(set(found[c["file"]])))}')
    print(f'corpus {root}: {len(pos)} positive cases, {len(neg)} negative cases')
    print(f'| tool | recall | false positives |')
    print(f'|---|---:|---:|')
    for tool, tp, fp in rows:
        print(f'| {tool} | {tp}/{len(pos)} = {100 * tp / max(len(pos), 1):.1f}% | '
              f'{fp}/{len(neg)} = {100 * fp / max(len(neg), 1):.1f}% |')


if __name__ == '__main__':
    main()
