//! The deterministic PR risk: two-commit repositories (`main` the base,
//! `feature` the head), one test per kind of change, then the real binary
//! with no LLM configured.

mod common;

use common::{git, json_run, shiplint};
use serde_json::Value;
use shiplint::risk::{self, Assessment, Head, Reason, RiskOptions, Weights};
use std::path::Path;
use tempfile::TempDir;

/// `main` with `base`, then `feature` with `head` applied: `Some(text)`
/// writes a file, `None` deletes it.
fn repo(base: &[(&str, &str)], head: &[(&str, Option<&str>)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    let write = |p: &str, text: &str| {
        let p = root.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    for (p, t) in base {
        write(p, t);
    }
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "base", "--allow-empty"]);
    git(root, &["checkout", "-qb", "feature"]);
    for (p, t) in head {
        match t {
            Some(t) => write(p, t),
            None => std::fs::remove_file(root.join(p)).unwrap(),
        }
    }
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "change", "--allow-empty"]);
    dir
}

fn assess(base: &[(&str, &str)], head: &[(&str, Option<&str>)]) -> Assessment {
    let dir = repo(base, head);
    risk::assess(dir.path(), "main", &Head::Rev("HEAD".into())).unwrap()
}

/// A one-file change: `before` → `after` in `deploy/app.yaml`.
fn change(before: &str, after: &str) -> Assessment {
    assess(
        &[("deploy/app.yaml", before)],
        &[("deploy/app.yaml", Some(after))],
    )
}

/// 1-based line of the first line of `text` holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in\n{text}"))
        + 1
}

/// The reason with this id; panics with every reason otherwise.
fn reason<'a>(a: &'a Assessment, id: &str) -> &'a Reason {
    a.reasons
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no {id} in {:#?}", a.reasons))
}

/// Asserts one reason: id, weight, path and line; the score is at least it.
fn expect(a: &Assessment, id: &str, weight: u8, path: &str, line: usize) -> Reason {
    let r = reason(a, id).clone();
    assert_eq!(
        (r.weight, r.path.as_str(), r.line),
        (weight, path, line),
        "{r:#?}"
    );
    assert!(a.score >= weight);
    r
}

fn ids(a: &Assessment) -> Vec<&str> {
    a.reasons.iter().map(|r| r.id.as_str()).collect()
}

const APP: &str = "deploy/app.yaml";

/// A Deployment: `replicas`, then `pod` lines (indented 6) and
/// `container` lines (indented 10) spliced in.
fn deploy(replicas: u32, pod: &str, container: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {{app: web}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
{pod}      containers:
        - name: web
{container}"
    )
}

const IMAGE: &str = "          image: registry.example.com/shop/web:1.4.2\n";

// ------------------------------------------------------------ availability

#[test]
fn replicas_cut() {
    let after = deploy(1, "", IMAGE);
    let a = change(&deploy(3, "", IMAGE), &after);
    let r = expect(&a, "replicas-cut", 3, APP, line_of(&after, "replicas:"));
    assert!(r.reason.contains("3 → 1"), "{}", r.reason);
    assert!(!ids(&a).contains(&"replicas-below-pdb"));
}

#[test]
fn replicas_cut_below_a_pdb_min_available() {
    let pdb = "apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop}
spec:
  minAvailable: 2
  selector:
    matchLabels: {app: web}
";
    let after = deploy(1, "", IMAGE);
    let a = assess(
        &[(APP, &deploy(3, "", IMAGE)), ("deploy/pdb.yaml", pdb)],
        &[(APP, Some(&after))],
    );
    expect(
        &a,
        "replicas-below-pdb",
        4,
        APP,
        line_of(&after, "replicas:"),
    );
    assert_eq!(a.score, 4);
}

#[test]
fn pdb_removed_names_the_base_line() {
    let pdb = "# budget\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\nspec:\n  minAvailable: 1\n";
    let a = assess(&[("deploy/pdb.yaml", pdb)], &[("deploy/pdb.yaml", None)]);
    expect(&a, "pdb-removed", 3, "deploy/pdb.yaml", 5);
}

#[test]
fn networkpolicy_removed() {
    let np = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny-all\n  namespace: shop\nspec:\n  podSelector: {}\n";
    let keep = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
    let a = assess(
        &[("net.yaml", &format!("{keep}---\n{np}"))],
        &[("net.yaml", Some(keep))],
    );
    expect(&a, "networkpolicy-removed", 3, "net.yaml", 9);
    assert_eq!(ids(&a), ["networkpolicy-removed"]);
}

