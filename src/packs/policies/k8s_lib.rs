//! The Kubernetes CEL libraries the `cel` crate lacks, as its extension
//! functions (https://kubernetes.io/docs/reference/using-api/cel/): lists
//! (`isSorted`, `sum`, `min`, `max`, `indexOf`, `lastIndexOf`), regex
//! (`find`, `findAll`), URLs (`url`, `isURL`, `getScheme` …), IP addresses
//! and CIDRs (`ip`, `cidr`, `isIP`, `isCIDR`, `family`, `containsIP` …) and
//! resource quantities (`quantity`, `isQuantity`, `isLessThan`, `add` …).
//! The string extensions (`charAt`, `indexOf`, `lowerAscii`, `replace`,
//! `split`, `substring`, `trim`, `join`, `format` …) are the crate's.
//!
//! An invalid argument (`quantity('1.5.5')`) is an evaluation error of the
//! function ([`LIBRARY`] names them), never a panic.

use cel::common::ast::{ComprehensionExpr, Expr, IdedExpr, ListExpr, LiteralValue};
use cel::common::functions::Function;
use cel::common::types::{Type, DYN_TYPE, INT_TYPE, LIST_TYPE, STRING_TYPE};
use cel::common::value::{CowVal, Val};
use cel::objects::{Key, Map, Opaque};
use cel::parser::{Macro, MacroExprHelper, ParseError};
use cel::{Env, ExecutionError, Value};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// The functions of this library (their errors are said in a note).
pub const LIBRARY: &[&str] = &[
    "isSorted",
    "sum",
    "min",
    "max",
    "indexOf",
    "lastIndexOf",
    "find",
    "findAll",
    "url",
    "getScheme",
    "getHost",
    "getHostname",
    "getPort",
    "getEscapedPath",
    "getQuery",
    "ip",
    "cidr",
    "containsIP",
    "containsCIDR",
    "quantity",
    "add",
    "sub",
    "asInteger",
    "compareTo",
    "isGreaterThan",
    "isLessThan",
    "string",
];

/// The longest list or string `findAll` returns (the evaluation is bounded
/// before it runs; this is a margin).
const MAX_MATCHES: usize = 100_000;

const QUANTITY: &str = "kubernetes.Quantity";
const URL: &str = "kubernetes.URL";
const IP: &str = "net.IP";
const CIDR: &str = "net.CIDR";

type Ext = fn(&[Value]) -> Result<Value, ExecutionError>;

/// A [`Function`] over [`Value`]s.
macro_rules! ext {
    ($f:expr) => {{
        fn wrapper<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
            let values = args
                .iter()
                .map(|a| Value::try_from(a.as_ref()))
                .collect::<Result<Vec<_>, _>>()?;
            let f: Ext = $f;
            let out: Box<dyn Val> = f(&values)?.try_into()?;
            let out: Box<dyn Val + 'v> = out;
            Ok(CowVal::from(out))
        }
        wrapper as Function
    }};
}

fn fail(function: &str, message: impl std::fmt::Display) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

fn string<'a>(v: &'a Value, function: &str) -> Result<&'a str, ExecutionError> {
    match v {
        Value::String(s) => Ok(s.as_str()),
        _ => Err(fail(function, "expects a string")),
    }
}

fn list<'a>(v: &'a Value, function: &str) -> Result<&'a [Value], ExecutionError> {
    match v {
        Value::List(l) => Ok(l.as_slice()),
        _ => Err(fail(function, "expects a list")),
    }
}

