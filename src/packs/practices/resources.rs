//! Resources: cpu and memory requests, the memory limit, ephemeral storage.

use super::podspec::{Container, ContainerKind, Workload};
use super::{rule, Emit};
use crate::finding::Severity;
use crate::packs::Rule;

fn has(c: &Container, section: &str, resource: &str) -> bool {
    c.node
        .path(&["resources", section, resource])
        .is_some_and(|n| !n.is_null())
}

pub fn check(w: &Workload, containers: &[Container], emit: &mut Emit) {
    for c in containers {
        if c.kind == ContainerKind::Ephemeral {
            continue;
        }
        // A limit without a request makes the request equal to the limit.
        if !has(c, "requests", "cpu") && !has(c, "limits", "cpu") {
            emit.push(
                &CPU_REQUEST,
                c.span,
                format!("{} has no cpu request: the scheduler places it as if it needed no CPU, and it is the first to be starved", w.what(c)),
                w.key(c),
            );
        }
        if !has(c, "requests", "memory") && !has(c, "limits", "memory") {
            emit.push(
                &MEMORY_REQUEST,
                c.span,
                format!("{} has no memory request: the scheduler can overcommit the node and it is evicted first", w.what(c)),
                w.key(c),
            );
        }
        if !has(c, "limits", "memory") {
            emit.push(
                &MEMORY_LIMIT,
                c.span,
                format!("{} has no memory limit: a leak can use the whole node's memory and get other pods OOM-killed", w.what(c)),
                w.key(c),
            );
        }
        // kube-score's container-ephemeral-storage-request-and-limit: the
        // limit and the request (a limit alone makes the request equal).
        let limit = has(c, "limits", "ephemeral-storage");
        let request = has(c, "requests", "ephemeral-storage") || limit;
        if !limit {
            let what = if request {
                "sets an ephemeral-storage request but no limit"
            } else {
                "sets no ephemeral-storage request or limit"
            };
            emit.push(
                &EPHEMERAL,
                c.span,
                format!("{} {what}: logs, writable layers and emptyDir can fill the node's disk and get every pod on it evicted", w.what(c)),
                w.key(c),
            );
        }
    }
}

pub static CPU_REQUEST: Rule = rule("practices/cpu-request-missing", Severity::Warning, "A container has no cpu request.", r#"
## What it finds
A container or init container without `resources.requests.cpu` (a cpu limit alone counts, since the request then defaults to it).

## Why it matters
The scheduler counts the pod as needing no CPU: nodes get overpacked and the container is the first to be throttled under contention. HPAs on CPU utilisation cannot work without it.

## How to fix
```yaml
  resources:
    requests:
      cpu: 100m
      memory: 128Mi
    limits:
      memory: 256Mi
```
"#).precision("very-high");

pub static MEMORY_REQUEST: Rule = rule("practices/memory-request-missing", Severity::Warning, "A container has no memory request.", r#"
## What it finds
A container or init container without `resources.requests.memory` (or a memory limit, which the request defaults to).

## Why it matters
The pod gets the BestEffort or Burstable class with no guaranteed memory: it is scheduled onto full nodes and evicted first under pressure.

## How to fix
```yaml
  resources:
    requests:
      memory: 128Mi
```
"#).precision("very-high");

pub static MEMORY_LIMIT: Rule = rule("practices/memory-limit-missing", Severity::Warning, "A container has no memory limit.", r#"
## What it finds
A container or init container without `resources.limits.memory`.

## Why it matters
A memory leak grows until the node runs out; the kernel then kills whatever it picks, often other teams' pods. With a limit only the leaking container restarts.

## How to fix
```yaml
  resources:
    requests:
      memory: 128Mi
    limits:
      memory: 256Mi
```
"#).precision("very-high");

pub static EPHEMERAL: Rule = rule("practices/ephemeral-storage-missing", Severity::Note, "A container sets no ephemeral-storage limit.", r#"
## What it finds
A container or init container without `resources.limits.ephemeral-storage` (the request defaults to the limit; a request alone is reported too), as kube-score's `container-ephemeral-storage-request-and-limit` does. Off by default: on the real-repository corpus in `bench/precision.md` about nine containers in ten set neither, including every upstream project's own manifests, so a default-on rule would be a wall of notes on healthy repositories; turn it on with `rules: {practices/ephemeral-storage-missing: note}` where the cluster enforces storage quotas.

## Why it matters
Container logs, writable layers and `emptyDir` count against the node's disk; without a limit one chatty container can trigger disk-pressure eviction of everything on the node.

## How to fix
```yaml
  resources:
    requests:
      ephemeral-storage: 256Mi
    limits:
      ephemeral-storage: 1Gi
```
"#).precision("high").off_by_default();

/// Every rule of this module.
pub fn rules() -> Vec<&'static Rule> {
    vec![&CPU_REQUEST, &MEMORY_REQUEST, &MEMORY_LIMIT, &EPHEMERAL]
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{only, pairs};

    const RULES: &[&str] = &[
        "cpu-request-missing",
        "memory-request-missing",
        "memory-limit-missing",
        "ephemeral-storage-missing",
    ];

    #[test]
    fn fires_per_missing_field() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  initContainers:\n  - name: init\n    image: a:1\n    resources:\n      limits: {cpu: 1, memory: 1Gi}\n  containers:\n  - name: a\n    image: a:1\n  - name: b\n    image: a:1\n    resources:\n      requests: {cpu: 1, memory: 1Gi, ephemeral-storage: 1Gi}\n";
        assert_eq!(
            only(text, RULES),
            pairs(&[
                ("ephemeral-storage-missing", 7),
                ("cpu-request-missing", 12),
                ("ephemeral-storage-missing", 12),
                ("memory-limit-missing", 12),
                ("memory-request-missing", 12),
                ("ephemeral-storage-missing", 14),
                ("memory-limit-missing", 14),
            ])
        );
    }

    #[test]
    fn complete_resources_are_quiet() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: a:1\n    resources:\n      requests: {cpu: 100m, memory: 1Gi, ephemeral-storage: 1Gi}\n      limits: {memory: 1Gi, ephemeral-storage: 2Gi}\n";
        assert!(only(text, RULES).is_empty());
    }
}
