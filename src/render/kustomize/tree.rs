//! A YAML tree in which every node remembers where it came from (a file's
//! display path and line), and the emitter that prints a built object while
//! recording, for each printed line, the origin of what it shows.

use crate::manifest::yaml;
use std::sync::Arc;

/// Where a node came from: a file (display path) and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pos {
    pub file: Arc<str>,
    pub line: usize,
}

/// A value; mapping keys keep their order.
#[derive(Debug, Clone)]
pub enum V {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<P>),
    Map(Vec<(String, P)>),
}

/// A node and its origin.
#[derive(Debug, Clone)]
pub struct P {
    pub v: V,
    pub pos: Pos,
}

impl PartialEq for P {
    /// Values only: where they came from does not make them differ.
    fn eq(&self, other: &Self) -> bool {
        match (&self.v, &other.v) {
            (V::Null, V::Null) => true,
            (V::Bool(a), V::Bool(b)) => a == b,
            (V::Int(a), V::Int(b)) => a == b,
            (V::Float(a), V::Float(b)) => a == b,
            (V::Int(a), V::Float(b)) | (V::Float(b), V::Int(a)) => (*a as f64) == *b,
            (V::Str(a), V::Str(b)) => a == b,
            (V::Seq(a), V::Seq(b)) => a == b,
            (V::Map(a), V::Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && v == v2))
            }
            _ => false,
        }
    }
}

impl P {
    pub fn new(v: V, pos: &Pos) -> P {
        P {
            v,
            pos: pos.clone(),
        }
    }

    pub fn str(s: &str, pos: &Pos) -> P {
        P::new(V::Str(s.to_string()), pos)
    }

    pub fn map(pos: &Pos) -> P {
        P::new(V::Map(Vec::new()), pos)
    }

    /// From the span-keeping parser's tree; a mapping value's origin is its
    /// key's line (the line a person reads as "that field"). `text` is the
    /// parsed text: plain scalars are typed as kustomize types them (YAML
    /// 1.2: `y`, `yes`, `on` are strings).
    pub fn from_node(n: &yaml::Node, file: &Arc<str>, text: &str) -> P {
        let src = Src {
            file,
            lines: text.split('\n').collect(),
            offset: 0,
        };
        src.node(n, n.span.line)
    }

