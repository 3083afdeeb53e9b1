//! A structural index of a JSON text, made in one pass: where each value
//! starts and ends, and each object's members. The catalog cuts a CRD's
//! schema down to the fields resources use by walking it; with the index,
//! each byte of the schema is read once, where a `RawValue` per level reads
//! a subtree again at every level above it.

use anyhow::{bail, Result};

/// One value of the text.
#[derive(Debug, Clone, Copy)]
struct Slot {
    start: u32,
    end: u32,
    /// The value's first child (object member or array item), or 0.
    first: u32,
    /// The next child of the same parent, or 0.
    next: u32,
    /// For an object member: its key's span, quotes excluded.
    key_start: u32,
    key_end: u32,
}

/// The index of one JSON text. Value 0 is the top-level value.
pub struct Tape<'a> {
    text: &'a str,
    slots: Vec<Slot>,
}

/// A value of a [`Tape`].
#[derive(Clone, Copy)]
pub struct Val<'t, 'a> {
    tape: &'t Tape<'a>,
    at: u32,
}

/// The most nesting accepted (serde_json's own limit is 128).
const MAX_DEPTH: usize = 128;

impl<'a> Tape<'a> {
    /// Indexes `text`, which must be one JSON value (checked for structure:
    /// balanced brackets, strings closed, members with keys).
    pub fn new(text: &'a str) -> Result<Self> {
        if text.len() >= u32::MAX as usize {
            bail!("JSON text too large to index");
        }
        let b = text.as_bytes();
        let mut slots: Vec<Slot> = Vec::with_capacity(text.len() / 24 + 1);
        // Open containers: (slot, last child so far).
        let mut stack: Vec<(u32, u32)> = Vec::new();
        let mut pending_key: Option<(u32, u32)> = None;
        let mut i = skip_ws(b, 0);
        loop {
            if i >= b.len() {
                bail!("JSON text ends inside a value");
            }
            match b[i] {
                b'}' | b']' => {
                    if pending_key.is_some() {
                        bail!("a member without a value at byte {i}");
                    }
                    let Some((open, _)) = stack.pop() else {
                        bail!("unbalanced '{}' at byte {i}", b[i] as char);
                    };
                    slots[open as usize].end = (i + 1) as u32;
                    i = skip_ws(b, i + 1);
                    if stack.is_empty() {
                        break;
                    }
                    i = after_value(b, i)?;
                    continue;
                }
                _ => {}
            }
            // In an object, a member starts with its key.
            let in_object = stack
                .last()
                .is_some_and(|(open, _)| b[slots[*open as usize].start as usize] == b'{');
            if in_object && pending_key.is_none() {
                if b[i] != b'"' {
                    bail!("expected a key at byte {i}");
                }
                let end = string_end(b, i)?;
                pending_key = Some(((i + 1) as u32, (end - 1) as u32));
                i = skip_ws(b, end);
                if b.get(i) != Some(&b':') {
                    bail!("expected ':' at byte {i}");
                }
                i = skip_ws(b, i + 1);
                continue;
            }
            let (key_start, key_end) = pending_key.take().unwrap_or((0, 0));
            let id = slots.len() as u32;
            slots.push(Slot {
                start: i as u32,
                end: 0,
                first: 0,
                next: 0,
                key_start,
                key_end,
            });
            if let Some((open, last)) = stack.last_mut() {
                if *last == 0 {
                    slots[*open as usize].first = id;
                } else {
                    slots[*last as usize].next = id;
                }
                *last = id;
            }
            match b[i] {
                b'{' | b'[' => {
                    if stack.len() >= MAX_DEPTH {
                        bail!("JSON nested deeper than {MAX_DEPTH}");
                    }
                    stack.push((id, 0));
                    i = skip_ws(b, i + 1);
                    continue;
                }
                b'"' => i = string_end(b, i)?,
                _ => {
                    let end = b[i..]
                        .iter()
                        .position(|c| matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace())
                        .map_or(b.len(), |n| i + n);
                    if end == i {
                        bail!("unexpected '{}' at byte {i}", b[i] as char);
                    }
                    i = end;
                }
            }
            slots[id as usize].end = i as u32;
            i = skip_ws(b, i);
            if stack.is_empty() {
                break;
            }
            i = after_value(b, i)?;
        }
        if skip_ws(b, i) != b.len() {
            bail!("trailing characters after the JSON value");
        }
        Ok(Tape { text, slots })
    }

    pub fn root(&self) -> Val<'_, 'a> {
        Val { tape: self, at: 0 }
    }
}