fn opaque<'a, T: 'static>(v: &'a Value, function: &str) -> Result<&'a T, ExecutionError> {
    match v {
        Value::Opaque(o) => o.downcast_ref::<T>(),
        _ => None,
    }
    .ok_or_else(|| fail(function, "unexpected argument type"))
}

fn wrap<T: Opaque>(v: T) -> Value {
    Value::Opaque(Arc::new(v))
}

fn opaque_type(name: &'static str) -> Type {
    Type::new_opaque_type(name)
}

/// `cel.bind(name, init, body)` (cel-go's bindings extension): `body` with
/// `name` bound to `init`, a comprehension over nothing.
fn bind_macro(
    helper: &mut MacroExprHelper<'_>,
    target: &mut Option<IdedExpr>,
    args: &mut Vec<IdedExpr>,
) -> Result<Option<IdedExpr>, ParseError> {
    let is_cel = matches!(target.as_ref().map(|t| &t.expr), Some(Expr::Ident(n)) if n == "cel");
    if !is_cel {
        return Ok(None);
    }
    let name = match args.first().map(|a| &a.expr) {
        Some(Expr::Ident(n)) => n.clone(),
        _ => {
            let id = args.first().map_or(0, |a| a.id);
            return Err(
                helper.new_error(id, "cel.bind() variable name must be a simple identifier")
            );
        }
    };
    let body = args.pop().unwrap_or_default();
    let init = args.pop().unwrap_or_default();
    let bind = ComprehensionExpr {
        iter_range: helper.next_expr(Expr::List(ListExpr::new(Vec::new()))),
        iter_var: "#unused".to_owned(),
        iter_var2: None,
        accu_var: name.clone(),
        accu_init: init,
        loop_cond: helper.next_expr(Expr::Literal(LiteralValue::Boolean(false.into()))),
        loop_step: helper.next_expr(Expr::Ident(name)),
        result: body,
    };
    Ok(Some(helper.next_expr(Expr::Comprehension(Box::new(bind)))))
}

/// Registers the library on `env`.
pub fn register(env: &mut Env) {
    let _ = env.add_macro(Macro::receiver("bind", 3, bind_macro));
    let q = || opaque_type(QUANTITY);
    let u = || opaque_type(URL);
    let i = || opaque_type(IP);
    let c = || opaque_type(CIDR);
    let s = || STRING_TYPE;
    let member: Vec<(&str, Type, Vec<Type>, Function)> = vec![
        // lists
        ("isSorted", LIST_TYPE, vec![], ext!(|a| is_sorted(&a[0]))),
        ("sum", LIST_TYPE, vec![], ext!(|a| sum(&a[0]))),
        (
            "min",
            LIST_TYPE,
            vec![],
            ext!(|a| extreme(&a[0], Ordering::Less, "min")),
        ),
        (
            "max",
            LIST_TYPE,
            vec![],
            ext!(|a| extreme(&a[0], Ordering::Greater, "max")),
        ),
        (
            "indexOf",
            LIST_TYPE,
            vec![DYN_TYPE],
            ext!(|a| index_of(a, false)),
        ),
        (
            "lastIndexOf",
            LIST_TYPE,
            vec![DYN_TYPE],
            ext!(|a| index_of(a, true)),
        ),
        // regex
        ("find", s(), vec![s()], ext!(|a| find(a))),
        ("findAll", s(), vec![s()], ext!(|a| find_all(a, None))),
        (
            "findAll",
            s(),
            vec![s(), INT_TYPE],
            ext!(|a| match a[2] {
                Value::Int(n) => find_all(a, Some(n)),
                _ => Err(fail("findAll", "expects an int")),
            }),
        ),
        // URLs
        ("getScheme", u(), vec![], ext!(|a| url_part(a, "getScheme"))),
        ("getHost", u(), vec![], ext!(|a| url_part(a, "getHost"))),
        (
            "getHostname",
            u(),
            vec![],
            ext!(|a| url_part(a, "getHostname")),
        ),
        ("getPort", u(), vec![], ext!(|a| url_part(a, "getPort"))),
        (
            "getEscapedPath",
            u(),
            vec![],
            ext!(|a| url_part(a, "getEscapedPath")),
        ),
        ("getQuery", u(), vec![], ext!(|a| url_part(a, "getQuery"))),
        // IPs
        ("family", i(), vec![], ext!(|a| ip_test(a, "family"))),
        (
            "isUnspecified",
            i(),
            vec![],
            ext!(|a| ip_test(a, "isUnspecified")),
        ),
        (
            "isLoopback",
            i(),
            vec![],
            ext!(|a| ip_test(a, "isLoopback")),
        ),
        (
            "isLinkLocalMulticast",
            i(),
            vec![],
            ext!(|a| ip_test(a, "isLinkLocalMulticast")),
        ),
        (
            "isLinkLocalUnicast",
            i(),
            vec![],
            ext!(|a| ip_test(a, "isLinkLocalUnicast")),
        ),
        (
            "isGlobalUnicast",
            i(),
            vec![],
            ext!(|a| ip_test(a, "isGlobalUnicast")),
        ),
        // CIDRs
        ("containsIP", c(), vec![s()], ext!(|a| contains(a, false))),
        ("containsIP", c(), vec![i()], ext!(|a| contains(a, false))),
        ("containsCIDR", c(), vec![s()], ext!(|a| contains(a, true))),
        ("containsCIDR", c(), vec![c()], ext!(|a| contains(a, true))),
        (
            "ip",
            c(),
            vec![],
            ext!(|a| {
                let c = opaque::<Cidr>(&a[0], "ip")?;
                Ok(wrap(Ip(c.ip)))
            }),
        ),
        (
            "masked",
            c(),
            vec![],
            ext!(|a| {
                let c = opaque::<Cidr>(&a[0], "masked")?;
                Ok(wrap(c.masked()))
            }),
        ),
        (
            "prefixLength",
            c(),
            vec![],
            ext!(|a| {
                Ok(Value::Int(
                    opaque::<Cidr>(&a[0], "prefixLength")?.prefix.into(),
                ))
            }),
        ),
        // quantities
        (
            "sign",
            q(),
            vec![],
            ext!(|a| Ok(Value::Int(qty(&a[0])?.m.signum() as i64))),
        ),
        (
            "isInteger",
            q(),
            vec![],
            ext!(|a| Ok(Value::Bool(qty(&a[0])?.as_i64().is_some()))),
        ),
        (
            "asInteger",
            q(),
            vec![],
            ext!(|a| {
                qty(&a[0])?.as_i64().map(Value::Int).ok_or_else(|| {
                    fail(
                        "asInteger",
                        "the quantity is not an integer or out of the int range",
                    )
                })
            }),
        ),
        (
            "asApproximateFloat",
            q(),
            vec![],
            ext!(|a| Ok(Value::Float(qty(&a[0])?.approx()))),
        ),
        ("add", q(), vec![q()], ext!(|a| arith(a, false))),
        ("add", q(), vec![INT_TYPE], ext!(|a| arith(a, false))),
        ("sub", q(), vec![q()], ext!(|a| arith(a, true))),
        ("sub", q(), vec![INT_TYPE], ext!(|a| arith(a, true))),
        (
            "compareTo",
            q(),
            vec![q()],
            ext!(|a| {
                Ok(Value::Int(match qty(&a[0])?.cmp(qty(&a[1])?) {
                    Ordering::Less => -1,
                    Ordering::Equal => 0,
                    Ordering::Greater => 1,
                }))
            }),
        ),
        (
            "isGreaterThan",
            q(),
            vec![q()],
            ext!(|a| {
                Ok(Value::Bool(
                    qty(&a[0])?.cmp(qty(&a[1])?) == Ordering::Greater,
                ))
            }),
        ),
        (
            "isLessThan",
            q(),
            vec![q()],
            ext!(|a| { Ok(Value::Bool(qty(&a[0])?.cmp(qty(&a[1])?) == Ordering::Less)) }),
        ),
    ];
    for (n, (name, target, args, f)) in member.into_iter().enumerate() {
        // An error only when a name is declared twice with one signature.
        let _ = env.add_member_overload(name, &format!("k8s_{name}_{n}"), target, args, f);
    }
    let global: Vec<(&str, Vec<Type>, Function)> = vec![
        (
            "quantity",
            vec![s()],
            ext!(|a| {
                Quantity::parse(string(&a[0], "quantity")?)
                    .map(wrap)
                    .map_err(|e| fail("quantity", e))
            }),
        ),
        (
            "isQuantity",
            vec![s()],
            ext!(|a| {
                Ok(Value::Bool(
                    Quantity::parse(string(&a[0], "isQuantity")?).is_ok(),
                ))
            }),
        ),
        (
            "url",
            vec![s()],
            ext!(|a| {
                Url::parse(string(&a[0], "url")?)
                    .map(wrap)
                    .map_err(|e| fail("url", e))
            }),
        ),
        (
            "isURL",
            vec![s()],
            ext!(|a| Ok(Value::Bool(Url::parse(string(&a[0], "isURL")?).is_ok()))),
        ),
        (
            "ip",
            vec![s()],
            ext!(|a| {
                parse_ip(string(&a[0], "ip")?)
                    .map(|i| wrap(Ip(i)))
                    .map_err(|e| fail("ip", e))
            }),
        ),
        (
            "isIP",
            vec![s()],
            ext!(|a| Ok(Value::Bool(parse_ip(string(&a[0], "isIP")?).is_ok()))),
        ),
        (
            "ip.isCanonical",
            vec![s()],
            ext!(|a| {
                let text = string(&a[0], "ip.isCanonical")?;
                let ip = parse_ip(text).map_err(|e| fail("ip.isCanonical", e))?;
                Ok(Value::Bool(ip.to_string() == text))
            }),
        ),
        (
            "cidr",
            vec![s()],
            ext!(|a| {
                Cidr::parse(string(&a[0], "cidr")?)
                    .map(wrap)
                    .map_err(|e| fail("cidr", e))
            }),
        ),
        (
            "isCIDR",
            vec![s()],
            ext!(|a| Ok(Value::Bool(Cidr::parse(string(&a[0], "isCIDR")?).is_ok()))),
        ),
        (
            "string",
            vec![i()],
            ext!(|a| Ok(Value::from(opaque::<Ip>(&a[0], "string")?.0.to_string()))),
        ),
        (
            "string",
            vec![c()],
            ext!(|a| Ok(Value::from(opaque::<Cidr>(&a[0], "string")?.to_string()))),
        ),
        (
            "string",
            vec![q()],
            ext!(|a| Ok(Value::from(qty(&a[0])?.to_string()))),
        ),
        (
            "string",
            vec![u()],
            ext!(|a| Ok(Value::from(opaque::<Url>(&a[0], "string")?.raw.clone()))),
        ),
    ];
    for (n, (name, args, f)) in global.into_iter().enumerate() {
        let _ = env.add_overload(name, &format!("k8s_g_{name}_{n}"), args, f);
    }
}

// ---------------------------------------------------------------- lists

fn compare(a: &Value, b: &Value, function: &str) -> Result<Ordering, ExecutionError> {
    let same = std::mem::discriminant(a) == std::mem::discriminant(b);
    match a.partial_cmp(b) {
        Some(o) if same => Ok(o),
        _ => Err(fail(function, "elements of different or unordered types")),
    }
}

fn is_sorted(l: &Value) -> Result<Value, ExecutionError> {
    let items = list(l, "isSorted")?;
    for w in items.windows(2) {
        if compare(&w[0], &w[1], "isSorted")? == Ordering::Greater {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn sum(l: &Value) -> Result<Value, ExecutionError> {
    let items = list(l, "sum")?;
    let overflow = || fail("sum", "integer overflow");
    let mut acc = match items.first() {
        None => return Ok(Value::Int(0)),
        Some(Value::Int(_)) => Value::Int(0),
        Some(Value::UInt(_)) => Value::UInt(0),
        Some(Value::Float(_)) => Value::Float(0.0),
        Some(_) => return Err(fail("sum", "expects a list of numbers")),
    };
    for item in items {
        acc = match (&acc, item) {
            (Value::Int(a), Value::Int(b)) => Value::Int(a.checked_add(*b).ok_or_else(overflow)?),
            (Value::UInt(a), Value::UInt(b)) => {
                Value::UInt(a.checked_add(*b).ok_or_else(overflow)?)
            }
            (Value::Float(a), Value::Float(b)) => Value::Float(a + b),
            _ => return Err(fail("sum", "elements of different types")),
        };
    }
    Ok(acc)
}

fn extreme(l: &Value, want: Ordering, function: &str) -> Result<Value, ExecutionError> {
    let items = list(l, function)?;
    let mut best = items
        .first()
        .ok_or_else(|| fail(function, "the list is empty"))?;
    for item in &items[1..] {
        if compare(item, best, function)? == want {
            best = item;
        }
    }
    Ok(best.clone())
}

fn index_of(a: &[Value], last: bool) -> Result<Value, ExecutionError> {
    let items = list(&a[0], if last { "lastIndexOf" } else { "indexOf" })?;
    let found = if last {
        items.iter().rposition(|x| x == &a[1])
    } else {
        items.iter().position(|x| x == &a[1])
    };
    Ok(Value::Int(found.map_or(-1, |i| i as i64)))
}

// ---------------------------------------------------------------- regex

fn regex(pattern: &str, function: &str) -> Result<regex::Regex, ExecutionError> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| fail(function, crate::text::one_line(&e.to_string(), 120)))
}

fn find(a: &[Value]) -> Result<Value, ExecutionError> {
    let text = string(&a[0], "find")?;
    let re = regex(string(&a[1], "find")?, "find")?;
    Ok(Value::from(
        re.find(text)
            .map_or(String::new(), |m| m.as_str().to_string()),
    ))
}

fn find_all(a: &[Value], limit: Option<i64>) -> Result<Value, ExecutionError> {
    let text = string(&a[0], "findAll")?;
    let re = regex(string(&a[1], "findAll")?, "findAll")?;
    let limit = match limit {
        Some(n) if n >= 0 => (n as usize).min(MAX_MATCHES),
        _ => MAX_MATCHES,
    };
    let found: Vec<Value> = re
        .find_iter(text)
        .take(limit)
        .map(|m| Value::from(m.as_str().to_string()))
        .collect();
    Ok(Value::List(Arc::new(found)))
}

// ---------------------------------------------------------------- URLs

/// A URL as Go's `url.ParseRequestURI` reads it: an absolute URL, or an
/// absolute path.
#[derive(Debug, PartialEq, Eq)]
struct Url {
    raw: String,
    scheme: String,
    host: String,
    path: String,
    query: String,
}

impl Opaque for Url {
    fn runtime_type_name(&self) -> &str {
        URL
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `%41` → `A`; `+` stays (paths) or is a space (queries).
fn unescape(s: &str, plus_space: bool) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let (Some(h), Some(l)) = (
                    b.get(i + 1).copied().and_then(hex),
                    b.get(i + 2).copied().and_then(hex),
                ) else {
                    return Err(format!("invalid URL escape in {s:?}"));
                };
                out.push(h * 16 + l);
                i += 3;
            }
            b'+' if plus_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

impl Url {
    fn parse(raw: &str) -> Result<Url, String> {
        if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err("invalid control character in URL".into());
        }
        let mut rest = raw;
        let mut scheme = String::new();
        if let Some(colon) = raw.find(':') {
            let candidate = &raw[..colon];
            let valid = candidate
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && candidate
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            if valid {
                scheme = candidate.to_ascii_lowercase();
                rest = &raw[colon + 1..];
            } else if colon == 0 {
                return Err("missing protocol scheme".into());
            }
        }
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, q.to_string()),
            None => (rest, String::new()),
        };
        let mut host = String::new();
        let path;
        if scheme.is_empty() {
            if !rest.starts_with('/') {
                return Err(format!("invalid URI for request: {raw:?}"));
            }
            path = rest;
        } else if let Some(after) = rest.strip_prefix("//") {
            let end = after.find('/').unwrap_or(after.len());
            let authority = &after[..end];
            path = &after[end..];
            let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let port = if let Some(v6) = hostport.strip_prefix('[') {
                let close = v6.find(']').ok_or("missing ']' in host")?;
                let after = &v6[close + 1..];
                if !(after.is_empty() || after.starts_with(':')) {
                    return Err(format!("invalid port {after:?} after host"));
                }
                after.strip_prefix(':')
            } else {
                hostport.rsplit_once(':').map(|(_, p)| p)
            };
            if let Some(p) = port {
                if !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!("invalid port {p:?} after host"));
                }
            }
            host = hostport.to_string();
        } else if rest.starts_with('/') {
            path = rest;
        } else {
            // An opaque URL (`mailto:a@b`): no host, no path.
            path = "";
        }
        unescape(path, false)?;
        Ok(Url {
            raw: raw.to_string(),
            scheme,
            host,
            path: path.to_string(),
            query,
        })
    }

    fn hostname(&self) -> &str {
        let h = &self.host;
        if let Some(v6) = h.strip_prefix('[') {
            return v6.split(']').next().unwrap_or("");
        }
        h.rsplit_once(':').map_or(h, |(n, _)| n)
    }

    fn port(&self) -> &str {
        let after = match self.host.rfind(']') {
            Some(i) => &self.host[i + 1..],
            None => &self.host,
        };
        after.rsplit_once(':').map_or("", |(_, p)| p)
    }

    /// The path, escaped as Go's `EscapedPath` does.
    fn escaped_path(&self) -> String {
        let keep = |c: char| c.is_ascii_alphanumeric() || "-_.~$&+,/:;=@!'()*".contains(c);
        let mut out = String::new();
        for (i, c) in self.path.char_indices() {
            let valid_escape = c == '%'
                && self
                    .path
                    .as_bytes()
                    .get(i + 1)
                    .copied()
                    .and_then(hex)
                    .is_some()
                && self
                    .path
                    .as_bytes()
                    .get(i + 2)
                    .copied()
                    .and_then(hex)
                    .is_some();
            if keep(c) || valid_escape {
                out.push(c);
            } else {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
        out
    }

    fn query_map(&self) -> Value {
        let mut map: Vec<(String, Vec<Value>)> = Vec::new();
        for pair in self.query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (Ok(k), Ok(v)) = (unescape(k, true), unescape(v, true)) else {
                continue;
            };
            match map.iter_mut().find(|(key, _)| *key == k) {
                Some((_, vs)) => vs.push(Value::from(v)),
                None => map.push((k, vec![Value::from(v)])),
            }
        }
        let m: HashMap<Key, Value> = map
            .into_iter()
            .map(|(k, v)| (Key::String(Arc::new(k)), Value::List(Arc::new(v))))
            .collect();
        Value::Map(Map { map: Arc::new(m) })
    }
}