    /// `from_node` for every document root of one text (its lines are
    /// split once, not once per document).
    pub fn from_nodes<'n>(
        roots: impl IntoIterator<Item = &'n yaml::Node>,
        file: &Arc<str>,
        text: &str,
    ) -> Vec<P> {
        let src = Src {
            file,
            lines: text.split('\n').collect(),
            offset: 0,
        };
        roots
            .into_iter()
            .map(|n| src.node(n, n.span.line))
            .collect()
    }

    /// As `from_node`, with every line moved by `offset` (a patch written
    /// inline in a block scalar of the kustomization).
    pub fn from_node_at(n: &yaml::Node, file: &Arc<str>, text: &str, offset: usize) -> P {
        let src = Src {
            file,
            lines: text.split('\n').collect(),
            offset,
        };
        src.node(n, n.span.line)
    }

    pub fn get(&self, key: &str) -> Option<&P> {
        match &self.v {
            V::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut P> {
        match &mut self.v {
            V::Map(m) => m.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn path(&self, keys: &[&str]) -> Option<&P> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.v {
            V::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> &[P] {
        match &self.v {
            V::Seq(s) => s,
            _ => &[],
        }
    }

    pub fn entries(&self) -> &[(String, P)] {
        match &self.v {
            V::Map(m) => m,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.v, V::Map(_))
    }

    /// Sets `key` (replacing or appending).
    pub fn set(&mut self, key: &str, value: P) {
        if !self.is_map() {
            self.v = V::Map(Vec::new());
        }
        if let V::Map(m) = &mut self.v {
            match m.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = value,
                None => m.push((key.to_string(), value)),
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<P> {
        if let V::Map(m) = &mut self.v {
            let i = m.iter().position(|(k, _)| k == key)?;
            return Some(m.remove(i).1);
        }
        None
    }

    /// The map at `key`, made (at `pos`) when absent or not a map.
    pub fn map_at(&mut self, key: &str, pos: &Pos) -> &mut P {
        if !self.get(key).is_some_and(P::is_map) {
            self.set(key, P::map(pos));
        }
        self.get_mut(key).expect("just set")
    }

    /// As JSON (for comparisons and for `test` operations).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.v {
            V::Null => J::Null,
            V::Bool(b) => J::Bool(*b),
            V::Int(i) => J::from(*i),
            V::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            V::Str(s) => J::String(s.clone()),
            V::Seq(items) => J::Array(items.iter().map(P::to_json).collect()),
            V::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }
}

struct Src<'a> {
    file: &'a Arc<str>,
    lines: Vec<&'a str>,
    offset: usize,
}

impl Src<'_> {
    fn node(&self, n: &yaml::Node, line: usize) -> P {
        let pos = Pos {
            file: self.file.clone(),
            line: line + self.offset,
        };
        let v = match &n.value {
            yaml::Value::Str(s) => V::Str(s.clone()),
            // Null reads the same in YAML 1.1 and 1.2 (and an empty value
            // has no text of its own).
            yaml::Value::Null => V::Null,
            yaml::Value::Seq(items) => {
                V::Seq(items.iter().map(|i| self.node(i, i.span.line)).collect())
            }
            yaml::Value::Map(entries) => V::Map(
                entries
                    .iter()
                    .map(|e| {
                        let k = self
                            .raw(&e.key)
                            .filter(|_| !matches!(e.key.value, yaml::Value::Str(_)))
                            .or_else(|| e.key.key_str().map(|k| k.into_owned()))
                            .unwrap_or_default();
                        (k, self.node(&e.value, e.key.span.line))
                    })
                    .collect(),
            ),
            other => match self.raw(n) {
                Some(raw) => core_schema(&raw),
                None => match other {
                    yaml::Value::Bool(b) => V::Bool(*b),
                    yaml::Value::Int(i) => V::Int(*i),
                    yaml::Value::Float(f) => V::Float(*f),
                    _ => V::Null,
                },
            },
        };
        P { v, pos }
    }

    /// A plain scalar (not a string to the parser) as written.
    fn raw(&self, n: &yaml::Node) -> Option<String> {
        let line = self.lines.get(n.span.line.checked_sub(1)?)?;
        plain_token(line, n.span.col)
    }
}

/// The plain scalar that starts at (1-based, character) column `col` of
/// `line`: up to a comment, a flow indicator or the end of the line. Only
/// for scalars the parser typed as not strings (no `,` `]` `}` in them).
pub fn plain_token(line: &str, col: usize) -> Option<String> {
    let skip = col.checked_sub(1)?;
    // Columns count characters; on an ASCII prefix they are byte offsets
    // (no walk over a long line, such as a one-line JSON file, per scalar).
    let start = if line.as_bytes().get(..skip).is_some_and(<[u8]>::is_ascii) {
        skip
    } else {
        line.char_indices().nth(skip).map_or(line.len(), |(i, _)| i)
    };
    let rest = line.get(start..)?;
    let end = rest.find([',', ']', '}']).unwrap_or(rest.len());
    let mut t = &rest[..end];
    if let Some(i) = t.find(" #") {
        t = &t[..i];
    }
    let t = t.trim().trim_end_matches('\r');
    (!t.is_empty() && !t.starts_with(['"', '\'', '|', '>', '&', '*', '!', '#']))
        .then(|| t.to_string())
}

/// A plain scalar typed by YAML 1.2's core schema (what kustomize reads).
fn core_schema(raw: &str) -> V {
    match raw {
        "null" | "Null" | "NULL" | "~" => return V::Null,
        "true" | "True" | "TRUE" => return V::Bool(true),
        "false" | "False" | "FALSE" => return V::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" => return V::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return V::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return V::Float(f64::NAN),
        _ => {}
    }
    let digits = raw.strip_prefix(['-', '+']).unwrap_or(raw);
    // kustomize still reads a leading-zero integer as octal (`0755`).
    if digits.len() > 1 && digits.starts_with('0') && digits.chars().all(|c| c.is_digit(8)) {
        if let Ok(i) = i64::from_str_radix(digits, 8) {
            return V::Int(if raw.starts_with('-') { -i } else { i });
        }
    }
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        if let Ok(i) = raw.parse::<i64>() {
            return V::Int(i);
        }
    }
    if let Some(h) = raw.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(h, 16) {
            return V::Int(i);
        }
    }
    if let Some(o) = raw.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(o, 8) {
            return V::Int(i);
        }
    }
    let float_like = !digits.is_empty()
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        && digits
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '.');
    if float_like {
        if let Ok(f) = raw.parse::<f64>() {
            return V::Float(f);
        }
    }
    V::Str(raw.to_string())
}

