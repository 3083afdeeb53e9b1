//! A CEL expression's cost, estimated before it runs, on the object it is
//! about to run on: the `cel` crate has no evaluation budget, so a hostile
//! rule (`lists.range(1000).all(x, lists.range(1000).all(y, …))`, a map over
//! a 10,000-item list nested three deep, a string doubled in a `cel.bind`
//! chain) would hang a run.
//!
//! The estimate walks the expression's tree once. Every value carries an
//! upper bound on its size (a list's length, a string's length, a map's
//! entries) and on the size of anything inside it; a field read from the
//! object (`self.spec.rules`) has its actual size. A comprehension
//! (`all`, `exists`, `map`, `filter`, `cel.bind` …) costs its range's
//! length times its body's cost, so nested ones multiply; string and list
//! functions cost the lengths they walk (`matches` the text's length times
//! the pattern's), and what they produce (`split`, `join`, `replace`, `+`)
//! is bounded by their inputs. Over [`BUDGET`] units the expression is not
//! evaluated. Kubernetes bounds one call of a validation expression to
//! 1,000,000 units of its own estimator (`PerCallLimit`); the units differ
//! but the order is the same: a rule walking a list of a few thousand items
//! a couple of times is fine, a product of three such lists is not.

use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue};
use cel::objects::Key;
use cel::Value;
use std::sync::Arc;

/// Units an expression may cost, at most, to be evaluated.
pub const BUDGET: f64 = 1_000_000.0;

/// `lists.range(n)` with an `n` not known: the crate's own bound.
const UNKNOWN_RANGE: f64 = 1_000_000.0;

#[derive(Clone, Copy, Debug)]
struct Est {
    cost: f64,
    /// Bound on the value's length.
    size: f64,
    /// Bound on the length of anything inside it.
    sub: f64,
}

impl Est {
    fn unit(cost: f64) -> Est {
        Est {
            cost,
            size: 1.0,
            sub: 1.0,
        }
    }
}

fn size(v: &Value) -> f64 {
    match v {
        Value::List(l) => l.len() as f64,
        Value::Map(m) => m.map.len() as f64,
        Value::String(s) => s.len() as f64,
        Value::Bytes(b) => b.len() as f64,
        _ => 1.0,
    }
}

/// The largest length anywhere inside `v` (itself excluded).
fn deep(v: &Value) -> f64 {
    match v {
        Value::List(l) => l.iter().map(|x| size(x).max(deep(x))).fold(1.0, f64::max),
        Value::Map(m) => m
            .map
            .values()
            .map(|x| size(x).max(deep(x)))
            .fold(1.0, f64::max),
        _ => 1.0,
    }
}

struct Scope<'a> {
    vars: &'a [(&'a str, Value)],
    /// Comprehension variables, innermost last.
    locals: Vec<(String, Est)>,
}

