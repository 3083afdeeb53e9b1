//! The policies pack end to end: ValidatingAdmissionPolicies and their
//! bindings matched to the objects of a run (levels from validationActions,
//! object and namespace selectors, params, what a file cannot tell), and
//! CRD rules at list items. The one-rule cases are in tests/fixtures/rules.

mod common;

use common::{findings, json_run, shiplint};
use serde_json::Value;

/// (rule, level, path, line) of a finding.
type Seen = (String, String, String, u64);

fn scan(files: &[(&str, &str)]) -> (Vec<Seen>, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let (code, doc, stderr) = json_run(shiplint(dir.path()).args([
        "scan",
        "--no-config",
        "--packs",
        "policies",
        "--format",
        "json",
        "--fail-on",
        "never",
        ".",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let list = findings(&doc)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["span"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    (list, doc, stderr)
}

const POLICY: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: no-latest
spec:
  paramKind:
    apiVersion: v1
    kind: ConfigMap
  matchConstraints:
    resourceRules:
      - apiGroups: ["apps"]
        apiVersions: ["*"]
        operations: ["*"]
        resources: ["deployments", "statefulsets"]
    objectSelector:
      matchExpressions:
        - key: policy
          operator: NotIn
          values: ["exempt"]
  matchConditions:
    - name: not-system
      expression: "!object.metadata.name.startsWith('system-')"
  validations:
    - expression: "object.spec.template.spec.containers.all(c, !c.image.endsWith(params.data.forbidden))"
      message: images must be pinned
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: no-latest-warn
spec:
  policyName: no-latest
  validationActions: [Warn, Audit]
  paramRef:
    name: image-policy
    namespace: policy
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: image-policy
  namespace: policy
data:
  forbidden: ":latest"
"#;

fn deployment(name: &str, ns: &str, image: &str, labels: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {labels}\nspec:\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n        - name: app\n          image: {image}\n"
    )
}

#[test]
fn bindings_decide_level_selectors_and_params() {
    let apps = [
        deployment("web", "shop", "nginx:latest", "{}"),
        deployment("pinned", "shop", "nginx:1.27", "{}"),
        deployment("legacy", "shop", "nginx:latest", "{policy: exempt}"),
        deployment("system-agent", "shop", "agent:latest", "{}"),
    ]
    .join("---\n");
    let (list, _, _) = scan(&[("policy.yaml", POLICY), ("apps.yaml", &apps)]);
    // Warn (with Audit) is a warning; only `web` fails: `pinned` holds, the
    // object selector leaves `legacy` out, the match condition `system-agent`.
    assert_eq!(
        list,
        vec![(
            "policies/admission".to_string(),
            "warning".to_string(),
            "apps.yaml".to_string(),
            4
        )]
    );
}

#[test]
fn what_a_file_cannot_tell_is_a_note() {
    let policy = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: checks
spec:
  matchConstraints:
    namespaceSelector:
      matchLabels:
        env: prod
    resourceRules:
      - apiGroups: ["apps"]
        apiVersions: ["v1"]
        operations: ["CREATE"]
        resources: ["deployments"]
  validations:
    - expression: "authorizer.group('apps').resource('deployments').check('create').allowed()"
    - expression: "object.metadata.name != 'web'"
      message: web is reserved
    - expression: "object.spec.replicas >"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: checks
spec:
  policyName: checks
  validationActions: [Deny]
"#;
    // `shop` is not a Namespace of the run: its labels are unknown.
    let app = deployment("web", "shop", "nginx:1.27", "{}");
    let (list, doc, _) = scan(&[("policy.yaml", policy), ("app.yaml", &app)]);
    assert_eq!(
        list,
        vec![(
            "policies/compile-error".to_string(),
            "warning".to_string(),
            "policy.yaml".to_string(),
            19
        )]
    );
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("objects in namespaces not in the run"),
        "{notes}"
    );
    // With the namespace in the run (labelled prod), the Deny applies and
    // the authorizer expression is reported as unknowable, not guessed.
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    env: prod\n";
    let (list, doc, _) = scan(&[("policy.yaml", policy), ("app.yaml", &app), ("ns.yaml", ns)]);
    let rules: Vec<(&str, &str)> = list.iter().map(|f| (f.0.as_str(), f.1.as_str())).collect();
    assert_eq!(
        rules,
        vec![
            ("policies/admission", "error"),
            ("policies/compile-error", "warning")
        ]
    );
    let notes = doc["notes"].to_string();
    assert!(notes.contains("authorizer"), "{notes}");
    let msg = findings(&doc)[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("web is reserved") && msg.contains("binding checks, Deny"),
        "{msg}"
    );
}

#[test]
fn crd_rules_apply_to_list_items_and_skip_transition_rules() {
    let crd = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gateways.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    kind: Gateway
    plural: gateways
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-validations:
                - rule: "self.listeners == oldSelf.listeners"
                  message: listeners are immutable
              properties:
                listeners:
                  type: array
                  items:
                    type: object
                    x-kubernetes-validations:
                      - rule: "self.protocol != 'HTTPS' || has(self.tls)"
                        messageExpression: "'listener ' + self.name + ' needs tls for HTTPS'"
"#;
    let gw = "apiVersion: example.com/v1\nkind: Gateway\nmetadata:\n  name: edge\nspec:\n  listeners:\n    - name: http\n      protocol: HTTP\n    - name: https\n      protocol: HTTPS\n";
    let (list, doc, _) = scan(&[("crd.yaml", crd), ("gw.yaml", gw)]);
    assert_eq!(
        list,
        vec![(
            "policies/crd-rule".to_string(),
            "error".to_string(),
            "gw.yaml".to_string(),
            9
        )]
    );
    let msg = findings(&doc)[0]["message"].as_str().unwrap();
    assert!(msg.contains("listener https needs tls for HTTPS"), "{msg}");
    assert!(doc["notes"]
        .to_string()
        .contains("1 transition rule skipped"));
}

#[test]
fn a_hostile_rule_is_refused_before_it_can_overflow_the_stack() {
    // Each of these crashed the process (stack overflow) before rules were
    // bounded: the parser recurses over the expression's tree.
    for rule in [
        format!("{}1{} == 1", "(".repeat(1900), ")".repeat(1900)),
        format!("1{} > 0", "+1".repeat(1300)),
        format!("self{} == 1", "[0]".repeat(1300)),
    ] {
        let crd = format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: things.example.com\nspec:\n  group: example.com\n  names: {{kind: Thing, plural: things}}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          x-kubernetes-validations:\n            - rule: \"{rule}\"\n---\napiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\n"
        );
        let (list, doc, _) = scan(&[("crd.yaml", &crd)]);
        assert_eq!(
            list,
            vec![(
                "policies/compile-error".to_string(),
                "warning".to_string(),
                "crd.yaml".to_string(),
                17
            )]
        );
        let msg = findings(&doc)[0]["message"].as_str().unwrap();
        assert!(msg.contains("is not evaluated"), "{msg}");
    }
}

const ROUTE: &str = r#"apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: shop
spec:
  parentRefs:
    - name: public
  rules:
    - filters:
        - type: RequestRedirect
          requestRedirect:
            scheme: https
            statusCode: 301
      backendRefs:
        - name: web
          port: 80
    - backendRefs:
        - name: api
    - backendRefs:
        - name: ok
          port: 8080
"#;

#[test]
fn embedded_crds_rules_apply_unless_the_repository_has_the_crd() {
    // Gateway API's own rules, from the embedded catalog: a redirect next to
    // backendRefs, a Service reference without a port (the CRD's defaults —
    // group "", kind Service — are applied first, as the API server does).
    let (found, doc, _) = scan(&[("route.yaml", ROUTE)]);
    assert_eq!(
        found,
        vec![
            (
                "policies/crd-rule".to_string(),
                "error".to_string(),
                "route.yaml".to_string(),
                10
            ),
            (
                "policies/crd-rule".to_string(),
                "error".to_string(),
                "route.yaml".to_string(),
                19
            ),
        ],
        "{doc}"
    );
    let msgs = doc["findings"].to_string();
    assert!(
        msgs.contains("RequestRedirect filter must not be used together with backendRefs")
            && msgs.contains("Must have port for Service reference")
            && msgs.contains("Gateway API CRD's (embedded) rule"),
        "{msgs}"
    );
    // A CRD of HTTPRoute in the repository wins: it has no rules.
    let crd = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: httproutes.gateway.networking.k8s.io
spec:
  group: gateway.networking.k8s.io
  names:
    kind: HTTPRoute
    plural: httproutes
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
"#;
    let (found, doc, _) = scan(&[("route.yaml", ROUTE), ("crd.yaml", crd)]);
    assert!(found.is_empty(), "{doc}");
    // cert-manager: a real rule of its embedded CRD.
    let issuer = r#"apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: site
spec:
  secretName: site-tls
  issuerRef:
    name: letsencrypt
  dnsNames: [example.com]
  privateKey:
    algorithm: RSA
"#;
    let (found, doc, _) = scan(&[("cert.yaml", issuer)]);
    assert!(found.is_empty(), "a valid Certificate: {doc}");
}

#[test]
fn kubernetes_libraries_and_the_cost_budget_in_policies() {
    let policy = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: memory-cap
spec:
  matchConstraints:
    resourceRules:
      - apiGroups: ["apps"]
        apiVersions: ["v1"]
        operations: ["CREATE"]
        resources: ["deployments"]
  validations:
    - expression: "object.spec.template.spec.containers.all(c, quantity(c.resources.limits.memory).compareTo(quantity('1Gi')) <= 0)"
      message: containers may use 1Gi of memory at most
    - expression: "object.spec.template.spec.containers.all(c, !has(c.env) || c.env.all(e, !has(e.value) || !e.value.startsWith('http') || url(e.value).getScheme() == 'https'))"
      message: URLs must use https
    - expression: "lists.range(1000).all(x, lists.range(1000).all(y, lists.range(1000).all(z, x + y + z >= 0)))"
      message: hostile
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: memory-cap
spec:
  policyName: memory-cap
  validationActions: [Deny]
"#;
    let app = |name: &str, mem: &str, url: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: app:1\n          env:\n            - name: UPSTREAM\n              value: {url}\n          resources:\n            limits:\n              memory: {mem}\n"
        )
    };
    let started = std::time::Instant::now();
    let (found, doc, _) = scan(&[
        ("policy.yaml", policy),
        ("small.yaml", &app("small", "512Mi", "https://api")),
        ("big.yaml", &app("big", "2Gi", "http://api")),
        ("bad.yaml", &app("bad", "lots", "https://api")),
    ]);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let on_big: Vec<_> = found.iter().filter(|f| f.2 == "big.yaml").collect();
    assert_eq!(on_big.len(), 2, "{doc}");
    assert!(found.iter().all(|f| f.2 == "big.yaml"), "{doc}");
    let msgs = doc["findings"].to_string();
    assert!(msgs.contains("1Gi of memory at most") && msgs.contains("URLs must use https"));
    let notes = doc["notes"].to_string();
    // An invalid quantity is a library error, said in a note, not a finding.
    assert!(
        notes.contains("quantity(): quantities must match"),
        "{notes}"
    );
    // The hostile validation is not evaluated, on any object.
    assert!(
        notes.contains("3 expression evaluations not evaluated")
            && notes.contains("budget of 1000000 units"),
        "{notes}"
    );
}