fn url_part(a: &[Value], function: &str) -> Result<Value, ExecutionError> {
    let u = opaque::<Url>(&a[0], function)?;
    Ok(match function {
        "getScheme" => Value::from(u.scheme.clone()),
        "getHost" => Value::from(u.host.clone()),
        "getHostname" => Value::from(u.hostname().to_string()),
        "getPort" => Value::from(u.port().to_string()),
        "getEscapedPath" => Value::from(u.escaped_path()),
        _ => u.query_map(),
    })
}

// ---------------------------------------------------------------- IPs, CIDRs

#[derive(Debug, PartialEq, Eq)]
struct Ip(IpAddr);

impl Opaque for Ip {
    fn runtime_type_name(&self) -> &str {
        IP
    }
}

/// As Kubernetes' `ip()`: no zones, no IPv4-mapped IPv6, no leading zeros.
fn parse_ip(s: &str) -> Result<IpAddr, String> {
    if s.contains('%') {
        return Err(format!("IP address with zone value is not allowed: {s:?}"));
    }
    let ip: IpAddr = s
        .parse()
        .map_err(|_| format!("IP address could not be parsed: {s:?}"))?;
    if let IpAddr::V6(v6) = ip {
        if v6.to_ipv4_mapped().is_some() && s.contains('.') {
            return Err(format!("IPv4-mapped IPv6 address is not allowed: {s:?}"));
        }
    }
    Ok(ip)
}

