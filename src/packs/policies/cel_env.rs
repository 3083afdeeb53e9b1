//! The CEL environment the API server gives validation rules, as far as the
//! `cel` crate provides it: the standard library and macros (`has`, `all`,
//! `exists`, `exists_one`, `map`, `filter`), and the strings, lists and math
//! extensions. What it lacks (Kubernetes' `quantity()`, `url()`, `ip()`,
//! `cidr()`, `isSorted()` …) makes a rule *unsupported*, never failed.
//!
//! Cost: the API server bounds a rule's cost with its own estimator; here a
//! rule is bounded before it runs — by length and by how deeply its
//! comprehension macros nest (each level multiplies the work by a list's
//! length) — so a hostile CRD cannot hang a run.

use crate::text::one_line;
use cel::objects::{Key, Map};
use cel::{ExecutionError, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The longest rule evaluated.
const MAX_RULE_BYTES: usize = 4096;
/// The deepest nesting of comprehension macros evaluated.
const MAX_MACRO_DEPTH: usize = 3;
/// Macros (and member calls) at most, in one rule.
const MAX_MACROS: usize = 16;
/// The deepest nesting of brackets, and the most operators, selections and
/// indexes, in a rule
/// evaluated (cel-go's parser stops at a recursion depth of 250).
const MAX_NESTING: usize = 32;
const MAX_OPERATORS: usize = 200;
/// The largest node (as JSON) a rule is evaluated on.
const MAX_NODE_BYTES: usize = 1 << 20;

const MACROS: &[&str] = &["all", "exists", "exists_one", "map", "filter"];

pub struct Compiled {
    program: cel::Program,
    pub uses_old_self: bool,
    /// Variables it reads (`object`, `params`, `authorizer` …).
    pub variables: Vec<String>,
}

/// What an expression gave.
pub enum Eval {
    Value(Value),
    /// Uses something this build does not provide (named).
    Unsupported(String),
    /// A runtime error (a missing field read without `has()` …).
    Error(String),
    /// A Kubernetes library function refused its argument (an invalid
    /// quantity, IP, CIDR or URL string): said in a note, as this build's
    /// parsers of those formats may differ from the API server's.
    LibraryError(String),
    /// Its estimated cost on this object is over the budget: not evaluated.
    TooCostly(f64),
}

pub enum CompileError {
    Syntax(String),
    TooCostly(String),
}

pub enum Verdict {
    Holds,
    /// False, or an evaluation error the API server would report as invalid
    /// (e.g. a missing field read without `has()`).
    Fails,
    /// Uses something this build does not provide (named).
    Unsupported(String),
    /// A Kubernetes library function refused its argument (said in a note).
    LibraryError(String),
    /// Over the cost budget on this node: not evaluated.
    TooCostly(f64),
}

pub struct Env {
    env: Arc<cel::Env>,
}

/// What a rule's text says about its cost, read before the parser sees it
/// (strings skipped): how deeply comprehension macros nest and how many
/// there are, how deeply brackets nest, and how many operators, selections
/// and indexes it has. The parser and the evaluator recurse over the
/// expression's tree: a rule of 4 KB with a thousand `+`, `[0]` or brackets
/// would overflow the stack.
#[derive(Debug, Default, PartialEq, Eq)]
struct Shape {
    macro_depth: usize,
    macros: usize,
    nesting: usize,
    operators: usize,
}

fn shape(src: &str) -> Shape {
    let mut out = Shape::default();
    // One entry per open bracket: whether it opened a macro's arguments.
    let mut stack: Vec<bool> = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    let mut in_operator = false;
    while i < bytes.len() {
        let c = bytes[i];
        let operator_char = quote.is_none() && b"+-*/%<>=!&|?:".contains(&c);
        if operator_char && !in_operator {
            out.operators += 1;
        }
        // A selection (`.name`) or an index (`[…]`) is a level of the tree too.
        let selection = quote.is_none()
            && (c == b'[' || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic)));
        if selection {
            out.operators += 1;
        }
        in_operator = operator_char;
        if let Some(q) = quote {
            if c == b'\\' {
                i += 1;
            } else if c == q {
                quote = None;
            }
        } else if c == b'"' || c == b'\'' {
            quote = Some(c);
        } else if c == b'(' || c == b'[' || c == b'{' {
            let before = &src[..i];
            let name_start = before
                .rfind(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .map_or(0, |p| p + 1);
            let is_macro = c == b'('
                && before[..name_start].ends_with('.')
                && MACROS.contains(&&before[name_start..]);
            if is_macro {
                out.macros += 1;
            }
            stack.push(is_macro);
            out.nesting = out.nesting.max(stack.len());
            out.macro_depth = out.macro_depth.max(stack.iter().filter(|m| **m).count());
        } else if c == b')' || c == b']' || c == b'}' {
            stack.pop();
        }
        i += 1;
    }
    out
}