#[test]
fn resource_limits_removed() {
    let before = deploy(
        2,
        "",
        &format!("{IMAGE}          resources:\n            limits: {{cpu: 500m, memory: 256Mi}}\n"),
    );
    let after = deploy(
        2,
        "",
        &format!("{IMAGE}          resources:\n            limits: {{cpu: 500m}}\n"),
    );
    let r = expect(
        &change(&before, &after),
        "limits-removed",
        2,
        APP,
        line_of(&after, "resources:"),
    );
    assert!(r.reason.contains("memory"), "{}", r.reason);
}

#[test]
fn probes_removed() {
    let probe = "          readinessProbe:\n            httpGet: {path: /healthz, port: 8080}\n";
    let after = deploy(2, "", IMAGE);
    let a = change(&deploy(2, "", &format!("{IMAGE}{probe}")), &after);
    let r = expect(&a, "probe-removed", 2, APP, line_of(&after, "- name: web"));
    assert!(r.reason.contains("readinessProbe"));
    assert_eq!(a.score, 2);
}

// --------------------------------------------------------------- isolation

#[test]
fn privileged_added() {
    let after = deploy(
        2,
        "",
        &format!("{IMAGE}          securityContext:\n            privileged: true\n"),
    );
    let a = change(&deploy(2, "", IMAGE), &after);
    expect(
        &a,
        "privileged-added",
        4,
        APP,
        line_of(&after, "privileged"),
    );
}

#[test]
fn host_path_network_and_pid_added() {
    let pod = "      hostNetwork: true\n      hostPID: true\n      volumes:\n        - name: root\n          hostPath: {path: /}\n";
    let after = deploy(2, pod, IMAGE);
    let a = change(&deploy(2, "", IMAGE), &after);
    expect(
        &a,
        "host-network-added",
        4,
        APP,
        line_of(&after, "hostNetwork"),
    );
    expect(&a, "host-pid-added", 4, APP, line_of(&after, "hostPID"));
    let r = expect(&a, "hostpath-added", 4, APP, line_of(&after, "hostPath"));
    assert!(r.reason.contains("mounts /"));
}

#[test]
fn capabilities_added() {
    let caps = |list: &str| {
        format!("{IMAGE}          securityContext:\n            capabilities:\n              add: [{list}]\n")
    };
    let after = deploy(2, "", &caps("NET_BIND_SERVICE, SYS_ADMIN"));
    let a = change(&deploy(2, "", &caps("NET_BIND_SERVICE")), &after);
    let r = expect(&a, "capabilities-added", 3, APP, line_of(&after, "add:"));
    assert!(r.reason.contains("SYS_ADMIN"));
    assert_eq!(a.reasons.len(), 1, "NET_BIND_SERVICE was there");
}

#[test]
fn run_as_non_root_dropped() {
    let before = deploy(
        2,
        "      securityContext:\n        runAsNonRoot: true\n",
        IMAGE,
    );
    let after = deploy(
        2,
        "      securityContext:\n        runAsNonRoot: false\n",
        IMAGE,
    );
    let a = change(&before, &after);
    expect(
        &a,
        "runasnonroot-dropped",
        3,
        APP,
        line_of(&after, "runAsNonRoot"),
    );
    // Removed altogether: the container's line.
    let gone = deploy(2, "", IMAGE);
    let a = change(&before, &gone);
    expect(
        &a,
        "runasnonroot-dropped",
        3,
        APP,
        line_of(&gone, "- name: web"),
    );
}

// ------------------------------------------------------------ supply chain

#[test]
fn image_moved_to_latest_or_untagged() {
    for image in [
        "registry.example.com/shop/web:latest",
        "registry.example.com/shop/web",
    ] {
        let after = deploy(2, "", &format!("          image: {image}\n"));
        let a = change(&deploy(2, "", IMAGE), &after);
        expect(&a, "image-latest", 3, APP, line_of(&after, "image:"));
        assert!(!ids(&a).contains(&"image-registry-changed"));
    }
}