fn ip_test(a: &[Value], function: &str) -> Result<Value, ExecutionError> {
    let ip = opaque::<Ip>(&a[0], function)?.0;
    let b = match (function, ip) {
        ("family", IpAddr::V4(_)) => return Ok(Value::Int(4)),
        ("family", IpAddr::V6(_)) => return Ok(Value::Int(6)),
        ("isUnspecified", ip) => ip.is_unspecified(),
        ("isLoopback", ip) => ip.is_loopback(),
        ("isLinkLocalMulticast", IpAddr::V4(v4)) => {
            let o = v4.octets();
            o[0] == 224 && o[1] == 0 && o[2] == 0
        }
        ("isLinkLocalMulticast", IpAddr::V6(v6)) => v6.segments()[0] & 0xff0f == 0xff02,
        ("isLinkLocalUnicast", IpAddr::V4(v4)) => v4.is_link_local(),
        ("isLinkLocalUnicast", IpAddr::V6(v6)) => v6.segments()[0] & 0xffc0 == 0xfe80,
        // Go's IsGlobalUnicast: not unspecified, loopback, multicast,
        // link-local or the IPv4 broadcast address (private ones count).
        (_, IpAddr::V4(v4)) => {
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_multicast()
                || v4.is_link_local()
                || v4.is_broadcast())
        }
        (_, IpAddr::V6(v6)) => {
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || v6.segments()[0] & 0xffc0 == 0xfe80)
        }
    };
    Ok(Value::Bool(b))
}