/// CEL's reserved words: a property so named is escaped as `__name__`.
const RESERVED: &[&str] = &[
    "as",
    "break",
    "const",
    "continue",
    "else",
    "false",
    "for",
    "function",
    "if",
    "import",
    "in",
    "let",
    "loop",
    "namespace",
    "null",
    "package",
    "return",
    "true",
    "var",
    "void",
];

/// JSON as the API server hands it to CEL: integers are `int`.
pub fn to_cel(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => Value::UInt(u),
            _ => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        J::String(s) => Value::String(Arc::new(s.clone())),
        J::Array(items) => Value::List(Arc::new(items.iter().map(to_cel).collect())),
        J::Object(map) => {
            let mut m: HashMap<Key, Value> = HashMap::with_capacity(map.len());
            for (k, v) in map {
                let value = to_cel(v);
                // A property named by a CEL reserved word is read escaped
                // (`self.__namespace__`), as the API server names it.
                if RESERVED.contains(&k.as_str()) {
                    m.insert(Key::String(Arc::new(format!("__{k}__"))), value.clone());
                }
                m.insert(Key::String(Arc::new(k.clone())), value);
            }
            Value::Map(Map { map: Arc::new(m) })
        }
    }
}

#[cfg(test)]
impl Compiled {
    pub fn program_expression(&self) -> &cel::IdedExpr {
        self.program.expression()
    }
}

impl Env {
    pub fn new() -> Self {
        let mut env = cel::Env::stdlib();
        // Each returns an error only when a name is declared twice.
        let _ = env.add_extension(cel::extensions::strings);
        let _ = env.add_extension(cel::extensions::lists);
        let _ = env.add_extension(cel::extensions::math);
        super::k8s_lib::register(&mut env);
        Env { env: Arc::new(env) }
    }

    pub fn compile(&self, src: &str) -> Result<Compiled, CompileError> {
        if src.len() > MAX_RULE_BYTES {
            return Err(CompileError::TooCostly(format!(
                "it is {} bytes long (at most {MAX_RULE_BYTES} are evaluated)",
                src.len()
            )));
        }
        let Shape {
            macro_depth,
            macros,
            nesting,
            operators,
        } = shape(src);
        if macro_depth > MAX_MACRO_DEPTH || macros > MAX_MACROS {
            return Err(CompileError::TooCostly(format!(
                "its comprehension macros nest {macro_depth} deep ({macros} in all; at most {MAX_MACRO_DEPTH} deep and {MAX_MACROS} are evaluated)"
            )));
        }
        if nesting > MAX_NESTING || operators > MAX_OPERATORS {
            return Err(CompileError::TooCostly(format!(
                "its brackets nest {nesting} deep and it has {operators} operators, selections and indexes (at most {MAX_NESTING} and {MAX_OPERATORS} are evaluated)"
            )));
        }
        let program = self.env.compile(src).map_err(|e| {
            // The parser's first line says what is wrong; the rest echoes the rule.
            let msg = e.to_string();
            let first = msg.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            CompileError::Syntax(one_line(first.trim_start_matches("ERROR: "), 200))
        })?;
        let refs = program.references();
        let uses_old_self = refs.has_variable("oldSelf");
        let variables = refs.variables().into_iter().map(String::from).collect();
        Ok(Compiled {
            program,
            uses_old_self,
            variables,
        })
    }

