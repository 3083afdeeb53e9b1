#!/usr/bin/env python3
"""Extract the literal true-positive (`tps`) and false-positive (`fps`) samples
declared in gitleaks' cmd/generate/config/rules/*.go into a labelled corpus.

usage: extract_gitleaks.py GIT_DIR OUT_DIR

Reads the files with `git --git-dir=GIT_DIR show HEAD:path`. A sample is
literal when it is a Go string literal or a `+` concatenation of literals;
`utils.GenerateSampleSecrets("id", <literal>)` is expanded with the same
templates gitleaks uses. Anything built with other helpers
(`secrets.NewSecret`, `fmt.Sprintf`, variables, loops) is skipped and counted.
Writes OUT_DIR/{tp,fp}/<rule>-<n>.txt, OUT_DIR/labels.json and
OUT_DIR/SKIPPED.json.
"""
import json
import os
import re
import subprocess
import sys

# utils.GenerateSampleSecrets (cmd/generate/config/utils/generate.go).
TEMPLATES = [
    '{i}Token="{s}"', '{i}Token = "{s}"', '{i}Token={s}', '{i}Token = {s}',
    '{\n    "{i}_token": "{s}"\n}',
    '{"config.ini": "{I}_TOKEN={s}\\nBACKUP_ENABLED=true"}',
    '<{i}Token>\n    {s}\n</{i}Token>',
    '{i}_token: {s}', "{i}_token: '{s}'", '{i}_token: "{s}"',
    'string {i}Token = "{s}";', 'var {i}Token string = "{s}"', '{i}Token := "{s}"',
    '{i}Token := `{s}`', 'String {i}Token = "{s}";', 'var {i}Token = "{s}"',
    '${i}Token .= "{s}"', "{i}Token = '{s}'", '{i}Token = "{s}"',
    'System.setProperty("{I}_TOKEN", "{s}")', '  "{i}Token" => "{s}"',
    '{i}_TOKEN = "{s}"', '{i}_TOKEN := "{s}"', '{i}_TOKEN ::= "{s}"',
    '{i}_TOKEN :::= "{s}"', '{i}_TOKEN ?= "{s}"',
]


def expand(ident, secret):
    out = []
    for t in TEMPLATES:
        out.append(t.replace('{i}', ident).replace('{I}', ident.upper()).replace('{s}', secret))
    return out


TOKEN = re.compile(r'''
    (?P<ws>\s+)
  | (?P<lc>//[^\n]*)
  | (?P<bc>/\*.*?\*/)
  | (?P<raw>`[^`]*`)
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<rune>'(?:[^'\\\n]|\\.)*')
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<num>[0-9][0-9a-zA-Z_.]*)
  | (?P<op>:=|\.\.\.|==|!=|&&|\|\||<-|[-+*/%=<>!&|^(){}\[\],;:.])
''', re.S | re.X)


def tokenize(src):
    toks, pos = [], 0
    while pos < len(src):
        m = TOKEN.match(src, pos)
        if not m:
            pos += 1
            continue
        pos = m.end()
        kind = m.lastgroup
        if kind in ('ws', 'lc', 'bc'):
            continue
        toks.append((kind, m.group()))
    return toks


def go_unquote(tok):
    kind, text = tok
    if kind == 'raw':
        return text[1:-1].replace('\r', '')
    body = text[1:-1]
    # Go escapes are a superset-compatible subset of Python's for our needs.
    return body.encode('latin-1', 'backslashreplace').decode('unicode_escape').encode('latin-1').decode('utf-8', 'replace') if '\\' in body else body


def literal(expr):
    """Value of a literal string expression (tokens), or None."""
    if not expr:
        return None
    parts = []
    for i, t in enumerate(expr):
        if i % 2 == 0:
            if t[0] not in ('str', 'raw'):
                return None
            parts.append(go_unquote(t))
        elif t != ('op', '+'):
            return None
    if len(expr) % 2 == 0:
        return None
    return ''.join(parts)


def split_top(toks):
    """Split a token list at depth-0 commas."""
    items, cur, depth = [], [], 0
    for t in toks:
        if t[0] == 'op' and t[1] in '([{':
            depth += 1
        elif t[0] == 'op' and t[1] in ')]}':
            depth -= 1
        if depth == 0 and t == ('op', ','):
            items.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        items.append(cur)
    return items


def matching(toks, i):
    """Index of the bracket closing toks[i]."""
    pairs = {'(': ')', '[': ']', '{': '}'}
    open_, close = toks[i][1], pairs[toks[i][1]]
    depth = 0
    for j in range(i, len(toks)):
        if toks[j] == ('op', open_):
            depth += 1
        elif toks[j] == ('op', close):
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


def values(expr, skipped, why):
    """Samples an element expression stands for; counts what is skipped."""
    v = literal(expr)
    if v is not None:
        return [v]
    if expr and expr[0] == ('ident', 'utils.GenerateSampleSecrets') and len(expr) > 2:
        end = matching(expr, 1)
        args = split_top(expr[2:end])
        if len(args) == 2:
            ident, secret = literal(args[0]), literal(args[1])
            if ident is not None and secret is not None:
                return expand(ident, secret)
        skipped[why] = skipped.get(why, 0) + 1
        return []
    skipped[why] = skipped.get(why, 0) + 1
    return []