#[derive(Debug, PartialEq, Eq)]
struct Cidr {
    ip: IpAddr,
    prefix: u8,
}

impl Opaque for Cidr {
    fn runtime_type_name(&self) -> &str {
        CIDR
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.ip, self.prefix)
    }
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u32::from(v4) as u128, 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

fn from_bits(v: u128, width: u8) -> IpAddr {
    if width == 32 {
        IpAddr::V4((v as u32).into())
    } else {
        IpAddr::V6(v.into())
    }
}

impl Cidr {
    fn parse(s: &str) -> Result<Cidr, String> {
        let (ip, prefix) = s
            .split_once('/')
            .ok_or_else(|| format!("network address parse error: {s:?} has no prefix length"))?;
        let ip = parse_ip(ip)?;
        let width = bits(ip).1;
        let ok_digits = !prefix.is_empty()
            && prefix.bytes().all(|b| b.is_ascii_digit())
            && !(prefix.len() > 1 && prefix.starts_with('0'));
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| ok_digits && *p <= width)
            .ok_or_else(|| format!("network address parse error: bad prefix length in {s:?}"))?;
        Ok(Cidr { ip, prefix })
    }

    fn mask(&self) -> u128 {
        let (_, width) = bits(self.ip);
        let all = if width == 32 {
            u32::MAX as u128
        } else {
            u128::MAX
        };
        if self.prefix == 0 {
            0
        } else {
            all & !((1u128 << (width - self.prefix)) - 1) & all
        }
    }

    fn masked(&self) -> Cidr {
        let (v, width) = bits(self.ip);
        Cidr {
            ip: from_bits(v & self.mask(), width),
            prefix: self.prefix,
        }
    }

    fn contains_ip(&self, ip: IpAddr) -> bool {
        let ((a, wa), (b, wb)) = (bits(self.ip), bits(ip));
        wa == wb && (a & self.mask()) == (b & self.mask())
    }
}