    pub fn holds(&self, c: &Compiled, node: &serde_json::Value) -> Verdict {
        if serde_json::to_vec(node).map_or(true, |b| b.len() > MAX_NODE_BYTES) {
            return Verdict::Unsupported("a node larger than 1 MiB".into());
        }
        match self.eval(c, &[("self", to_cel(node))]) {
            Eval::Value(Value::Bool(true)) => Verdict::Holds,
            Eval::Value(Value::Bool(false)) => Verdict::Fails,
            Eval::Value(_) => Verdict::Unsupported("a rule that does not return a bool".into()),
            Eval::Unsupported(what) => Verdict::Unsupported(what),
            Eval::LibraryError(m) => Verdict::LibraryError(m),
            Eval::TooCostly(c) => Verdict::TooCostly(c),
            Eval::Error(_) => Verdict::Fails,
        }
    }

    /// Evaluates with the given variables bound.
    pub fn eval(&self, c: &Compiled, vars: &[(&str, Value)]) -> Eval {
        let cost = super::cost::estimate(c.program.expression(), vars);
        if cost > super::cost::BUDGET {
            return Eval::TooCostly(cost);
        }
        let mut ctx = cel::Context::with_env(self.env.clone());
        for (name, value) in vars {
            ctx.add_variable_from_value(*name, value.clone());
        }
        match c.program.execute(&ctx) {
            Ok(v) => Eval::Value(v),
            // What this build does not declare is, in practice, a function
            // (Kubernetes' `quantity`, `url` …); the variables are bound.
            Err(ExecutionError::UndeclaredReference(name)) => {
                Eval::Unsupported(one_line(&format!("{name}()"), 40))
            }
            Err(ExecutionError::NoSuchOverload(o)) => {
                Eval::Unsupported(one_line(&format!("{}()", o.function()), 40))
            }
            Err(ExecutionError::FunctionError { function, message })
                if super::k8s_lib::LIBRARY.contains(&function.as_str()) =>
            {
                Eval::LibraryError(one_line(&format!("{function}(): {message}"), 160))
            }
            Err(e) => Eval::Error(one_line(&e.to_string(), 160)),
        }
    }

