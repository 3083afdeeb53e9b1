//! Probes: readiness and liveness missing, identical, or aimed at a port the
//! container does not have.

use super::podspec::{Container, Workload};
use super::{rule, Emit};
use crate::finding::Severity;
use crate::manifest::Node;
use crate::packs::Rule;

pub fn check(w: &Workload, containers: &[Container], emit: &mut Emit) {
    for c in containers {
        // Init containers run to completion; Kubernetes rejects probes on
        // them. Native sidecars (restartPolicy: Always) are long-running.
        if !c.kind.long_running() {
            continue;
        }
        let readiness = c.node.get("readinessProbe");
        let liveness = c.node.get("livenessProbe");
        if !w.job_like {
            // readinessProbe: judged in the index phase, where the
            // Services of the run are known (see `missing_readiness`).
            if liveness.is_none() {
                emit.push(
                    &LIVENESS,
                    c.span,
                    format!(
                        "{} has no livenessProbe: a hung process is never restarted",
                        w.what(c)
                    ),
                    w.key(c),
                );
            }
        }
        if let (Some(r), Some(l)) = (readiness, liveness) {
            if r.to_json() == l.to_json() {
                let span = c.node.entry("livenessProbe").map_or(c.span, |e| e.key.span);
                emit.push(
                    &IDENTICAL,
                    span,
                    format!("{}: livenessProbe is identical to readinessProbe, so a slow moment restarts the container instead of only taking it out of the load balancer", w.what(c)),
                    w.key(c),
                );
            }
        }
        check_ports(w, c, emit);
    }
}

/// Long-running containers of a long-running workload without a
/// readinessProbe: (span, what, key), for the index phase to report where a
/// Service selects the pod.
pub fn missing_readiness(w: &Workload) -> Vec<(crate::source::Span, String, String)> {
    if w.job_like {
        return Vec::new();
    }
    w.containers()
        .iter()
        .filter(|c| c.kind.long_running() && c.node.get("readinessProbe").is_none())
        .map(|c| (c.span, w.what(c), w.key(c)))
        .collect()
}

fn check_ports(w: &Workload, c: &Container, emit: &mut Emit) {
    let ports = c.node.get("ports").map(Node::as_seq).unwrap_or(&[]);
    let names: Vec<String> = ports
        .iter()
        .filter_map(|p| p.get("name").and_then(Node::scalar_text))
        .collect();
    let numbers: Vec<i64> = ports
        .iter()
        .filter_map(|p| {
            p.get("containerPort")
                .and_then(|n| n.as_i64().or_else(|| n.as_str()?.parse().ok()))
        })
        .collect();
    for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
        for handler in ["httpGet", "tcpSocket", "grpc"] {
            let Some(port) = c.node.path(&[probe, handler, "port"]) else {
                continue;
            };
            if let Some(n) = port.as_i64() {
                if !ports.is_empty() && !numbers.contains(&n) {
                    emit.push(
                        &PORT_NOT_EXPOSED,
                        port.span,
                        format!("{}: {probe} checks port {n}, which is not among the container's ports ({})", w.what(c), numbers.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
                        format!("{}:{probe}", w.key(c)),
                    );
                }
            } else if let Some(name) = port.as_str() {
                if name.contains('$') || name.parse::<i64>().is_ok() {
                    continue;
                }
                if !names.iter().any(|n| n == name) {
                    emit.push(
                        &PORT_UNKNOWN,
                        port.span,
                        format!("{}: {probe} uses the named port '{name}', which the container does not define; the probe can never succeed", w.what(c)),
                        format!("{}:{probe}", w.key(c)),
                    );
                }
            }
        }
    }
}