fn contains(a: &[Value], cidr_arg: bool) -> Result<Value, ExecutionError> {
    let function = if cidr_arg {
        "containsCIDR"
    } else {
        "containsIP"
    };
    let c = opaque::<Cidr>(&a[0], function)?;
    let ok = if cidr_arg {
        let other = match &a[1] {
            Value::String(s) => Cidr::parse(s).map_err(|e| fail(function, e))?,
            v => {
                let o = opaque::<Cidr>(v, function)?;
                Cidr {
                    ip: o.ip,
                    prefix: o.prefix,
                }
            }
        };
        other.prefix >= c.prefix && c.contains_ip(other.ip)
    } else {
        let ip = match &a[1] {
            Value::String(s) => parse_ip(s).map_err(|e| fail(function, e))?,
            v => opaque::<Ip>(v, function)?.0,
        };
        c.contains_ip(ip)
    };
    Ok(Value::Bool(ok))
}

// ---------------------------------------------------------------- quantities

/// A Kubernetes `resource.Quantity`: `m × 10^e`, exactly (`m` has no
/// trailing zeros unless it is 0).
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    m: i128,
    e: i32,
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Quantity {}

impl Opaque for Quantity {
    fn runtime_type_name(&self) -> &str {
        QUANTITY
    }
}

fn qty(v: &Value) -> Result<&Quantity, ExecutionError> {
    opaque::<Quantity>(v, "quantity")
}

const TOO_LARGE: &str = "quantity is too large";

impl Quantity {
    fn new(mut m: i128, mut e: i32) -> Quantity {
        if m == 0 {
            return Quantity { m: 0, e: 0 };
        }
        while m % 10 == 0 {
            m /= 10;
            e += 1;
        }
        Quantity { m, e }
    }

    /// `<sign><digits>[.<digits>]<suffix>`, the suffix one of `Ki Mi Gi Ti
    /// Pi Ei`, `n u m "" k M G T P E`, or `e`/`E` and a signed integer.
    pub fn parse(s: &str) -> Result<Quantity, String> {
        let bad = || {
            format!("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {s:?}")
        };
        let (negative, rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(num_end);
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
            return Err(bad());
        }
        let digits = format!("{int}{frac}");
        let digits = digits.trim_start_matches('0');
        let mut e = -(frac.len() as i32);
        // Beyond 30 significant digits the value is kept approximately (the
        // API server keeps them all).
        let kept = digits.len().min(30);
        e += (digits.len() - kept) as i32;
        let mut m: i128 = if digits.is_empty() {
            0
        } else {
            digits[..kept].parse().map_err(|_| bad())?
        };
        let binary = |k: u32| 1i128 << (10 * k);
        match suffix {
            "" => {}
            "n" => e -= 9,
            "u" => e -= 6,
            "m" => e -= 3,
            "k" => e += 3,
            "M" => e += 6,
            "G" => e += 9,
            "T" => e += 12,
            "P" => e += 15,
            "E" => e += 18,
            "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
                let k = "KMGTPE".find(&suffix[..1]).unwrap_or(0) as u32 + 1;
                m = m.checked_mul(binary(k)).ok_or(TOO_LARGE)?;
            }
            _ => {
                let exp = suffix
                    .strip_prefix(['e', 'E'])
                    .filter(|x| {
                        let d = x.strip_prefix(['+', '-']).unwrap_or(x);
                        !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
                    })
                    .ok_or_else(bad)?;
                let exp: i32 = exp.parse().map_err(|_| TOO_LARGE.to_string())?;
                if exp.abs() > 1000 {
                    return Err(TOO_LARGE.into());
                }
                e += exp;
            }
        }
        if negative {
            m = -m;
        }
        Ok(Quantity::new(m, e))
    }

    /// `m × 10^(e - to)`, for `to <= e`.
    fn scaled(&self, to: i32) -> Option<i128> {
        let p = u32::try_from(self.e - to).ok()?;
        10i128.checked_pow(p).and_then(|f| self.m.checked_mul(f))
    }

    fn cmp(&self, other: &Quantity) -> Ordering {
        let to = self.e.min(other.e);
        match (self.scaled(to), other.scaled(to)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self
                .approx()
                .partial_cmp(&other.approx())
                .unwrap_or(Ordering::Equal),
        }
    }

    fn approx(&self) -> f64 {
        self.m as f64 * 10f64.powi(self.e)
    }

    fn as_i64(&self) -> Option<i64> {
        if self.e < 0 {
            return None;
        }
        self.scaled(0).and_then(|v| i64::try_from(v).ok())
    }

    fn plus(&self, other: &Quantity) -> Option<Quantity> {
        let to = self.e.min(other.e);
        Some(Quantity::new(
            self.scaled(to)?.checked_add(other.scaled(to)?)?,
            to,
        ))
    }
}