impl Scope<'_> {
    fn local(&self, name: &str) -> Option<Est> {
        self.locals
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, e)| *e)
    }

    /// A chain of fields and constant indexes from a bound variable: its
    /// value in the object (`Some(None)`: a field the object lacks, which
    /// the evaluation stops at; `None`: not such a chain).
    fn resolve(&self, e: &IdedExpr) -> Option<Option<&Value>> {
        match &e.expr {
            Expr::Ident(name) => {
                if self.local(name).is_some() {
                    return None;
                }
                self.vars
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| Some(v))
            }
            Expr::Select(s) if !s.test => match self.resolve(&s.operand)? {
                Some(Value::Map(m)) => Some(m.map.get(&Key::String(Arc::new(s.field.clone())))),
                Some(_) => None,
                None => Some(None),
            },
            Expr::Call(c) if c.func_name == "_[_]" && c.args.len() == 2 => {
                let on = self.resolve(&c.args[0])?;
                match (on, &c.args[1].expr) {
                    (None, _) => Some(None),
                    (Some(Value::List(l)), Expr::Literal(LiteralValue::Int(i))) => {
                        Some(usize::try_from(*i.inner()).ok().and_then(|i| l.get(i)))
                    }
                    (Some(Value::Map(m)), Expr::Literal(LiteralValue::String(k))) => {
                        Some(m.map.get(&Key::String(Arc::new(k.inner().to_string()))))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// What a resolved chain is worth.
    fn known(&self, e: &IdedExpr) -> Option<Est> {
        Some(match self.resolve(e)? {
            Some(v) => Est {
                cost: 1.0,
                size: size(v),
                sub: deep(v),
            },
            None => Est {
                cost: 1.0,
                size: 0.0,
                sub: 0.0,
            },
        })
    }
}

/// The estimated cost of `e` with `vars` bound.
pub fn estimate(e: &IdedExpr, vars: &[(&str, Value)]) -> f64 {
    let mut scope = Scope {
        vars,
        locals: Vec::new(),
    };
    est(e, &mut scope).cost
}

fn est(e: &IdedExpr, scope: &mut Scope) -> Est {
    match &e.expr {
        Expr::Unspecified => Est::unit(1.0),
        Expr::Literal(l) => {
            let len = match l {
                LiteralValue::String(s) => s.inner().len() as f64,
                LiteralValue::Bytes(b) => b.inner().len() as f64,
                _ => 1.0,
            };
            Est {
                cost: 0.0,
                size: len,
                sub: 1.0,
            }
        }
        Expr::Ident(name) => {
            if let Some(l) = scope.local(name) {
                return Est { cost: 1.0, ..l };
            }
            scope.known(e).unwrap_or(Est::unit(1.0))
        }
        Expr::Select(s) => {
            if let Some(k) = scope.known(e) {
                return k;
            }
            let op = est(&s.operand, scope);
            if s.test {
                return Est::unit(op.cost + 1.0);
            }
            Est {
                cost: op.cost + 1.0,
                size: op.sub,
                sub: op.sub,
            }
        }
        Expr::List(l) => {
            let items: Vec<Est> = l.elements.iter().map(|x| est(x, scope)).collect();
            Est {
                cost: 1.0 + items.iter().map(|x| x.cost).sum::<f64>(),
                size: items.len() as f64,
                sub: items.iter().map(|x| x.size.max(x.sub)).fold(1.0, f64::max),
            }
        }
        Expr::Map(m) => entries(
            m.entries.iter().flat_map(|x| match &x.expr {
                EntryExpr::MapEntry(me) => vec![&me.key, &me.value],
                EntryExpr::StructField(f) => vec![&f.value],
            }),
            m.entries.len(),
            scope,
        ),
        Expr::Struct(s) => entries(
            s.entries.iter().flat_map(|x| match &x.expr {
                EntryExpr::MapEntry(me) => vec![&me.key, &me.value],
                EntryExpr::StructField(f) => vec![&f.value],
            }),
            s.entries.len(),
            scope,
        ),
        Expr::Comprehension(c) => {
            let range = est(&c.iter_range, scope);
            let n = range.size;
            let item = Est {
                cost: 1.0,
                size: range.sub,
                sub: range.sub,
            };
            let init = est(&c.accu_init, scope);
            let depth = scope.locals.len();
            scope.locals.push((c.accu_var.clone(), init));
            scope.locals.push((c.iter_var.clone(), item));
            if let Some(v2) = &c.iter_var2 {
                scope.locals.push((v2.clone(), item));
            }
            let cond = est(&c.loop_cond, scope);
            let step = est(&c.loop_step, scope);
            scope.locals.truncate(depth);
            let grown = Est {
                cost: 1.0,
                size: init.size + n * (step.size - init.size).max(0.0),
                sub: init.sub.max(step.sub),
            };
            scope.locals.push((c.accu_var.clone(), grown));
            let result = est(&c.result, scope);
            scope.locals.truncate(depth);
            Est {
                cost: range.cost + init.cost + n * (cond.cost + step.cost) + result.cost,
                ..result
            }
        }
        Expr::Call(call) => {
            if let Some(k) = scope.known(e) {
                return k;
            }
            let target = call.target.as_ref().map(|t| est(t, scope));
            let args: Vec<Est> = call.args.iter().map(|a| est(a, scope)).collect();
            let base =
                1.0 + target.map_or(0.0, |t| t.cost) + args.iter().map(|a| a.cost).sum::<f64>();
            // The receiver: the target of a member call, or the first argument.
            let all: Vec<Est> = target.iter().copied().chain(args.iter().copied()).collect();
            let recv = all.first().copied().unwrap_or(Est::unit(0.0));
            let arg = |i: usize| all.get(i).copied().unwrap_or(Est::unit(0.0));
            let widest = all.iter().map(|a| a.size).fold(1.0, f64::max);
            let deepest = all.iter().map(|a| a.sub).fold(1.0, f64::max);
            // Like cel-go's: 1 per call, 1 per identifier or selection, and
            // a tenth of a unit per character a string function walks.
            let name = match (call.func_name.as_str(), call.target.as_deref()) {
                (
                    "range",
                    Some(IdedExpr {
                        expr: Expr::Ident(ns),
                        ..
                    }),
                ) if ns == "lists" => "lists.range",
                (n, _) => n,
            };
            let (work, size, sub) = match name {
                "_&&_"
                | "_||_"
                | "!_"
                | "-_"
                | "_<_"
                | "_<=_"
                | "_>_"
                | "_>=_"
                | "_-_"
                | "_*_"
                | "_/_"
                | "_%_"
                | "size"
                | "has"
                | "int"
                | "uint"
                | "double"
                | "bool"
                | "type"
                | "sign"
                | "isInteger"
                | "asInteger"
                | "asApproximateFloat"
                | "compareTo"
                | "isGreaterThan"
                | "isLessThan"
                | "@not_strictly_false" => (0.0, 1.0, 1.0),
                "_==_" | "_!=_" | "contains" | "startsWith" | "endsWith" | "indexOf"
                | "lastIndexOf" => (0.1 * widest, 1.0, 1.0),
                "@in" | "isSorted" | "sum" | "min" | "max" => {
                    (arg(1).size.max(recv.size), 1.0, 1.0)
                }
                "_?_:_" => (
                    1.0,
                    arg(1).size.max(arg(2).size),
                    arg(1).sub.max(arg(2).sub),
                ),
                "_+_" => (
                    recv.size + arg(1).size,
                    recv.size + arg(1).size,
                    recv.sub.max(arg(1).sub),
                ),
                "_[_]" => (1.0, recv.sub, recv.sub),
                "lists.range" => {
                    let n = match call.args.first().map(|a| &a.expr) {
                        Some(Expr::Literal(LiteralValue::Int(i))) => (*i.inner()).max(0) as f64,
                        _ => UNKNOWN_RANGE,
                    };
                    (n, n, 1.0)
                }
                "matches" | "find" => (0.1 * recv.size * arg(1).size.max(1.0), recv.size, 1.0),
                "findAll" => (0.1 * recv.size * arg(1).size.max(1.0), recv.size, recv.size),
                "split" => (0.1 * recv.size, recv.size + 1.0, recv.size),
                "join" => {
                    let out = recv.size * (recv.sub + arg(1).size);
                    (out, out, 1.0)
                }
                "replace" => {
                    let out = recv.size * arg(2).size.max(1.0);
                    (recv.size * arg(1).size.max(1.0) + out, out, 1.0)
                }
                "format" => {
                    let out = recv.size + arg(1).size * arg(1).sub;
                    (out, out, 1.0)
                }
                "distinct" => (recv.size * recv.size, recv.size, recv.sub),
                "sort" => (recv.size * recv.size.max(2.0).log2(), recv.size, recv.sub),
                "flatten" => (recv.size * recv.sub, recv.size * recv.sub, recv.sub),
                "lowerAscii" | "upperAscii" | "trim" | "reverse" | "substring" | "charAt"
                | "string" | "bytes" | "slice" | "quote" | "dyn" => {
                    (0.1 * recv.size, recv.size, recv.sub)
                }
                _ => (widest, widest, deepest),
            };
            Est {
                cost: base + work,
                size,
                sub,
            }
        }
    }
}

fn entries<'e>(exprs: impl Iterator<Item = &'e IdedExpr>, n: usize, scope: &mut Scope) -> Est {
    let items: Vec<Est> = exprs.map(|x| est(x, scope)).collect();
    Est {
        cost: 1.0 + items.iter().map(|x| x.cost).sum::<f64>(),
        size: n as f64,
        sub: items.iter().map(|x| x.size.max(x.sub)).fold(1.0, f64::max),
    }
}

#[cfg(test)]
mod tests {
    use super::super::cel_env::{to_cel, Env, Eval};
    use serde_json::json;
    use std::time::{Duration, Instant};

    fn run(expr: &str, data: serde_json::Value) -> (Eval, Duration) {
        let env = Env::new();
        let Ok(c) = env.compile(expr) else {
            panic!("{expr} does not compile")
        };
        let start = Instant::now();
        let out = env.eval(&c, &[("self", to_cel(&data))]);
        (out, start.elapsed())
    }

    #[track_caller]
    fn refused(expr: &str, data: serde_json::Value) {
        let env = Env::new();
        let Ok(c) = env.compile(expr) else {
            panic!("{expr} does not compile")
        };
        let cost = super::estimate(c.program_expression(), &[("self", to_cel(&data))]);
        assert!(cost > super::BUDGET, "{expr}: estimated {cost}");
        let (out, took) = run(expr, data);
        assert!(matches!(out, Eval::TooCostly(_)), "{expr} was evaluated");
        assert!(took < Duration::from_millis(500), "{expr} took {took:?}");
    }

    #[track_caller]
    fn evaluated(expr: &str, data: serde_json::Value) {
        let (out, _) = run(expr, data);
        if let Eval::TooCostly(c) = out {
            panic!("{expr} estimated {c}");
        }
        assert!(matches!(out, Eval::Value(_)), "{expr} was not evaluated");
    }

    #[test]
    fn hostile_expressions_are_refused_before_they_run() {
        // Nested comprehensions over big ranges: the product counts.
        refused(
            "lists.range(1000).all(x, lists.range(1000).all(y, lists.range(1000).all(z, x + y + z >= 0)))",
            json!({}),
        );
        refused(
            "lists.range(100000).all(x, lists.range(100000).exists(y, x == y))",
            json!({}),
        );
        // A range whose length is not a constant: the crate's own bound.
        refused(
            "lists.range(self.n).all(x, lists.range(self.n).all(y, true))",
            json!({"n": 5}),
        );
        // A 10,000-item list mapped three deep.
        let big: Vec<i64> = (0..10_000).collect();
        refused(
            "self.l.map(a, self.l.map(b, self.l.map(c, a + b + c)))",
            json!({"l": big}),
        );
        refused(
            "self.l.all(a, self.l.all(b, a != b || a == b))",
            json!({"l": big}),
        );
        // Strings doubled through bindings, then walked.
        refused(
            "cel.bind(a, self.s + self.s, cel.bind(b, a + a + a + a, cel.bind(c, b + b + b + b, cel.bind(d, c + c + c + c, d + d + d + d)))).matches('^(a+)+$')",
            json!({"s": "a".repeat(1000)}),
        );
        refused(
            "lists.range(1000).map(i, self.s).join('').split('').all(c, c == 'a')",
            json!({"s": "a".repeat(1000)}),
        );
        refused(
            "self.s.replace('a', self.s).replace('a', self.s).size() > 0",
            json!({"s": "a".repeat(1000)}),
        );
    }

    #[test]
    fn ordinary_expressions_run() {
        let big: Vec<i64> = (0..10_000).collect();
        let (out, took) = run("self.l.map(a, a * 2).all(x, x >= 0)", json!({"l": big}));
        assert!(matches!(out, Eval::Value(_)));
        assert!(took < Duration::from_secs(5), "took {took:?}");
        evaluated(
            "self.rules.all(r, r.matches.all(m, m.path.value.startsWith('/')))",
            json!({"rules": [{"matches": [{"path": {"value": "/a"}}]}]}),
        );
        evaluated(
            "self.items.exists(a, self.items.exists(b, a.name == b.name && a != b))",
            json!({"items": (0..200).map(|i| json!({"name": i.to_string()})).collect::<Vec<_>>()}),
        );
        evaluated(
            "self.s.matches('^[a-z]+$')",
            json!({"s": "a".repeat(10_000)}),
        );
    }
}
