//! ValidatingAdmissionPolicy and its bindings, evaluated on the objects of
//! the run as a CREATE would see them.
//!
//! A binding names a policy; the policy's `matchConstraints` (resource rules
//! and operations, `namespaceSelector` against the `Namespace` objects of the
//! run, `objectSelector`), the binding's `matchResources`, the policy's
//! `matchConditions`, `paramKind` with the binding's `paramRef` (params found
//! in the run) and `variables` decide what is checked; each `validation`
//! that is false is a finding, at the level the binding's
//! `validationActions` give (Deny → error, Warn → warning, Audit → note).
//! What a file cannot tell (`authorizer`, `request.userInfo`, params or
//! namespaces not in the run) is counted in a note, never guessed.

use super::cel_env::{self, Eval};
use super::{ADMISSION, COMPILE_ERROR};
use crate::finding::{Finding, Severity};
use crate::manifest::Node;
use crate::source::Span;
use cel::Value;
use serde_json::{json, Value as J};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// An object of the run, as admission sees it.
pub struct Object {
    pub path: Arc<str>,
    pub what: String,
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub json: J,
    pub anchor: Span,
}

/// A policy or binding as written.
pub struct Written {
    pub path: Arc<str>,
    pub name: String,
    pub root: Node,
}

#[derive(Default)]
pub struct Facts {
    pub policies: Vec<Written>,
    pub bindings: Vec<Written>,
    /// Namespace name → labels.
    pub namespaces: HashMap<String, BTreeMap<String, String>>,
}

/// Why some checks could not be made (for one note).
#[derive(Default)]
pub struct Unknowns {
    pub counts: BTreeMap<String, usize>,
    /// Library functions that refused their argument: `object (why)`.
    pub lib_errors: Vec<String>,
    /// Expressions over the cost budget: `` `expr` on object (cost) ``.
    pub too_costly: Vec<String>,
}

impl Unknowns {
    fn add(&mut self, what: impl Into<String>) {
        *self.counts.entry(what.into()).or_default() += 1;
    }
}

/// `Deployment` → `deployments` (the resource name rules use).
pub fn plural(kind: &str) -> String {
    let k = kind.to_ascii_lowercase();
    match k.as_str() {
        "endpoints" => k,
        _ if k.ends_with('s') || k.ends_with("x") || k.ends_with("ch") || k.ends_with("sh") => {
            format!("{k}es")
        }
        _ if k.ends_with('y') && !k.ends_with("ay") && !k.ends_with("ey") && !k.ends_with("oy") => {
            format!("{}ies", &k[..k.len() - 1])
        }
        _ => format!("{k}s"),
    }
}

fn strings(n: Option<&J>) -> Vec<String> {
    n.and_then(J::as_array)
        .map(|a| a.iter().filter_map(J::as_str).map(String::from).collect())
        .unwrap_or_default()
}

