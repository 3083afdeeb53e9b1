//! YAML (and JSON, which is YAML) into a tree where every node keeps its
//! position. Built on yaml-rust2's event parser so that we see duplicate
//! keys, anchors and aliases ourselves instead of losing them in a map.

use crate::source::Span;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Hard limits that keep hostile input (alias bombs, absurd nesting) from
/// eating the machine. Exceeding one is a parse error, not a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Nodes that alias expansion may add to one document.
    pub max_alias_nodes: usize,
    /// Nesting depth of sequences and mappings.
    pub max_depth: usize,
    /// Documents in one stream.
    pub max_documents: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_alias_nodes: 100_000,
            max_depth: 200,
            max_documents: 10_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|e| e.key.key_str().as_deref() == Some(key)),
            _ => None,
        }
    }

    /// Follows a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// A scalar rendered as a mapping key the way Kubernetes' YAML→JSON step
    /// does it (`5: x` becomes the key `"5"`).
    pub fn key_str(&self) -> Option<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        match &self.value {
            Value::Str(s) => Some(Cow::Borrowed(s)),
            Value::Int(i) => Some(Cow::Owned(i.to_string())),
            Value::Float(f) => Some(Cow::Owned(f.to_string())),
            Value::Bool(b) => Some(Cow::Owned(b.to_string())),
            Value::Null => Some(Cow::Borrowed("null")),
            _ => None,
        }
    }

    /// A scalar as text, whatever its type (`8080` and `"8080"` both give "8080").
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Seq(_) | Value::Map(_) | Value::Null => None,
            _ => self.key_str().map(|s| s.into_owned()),
        }
    }

    /// The node at a JSON pointer (`/spec/template/0`), and the mapping
    /// entry's key node when the last step is a key.
    pub fn pointer(&self, pointer: &str) -> Option<(&Node, Option<&Node>)> {
        let mut node = self;
        let mut key = None;
        for raw in pointer.split('/').skip(1) {
            let part = raw.replace("~1", "/").replace("~0", "~");
            match &node.value {
                Value::Map(entries) => {
                    let e = entries
                        .iter()
                        .rev()
                        .find(|e| e.key.key_str().as_deref() == Some(part.as_str()))?;
                    key = Some(&e.key);
                    node = &e.value;
                }
                Value::Seq(items) => {
                    node = items.get(part.parse::<usize>().ok()?)?;
                    key = None;
                }
                _ => return None,
            }
        }
        Some((node, key))
    }

    /// Converts to JSON the way the API server sees it (keys stringified).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => {
                let mut m = serde_json::Map::with_capacity(entries.len());
                for e in entries {
                    let k = e
                        .key
                        .key_str()
                        .map(|s| s.into_owned())
                        .unwrap_or_else(|| "<complex key>".into());
                    m.insert(k, e.value.to_json());
                }
                J::Object(m)
            }
        }
    }
}

/// A key that appears twice in one mapping.
#[derive(Debug, Clone)]
pub struct DuplicateKey {
    pub key: String,
    pub first: Span,
    pub second: Span,
}

#[derive(Debug, Clone)]
pub struct Document {
    pub root: Node,
    /// Line of the document's first node.
    pub start_line: usize,
    pub duplicates: Vec<DuplicateKey>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub message: String,
    pub line: usize,
    pub col: usize,
}

/// Everything one YAML stream yielded: the documents before the first error,
/// and that error.
#[derive(Debug, Default)]
pub struct Stream {
    pub documents: Vec<Document>,
    pub error: Option<ParseError>,
}

/// Data shipped inside the binary (`rules/*.yaml`): its first document as
/// `T`. The tests load every such table, so failing here is a bug in
/// shiplint, not in its input.
pub fn embedded<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> T {
    let json = parse_stream(text, Limits::default())
        .documents
        .first()
        .map(|d| d.root.to_json());
    match json.map(serde_json::from_value::<T>) {
        Some(Ok(v)) => v,
        Some(Err(e)) => panic!("embedded {name} does not match its shape: {e}"),
        None => panic!("embedded {name} has no document"),
    }
}