/// After a value inside a container: past a ',' to the next value, or at
/// the closing bracket.
fn after_value(b: &[u8], i: usize) -> Result<usize> {
    match b.get(i) {
        Some(b',') => Ok(skip_ws(b, i + 1)),
        Some(b'}' | b']') => Ok(i),
        _ => bail!("expected ',' or a closing bracket at byte {i}"),
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The index just past the string that starts (with `"`) at `i`.
fn string_end(b: &[u8], i: usize) -> Result<usize> {
    let mut j = i + 1;
    while j < b.len() {
        match memchr::memchr2(b'"', b'\\', &b[j..]) {
            Some(n) if b[j + n] == b'\\' => j += n + 2,
            Some(n) => return Ok(j + n + 1),
            None => break,
        }
    }
    bail!("unterminated string at byte {i}")
}

impl<'t, 'a> Val<'t, 'a> {
    fn slot(&self) -> &'t Slot {
        &self.tape.slots[self.at as usize]
    }

    /// The value's text.
    pub fn text(&self) -> &'a str {
        let s = self.slot();
        &self.tape.text[s.start as usize..s.end as usize]
    }

    pub fn is_object(&self) -> bool {
        self.text().starts_with('{')
    }

    pub fn is_array(&self) -> bool {
        self.text().starts_with('[')
    }

    /// The children: an object's members or an array's items, in order.
    fn children(&self) -> impl Iterator<Item = Val<'t, 'a>> + 't {
        let tape = self.tape;
        let mut at = if self.is_object() || self.is_array() {
            self.slot().first
        } else {
            0
        };
        std::iter::from_fn(move || {
            if at == 0 {
                return None;
            }
            let v = Val { tape, at };
            at = tape.slots[at as usize].next;
            Some(v)
        })
    }

    /// An object's members as (key, value), in order; empty for other values.
    pub fn members(&self) -> impl Iterator<Item = (std::borrow::Cow<'a, str>, Val<'t, 'a>)> + 't {
        let object = self.is_object();
        self.children()
            .filter(move |_| object)
            .map(|v| (v.key(), v))
    }

    /// An array's items; empty for other values.
    pub fn items(&self) -> impl Iterator<Item = Val<'t, 'a>> + 't {
        let array = self.is_array();
        self.children().filter(move |_| array)
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<Val<'t, 'a>> {
        self.members().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// This value's key, as a member of an object (unescaped).
    fn key(&self) -> std::borrow::Cow<'a, str> {
        let s = self.slot();
        let raw = &self.tape.text[s.key_start as usize..s.key_end as usize];
        if raw.contains('\\') {
            serde_json::from_str::<String>(&format!("\"{raw}\""))
                .map_or(raw.into(), std::borrow::Cow::Owned)
        } else {
            raw.into()
        }
    }

    /// The value parsed in full.
    pub fn parse(&self) -> Result<serde_json::Value> {
        Ok(serde_json::from_str(self.text())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_objects_arrays_and_scalars() {
        let t =
            Tape::new(r#" {"a": {"b": [1, "x\"]", {"c": null}], "d\u0041": true}, "e": -1.5e3 } "#)
                .unwrap();
        let root = t.root();
        let keys: Vec<String> = root.members().map(|(k, _)| k.into_owned()).collect();
        assert_eq!(keys, ["a", "e"]);
        let a = root.get("a").unwrap();
        assert_eq!(a.get("dA").unwrap().text(), "true");
        let b: Vec<&str> = a.get("b").unwrap().items().map(|v| v.text()).collect();
        assert_eq!(b, ["1", r#""x\"]""#, r#"{"c": null}"#]);
        assert_eq!(
            root.get("e").unwrap().parse().unwrap(),
            serde_json::json!(-1500.0)
        );
        assert!(root.get("zz").is_none());
        assert_eq!(a.get("b").unwrap().members().count(), 0);
        assert_eq!(Tape::new("[]").unwrap().root().items().count(), 0);
        assert_eq!(Tape::new("{}").unwrap().root().members().count(), 0);
        assert_eq!(Tape::new("3").unwrap().root().text(), "3");
    }

    #[test]
    fn refuses_broken_text() {
        for bad in [
            "",
            "{",
            "[1,",
            r#"{"a" 1}"#,
            r#"{1: 2}"#,
            "[1] x",
            r#""abc"#,
            "]",
            "{\"a\":}",
        ] {
            assert!(Tape::new(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(Tape::new(&deep).is_err());
    }

    #[test]
    fn agrees_with_serde_on_a_real_schema() {
        let text = r#"{"type":"object","properties":{"spec":{"type":"object","required":["x"],"properties":{"x":{"type":"string","default":"a"},"y":{"type":"array","items":{"type":"integer"}}}}}}"#;
        let t = Tape::new(text).unwrap();
        let spec = t.root().get("properties").unwrap().get("spec").unwrap();
        let parsed: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(spec.parse().unwrap(), parsed["properties"]["spec"]);
        let y = spec.get("properties").unwrap().get("y").unwrap();
        assert_eq!(
            y.get("items").unwrap().parse().unwrap(),
            serde_json::json!({"type": "integer"})
        );
    }
}