#[test]
fn image_moved_to_another_registry() {
    let after = deploy(2, "", "          image: docker.io/someone/web:1.4.2\n");
    let a = change(&deploy(2, "", IMAGE), &after);
    let r = expect(
        &a,
        "image-registry-changed",
        3,
        APP,
        line_of(&after, "image:"),
    );
    assert!(
        r.reason.contains("registry.example.com → docker.io"),
        "{}",
        r.reason
    );
    // A new tag in the same registry is no reason.
    let bump = deploy(
        2,
        "",
        "          image: registry.example.com/shop/web:1.5.0\n",
    );
    assert_eq!(change(&deploy(2, "", IMAGE), &bump).score, 1);
}

// ------------------------------------------------------------------- RBAC

fn role(kind: &str, rules: &str) -> String {
    let ns = if kind == "Role" {
        "  namespace: shop\n"
    } else {
        ""
    };
    format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata:\n  name: reader\n{ns}rules:\n{rules}")
}

const READ_PODS: &str = "  - apiGroups: [\"\"]\n    resources: [pods]\n    verbs: [get, list]\n";

#[test]
fn rbac_new_verbs_and_resources() {
    let more =
        "  - apiGroups: [\"\"]\n    resources: [pods, secrets]\n    verbs: [get, list, delete]\n";
    let after = role("Role", more);
    let a = change(&role("Role", READ_PODS), &after);
    let r = expect(&a, "rbac-widened", 3, APP, line_of(&after, "- apiGroups"));
    assert!(
        r.reason.contains("delete") && r.reason.contains("secrets"),
        "{}",
        r.reason
    );
}

#[test]
fn rbac_wildcard() {
    let rules =
        format!("{READ_PODS}  - apiGroups: [\"*\"]\n    resources: [\"*\"]\n    verbs: [\"*\"]\n");
    let after = role("Role", &rules);
    let a = change(&role("Role", READ_PODS), &after);
    expect(&a, "rbac-wildcard", 4, APP, line_of(&after, "\"*\""));
    assert_eq!(a.reasons.len(), 1);
}

#[test]
fn rbac_role_to_cluster_role() {
    let after = role("ClusterRole", READ_PODS);
    let a = change(&role("Role", READ_PODS), &after);
    expect(
        &a,
        "rbac-cluster-scope",
        4,
        APP,
        line_of(&after, "name: reader"),
    );
    assert!(!ids(&a).contains(&"object-deleted"), "{:?}", ids(&a));
}

fn binding(role_kind: &str, role_name: &str, subjects: &str) -> String {
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: ci\n  namespace: shop\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: {role_kind}\n  name: {role_name}\nsubjects:\n  - kind: ServiceAccount\n    name: ci\n    namespace: shop\n{subjects}"
    )
}

#[test]
fn rbac_binding_to_cluster_admin() {
    let after = binding("ClusterRole", "cluster-admin", "");
    let a = change(&binding("Role", "reader", ""), &after);
    expect(
        &a,
        "rbac-cluster-admin",
        5,
        APP,
        line_of(&after, "name: cluster-admin"),
    );
    assert_eq!(a.score, 5);
}

#[test]
fn rbac_binding_to_a_wider_role_or_new_subjects() {
    let roles = format!(
        "{}---\n{}",
        role("Role", READ_PODS),
        role("Role", READ_PODS)
            .replace("name: reader", "name: writer")
            .replace("get, list", "get, list, create")
    );
    let after = binding("Role", "writer", "");
    let a = assess(
        &[
            ("rbac/roles.yaml", &roles),
            ("rbac/ci.yaml", &binding("Role", "reader", "")),
        ],
        &[("rbac/ci.yaml", Some(&after))],
    );
    expect(
        &a,
        "rbac-binding-widened",
        3,
        "rbac/ci.yaml",
        line_of(&after, "name: writer"),
    );
    // A narrower role is no reason.
    let a = assess(
        &[
            ("rbac/roles.yaml", &roles),
            ("rbac/ci.yaml", &binding("Role", "writer", "")),
        ],
        &[("rbac/ci.yaml", Some(&binding("Role", "reader", "")))],
    );
    assert_eq!(a.score, 1, "{:#?}", a.reasons);
    // A new subject widens it.
    let after = binding("Role", "reader", "  - kind: Group\n    name: everyone\n");
    let a = change(&binding("Role", "reader", ""), &after);
    expect(
        &a,
        "rbac-binding-widened",
        3,
        APP,
        line_of(&after, "kind: Group"),
    );
}