pub static READINESS: Rule = rule("practices/readiness-probe-missing", Severity::Warning, "A container that a Service sends traffic to has no readinessProbe.", r#"
## What it finds
A container (or native sidecar) of a Deployment, StatefulSet, DaemonSet, ReplicaSet or long-running Pod without `readinessProbe`, when a Service of its namespace among the scanned files selects the pod (as kube-score's `pod-probes` does). The Service must sit in the workload's folder tree (the same folder, one above or below it, or a folder beside it), so a Service of another sample of a monorepo that happens to select the same labels does not count. Pods no Service selects (workers, controllers, queue consumers) are not flagged: readiness only decides whether a pod is an endpoint of a Service. Jobs, CronJobs, Pods that run to completion (`restartPolicy: Never`/`OnFailure`) and init containers are never flagged.

## Why it matters
Without a readiness probe the Service sends the pod traffic the moment its process starts, and keeps sending it while it is overloaded or shutting down: errors during every rollout.

## How to fix
```yaml
containers:
- name: web
  readinessProbe:
    httpGet:
      path: /ready
      port: http
    periodSeconds: 5
```
"#).precision("high");

pub static LIVENESS: Rule = rule("practices/liveness-probe-missing", Severity::Warning, "A long-running container has no livenessProbe.", r#"
## What it finds
A container (or native sidecar) of a long-running workload without `livenessProbe` (same exclusions as `practices/readiness-probe-missing`).

## Why it matters
A deadlocked process keeps its pod Running forever: nothing restarts it.

## How to fix
Add a liveness probe that checks the process itself (not its dependencies), with a more tolerant threshold than readiness:
```yaml
  livenessProbe:
    httpGet:
      path: /healthz
      port: http
    failureThreshold: 6
```
"#).precision("medium");

pub static IDENTICAL: Rule = rule("practices/probes-identical", Severity::Warning, "livenessProbe and readinessProbe are identical.", r#"
## What it finds
A container whose liveness and readiness probes are exactly the same (handler, timings and thresholds). A liveness probe that only differs by a higher `failureThreshold`, as the Kubernetes docs suggest, is fine.

## Why it matters
When the app is briefly slow, readiness should take it out of the load balancer; an identical liveness probe fails at the same moment and restarts it, turning load into a crash loop.

## How to fix
Give liveness a longer tolerance or a cheaper endpoint:
```yaml
  readinessProbe:
    httpGet: {path: /ready, port: http}
  livenessProbe:
    httpGet: {path: /healthz, port: http}
    failureThreshold: 6
```
"#).precision("high");

pub static PORT_UNKNOWN: Rule = rule("practices/probe-port-unknown", Severity::Error, "A probe uses a named port the container does not define.", r#"
## What it finds
`httpGet.port`, `tcpSocket.port` or `grpc.port` of a readiness, liveness or startup probe that names a port (`port: http`) which is not a `name` in the container's `ports`.

## Why it matters
The kubelet cannot resolve the name: the probe always fails, so the pod is never ready (readiness) or restarts forever (liveness).

## How to fix
Name the port in `ports`, or use the number:
```yaml
  ports:
  - name: http
    containerPort: 8080
  readinessProbe:
    httpGet: {path: /ready, port: http}
```
"#).precision("very-high");

pub static PORT_NOT_EXPOSED: Rule = rule("practices/probe-port-not-exposed", Severity::Note, "A probe checks a port number the container does not declare.", r#"
## What it finds
A probe aimed at a numbered port while the container declares other ports but not this one. (Containers that declare no ports are not checked.) Off by default: `ports` is informational — the kubelet probes the number whether it is declared or not — and on the real-repository corpus in `bench/precision.md` all 33 findings were working probes of undeclared health or metrics ports (ingress-nginx's 10254). Turn it on with `rules: {practices/probe-port-not-exposed: note}` to keep declarations complete.

## Why it matters
Often a leftover after the app's port changed: the probe then hits nothing and fails. Declaring the port also documents it.

## How to fix
Declare the port or correct the probe:
```yaml
  ports:
  - containerPort: 8080
  - containerPort: 8081   # health
```
"#).precision("low").off_by_default();

/// Every rule of this module.
pub fn rules() -> Vec<&'static Rule> {
    vec![
        &READINESS,
        &LIVENESS,
        &IDENTICAL,
        &PORT_UNKNOWN,
        &PORT_NOT_EXPOSED,
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{only, pairs};

    const RULES: &[&str] = &[
        "readiness-probe-missing",
        "liveness-probe-missing",
        "probes-identical",
        "probe-port-unknown",
        "probe-port-not-exposed",
    ];

    #[test]
    fn missing_probes_fire_on_the_container_name_line() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\nspec:\n  template:\n    spec:\n      initContainers:\n      - name: init\n        image: a:1\n      - name: sidecar\n        image: a:1\n        restartPolicy: Always\n      containers:\n      - name: web\n        image: a:1\n";
        assert_eq!(
            only(text, RULES),
            pairs(&[
                ("liveness-probe-missing", 11),
                ("liveness-probe-missing", 15),
            ])
        );
        // readinessProbe matters where a Service of the namespace selects
        // the pod (a missing namespace is "default" on both sides).
        let labelled = text.replace(
            "    spec:\n      init",
            "    metadata:\n      labels: {app: w}\n    spec:\n      init",
        );
        let svc = |ns: &str| {
            format!("{labelled}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: w\n{ns}spec:\n  selector: {{app: w}}\n")
        };
        assert_eq!(
            only(&svc("  namespace: default\n"), &["readiness-probe-missing"]),
            pairs(&[
                ("readiness-probe-missing", 13),
                ("readiness-probe-missing", 17)
            ])
        );
        let f = super::super::testutil::findings_with(&svc(""), &Default::default());
        let r = f
            .iter()
            .find(|f| f.rule.ends_with("readiness-probe-missing"))
            .unwrap();
        assert!(
            r.message.contains("Service/w sends it traffic"),
            "{}",
            r.message
        );
        assert!(only(&svc("  namespace: other\n"), &["readiness-probe-missing"]).is_empty());
    }

    #[test]
    fn jobs_and_completing_pods_are_quiet() {
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: j\n        image: a:1\n";
        assert!(only(job, RULES).is_empty());
        let cron = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: j\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: j\n            image: a:1\n";
        assert!(only(cron, RULES).is_empty());
        let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  restartPolicy: OnFailure\n  containers:\n  - name: p\n    image: a:1\n";
        assert!(only(pod, RULES).is_empty());
    }

    #[test]
    fn identical_and_port_problems() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: p\n    image: a:1\n    ports:\n    - name: http\n      containerPort: 8080\n    readinessProbe:\n      httpGet: {path: /, port: http}\n    livenessProbe:\n      httpGet: {path: /, port: http}\n    startupProbe:\n      tcpSocket:\n        port: metrics\n  - name: q\n    image: a:1\n    ports:\n    - containerPort: 8080\n    readinessProbe:\n      httpGet: {path: /, port: 9090}\n    livenessProbe:\n      httpGet: {path: /, port: 8080}\n      failureThreshold: 6\n";
        assert_eq!(
            only(text, RULES),
            pairs(&[
                ("probes-identical", 14),
                ("probe-port-unknown", 18),
                ("probe-port-not-exposed", 24),
            ])
        );
    }

    #[test]
    fn complete_probes_are_quiet() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: a:1\n        ports:\n        - {name: http, containerPort: 8080}\n        readinessProbe:\n          httpGet: {path: /ready, port: http}\n        livenessProbe:\n          httpGet: {path: /healthz, port: 8080}\n";
        assert!(only(text, RULES).is_empty());
    }
}