pub fn parse_stream(text: &str, limits: Limits) -> Stream {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // YAML counts a lone `\r` as a line break; every other part of shiplint
    // counts lines by `\n`. A space in its place keeps lines and columns in
    // step (found by fuzzing: findings pointed past the end of the file).
    let cleaned;
    let text = if text.contains('\r') {
        let b = text.as_bytes();
        cleaned = text
            .char_indices()
            .map(|(i, c)| {
                if c == '\r' && b.get(i + 1) != Some(&b'\n') {
                    ' '
                } else {
                    c
                }
            })
            .collect::<String>();
        cleaned.as_str()
    } else {
        text
    };
    let mut builder = Builder::new(limits);
    let mut parser = Parser::new_from_str(text);
    let result = parser.load(&mut builder, true);
    let mut stream = Stream {
        documents: std::mem::take(&mut builder.documents),
        error: builder.error.take(),
    };
    if stream.error.is_none() {
        if let Err(e) = result {
            let m = e.marker();
            stream.error = Some(ParseError {
                message: e.info().to_string(),
                line: m.line(),
                col: m.col() + 1,
            });
        }
    }
    stream
}

enum Frame {
    Seq {
        anchor: usize,
        start: Marker,
        items: Vec<Node>,
    },
    Map {
        anchor: usize,
        start: Marker,
        entries: Vec<Entry>,
        pending_key: Option<Node>,
        duplicates: Vec<DuplicateKey>,
    },
}

struct Builder {
    limits: Limits,
    stack: Vec<Frame>,
    anchors: std::collections::HashMap<usize, Node>,
    documents: Vec<Document>,
    current: Option<Node>,
    duplicates: Vec<DuplicateKey>,
    alias_nodes: usize,
    error: Option<ParseError>,
}

fn count_nodes(n: &Node) -> usize {
    1 + match &n.value {
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(entries) => entries
            .iter()
            .map(|e| count_nodes(&e.key) + count_nodes(&e.value))
            .sum(),
        _ => 0,
    }
}

impl Builder {
    fn new(limits: Limits) -> Self {
        Builder {
            limits,
            stack: Vec::new(),
            anchors: Default::default(),
            documents: Vec::new(),
            current: None,
            duplicates: Vec::new(),
            alias_nodes: 0,
            error: None,
        }
    }

    fn fail(&mut self, message: String, mark: Marker) {
        if self.error.is_none() {
            self.error = Some(ParseError {
                message,
                line: mark.line(),
                col: mark.col() + 1,
            });
        }
    }

    fn push_node(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.current = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                duplicates,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => {
                    if let Some(k) = key.key_str() {
                        if let Some(prev) = entries
                            .iter()
                            .find(|e| e.key.key_str().as_deref() == Some(&*k))
                        {
                            duplicates.push(DuplicateKey {
                                key: k.into_owned(),
                                first: prev.key.span,
                                second: key.span,
                            });
                        }
                    }
                    // YAML merge keys (`<<: *base`) fold the aliased mapping in.
                    if key.as_str() == Some("<<") && node.is_map() {
                        if let Value::Map(merged) = node.value {
                            for e in merged {
                                let k = e.key.key_str().map(|s| s.into_owned());
                                if !entries
                                    .iter()
                                    .any(|x| x.key.key_str().map(|s| s.into_owned()) == k)
                                {
                                    entries.push(e);
                                }
                            }
                        }
                    } else {
                        entries.push(Entry { key, value: node });
                    }
                }
            },
        }
    }

    fn register_anchor(&mut self, anchor: usize, node: &Node) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }
}