// ------------------------------------------------- secrets, exposure, hosts

#[test]
fn secret_added() {
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ntype: Opaque\ndata: {}\n";
    let a = assess(&[], &[("deploy/secret.yaml", Some(secret))]);
    expect(&a, "secret-added", 3, "deploy/secret.yaml", 4);
}

#[test]
fn service_changed_to_load_balancer_or_node_port() {
    let svc = |t: &str| {
        format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: {t}\n  ports: [{{port: 80}}]\n")
    };
    for t in ["LoadBalancer", "NodePort"] {
        let a = change(&svc("ClusterIP"), &svc(t));
        let r = expect(&a, "service-exposed", 3, APP, 6);
        assert!(r.reason.contains(t));
    }
    assert_eq!(
        change(&svc("NodePort"), &svc("NodePort").replace("80", "81")).score,
        1
    );
}

#[test]
fn ingress_host_added() {
    let ing = |hosts: &[&str]| {
        let rules: String = hosts
            .iter()
            .map(|h| format!("    - host: {h}\n      http: {{paths: []}}\n"))
            .collect();
        format!("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  rules:\n{rules}")
    };
    let after = ing(&["shop.example.com", "admin.example.com"]);
    let a = change(&ing(&["shop.example.com"]), &after);
    let r = expect(
        &a,
        "ingress-host-added",
        2,
        APP,
        line_of(&after, "admin.example.com"),
    );
    assert!(r.reason.contains("admin.example.com"));
    assert_eq!(a.reasons.len(), 1);
}

// ------------------------------------------------------------------- CRDs

fn crd(versions: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {{kind: Widget, plural: widgets}}
  versions:
{versions}"
    )
}

fn version(name: &str, served: bool, storage: bool, props: &str, required: &str) -> String {
    format!(
        "    - name: {name}
      served: {served}
      storage: {storage}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [{required}]
              properties:
{props}"
    )
}

const PROPS: &str =
    "                size: {type: integer}\n                color: {type: string}\n";

#[test]
fn crd_served_version_removed_or_unserved() {
    let before = crd(&format!(
        "{}{}",
        version("v1alpha1", true, false, PROPS, ""),
        version("v1", true, true, PROPS, "")
    ));
    let removed = crd(&version("v1", true, true, PROPS, ""));
    let a = change(&before, &removed);
    let r = expect(
        &a,
        "crd-version-unserved",
        5,
        APP,
        line_of(&removed, "versions:"),
    );
    assert!(r.reason.contains("v1alpha1 removed"));
    let unserved = crd(&format!(
        "{}{}",
        version("v1alpha1", false, false, PROPS, ""),
        version("v1", true, true, PROPS, "")
    ));
    let a = change(&before, &unserved);
    expect(
        &a,
        "crd-version-unserved",
        5,
        APP,
        line_of(&unserved, "served: false"),
    );
}

#[test]
fn crd_storage_version_changed() {
    let two = |alpha_storage: bool| {
        crd(&format!(
            "{}{}",
            version("v1alpha1", true, alpha_storage, PROPS, ""),
            version("v1", true, !alpha_storage, PROPS, "")
        ))
    };
    let after = two(false);
    let a = change(&two(true), &after);
    expect(
        &a,
        "crd-storage-changed",
        4,
        APP,
        line_of(&after, "storage: true"),
    );
}

#[test]
fn crd_field_removed_or_made_required() {
    let before = crd(&version("v1", true, true, PROPS, ""));
    let after = crd(&version(
        "v1",
        true,
        true,
        "                size: {type: integer}\n",
        "",
    ));
    let a = change(&before, &after);
    let r = expect(
        &a,
        "crd-field-removed",
        4,
        APP,
        line_of(&after, "- name: v1"),
    );
    assert!(r.reason.contains("spec.color"), "{}", r.reason);
    let after = crd(&version("v1", true, true, PROPS, "size"));
    let a = change(&before, &after);
    let r = expect(
        &a,
        "crd-field-required",
        3,
        APP,
        line_of(&after, "required: [size]"),
    );
    assert!(r.reason.contains("spec.size"), "{}", r.reason);
    // A new optional field is compatible.
    let after = crd(&version(
        "v1",
        true,
        true,
        &format!("{PROPS}                shape: {{type: string}}\n"),
        "",
    ));
    assert_eq!(change(&before, &after).score, 1);
}