fn labels(obj: &J) -> BTreeMap<String, String> {
    obj.pointer("/metadata/labels")
        .and_then(J::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// A label selector (matchLabels, matchExpressions) against labels; an
/// absent or empty selector matches everything.
pub fn selects(selector: Option<&J>, labels: &BTreeMap<String, String>) -> bool {
    let Some(sel) = selector.filter(|s| s.is_object()) else {
        return true;
    };
    if let Some(ml) = sel.get("matchLabels").and_then(J::as_object) {
        if !ml
            .iter()
            .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
        {
            return false;
        }
    }
    for e in sel
        .get("matchExpressions")
        .and_then(J::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let key = e.get("key").and_then(J::as_str).unwrap_or_default();
        let values = strings(e.get("values"));
        let has = labels.get(key);
        let ok = match e.get("operator").and_then(J::as_str).unwrap_or_default() {
            "In" => has.is_some_and(|v| values.contains(v)),
            "NotIn" => has.is_none_or(|v| !values.contains(v)),
            "Exists" => has.is_some(),
            "DoesNotExist" => has.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

fn rule_matches(rule: &J, group: &str, version: &str, resource: &str) -> bool {
    let any = |list: Vec<String>, v: &str| list.iter().any(|x| x == "*" || x == v);
    any(strings(rule.get("apiGroups")), group)
        && any(strings(rule.get("apiVersions")), version)
        && strings(rule.get("resources"))
            .iter()
            .any(|r| r == "*" || r == resource)
        && any(strings(rule.get("operations")), "CREATE")
}

/// Whether `matchResources`-shaped constraints take the object, as far as
/// the run can tell: Some(true/false), or None when its namespace's labels
/// are not known.
fn constraints_match(
    c: Option<&J>,
    o: &Object,
    facts: &Facts,
    plurals: &HashMap<(String, String), String>,
) -> Option<bool> {
    let Some(c) = c.filter(|c| c.is_object()) else {
        return Some(true);
    };
    let (group, version) = match o.api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", o.api_version.as_str()),
    };
    let resource = plurals
        .get(&(o.api_version.clone(), o.kind.clone()))
        .cloned()
        .unwrap_or_else(|| plural(&o.kind));
    if let Some(rules) = c.get("resourceRules").and_then(J::as_array) {
        if !rules
            .iter()
            .any(|r| rule_matches(r, group, version, &resource))
        {
            return Some(false);
        }
    }
    if let Some(rules) = c.get("excludeResourceRules").and_then(J::as_array) {
        if rules
            .iter()
            .any(|r| rule_matches(r, group, version, &resource))
        {
            return Some(false);
        }
    }
    if !selects(c.get("objectSelector"), &labels(&o.json)) {
        return Some(false);
    }
    let ns_selector = c
        .get("namespaceSelector")
        .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()));
    if let Some(sel) = ns_selector {
        if o.kind == "Namespace" {
            return Some(selects(Some(sel), &labels(&o.json)));
        }
        match &o.namespace {
            // Cluster-scoped objects are not matched by a namespace selector.
            None => {}
            Some(ns) => match facts.namespaces.get(ns) {
                Some(l) => {
                    if !selects(Some(sel), l) {
                        return Some(false);
                    }
                }
                None => return None,
            },
        }
    }
    Some(true)
}

/// Which objects the run's policies can check, known before the objects are
/// read again: the policies' resource rules and param kinds.
pub struct Wanted {
    /// Every policy's `matchConstraints.resourceRules`; `None` for a policy
    /// without (it may match anything).
    rules: Option<Vec<J>>,
    params: Vec<(String, String)>,
}

impl Wanted {
    pub fn new(facts: &Facts) -> Wanted {
        let mut rules = Some(Vec::new());
        let mut params = Vec::new();
        for p in &facts.policies {
            let spec = p.root.get("spec").map(Node::to_json).unwrap_or(J::Null);
            match spec
                .pointer("/matchConstraints/resourceRules")
                .and_then(J::as_array)
            {
                Some(r) => {
                    if let Some(all) = rules.as_mut() {
                        all.extend(r.iter().cloned());
                    }
                }
                None => rules = None,
            }
            if let Some(pk) = spec.get("paramKind") {
                params.push((
                    pk.get("apiVersion")
                        .and_then(J::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    pk.get("kind")
                        .and_then(J::as_str)
                        .unwrap_or_default()
                        .to_string(),
                ));
            }
        }
        Wanted { rules, params }
    }

    /// Whether an object of this kind may be checked (or be a param).
    pub fn wants(
        &self,
        api_version: &str,
        kind: &str,
        plurals: &HashMap<(String, String), String>,
    ) -> bool {
        if self
            .params
            .iter()
            .any(|(v, k)| v == api_version && k == kind)
        {
            return true;
        }
        let Some(rules) = &self.rules else {
            return true;
        };
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let resource = plurals
            .get(&(api_version.to_string(), kind.to_string()))
            .cloned()
            .unwrap_or_else(|| plural(kind));
        rules
            .iter()
            .any(|r| rule_matches(r, group, version, &resource))
    }
}

fn severity_of(actions: &[String]) -> Severity {
    if actions.iter().any(|a| a == "Deny") {
        Severity::Error
    } else if actions.iter().any(|a| a == "Warn") {
        Severity::Warning
    } else {
        Severity::Note
    }
}

struct Expr {
    text: String,
    span: Span,
    compiled: cel_env::Compiled,
}

/// Compiles the expression at `node` (a `{expression: …}` entry's field);
/// a compile error is a finding on it.
fn compile(
    env: &cel_env::Env,
    policy: &Written,
    node: &Node,
    field: &str,
    out: &mut Vec<Finding>,
) -> Option<Expr> {
    let text_node = node.get(field)?;
    let text = text_node.as_str()?.to_string();
    match env.compile(&text) {
        Ok(compiled) => Some(Expr {
            text,
            span: text_node.span,
            compiled,
        }),
        Err(e) => {
            let why = match e {
                cel_env::CompileError::Syntax(m) => format!("does not compile: {m}"),
                cel_env::CompileError::TooCostly(m) => format!("is not evaluated: {m}"),
            };
            out.push(
                Finding::from_rule(
                    &COMPILE_ERROR,
                    &policy.path,
                    text_node.span,
                    format!(
                        "an expression of ValidatingAdmissionPolicy {} {why}",
                        policy.name
                    ),
                )
                .with_key(format!("vap:{}:{}", policy.name, text)),
            );
            None
        }
    }
}

/// Reads a variable no offline run can know.
fn unknowable(e: &Expr) -> Option<&'static str> {
    if e.compiled.variables.iter().any(|v| v == "authorizer") {
        Some("authorizer")
    } else if e.text.contains("request.userInfo") {
        Some("request.userInfo")
    } else {
        None
    }
}

fn costly(e: &Expr, o: &Object, cost: f64) -> String {
    format!(
        "`{}` on {} (about {cost:.0})",
        crate::text::one_line(&e.text, 80),
        o.what
    )
}

pub fn check(
    facts: &Facts,
    objects: &[Object],
    plurals: &HashMap<(String, String), String>,
    out: &mut Vec<Finding>,
    unknown: &mut Unknowns,
) {
    if facts.policies.is_empty() {
        return;
    }
    let env = cel_env::Env::new();
    let policies: HashMap<&str, &Written> = facts
        .policies
        .iter()
        .map(|p| (p.name.as_str(), p))
        .collect();
    // Compile each policy's expressions once.
    struct Compiled<'a> {
        policy: &'a Written,
        spec: J,
        conditions: Vec<Expr>,
        variables: Vec<(String, Expr)>,
        validations: Vec<(Expr, Option<String>, Option<Expr>)>,
    }
    let mut compiled: HashMap<&str, Compiled> = HashMap::new();
    for p in &facts.policies {
        let Some(spec_node) = p.root.get("spec") else {
            continue;
        };
        let spec = spec_node.to_json();
        let mut c = Compiled {
            policy: p,
            spec,
            conditions: Vec::new(),
            variables: Vec::new(),
            validations: Vec::new(),
        };
        for n in spec_node
            .get("matchConditions")
            .map(Node::as_seq)
            .unwrap_or(&[])
        {
            if let Some(e) = compile(&env, p, n, "expression", out) {
                c.conditions.push(e);
            }
        }
        for n in spec_node.get("variables").map(Node::as_seq).unwrap_or(&[]) {
            let name = n
                .get("name")
                .and_then(Node::as_str)
                .unwrap_or_default()
                .to_string();
            if let Some(e) = compile(&env, p, n, "expression", out) {
                c.variables.push((name, e));
            }
        }
        for n in spec_node
            .get("validations")
            .map(Node::as_seq)
            .unwrap_or(&[])
        {
            let Some(e) = compile(&env, p, n, "expression", out) else {
                continue;
            };
            let message = n.get("message").and_then(Node::as_str).map(String::from);
            let message_expr = compile(&env, p, n, "messageExpression", out);
            c.validations.push((e, message, message_expr));
        }
        compiled.insert(p.name.as_str(), c);
    }
    for b in &facts.bindings {
        let Some(spec) = b.root.get("spec").map(Node::to_json) else {
            continue;
        };
        let Some(policy_name) = spec.get("policyName").and_then(J::as_str) else {
            continue;
        };
        let Some(c) = compiled.get(policy_name) else {
            if !policies.contains_key(policy_name) {
                unknown.add("bindings whose policy is not in the run");
            }
            continue;
        };
        let actions = strings(spec.get("validationActions"));
        let severity = severity_of(&actions);
        // Params: the binding's paramRef, found among the run's objects.
        let params = match (c.spec.get("paramKind"), spec.get("paramRef")) {
            (Some(kind), Some(pref)) => {
                let pk = kind.get("kind").and_then(J::as_str).unwrap_or_default();
                let pv = kind
                    .get("apiVersion")
                    .and_then(J::as_str)
                    .unwrap_or_default();
                let name = pref.get("name").and_then(J::as_str);
                let found = objects.iter().find(|o| {
                    o.kind == pk
                        && o.api_version == pv
                        && name.is_some_and(|n| {
                            o.json.pointer("/metadata/name").and_then(J::as_str) == Some(n)
                        })
                });
                match found {
                    Some(o) => Some(cel_env::to_cel(&o.json)),
                    None => {
                        unknown.add("bindings whose params are not in the run");
                        continue;
                    }
                }
            }
            (Some(_), None) => {
                unknown.add("bindings without a paramRef for a policy with paramKind");
                continue;
            }
            _ => None,
        };
        for o in objects {
            let m1 = constraints_match(c.spec.get("matchConstraints"), o, facts, plurals);
            let m2 = constraints_match(spec.get("matchResources"), o, facts, plurals);
            match (m1, m2) {
                (Some(true), Some(true)) => {}
                (Some(false), _) | (_, Some(false)) => continue,
                _ => {
                    unknown.add("objects in namespaces not in the run");
                    continue;
                }
            }
            let (group, version) = match o.api_version.rsplit_once('/') {
                Some((g, v)) => (g.to_string(), v.to_string()),
                None => (String::new(), o.api_version.clone()),
            };
            let request = json!({
                "operation": "CREATE",
                "kind": {"group": group, "version": version, "kind": o.kind},
                "name": o.json.pointer("/metadata/name"),
                "namespace": o.namespace,
                "dryRun": false,
            });
            let mut vars: Vec<(&str, Value)> = vec![
                ("object", cel_env::to_cel(&o.json)),
                ("oldObject", Value::Null),
                ("request", cel_env::to_cel(&request)),
                ("params", params.clone().unwrap_or(Value::Null)),
                (
                    "namespaceObject",
                    o.namespace
                        .as_ref()
                        .and_then(|ns| {
                            facts
                                .namespaces
                                .get(ns)
                                .map(|l| json!({"metadata": {"name": ns, "labels": l}}))
                        })
                        .map_or(Value::Null, |j| cel_env::to_cel(&j)),
                ),
            ];
            // matchConditions: all must hold.
            let mut skip = false;
            for e in &c.conditions {
                if let Some(what) = unknowable(e) {
                    unknown.add(format!("expressions reading {what}"));
                    skip = true;
                    break;
                }
                match env.eval(&e.compiled, &vars) {
                    Eval::Value(Value::Bool(true)) => {}
                    Eval::Value(Value::Bool(false)) => {
                        skip = true;
                        break;
                    }
                    Eval::Unsupported(what) => {
                        unknown.add(format!("expressions using {what}"));
                        skip = true;
                        break;
                    }
                    Eval::TooCostly(cost) => {
                        unknown.too_costly.push(costly(e, o, cost));
                        skip = true;
                        break;
                    }
                    Eval::LibraryError(m) => {
                        unknown.lib_errors.push(format!("{} ({m})", o.what));
                        skip = true;
                        break;
                    }
                    _ => {
                        unknown.add("match conditions that fail to evaluate");
                        skip = true;
                        break;
                    }
                }
            }
            if skip {
                continue;
            }
            // variables, in order; each may read the ones before it.
            let mut values: HashMap<String, J> = HashMap::new();
            let mut var_map = Value::Null;
            for (name, e) in &c.variables {
                let with: Vec<(&str, Value)> = vars
                    .iter()
                    .cloned()
                    .chain([("variables", var_map.clone())])
                    .collect();
                if let Eval::Value(v) = env.eval(&e.compiled, &with) {
                    if let Ok(j) = v.json() {
                        values.insert(name.clone(), j);
                    }
                }
                var_map = cel_env::to_cel(&json!(values));
            }
            vars.push(("variables", var_map));
            for (e, message, message_expr) in &c.validations {
                if let Some(what) = unknowable(e) {
                    unknown.add(format!("expressions reading {what}"));
                    continue;
                }
                let (fails, error) = match env.eval(&e.compiled, &vars) {
                    Eval::Value(Value::Bool(b)) => (!b, None),
                    Eval::Value(_) => (false, None),
                    Eval::Unsupported(what) => {
                        unknown.add(format!("expressions using {what}"));
                        (false, None)
                    }
                    Eval::TooCostly(cost) => {
                        unknown.too_costly.push(costly(e, o, cost));
                        (false, None)
                    }
                    Eval::LibraryError(m) => {
                        unknown.lib_errors.push(format!("{} ({m})", o.what));
                        (false, None)
                    }
                    // The API server rejects on an evaluation error too.
                    Eval::Error(m) => (true, Some(m)),
                };
                if !fails {
                    continue;
                }
                let msg = message_expr
                    .as_ref()
                    .and_then(|m| match env.eval(&m.compiled, &vars) {
                        Eval::Value(Value::String(s)) if !s.trim().is_empty() => {
                            Some(s.to_string())
                        }
                        _ => None,
                    })
                    .or_else(|| message.clone())
                    .unwrap_or_else(|| format!("failed expression: {}", e.text));
                let msg = match error {
                    Some(err) => format!("{msg} (the expression fails to evaluate: {err})"),
                    None => msg,
                };
                out.push(
                    Finding::from_rule(
                        &ADMISSION,
                        &o.path,
                        o.anchor,
                        format!(
                            "{}: {} (ValidatingAdmissionPolicy {} via binding {}, {})",
                            o.what,
                            crate::text::one_line(&msg, 200),
                            crate::text::one_line(&c.policy.name, 80),
                            crate::text::one_line(&b.name, 80),
                            if actions.is_empty() {
                                "no validationActions".to_string()
                            } else {
                                actions.join("+")
                            }
                        ),
                    )
                    // The binding's validationActions set the level.
                    .with_severity(severity)
                    .with_key(format!("{}:{}:{}", o.what, c.policy.name, e.text))
                    .with_property("policy", c.policy.name.clone())
                    .with_property("binding", b.name.clone())
                    .with_property("policyLine", e.span.line),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_become_resources() {
        assert_eq!(plural("Deployment"), "deployments");
        assert_eq!(plural("Ingress"), "ingresses");
        assert_eq!(plural("NetworkPolicy"), "networkpolicies");
        assert_eq!(plural("Endpoints"), "endpoints");
        assert_eq!(plural("Gateway"), "gateways");
    }

    #[test]
    fn label_selectors() {
        let l: BTreeMap<String, String> = [("env".to_string(), "prod".to_string())].into();
        assert!(selects(Some(&json!({"matchLabels": {"env": "prod"}})), &l));
        assert!(!selects(Some(&json!({"matchLabels": {"env": "dev"}})), &l));
        assert!(selects(
            Some(
                &json!({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]})
            ),
            &l
        ));
        assert!(!selects(
            Some(&json!({"matchExpressions": [{"key": "team", "operator": "Exists"}]})),
            &l
        ));
        assert!(selects(Some(&json!({})), &l));
    }
}