fn end_span(start: Marker, end: Marker) -> Span {
    Span {
        line: start.line(),
        col: start.col() + 1,
        end_line: end.line(),
        end_col: end.col() + 1,
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::DocumentStart => {
                if self.documents.len() >= self.limits.max_documents {
                    self.fail(
                        format!(
                            "more than {} documents in one stream",
                            self.limits.max_documents
                        ),
                        mark,
                    );
                }
                self.anchors.clear();
                self.alias_nodes = 0;
                self.current = None;
                self.duplicates.clear();
            }
            Event::DocumentEnd => {
                if let Some(root) = self.current.take() {
                    let start_line = root.span.line;
                    self.documents.push(Document {
                        root,
                        start_line,
                        duplicates: std::mem::take(&mut self.duplicates),
                    });
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve_scalar(text, style, tag.as_ref());
                let len = match &value {
                    Value::Str(s) => s.chars().count(),
                    _ => 1,
                };
                let quoted = matches!(
                    style,
                    TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted
                ) as usize;
                let span = Span {
                    line: mark.line(),
                    col: mark.col() + 1,
                    end_line: mark.line(),
                    end_col: mark.col() + 1 + len.max(1) + 2 * quoted,
                };
                let node = Node { value, span };
                self.register_anchor(anchor, &node);
                self.push_node(node);
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(mut node) => {
                    self.alias_nodes += count_nodes(&node);
                    if self.alias_nodes > self.limits.max_alias_nodes {
                        self.fail(
                            format!(
                                "alias expansion exceeds {} nodes (a YAML bomb?)",
                                self.limits.max_alias_nodes
                            ),
                            mark,
                        );
                        return;
                    }
                    // Keys of an aliased mapping point at the anchor; the node
                    // itself points where it is used.
                    node.span = Span::point(mark.line(), mark.col() + 1);
                    self.push_node(node);
                }
                None => self.fail("alias to an unknown anchor".into(), mark),
            },
            Event::SequenceStart(anchor, _) => {
                if self.stack.len() >= self.limits.max_depth {
                    self.fail(
                        format!("nesting deeper than {} levels", self.limits.max_depth),
                        mark,
                    );
                    return;
                }
                self.stack.push(Frame::Seq {
                    anchor,
                    start: mark,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(anchor, _) => {
                if self.stack.len() >= self.limits.max_depth {
                    self.fail(
                        format!("nesting deeper than {} levels", self.limits.max_depth),
                        mark,
                    );
                    return;
                }
                self.stack.push(Frame::Map {
                    anchor,
                    start: mark,
                    entries: Vec::new(),
                    pending_key: None,
                    duplicates: Vec::new(),
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq {
                    anchor,
                    start,
                    items,
                }) = self.stack.pop()
                {
                    let mut span = end_span(start, mark);
                    if let Some(first) = items.first() {
                        if (first.span.line, first.span.col) < (span.line, span.col) {
                            span.line = first.span.line;
                            span.col = first.span.col;
                        }
                    }
                    let node = Node {
                        value: Value::Seq(items),
                        span,
                    };
                    self.register_anchor(anchor, &node);
                    self.push_node(node);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    anchor,
                    start,
                    entries,
                    duplicates,
                    ..
                }) = self.stack.pop()
                {
                    self.duplicates.extend(duplicates);
                    // A block mapping's start event sits after its first key:
                    // the first key is where the mapping really begins.
                    let mut span = end_span(start, mark);
                    if let Some(first) = entries.first() {
                        if (first.key.span.line, first.key.span.col) < (span.line, span.col) {
                            span.line = first.key.span.line;
                            span.col = first.key.span.col;
                        }
                    }
                    let node = Node {
                        value: Value::Map(entries),
                        span,
                    };
                    self.register_anchor(anchor, &node);
                    self.push_node(node);
                }
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }
}

/// YAML 1.1 scalar resolution, as Kubernetes' own YAML decoder (go-yaml v2
/// behind sigs.k8s.io/yaml) does it: `yes`/`on` are booleans, `0755` is octal.
fn resolve_scalar(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag {
        if tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!" {
            match tag.suffix.as_str() {
                "str" | "binary" | "timestamp" => return Value::Str(text),
                "null" => return Value::Null,
                _ => {}
            }
        }
    }
    if style != TScalarStyle::Plain {
        return Value::Str(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
            return Value::Bool(true)
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => {
            return Value::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(i) = parse_int(&text) {
        return Value::Int(i);
    }
    let looks_numeric = text
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || b == b'-' || b == b'+' || b == b'.')
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'_'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if looks_numeric {
        if let Ok(f) = text.replace('_', "").parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(text)
}

fn parse_int(text: &str) -> Option<i64> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() || !body.bytes().next()?.is_ascii_digit() {
        return None;
    }
    let body = body.replace('_', "");
    let v = if let Some(hex) = body.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = body.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if let Some(bin) = body.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()?
    } else if body.len() > 1 && body.starts_with('0') {
        i64::from_str_radix(&body[1..], 8).ok()?
    } else {
        body.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let s = parse_stream(text, Limits::default());
        assert!(s.error.is_none(), "{:?}", s.error);
        s.documents.into_iter().next().unwrap().root
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let root = one("a: 1\nb:\n  c: \"x\"\n");
        let e = root.entry("b").unwrap();
        assert_eq!((e.key.span.line, e.key.span.col), (2, 1));
        let (c, key) = root.pointer("/b/c").unwrap();
        assert_eq!((c.span.line, c.span.col), (3, 6));
        assert_eq!(key.unwrap().span.col, 3);
    }

    #[test]
    fn mappings_and_sequences_start_at_their_first_child() {
        let root = one("key: value\nlist:\n- a: 1\n  b: 2\n");
        assert_eq!((root.span.line, root.span.col), (1, 1));
        let item = &root.get("list").unwrap().as_seq()[0];
        assert_eq!((item.span.line, item.span.col), (3, 3));
    }

    #[test]
    fn yaml_11_scalars() {
        let root = one("a: yes\nb: 0755\nc: '1'\nd: 1.5\ne: ~\nf: 0x1f\ng: 1e3\nh: 1.2.3\n");
        assert_eq!(root.get("a").unwrap().value, Value::Bool(true));
        assert_eq!(root.get("b").unwrap().value, Value::Int(0o755));
        assert_eq!(root.get("c").unwrap().value, Value::Str("1".into()));
        assert_eq!(root.get("d").unwrap().value, Value::Float(1.5));
        assert!(root.get("e").unwrap().is_null());
        assert_eq!(root.get("f").unwrap().value, Value::Int(31));
        assert_eq!(root.get("g").unwrap().value, Value::Float(1000.0));
        assert_eq!(root.get("h").unwrap().value, Value::Str("1.2.3".into()));
    }

    #[test]
    fn duplicate_keys_are_recorded() {
        let s = parse_stream("a: 1\nb: 2\na: 3\n", Limits::default());
        let d = &s.documents[0].duplicates;
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].key.as_str(), d[0].first.line, d[0].second.line),
            ("a", 1, 3)
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let root = one("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\nlist: [*b]\n");
        assert_eq!(root.path(&["other", "x"]).unwrap().value, Value::Int(1));
        assert_eq!(root.get("list").unwrap().as_seq().len(), 1);
    }

    #[test]
    fn alias_bombs_are_stopped() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                [prev.as_str(); 10].join(", ")
            ));
        }
        let s = parse_stream(&text, Limits::default());
        assert!(s.error.unwrap().message.contains("alias expansion"));
    }

    #[test]
    fn errors_carry_positions() {
        let s = parse_stream("a: 1\n---\nb: [1, 2\n", Limits::default());
        assert_eq!(s.documents.len(), 1);
        let e = s.error.unwrap();
        assert!(e.line >= 3, "{e:?}");
    }

    #[test]
    fn multi_document_streams() {
        let s = parse_stream(
            "---\na: 1\n---\n# only a comment\n---\nb: 2\n",
            Limits::default(),
        );
        let roots: Vec<_> = s.documents.iter().filter(|d| !d.root.is_null()).collect();
        assert_eq!(roots.len(), 2);
        assert_eq!(roots[1].start_line, 6);
    }
}

#[cfg(test)]
mod hostile_tests {
    use super::*;

    /// Fuzz crash (manifest_parse): lone `\r`s made YAML lines run past
    /// the file's `\n` lines.
    #[test]
    fn lone_carriage_returns_do_not_shift_lines() {
        let text = "a: 1\r\r\r\r\nb: 2\r\n";
        let s = parse_stream(text, Limits::default());
        assert!(s.error.is_none(), "{:?}", s.error);
        let root = &s.documents[0].root;
        assert_eq!(root.get("b").unwrap().span.line, 2);
        assert_eq!(root.get("a").unwrap().as_i64(), Some(1));
    }
}