// -------------------------------------------------------------- deletions

#[test]
fn deletions_of_whole_objects_weigh_by_kind() {
    let obj =
        |api: &str, kind: &str| format!("apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: x\n");
    for (api, kind, id, weight) in [
        ("v1", "Namespace", "namespace-deleted", 5),
        (
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "crd-deleted",
            5,
        ),
        ("apps/v1", "StatefulSet", "statefulset-deleted", 4),
        ("v1", "PersistentVolumeClaim", "pvc-deleted", 4),
        ("apps/v1", "Deployment", "object-deleted", 2),
    ] {
        let a = assess(&[("gone.yaml", &obj(api, kind))], &[("gone.yaml", None)]);
        expect(&a, id, weight, "gone.yaml", 4);
        assert_eq!(a.score, weight, "{kind}");
    }
}

// ------------------------------------------------------ identity and scope

#[test]
fn a_moved_file_keeps_its_objects() {
    let d = deploy(3, "", IMAGE);
    let a = assess(
        &[("old/app.yaml", &d)],
        &[("old/app.yaml", None), ("new/app.json.yaml", Some(&d))],
    );
    assert_eq!((a.score, a.reasons.len()), (1, 0), "{:#?}", a.reasons);
}

#[test]
fn a_rename_in_the_same_file_is_compared_not_deleted() {
    let after = deploy(1, "", IMAGE).replace("name: web\n  namespace", "name: web-v2\n  namespace");
    let a = change(&deploy(3, "", IMAGE), &after);
    expect(&a, "replicas-cut", 3, APP, line_of(&after, "replicas:"));
    assert_eq!(ids(&a), ["replicas-cut"], "not a deletion");
}

#[test]
fn a_pr_that_only_changes_a_label_scores_at_most_2() {
    let after = deploy(3, "", IMAGE).replace(
        "labels: {app: web}\nspec",
        "labels: {app: web, team: shop}\nspec",
    );
    assert_ne!(after, deploy(3, "", IMAGE));
    let a = change(&deploy(3, "", IMAGE), &after);
    assert!(a.score <= 2, "{a:#?}");
}

#[test]
fn templates_are_skipped() {
    let tpl = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Values.name }}\n";
    let a = assess(&[], &[("chart/x.yaml", Some(tpl))]);
    assert_eq!(a.score, 1, "{:#?}", a.reasons);
}

#[test]
fn the_working_tree_is_a_head_too() {
    let dir = repo(&[(APP, &deploy(3, "", IMAGE))], &[]);
    std::fs::write(dir.path().join(APP), deploy(1, "", IMAGE)).unwrap();
    let a = risk::assess(dir.path(), "main", &Head::WorkingTree).unwrap();
    expect(&a, "replicas-cut", 3, APP, 8);
    let a = risk::assess(dir.path(), "main", &Head::Rev("HEAD".into())).unwrap();
    assert_eq!(a.score, 1);
}

// ---------------------------------------------------- weights and findings

#[test]
fn weights_are_overridden_by_the_config() {
    let dir = repo(
        &[(APP, &deploy(3, "", IMAGE))],
        &[(APP, Some(&deploy(1, "", IMAGE)))],
    );
    let v = serde_json::json!({"weights": {"replicas-cut": 5}});
    let w = Weights::new(&RiskOptions::from_config(Some(&v)).unwrap());
    let a = risk::assess_with(dir.path(), "main", &Head::Rev("HEAD".into()), &w).unwrap();
    assert_eq!((a.score, a.reasons[0].weight), (5, 5));
    let off = serde_json::json!({"weights": {"replicas-cut": 0}});
    let w = Weights::new(&RiskOptions::from_config(Some(&off)).unwrap());
    let a = risk::assess_with(dir.path(), "main", &Head::Rev("HEAD".into()), &w).unwrap();
    assert_eq!((a.score, a.reasons.len()), (1, 0));
}