impl std::fmt::Display for Quantity {
    /// A decimal form (`1536Mi` is `1610612736`, `100m` is `0.1`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.e >= 0 {
            match self.scaled(0) {
                Some(v) => write!(f, "{v}"),
                None => write!(f, "{}e{}", self.m, self.e),
            }
        } else {
            write!(f, "{}e{}", self.m, self.e)
        }
    }
}

fn arith(a: &[Value], subtract: bool) -> Result<Value, ExecutionError> {
    let function = if subtract { "sub" } else { "add" };
    let x = *qty(&a[0])?;
    let mut y = match &a[1] {
        Value::Int(i) => Quantity::new(*i as i128, 0),
        v => *qty(v)?,
    };
    if subtract {
        y.m = -y.m;
    }
    x.plus(&y)
        .map(wrap)
        .ok_or_else(|| fail(function, TOO_LARGE))
}

#[cfg(test)]
mod tests {
    use super::super::cel_env::{Env, Eval};
    use cel::Value;
    use serde_json::json;

    fn eval(expr: &str) -> Eval {
        let env = Env::new();
        let c = match env.compile(expr) {
            Ok(c) => c,
            Err(_) => panic!("{expr} does not compile"),
        };
        let data = json!({"names": ["a", "b", "c"], "items": [{"weight": 0.5}, {"weight": 0.5}]});
        env.eval(&c, &[("self", super::super::cel_env::to_cel(&data))])
    }

    /// Each holds (from the examples of the Kubernetes CEL documentation,
    /// and their negations).
    #[track_caller]
    fn holds(exprs: &[&str]) {
        for expr in exprs {
            match eval(expr) {
                Eval::Value(Value::Bool(true)) => {}
                Eval::Value(v) => panic!("{expr} gave {v:?}"),
                Eval::Error(e) | Eval::LibraryError(e) | Eval::Unsupported(e) => {
                    panic!("{expr}: {e}")
                }
                Eval::TooCostly(c) => panic!("{expr} costs {c}"),
            }
        }
    }

    #[track_caller]
    fn library_error(exprs: &[&str]) {
        for expr in exprs {
            assert!(
                matches!(eval(expr), Eval::LibraryError(_)),
                "{expr} is not a library error"
            );
        }
    }

    #[test]
    fn lists() {
        holds(&[
            "self.names.isSorted()",
            "[1, 2, 3].isSorted()",
            "![2, 1].isSorted()",
            "[].isSorted()",
            "self.items.map(x, x.weight).sum() == 1.0",
            "[1, 2, 3].sum() == 6",
            "[].sum() == 0",
            "[3, 1, 2].max() == 3 && [3, 1, 2].min() == 1",
            "['b', 'a'].min() == 'a'",
            "[1, 2, 3].map(x, x * 10).max() < [40, 50].min()",
            "self.names.indexOf('b') == 1",
            "[1, 2, 1].lastIndexOf(1) == 2",
            "[1, 2].indexOf(5) == -1",
        ]);
        library_error(&["[].min()", "[1, 'a'].isSorted()", "[1, 'a'].sum()"]);
    }

    #[test]
    fn regex_and_strings() {
        holds(&[
            "'abc 123'.find('[0-9]+') == '123'",
            "'abc'.find('[0-9]+') == ''",
            "'1, 2, 3, 4'.findAll('[0-9]+').map(x, int(x)).sum() < 100",
            "'1, 2, 3'.findAll('[0-9]+', 2) == ['1', '2']",
            "'hello'.charAt(1) == 'e'",
            "'hello mellow'.indexOf('ello') == 1",
            "'hello mellow'.lastIndexOf('ello') == 7",
            "'TacoCat'.lowerAscii() == 'tacocat'",
            "'TacoCat'.upperAscii() == 'TACOCAT'",
            "'hello hello'.replace('he', 'we') == 'wello wello'",
            "'hello hello'.split(' ') == ['hello', 'hello']",
            "'tacocat'.substring(4) == 'cat'",
            "'tacocat'.substring(0, 4) == 'taco'",
            "'  \\ttrim\\n    '.trim() == 'trim'",
            "['hello', 'mellow'].join(' ') == 'hello mellow'",
            "cel.bind(x, 'ab', x + x) == 'abab'",
            "cel.bind(x, [1, 2], cel.bind(y, x.map(i, i * 2), y.sum())) == 6",
        ]);
        library_error(&["'abc'.find('(')"]);
    }