def collect(body, skipped):
    """tps/fps samples assigned or appended in one function body."""
    out = {'tps': [], 'fps': []}
    i = 0
    while i < len(body):
        t = body[i]
        if t[0] == 'ident' and t[1] in out and i + 1 < len(body) and body[i + 1] in (('op', ':='), ('op', '=')):
            name = t[1]
            j = i + 2
            rhs_end = j
            # The right-hand side: up to the end of its bracketed expression.
            k = j
            if body[j:j + 3] == [('op', '['), ('op', ']'), ('ident', 'string')]:
                k = j + 3
            while k < len(body):
                if body[k][0] == 'op' and body[k][1] in '([{':
                    k = matching(body, k) + 1
                    break
                k += 1
            rhs = body[j:k]
            rhs_end = k
            if rhs[:3] == [('op', '['), ('op', ']'), ('ident', 'string')] and rhs[3] == ('op', '{'):
                for e in split_top(rhs[4:-1]):
                    out[name] += values(e, skipped, name)
            elif rhs and rhs[0] == ('ident', 'append'):
                args = split_top(rhs[2:-1])
                for e in args[1:]:
                    if e and e[-1] == ('op', '...'):
                        e = e[:-1]
                        if e[:3] == [('op', '['), ('op', ']'), ('ident', 'string')]:
                            for x in split_top(e[4:-1]):
                                out[name] += values(x, skipped, name)
                            continue
                    out[name] += values(e, skipped, name)
            elif rhs and rhs[0] == ('ident', 'utils.GenerateSampleSecrets'):
                out[name] += values(rhs, skipped, name)
            else:
                skipped[name] = skipped.get(name, 0) + 1
            i = rhs_end
            continue
        i += 1
    return out


def functions(toks):
    """(rule id, body tokens) for every func that declares a RuleID."""
    i = 0
    while i < len(toks):
        if toks[i] == ('ident', 'func'):
            j = i + 1
            while j < len(toks) and toks[j] != ('op', '{'):
                j += 1
            end = matching(toks, j)
            body = toks[j + 1:end]
            rid = None
            for k in range(len(body) - 2):
                if body[k] == ('ident', 'RuleID') and body[k + 1] == ('op', ':'):
                    rid = literal([body[k + 2]])
                    break
            if rid:
                yield rid, body
            i = end + 1
        else:
            i += 1


def main():
    git_dir, out_dir = sys.argv[1], sys.argv[2]
    files = subprocess.run(
        ['git', f'--git-dir={git_dir}', 'ls-tree', '--name-only', 'HEAD', 'cmd/generate/config/rules/'],
        check=True, capture_output=True, text=True).stdout.split()
    commit = subprocess.run(['git', f'--git-dir={git_dir}', 'rev-parse', 'HEAD'],
                            check=True, capture_output=True, text=True).stdout.strip()
    labels, skipped_by_rule, seen = [], {}, set()
    for label in ('tp', 'fp'):
        os.makedirs(os.path.join(out_dir, label), exist_ok=True)
    for path in sorted(files):
        if not path.endswith('.go') or path.endswith('_test.go'):
            continue
        src = subprocess.run(['git', f'--git-dir={git_dir}', 'show', f'HEAD:{path}'],
                             check=True, capture_output=True, text=True).stdout
        for rid, body in functions(tokenize(src)):
            skipped = {}
            samples = collect(body, skipped)
            if skipped:
                skipped_by_rule[rid] = skipped
            for name, label in (('tps', 'tp'), ('fps', 'fp')):
                for n, text in enumerate(samples[name]):
                    if (label, text) in seen:
                        continue
                    seen.add((label, text))
                    fname = f'{label}/{rid}-{n:03d}.txt'
                    with open(os.path.join(out_dir, fname), 'w') as f:
                        f.write(text + '\n')
                    labels.append({'file': fname, 'label': label, 'rule': rid})
    with open(os.path.join(out_dir, 'labels.json'), 'w') as f:
        json.dump({'source': f'gitleaks/gitleaks@{commit}', 'cases': labels}, f, indent=0)
    total_skipped = {k: sum(v.get(k, 0) for v in skipped_by_rule.values()) for k in ('tps', 'fps')}
    with open(os.path.join(out_dir, 'SKIPPED.json'), 'w') as f:
        json.dump({'total': total_skipped, 'by_rule': skipped_by_rule}, f, indent=1, sort_keys=True)
    tp = sum(1 for c in labels if c['label'] == 'tp')
    print(f'{tp} true-positive and {len(labels) - tp} false-positive cases; '
          f'skipped (helper-generated) tps={total_skipped["tps"]} fps={total_skipped["fps"]}')


if __name__ == '__main__':
    main()