#[test]
fn findings_on_added_lines_raise_the_score() {
    use shiplint::finding::{Finding, Severity};
    use shiplint::source::Span;
    let path: std::sync::Arc<str> = "a.yaml".into();
    let f = |rule: &str, sev| Finding::new(rule, sev, &path, Span::line(7), "m".to_string());
    let w = Weights::default();
    for (finding, id, weight) in [
        (
            f("practices/no-limits", Severity::Warning),
            "finding-warning",
            3,
        ),
        (f("schema/invalid", Severity::Error), "finding-error", 4),
        (
            f("secrets/aws-access-key", Severity::Warning),
            "finding-secret",
            5,
        ),
    ] {
        let mut a = Assessment::default();
        a.add_findings(&[finding, f("x/note", Severity::Note)], &w);
        expect(&a, id, weight, "a.yaml", 7);
        assert_eq!((a.score, a.reasons.len()), (weight, 1));
    }
}

// ------------------------------------------------------- the real binary

/// The PR of the issue: replicas cut, privileged added, RBAC widened, a PDB
/// and a NetworkPolicy removed.
fn risky_pr() -> TempDir {
    let np = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny-all\n  namespace: shop\nspec:\n  podSelector: {}\n";
    let pdb = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels: {app: web}\n";
    let privileged = format!("{IMAGE}          securityContext:\n            privileged: true\n");
    repo(
        &[
            (APP, &deploy(3, "", IMAGE)),
            ("deploy/rbac.yaml", &role("Role", READ_PODS)),
            ("deploy/pdb.yaml", pdb),
            ("deploy/netpol.yaml", np),
        ],
        &[
            (APP, Some(&deploy(1, "", &privileged))),
            (
                "deploy/rbac.yaml",
                Some(&role(
                    "Role",
                    &READ_PODS.replace("get, list", "get, list, delete"),
                )),
            ),
            ("deploy/pdb.yaml", None),
            ("deploy/netpol.yaml", None),
        ],
    )
}

/// `shiplint` with no LLM key in the environment.
fn no_llm(dir: &Path) -> assert_cmd::Command {
    let mut c = shiplint(dir);
    c.env_remove("OPENAI_API_KEY")
        .env_remove("SHIPLINT_LLM_API_KEY")
        .env_remove("OPENAI_BASE_URL");
    c
}