    /// An evaluated `messageExpression` (a string), if it evaluates.
    pub fn message(&self, expr: &str, node: &serde_json::Value) -> Option<String> {
        let c = self.compile(expr).ok()?;
        match self.eval(&c, &[("self", to_cel(node))]) {
            Eval::Value(Value::String(s)) if !s.trim().is_empty() => Some(s.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn verdict(rule: &str, node: serde_json::Value) -> &'static str {
        let env = Env::new();
        let c = match env.compile(rule) {
            Ok(c) => c,
            Err(CompileError::Syntax(_)) => return "syntax",
            Err(CompileError::TooCostly(_)) => return "costly",
        };
        match env.holds(&c, &node) {
            Verdict::Holds => "holds",
            Verdict::Fails => "fails",
            Verdict::Unsupported(_) => "unsupported",
            Verdict::LibraryError(_) => "library error",
            Verdict::TooCostly(_) => "over budget",
        }
    }

    #[test]
    fn kubernetes_documentation_rules() {
        // From the CRD validation-rules examples in the Kubernetes docs.
        let spec = json!({"minReplicas": 1, "replicas": 3, "maxReplicas": 5});
        assert_eq!(
            verdict(
                "self.minReplicas <= self.replicas && self.replicas <= self.maxReplicas",
                spec.clone()
            ),
            "holds"
        );
        assert_eq!(
            verdict(
                "self.minReplicas <= self.replicas && self.replicas <= self.maxReplicas",
                json!({"minReplicas": 4, "replicas": 3, "maxReplicas": 5})
            ),
            "fails"
        );
        assert_eq!(
            verdict(
                "'Available' in self.stateCounts",
                json!({"stateCounts": {"Available": 1}})
            ),
            "holds"
        );
        assert_eq!(
            verdict(
                "(size(self.list1) == 0) != (size(self.list2) == 0)",
                json!({"list1": [], "list2": [1]})
            ),
            "holds"
        );
        assert_eq!(
            verdict(
                "!('MY_KEY' in self.map1) || self['MY_KEY'].matches('^[a-zA-Z]*$')",
                json!({"map1": {}})
            ),
            "holds"
        );
        assert_eq!(
            verdict(
                "self.envars.filter(e, e.name == 'MY_ENV').all(e, e.value.matches('^[a-zA-Z]*$'))",
                json!({"envars": [{"name": "MY_ENV", "value": "abc1"}]})
            ),
            "fails"
        );
        assert_eq!(
            verdict(
                "has(self.expired) && self.created + self.ttl < self.expired",
                json!({"created": 1})
            ),
            "fails"
        );
        assert_eq!(
            verdict("self.health.startsWith('ok')", json!({"health": "ok now"})),
            "holds"
        );
        assert_eq!(
            verdict(
                "self.widgets.exists(w, w.key == 'x' && w.foo < 10)",
                json!({"widgets": [{"key": "x", "foo": 3}]})
            ),
            "holds"
        );
        assert_eq!(
            verdict(
                "type(self) == string ? self == '99%' : self == 42",
                json!(42)
            ),
            "holds"
        );
        assert_eq!(
            verdict(
                "self.metadata.name.startsWith(self.prefix)",
                json!({"metadata": {"name": "a-b"}, "prefix": "a"})
            ),
            "holds"
        );
        assert_eq!(
            verdict(
                "self.set1.all(e, !(e in self.set2))",
                json!({"set1": ["a"], "set2": ["b"]})
            ),
            "holds"
        );
        assert_eq!(
            verdict(
                "size(self.names) == size(self.names.map(n, n).filter(n, n != ''))",
                json!({"names": ["a", ""]})
            ),
            "fails"
        );
        // A missing field read without has(): the API server reports it invalid.
        assert_eq!(verdict("self.missing > 0", json!({})), "fails");
    }

    #[test]
    fn what_cannot_be_evaluated_is_said_not_guessed() {
        assert_eq!(
            verdict(
                "semver(self.v).isLessThan(semver('1.2.0'))",
                json!({"v": "1.0.0"})
            ),
            "unsupported"
        );
        assert_eq!(
            verdict(
                "quantity(self.mem).isLessThan(quantity('1Gi'))",
                json!({"mem": "2Gi"})
            ),
            "fails"
        );
        assert_eq!(
            verdict(
                "quantity(self.mem).isLessThan(quantity('1Gi'))",
                json!({"mem": "2 GB"})
            ),
            "library error"
        );
        assert_eq!(verdict("self.replicas >", json!({})), "syntax");
        let deep = "self.a.all(x, x.b.all(y, y.c.all(z, z.d.all(w, w > 0))))";
        assert_eq!(verdict(deep, json!({"a": []})), "costly");
        assert_eq!(
            verdict(&"true && ".repeat(1000).to_string(), json!({})),
            "costly"
        );
        // Parentheses inside strings do not count.
        let s = shape("self.a.all(x, x == '(.all(')");
        assert_eq!((s.macro_depth, s.macros), (1, 1));
        // Deep trees overflow the parser's stack: refused before it runs.
        assert_eq!(
            verdict(
                &format!("{}1{} == 1", "(".repeat(1900), ")".repeat(1900)),
                json!({})
            ),
            "costly"
        );
        assert_eq!(
            verdict(&format!("1{} > 0", "+1".repeat(1300)), json!({})),
            "costly"
        );
        assert_eq!(shape("self.a[0] + {'k': [1]}['k'][0] > -1").nesting, 2);
        let env = Env::new();
        assert!(env
            .compile("self.replicas == oldSelf.replicas")
            .is_ok_and(|c| c.uses_old_self));
        assert_eq!(
            env.message(
                "'replicas ' + string(self.replicas) + ' is too many'",
                &json!({"replicas": 9})
            )
            .as_deref(),
            Some("replicas 9 is too many")
        );
    }
}