/// A scalar string printed plain when YAML reads it back as the same
/// string, else double-quoted (JSON's escapes are YAML's).
pub fn scalar_text(s: &str) -> String {
    if plain_ok(s) {
        s.to_string()
    } else {
        serde_json::Value::String(s.to_string()).to_string()
    }
}

fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s
        || s.chars().any(|c| c.is_control() || c == '\u{feff}')
        || "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
    {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "null"
            | "~"
            | "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | ".inf"
            | "-.inf"
            | ".nan"
            | "<<"
            | "="
    ) {
        return false;
    }
    // Anything that might read as a number (or a time, in YAML 1.1).
    let numeric_start = first.is_ascii_digit()
        || ((first == '+' || first == '.') && s[1..].starts_with(|c: char| c.is_ascii_digit()));
    !numeric_start
        || s.chars()
            .any(|c| !(c.is_ascii_hexdigit() || "xXoO_+-.:".contains(c)))
}

fn scalar(v: &V) -> Option<String> {
    Some(match v {
        V::Null => "null".into(),
        V::Bool(b) => b.to_string(),
        V::Int(i) => i.to_string(),
        V::Float(f) => {
            if f.is_nan() {
                ".nan".into()
            } else if f.is_infinite() {
                if *f > 0.0 { ".inf" } else { "-.inf" }.into()
            } else {
                format!("{f:?}")
            }
        }
        V::Str(s) => scalar_text(s),
        V::Seq(s) if s.is_empty() => "[]".into(),
        V::Map(m) if m.is_empty() => "{}".into(),
        _ => return None,
    })
}

/// A multi-line string as a literal block (`|`, `|-` or `|+` and its
/// lines), as people write scripts and configuration files in ConfigMaps,
/// when the text allows one; else `None` (printed quoted).
fn block(v: &V) -> Option<(&'static str, Vec<&str>)> {
    let V::Str(s) = v else { return None };
    if !s.contains('\n')
        || s.starts_with([' ', '\t', '\n'])
        || s.chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{feff}')
    {
        return None;
    }
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    let indicator = match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    };
    let mut lines: Vec<&str> = body.split('\n').collect();
    // `|+` keeps the extra line breaks as empty lines.
    lines.extend(std::iter::repeat_n("", trailing.saturating_sub(1)));
    // A line of spaces only would be read as less indented: keep such text quoted.
    if lines.iter().any(|l| !l.is_empty() && l.trim().is_empty()) {
        return None;
    }
    Some((indicator, lines))
}

/// Prints objects as block YAML; `lines[i]` is the origin of output line
/// `i + 1`.
#[derive(Default)]
pub struct Emitter {
    pub out: String,
    pub lines: Vec<Pos>,
}

impl Emitter {
    fn line(&mut self, text: &str, pos: &Pos) {
        self.out.push_str(text);
        self.out.push('\n');
        self.lines.push(pos.clone());
    }

    /// One object (a mapping) as a document body.
    pub fn object(&mut self, p: &P) {
        match &p.v {
            V::Map(m) if !m.is_empty() => self.map(m, 0, None),
            _ => {
                let s = scalar(&p.v).unwrap_or_default();
                self.line(&s, &p.pos)
            }
        }
    }

    fn block_lines(&mut self, lines: &[&str], indent: usize, pos: &Pos) {
        let pad = " ".repeat(indent);
        for l in lines {
            if l.is_empty() {
                self.line("", pos);
            } else {
                self.line(&format!("{pad}{l}"), pos);
            }
        }
    }