fn reason_ids(doc: &Value) -> Vec<String> {
    doc["properties"]["prRiskReasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no prRiskReasons: {doc:#}"))
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_risky_pr_scores_at_least_4_and_names_each_reason_with_no_llm() {
    let dir = risky_pr();
    let (code, doc, stderr) = json_run(no_llm(dir.path()).args([
        "review",
        "--no-config",
        "--diff-base",
        "main",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let p = &doc["properties"];
    assert!(p["prRisk"].as_u64().unwrap() >= 4, "{p:#}");
    assert_eq!(p["prRisk"], p["prRiskDeterministic"]);
    assert!(p.get("prRiskLlm").is_none());
    let ids = reason_ids(&doc);
    for id in [
        "replicas-cut",
        "privileged-added",
        "rbac-widened",
        "pdb-removed",
        "networkpolicy-removed",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} not in {ids:?}");
    }
    for r in p["prRiskReasons"].as_array().unwrap() {
        assert!(r["reason"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(r["weight"].as_u64().is_some_and(|w| (1..=5).contains(&w)));
        assert!(r["path"].as_str().is_some_and(|s| s.starts_with("deploy/")));
        assert!(r["line"].as_u64().is_some_and(|l| l > 0));
    }
    let pdb = p["prRiskReasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "pdb-removed")
        .unwrap();
    assert_eq!(
        (pdb["path"].as_str(), pdb["line"].as_u64()),
        (Some("deploy/pdb.yaml"), Some(4))
    );
    assert!(stderr.contains("review skipped"), "{stderr}");

    // Text: the score and the top 5 reasons.
    let out = no_llm(dir.path())
        .args(["review", "--no-config", "--diff-base", "main"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("PR risk: 4/5 (rules 4/5, no LLM score)"),
        "{text}"
    );
    assert!(text.contains("deploy/app.yaml:"), "{text}");
    assert!(text.contains("privileged container added"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.contains("/5  deploy/")).count(),
        5,
        "{text}"
    );

    // --fail-on-risk works without an LLM.
    let code = |n: &str| {
        no_llm(dir.path())
            .args([
                "review",
                "--no-config",
                "--diff-base",
                "main",
                "--fail-on-risk",
                n,
            ])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code("4"), Some(1));
    assert_eq!(code("5"), Some(0));

    // SARIF: the same under the run's properties.
    let out = no_llm(dir.path())
        .args([
            "review",
            "--no-config",
            "--diff-base",
            "main",
            "--format",
            "sarif",
        ])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &sarif["runs"][0]["properties"];
    assert_eq!(run["prRisk"], 4);
    assert_eq!(run["prRiskDeterministic"], 4);
    assert!(run["prRiskReasons"]
        .as_array()
        .is_some_and(|a| a.len() >= 5));
}

#[test]
fn scan_with_a_diff_base_adds_the_risk_and_findings_raise_it() {
    let dir = risky_pr();
    let (_, doc, stderr) = json_run(no_llm(dir.path()).args([
        "scan",
        "--no-config",
        "--packs",
        "practices",
        "--diff-base",
        "main",
        "--format",
        "json",
    ]));
    let p = &doc["properties"];
    assert!(p["prRisk"].as_u64().unwrap() >= 4, "{p:#} {stderr}");
    let ids = reason_ids(&doc);
    assert!(ids.iter().any(|i| i == "privileged-added"), "{ids:?}");
    // The practices pack reports the privileged container on an added line.
    assert!(
        ids.iter().any(|i| i.starts_with("finding-")),
        "{ids:?} {:#}",
        doc["findings"]
    );
    // Without --diff-base there is no PR risk.
    let (_, doc, _) = json_run(no_llm(dir.path()).args([
        "scan",
        "--no-config",
        "--packs",
        "practices",
        "--format",
        "json",
    ]));
    assert!(doc["properties"].get("prRisk").is_none());
}

#[test]
fn the_config_overrides_weights_and_is_checked_when_it_loads() {
    // A pull-request run reads the config of the base.
    let config = "risk:\n  weights:\n    privileged-added: 2\n    networkpolicy-removed: 5\n";
    let np = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny-all\nspec:\n  podSelector: {}\n";
    let privileged = format!("{IMAGE}          securityContext:\n            privileged: true\n");
    let dir = repo(
        &[
            (".shiplint.yaml", config),
            (APP, &deploy(2, "", IMAGE)),
            ("np.yaml", np),
        ],
        &[(APP, Some(&deploy(2, "", &privileged))), ("np.yaml", None)],
    );
    let (_, doc, stderr) =
        json_run(no_llm(dir.path()).args(["review", "--diff-base", "main", "-f", "json"]));
    let p = &doc["properties"];
    assert_eq!(p["prRisk"], 5, "{stderr}");
    assert_eq!(p["prRiskReasons"][0]["id"], "networkpolicy-removed");
    assert_eq!(p["prRiskReasons"][1]["weight"], 2, "{p:#}");

    let bad = "# risk\nrisk:\n  weights:\n    no-such-reason: 2\n";
    let dir = repo(&[(".shiplint.yaml", bad)], &[]);
    let out = no_llm(dir.path())
        .args(["review", "--diff-base", "main"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("line 2") && err.contains("risk"), "{err}");
}

#[test]
fn a_label_only_pr_scores_at_most_2_through_the_binary() {
    let before = deploy(3, "", IMAGE);
    let after = before.replace(
        "labels: {app: web}\nspec",
        "labels: {app: web, tier: front}\nspec",
    );
    let dir = repo(&[(APP, &before)], &[(APP, Some(&after))]);
    let (code, doc, stderr) = json_run(no_llm(dir.path()).args([
        "review",
        "--no-config",
        "--diff-base",
        "main",
        "-f",
        "json",
        "--fail-on-risk",
        "3",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(doc["properties"]["prRisk"].as_u64().unwrap() <= 2);
}

#[test]
fn a_committed_secret_scores_5_with_no_llm_and_is_never_printed() {
    let aws = format!("AKIA{}", "Q7ZW3ERT5YUI2OPA");
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n";
    let head = format!("{cm}data:\n  AWS_ACCESS_KEY_ID: {aws}\n");
    let dir = repo(
        &[("config/app.yaml", cm)],
        &[("config/app.yaml", Some(&head))],
    );
    let out = no_llm(dir.path())
        .args(["review", "--no-config", "--diff-base", "main", "-f", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(&aws), "{stdout}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["properties"]["prRisk"], 5, "{stdout}");
    let r = &doc["properties"]["prRiskReasons"][0];
    assert_eq!(
        (r["id"].as_str(), r["line"].as_u64()),
        (Some("finding-secret"), Some(6))
    );
}

/// An OpenAI-compatible answer scoring `deploy/app.yaml` at `risk`.
fn llm_answer(risk: u8) -> Value {
    let answer = serde_json::json!({"files": [{"fileName": APP, "riskScore": risk, "summary": "s", "comments": []}]});
    serde_json::json!({
        "id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": answer.to_string(), "refusal": null}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    })
}

/// `review --format json` against an LLM on 127.0.0.1 answering `risk`.
async fn review_with_llm(dir: &Path, risk: u8) -> Value {
    use wiremock::{matchers::method, Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(llm_answer(risk)))
        .mount(&server)
        .await;
    let mut cmd = no_llm(dir);
    cmd.env("SHIPLINT_LLM_API_KEY", "k")
        .env("SHIPLINT_CACHE_DIR", dir.join(".cache-test"))
        .args(["review", "--no-config", "--diff-base", "main", "-f", "json"])
        .arg("--llm-base-url")
        .arg(format!("{}/v1", server.uri()));
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_llm_can_raise_the_risk_never_lower_it() {
    let dir = risky_pr();
    let p = review_with_llm(dir.path(), 1).await["properties"].clone();
    assert_eq!(
        (&p["prRisk"], &p["prRiskDeterministic"], &p["prRiskLlm"]),
        (&Value::from(4), &Value::from(4), &Value::from(1)),
        "{p:#}"
    );
    let before = deploy(3, "", IMAGE);
    let after = before.replace(
        "labels: {app: web}\nspec",
        "labels: {app: web, tier: front}\nspec",
    );
    let dir = repo(&[(APP, &before)], &[(APP, Some(&after))]);
    let p = review_with_llm(dir.path(), 5).await["properties"].clone();
    assert_eq!(
        (&p["prRisk"], &p["prRiskDeterministic"], &p["prRiskLlm"]),
        (&Value::from(5), &Value::from(1), &Value::from(5)),
        "{p:#}"
    );
}

#[test]
fn excluded_files_are_left_out() {
    let privileged = format!("{IMAGE}          securityContext:\n            privileged: true\n");
    let dir = repo(
        &[
            (".shiplint.yaml", "exclude: ['tests/fixtures/**']\n"),
            ("tests/fixtures/bad.yaml", &deploy(3, "", IMAGE)),
        ],
        &[("tests/fixtures/bad.yaml", Some(&deploy(1, "", &privileged)))],
    );
    let head = Head::Rev("HEAD".into());
    let w = Weights::default();
    let a = risk::assess_excluding(dir.path(), "main", &head, &w, &["tests/fixtures/**".into()])
        .unwrap();
    assert_eq!((a.score, a.reasons.len()), (1, 0), "{:#?}", a.reasons);
    assert_eq!(risk::assess(dir.path(), "main", &head).unwrap().score, 4);
    // Through the binary, the excludes are the base config's.
    let (_, doc, stderr) =
        json_run(no_llm(dir.path()).args(["review", "--diff-base", "main", "-f", "json"]));
    assert_eq!(doc["properties"]["prRisk"], 1, "{stderr}");
}

#[test]
fn scan_fails_on_risk_without_an_llm() {
    let dir = risky_pr();
    let code = |n: &str| {
        no_llm(dir.path())
            .args([
                "scan",
                "--no-config",
                "--packs",
                "schema",
                "--diff-base",
                "main",
                "--fail-on",
                "never",
                "--fail-on-risk",
                n,
            ])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code("4"), Some(1));
    assert_eq!(code("5"), Some(0));
}

#[test]
fn a_repeated_key_pairs_by_file_first() {
    // A kustomize base and an overlay's patch share (kind, name).
    let patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 5\n";
    let base_app = deploy(3, "", IMAGE);
    let a = assess(
        &[
            ("base/app.yaml", &base_app),
            ("overlays/prod/patch.yaml", patch),
        ],
        &[("overlays/prod/patch.yaml", Some(&patch.replace("5", "2")))],
    );
    let r = expect(&a, "replicas-cut", 3, "overlays/prod/patch.yaml", 7);
    assert!(r.reason.contains("5 → 2"), "{}", r.reason);
    assert_eq!(a.reasons.len(), 1, "{:#?}", a.reasons);
}