    #[test]
    fn urls() {
        holds(&[
            "isURL('https://example.com/')",
            "!isURL('example.com')",
            "isURL('/absolute-path')",
            "url('https://example.com:80/').getHost() == 'example.com:80'",
            "url('https://example.com:80/').getHostname() == 'example.com'",
            "url('https://example.com:80/').getPort() == '80'",
            "url('https://example.com/').getPort() == ''",
            "url('https://[::1]:80/').getHostname() == '::1'",
            "url('https://[::1]:80/').getHost() == '[::1]:80'",
            "url('https://example.com/').getScheme() == 'https'",
            "url('/absolute-path').getScheme() == ''",
            "url('https://example.com/path with spaces/').getEscapedPath() == '/path%20with%20spaces/'",
            "url('https://example.com/?k=true&k=false&x').getQuery() == {'k': ['true', 'false'], 'x': ['']}",
        ]);
        library_error(&["url('example.com')", "url('https://example.com:x/')"]);
    }

    #[test]
    fn ips_and_cidrs() {
        holds(&[
            "isIP('127.0.0.1')",
            "!isIP('1.2.3')",
            "!isIP('127.0.0.1%eth0')",
            "!isIP('::ffff:1.2.3.4')",
            "ip('127.0.0.1').family() == 4",
            "ip('::1').family() == 6",
            "ip('::1').isLoopback()",
            "ip('0.0.0.0').isUnspecified()",
            "ip('169.254.1.1').isLinkLocalUnicast()",
            "ip('fe80::1').isLinkLocalUnicast()",
            "ip('224.0.0.1').isLinkLocalMulticast()",
            "ip('ff02::1').isLinkLocalMulticast()",
            "ip('10.0.0.1').isGlobalUnicast()",
            "!ip('255.255.255.255').isGlobalUnicast()",
            "ip.isCanonical('2001:db8::1')",
            "!ip.isCanonical('2001:DB8::1')",
            "string(ip('127.0.0.1')) == '127.0.0.1'",
            "ip('127.0.0.1') == ip('127.0.0.1')",
            "isCIDR('192.168.0.0/24')",
            "!isCIDR('192.168.0.0')",
            "!isCIDR('192.168.0.0/33')",
            "cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))",
            "cidr('192.168.0.0/24').containsIP('192.168.0.1')",
            "!cidr('192.168.0.0/24').containsIP('192.168.1.1')",
            "!cidr('192.168.0.0/24').containsIP('::1')",
            "cidr('192.168.0.0/16').containsCIDR(cidr('192.168.10.0/24'))",
            "!cidr('192.168.10.0/24').containsCIDR('192.168.0.0/16')",
            "cidr('192.168.0.1/24').ip() == ip('192.168.0.1')",
            "cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')",
            "cidr('::1/128').prefixLength() == 128",
            "cidr('0.0.0.0/0').containsIP('8.8.8.8')",
            "string(cidr('192.168.0.0/24')) == '192.168.0.0/24'",
        ]);
        library_error(&[
            "ip('1.2.3.4.5').family() == 4",
            "cidr('10.0.0.0/40').prefixLength() > 0",
        ]);
    }

    #[test]
    fn quantities() {
        holds(&[
            "isQuantity('1.5Gi')",
            "isQuantity('100m') && isQuantity('1e3') && isQuantity('-2E-3') && isQuantity('.5')",
            "!isQuantity('1.5.5')",
            "!isQuantity('')",
            "!isQuantity('1Gb')",
            "!isQuantity('Gi')",
            "quantity('1Gi') == quantity('1024Mi')",
            "quantity('1Gi').isGreaterThan(quantity('1G'))",
            "quantity('500Mi').isLessThan(quantity('1Gi'))",
            "quantity('200M').compareTo(quantity('0.2G')) == 0",
            "quantity('1k').compareTo(quantity('999')) == 1",
            "quantity('500000G').isInteger()",
            "!quantity('100m').isInteger()",
            "quantity('50k').asInteger() == 50000",
            "quantity('1e3').asInteger() == 1000",
            "quantity('1Ki').asInteger() == 1024",
            "quantity('9999999999999999999999999999999999999G').asApproximateFloat() > 9.9e45",
            "quantity('250m').asApproximateFloat() == 0.25",
            "quantity('50k').add(quantity('20k')) == quantity('70k')",
            "quantity('50k').add(20) == quantity('50020')",
            "quantity('50k').sub(quantity('20k')) == quantity('30k')",
            "quantity('50k').sub(20000) == quantity('30k')",
            "quantity('1Gi').sign() == 1 && quantity('-1').sign() == -1 && quantity('0').sign() == 0",
            "quantity('100n').isLessThan(quantity('1u'))",
            "quantity('1Ei').asInteger() == 1152921504606846976",
        ]);
        library_error(&[
            "quantity('1.5.5').isInteger()",
            "quantity('12 Gi').sign() == 1",
            "quantity('100m').asInteger() == 0",
            "quantity('10Ei').asInteger() > 0",
        ]);
    }
}