    /// Entries at `indent`; the first one after `first` (a `- ` prefix).
    fn map(&mut self, m: &[(String, P)], indent: usize, first: Option<&str>) {
        for (i, (k, v)) in m.iter().enumerate() {
            let lead = match (i, first) {
                (0, Some(f)) => f.to_string(),
                _ => " ".repeat(indent),
            };
            let key = scalar_text(k);
            if let Some((indicator, lines)) = block(&v.v) {
                self.line(&format!("{lead}{key}: {indicator}"), &v.pos);
                self.block_lines(&lines, indent + 2, &v.pos);
                continue;
            }
            match scalar(&v.v) {
                Some(s) => self.line(&format!("{lead}{key}: {s}"), &v.pos),
                None => {
                    self.line(&format!("{lead}{key}:"), &v.pos);
                    match &v.v {
                        V::Map(c) => self.map(c, indent + 2, None),
                        V::Seq(items) => self.seq(items, indent),
                        _ => {}
                    }
                }
            }
        }
    }

    fn seq(&mut self, items: &[P], indent: usize) {
        let dash = format!("{}- ", " ".repeat(indent));
        for item in items {
            if let Some((indicator, lines)) = block(&item.v) {
                self.line(&format!("{dash}{indicator}"), &item.pos);
                self.block_lines(&lines, indent + 2, &item.pos);
                continue;
            }
            match scalar(&item.v) {
                Some(s) => self.line(&format!("{dash}{s}"), &item.pos),
                None => match &item.v {
                    V::Map(m) => self.map(m, indent + 2, Some(&dash)),
                    V::Seq(inner) => {
                        self.line(&format!("{}-", " ".repeat(indent)), &item.pos);
                        self.seq(inner, indent + 2);
                    }
                    _ => {}
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_tokens_are_found_by_character_column() {
        assert_eq!(plain_token("a: 1, b: 2", 4).as_deref(), Some("1"));
        assert_eq!(plain_token("{a: 1}", 5).as_deref(), Some("1"));
        assert_eq!(plain_token("é: 12 # note", 4).as_deref(), Some("12"));
        assert_eq!(plain_token("x: 1", 9), None);
        assert_eq!(plain_token("x: \"1\"", 4), None);
    }

    use super::*;

    #[test]
    fn quotes_what_would_read_back_differently() {
        for s in [
            "8080", "true", "y", "1.5", "", " a", "a: b", "-x", "0x1f", "1e3", "null",
        ] {
            assert!(!plain_ok(s), "{s}");
        }
        for s in ["nginx:1.25", "web", "a b", "10Mi", "100m", "v1.2"] {
            assert!(plain_ok(s), "{s}");
        }
    }

    #[test]
    fn multi_line_text_is_a_literal_block_that_reads_back_the_same() {
        let pos = Pos {
            file: "f".into(),
            line: 1,
        };
        for text in [
            "a\nb\n",
            "a\n\n  b",
            "x: 1\n# c\n\n\n",
            "#!/bin/sh\necho \"$A\"\n",
        ] {
            let mut p = P::map(&pos);
            p.set("k", P::str(text, &pos));
            p.set("l", P::new(V::Seq(vec![P::str(text, &pos)]), &pos));
            let mut e = Emitter::default();
            e.object(&p);
            assert!(e.out.contains("k: |"), "{}", e.out);
            let back = yaml::parse_stream(&e.out, Default::default())
                .documents
                .remove(0);
            assert_eq!(
                back.root.get("k").and_then(|n| n.as_str()),
                Some(text),
                "{}",
                e.out
            );
            assert_eq!(
                back.root.get("l").unwrap().as_seq()[0].as_str(),
                Some(text),
                "{}",
                e.out
            );
            assert_eq!(e.lines.len(), e.out.lines().count());
        }
        // Leading spaces, lines of spaces, carriage returns: quoted.
        for text in [" a\nb", "a\n  \nb", "a\r\nb"] {
            assert!(block(&V::Str(text.into())).is_none(), "{text:?}");
        }
    }

    #[test]
    fn emits_with_origins() {
        let file: Arc<str> = "d.yaml".into();
        let text = "a: 1\nb:\n  - name: x\n    v: \"2\"\n  - y\n  - z\n";
        let doc = yaml::parse_stream(text, Default::default())
            .documents
            .remove(0);
        let p = P::from_node(&doc.root, &file, text);
        let mut e = Emitter::default();
        e.object(&p);
        // `y` is a string to kustomize (YAML 1.2), quoted so that no reader takes it for a boolean.
        assert_eq!(e.out, "a: 1\nb:\n- name: x\n  v: \"2\"\n- \"y\"\n- z\n");
        let lines: Vec<usize> = e.lines.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![1, 2, 3, 4, 5, 6]);
    }
}
