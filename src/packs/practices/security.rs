//! Security contexts (pod level and container level, the container's value
//! winning), host namespaces, hostPath volumes, host ports, seccomp and the
//! service account token.

use super::podspec::{Container, ContainerKind, Workload};
use super::{rule, Emit};
use crate::finding::Severity;
use crate::manifest::Node;
use crate::packs::Rule;

const DANGEROUS: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "NET_ADMIN",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_BOOT",
    "BPF",
    "DAC_READ_SEARCH",
];

/// The capabilities containerd and CRI-O give a container unless it drops
/// them (the OCI runtime defaults).
const RUNTIME_DEFAULT_CAPS: &[&str] = &[
    "NET_RAW",
    "CHOWN",
    "SETUID",
    "SETGID",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "MKNOD",
    "AUDIT_WRITE",
    "SETFCAP",
];

fn cap_name(n: &Node) -> Option<String> {
    n.as_str()
        .map(|s| s.trim().trim_start_matches("CAP_").to_ascii_uppercase())
}

fn is_windows(w: &Workload) -> bool {
    w.spec
        .path(&["nodeSelector", "kubernetes.io/os"])
        .and_then(Node::as_str)
        == Some("windows")
        || w.spec
            .path(&["securityContext", "windowsOptions"])
            .is_some()
        || w.spec.path(&["os", "name"]).and_then(Node::as_str) == Some("windows")
}

pub fn check(w: &Workload, containers: &[Container], emit: &mut Emit) {
    pod_level(w, emit);
    let windows = is_windows(w);
    for c in containers {
        if c.kind == ContainerKind::Ephemeral {
            continue;
        }
        let privileged = c.security("privileged").and_then(Node::as_bool) == Some(true);
        if let Some(p) = c.security("privileged").filter(|_| privileged) {
            emit.push(
                &PRIVILEGED,
                p.span,
                format!("{} runs privileged: it has every capability and full access to the host's devices; escaping to the node is trivial", w.what(c)),
                w.key(c),
            );
        }
        if windows {
            continue;
        }
        match c.security("allowPrivilegeEscalation") {
            Some(n) if n.as_bool() == Some(false) => {}
            Some(n) => {
                emit.push(
                    &ESCALATION,
                    n.span,
                    format!("{} sets allowPrivilegeEscalation to true: setuid binaries can gain more privileges than the process started with", w.what(c)),
                    w.key(c),
                );
            }
            None if !privileged => {
                emit.push(
                    &ESCALATION,
                    c.span,
                    format!("{} does not set securityContext.allowPrivilegeEscalation: false (it defaults to true)", w.what(c)),
                    w.key(c),
                );
            }
            None => {}
        }
        let user = w.effective(c, "runAsUser");
        let non_root = w.effective(c, "runAsNonRoot").and_then(Node::as_bool) == Some(true);
        match user.and_then(Node::as_i64) {
            Some(0) => {
                emit.push(
                    &ROOT,
                    user.map_or(c.span, |u| u.span),
                    format!("{} runs as root (runAsUser: 0)", w.what(c)),
                    w.key(c),
                );
            }
            Some(_) => {}
            None if !non_root => {
                emit.push(
                    &ROOT,
                    c.span,
                    format!("{} may run as root: neither it nor the pod sets runAsNonRoot: true or a non-zero runAsUser, so the image's USER decides", w.what(c)),
                    w.key(c),
                );
            }
            None => {}
        }
        match c.security("readOnlyRootFilesystem") {
            Some(n) if n.as_bool() == Some(true) => {}
            n => {
                emit.push(
                    &READONLY_FS,
                    n.map_or(c.span, |n| n.span),
                    format!("{} has a writable root filesystem (readOnlyRootFilesystem is not true): an attacker can drop tools and change binaries", w.what(c)),
                    w.key(c),
                );
            }
        }
        let drop = c.node.path(&["securityContext", "capabilities", "drop"]);
        let dropped: Vec<String> = drop
            .map(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter_map(cap_name)
            .collect();
        if !dropped.iter().any(|d| d == "ALL") && !privileged {
            let kept: Vec<&str> = RUNTIME_DEFAULT_CAPS
                .iter()
                .copied()
                .filter(|cap| !dropped.iter().any(|d| d == cap))
                .collect();
            let shown = kept.iter().take(3).copied().collect::<Vec<_>>().join(", ");
            let more = if kept.len() > 3 { " …" } else { "" };
            emit.push(
                &DROP_ALL,
                c.span,
                if kept.is_empty() {
                    format!("{} does not drop ALL capabilities: it drops each default by name, but a runtime with other defaults would keep them", w.what(c))
                } else {
                    format!("{} does not drop ALL capabilities: it keeps {} of the runtime's defaults ({shown}{more})", w.what(c), kept.len())
                },
                w.key(c),
            );
        }
        for cap in c
            .node
            .path(&["securityContext", "capabilities", "add"])
            .map(Node::as_seq)
            .unwrap_or(&[])
        {
            if let Some(name) = cap_name(cap).filter(|n| DANGEROUS.contains(&n.as_str())) {
                emit.push(
                    &DANGEROUS_CAPS,
                    cap.span,
                    format!(
                        "{} adds the capability {name}, which is close to root on the node",
                        w.what(c)
                    ),
                    format!("{}:cap={name}", w.key(c)),
                );
            }
        }
        for port in c.node.get("ports").map(Node::as_seq).unwrap_or(&[]) {
            if let Some(hp) = port
                .get("hostPort")
                .filter(|n| n.as_i64().unwrap_or(1) != 0)
            {
                emit.push(
                    &HOST_PORT,
                    hp.span,
                    format!("{} binds hostPort {}: only one such pod fits per node, and it bypasses NetworkPolicies", w.what(c), hp.scalar_text().unwrap_or_default()),
                    format!("{}:hostPort={}", w.key(c), hp.scalar_text().unwrap_or_default()),
                );
            }
        }
        let legacy = [w.m.root.get("metadata"), w.pod_meta]
            .into_iter()
            .flatten()
            .any(|meta| {
                meta.path(&["annotations", "seccomp.security.alpha.kubernetes.io/pod"])
                    .is_some()
            });
        let seccomp = legacy || w.effective(c, "seccompProfile").is_some();
        if !seccomp {
            emit.push(
                &SECCOMP,
                c.span,
                format!("{} has no seccompProfile (set it on the pod or the container; RuntimeDefault is a safe start)", w.what(c)),
                w.key(c),
            );
        }
    }
}

fn pod_level(w: &Workload, emit: &mut Emit) {
    for (field, rule, why) in [
        (
            "hostNetwork",
            &HOST_NETWORK,
            "it sees every interface of the node and can bind any of its ports",
        ),
        (
            "hostPID",
            &HOST_PID,
            "it sees and can signal every process on the node",
        ),
        (
            "hostIPC",
            &HOST_IPC,
            "it shares the node's shared memory with every process there",
        ),
    ] {
        if let Some(n) = w.spec.get(field).filter(|n| n.as_bool() == Some(true)) {
            emit.push(
                rule,
                n.span,
                format!("{} sets {field}: true: {why}", w.m.display_name()),
                format!("{}:{field}", w.pod_key()),
            );
        }
    }
    for v in w.spec.get("volumes").map(Node::as_seq).unwrap_or(&[]) {
        let Some(e) = v.entry("hostPath") else {
            continue;
        };
        let path = e
            .value
            .get("path")
            .and_then(Node::scalar_text)
            .unwrap_or_default();
        let name = v
            .get("name")
            .and_then(Node::scalar_text)
            .unwrap_or_default();
        let extra = if path.contains("docker.sock")
            || path.contains("containerd.sock")
            || path.contains("crio.sock")
        {
            " — the container runtime socket gives full control of the node"
        } else {
            ""
        };
        emit.push(
            &HOST_PATH,
            e.key.span,
            format!(
                "{} mounts the host path '{path}' (volume '{name}'){extra}",
                w.m.display_name()
            ),
            format!("{}:volume={name}", w.pod_key()),
        );
    }
}

/// The pod spec leaves `automountServiceAccountToken` unset (an explicit
/// `true` is a decision: controllers that call the API need it): where to
/// report, and the ServiceAccount whose own setting then decides.
pub fn automount_unset(w: &Workload) -> Option<(crate::source::Span, String)> {
    if w.spec.get("automountServiceAccountToken").is_some() {
        return None;
    }
    let sa = ["serviceAccountName", "serviceAccount"]
        .iter()
        .find_map(|k| w.spec.get(k).and_then(Node::scalar_text))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".to_string());
    Some((w.spec_span, sa))
}

pub static PRIVILEGED: Rule = rule("practices/privileged-container", Severity::Error, "A container runs privileged.", r#"
## What it finds
`securityContext.privileged: true` on a container.

## Why it matters
A privileged container has all capabilities and access to every host device: it is root on the node, and a compromise of the app is a compromise of the cluster node.

## How to fix
Remove it, and add only the specific capability the workload needs:
```yaml
  securityContext:
    privileged: false
    capabilities:
      drop: [ALL]
      add: [NET_BIND_SERVICE]
```
"#).security(9.0).precision("very-high");

pub static ESCALATION: Rule = rule("practices/privilege-escalation", Severity::Warning, "allowPrivilegeEscalation is not false.", r#"
## What it finds
A container whose `securityContext.allowPrivilegeEscalation` is missing (it defaults to true) or true.

## Why it matters
setuid binaries and file capabilities in the image can raise the process's privileges after it starts.

## How to fix
```yaml
  securityContext:
    allowPrivilegeEscalation: false
```
"#).security(6.0).precision("high");

pub static ROOT: Rule = rule("practices/run-as-root", Severity::Warning, "A container may run as root (no runAsNonRoot, or runAsUser: 0).", r#"
## What it finds
A container whose effective security context (the container's value, else the pod's) has `runAsUser: 0`, or neither `runAsNonRoot: true` nor a non-zero `runAsUser`. Windows pods are skipped.

## Why it matters
Root in the container is root on the node as far as the kernel is concerned; one container escape away from owning the node.

## How to fix
```yaml
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
```
"#).security(6.0).precision("high");

pub static READONLY_FS: Rule = rule("practices/readonly-root-filesystem", Severity::Note, "A container's root filesystem is writable.", r#"
## What it finds
A container without `securityContext.readOnlyRootFilesystem: true`.

## Why it matters
A writable root filesystem lets an attacker download tools and change binaries; read-only images also make drift impossible.

## How to fix
```yaml
  securityContext:
    readOnlyRootFilesystem: true
  volumeMounts:
  - name: tmp
    mountPath: /tmp     # writable scratch space where the app needs it
```
"#).security(4.0).precision("high");

pub static DROP_ALL: Rule = rule("practices/capabilities-drop-all", Severity::Note, "A container does not drop ALL capabilities.", r#"
## What it finds
A non-privileged container whose `securityContext.capabilities.drop` does not include `ALL`.

## Why it matters
Container runtimes grant a default set (NET_RAW, CHOWN, SETUID, …) that most apps never need; NET_RAW alone allows ARP and DNS spoofing inside the cluster network.

## How to fix
```yaml
  securityContext:
    capabilities:
      drop: [ALL]
      add: [NET_BIND_SERVICE]   # only what is needed
```
"#).security(4.0).precision("high");

pub static DANGEROUS_CAPS: Rule = rule("practices/dangerous-capabilities", Severity::Warning, "A container adds a dangerous capability (SYS_ADMIN, NET_ADMIN, ALL …).", r#"
## What it finds
`securityContext.capabilities.add` containing ALL, SYS_ADMIN, NET_ADMIN, SYS_MODULE, SYS_PTRACE, SYS_RAWIO, SYS_BOOT, BPF or DAC_READ_SEARCH.

## Why it matters
Each of these is nearly root on the node (SYS_ADMIN alone allows mounts and most container escapes).

## How to fix
Remove the capability, or isolate the workload that truly needs it (CNI, node agents) in its own namespace and silence the finding there:
```yaml
  securityContext:
    capabilities:
      drop: [ALL]
```
"#).security(7.5).precision("very-high");

pub static HOST_NETWORK: Rule = rule("practices/host-network", Severity::Warning, "The pod uses the node's network namespace.", r#"
## What it finds
`hostNetwork: true` in a pod spec.

## Why it matters
The pod sees every interface of the node, can bind its ports and sniff its traffic, and is not subject to NetworkPolicies.

## How to fix
Remove `hostNetwork` and expose the pod through a Service:
```yaml
spec:
  hostNetwork: false
```
"#).security(7.0).precision("very-high");

pub static HOST_PID: Rule = rule(
    "practices/host-pid",
    Severity::Warning,
    "The pod uses the node's PID namespace.",
    r#"
## What it finds
`hostPID: true` in a pod spec.

## Why it matters
The pod sees every process of the node, can read their environment (secrets) and signal them.

## How to fix
```yaml
spec:
  hostPID: false
```
"#,
)
.security(7.0)
.precision("very-high");

pub static HOST_IPC: Rule = rule(
    "practices/host-ipc",
    Severity::Warning,
    "The pod uses the node's IPC namespace.",
    r#"
## What it finds
`hostIPC: true` in a pod spec.

## Why it matters
The pod can read and write the shared memory of every process on the node.

## How to fix
```yaml
spec:
  hostIPC: false
```
"#,
)
.security(7.0)
.precision("very-high");

pub static HOST_PATH: Rule = rule("practices/host-path-volume", Severity::Warning, "The pod mounts a path of the node (hostPath).", r#"
## What it finds
A `hostPath` volume; the message says which path, and calls out container runtime sockets (`docker.sock`, `containerd.sock`).

## Why it matters
Host paths bypass every isolation: a writable `/` or a runtime socket is a direct way to root on the node, and the pod becomes tied to one node's disk.

## How to fix
Use a `persistentVolumeClaim`, `emptyDir`, `configMap` or CSI volume instead:
```yaml
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: data
```
"#).security(7.0).precision("very-high");

pub static HOST_PORT: Rule = rule("practices/host-port", Severity::Warning, "A container binds a hostPort.", r#"
## What it finds
`ports[].hostPort` on a container.

## Why it matters
The port is opened on the node itself: only one such pod fits per node, scheduling fails silently when the port is taken, and the traffic skips NetworkPolicies.

## How to fix
Drop `hostPort` and use a Service (NodePort or LoadBalancer if it must be reachable from outside):
```yaml
  ports:
  - containerPort: 8080
```
"#).security(5.0).precision("very-high");

pub static SECCOMP: Rule = rule("practices/seccomp-profile-unset", Severity::Note, "No seccomp profile on the pod or container.", r#"
## What it finds
A container whose effective security context (container, else pod) has no `seccompProfile` (the legacy `seccomp.security.alpha.kubernetes.io/pod` annotation counts).

## Why it matters
Without a profile the container may call every syscall, including the rarely used ones most kernel exploits rely on. `RuntimeDefault` blocks them at no cost for nearly every app, and the `restricted` Pod Security Standard requires it.

## How to fix
```yaml
spec:
  securityContext:
    seccompProfile:
      type: RuntimeDefault
```
"#).security(3.0).precision("high");

pub static AUTOMOUNT: Rule = rule("practices/automount-service-account-token", Severity::Note, "The pod mounts a service account token it may not need.", r#"
## What it finds
A pod spec that does not set `automountServiceAccountToken`, whose ServiceAccount (`serviceAccountName`, else `default`) is not among the scanned files with `automountServiceAccountToken: false`. Pods whose ServiceAccount a RoleBinding or ClusterRoleBinding of the scanned files grants a role are not reported either: they were given API permissions, so they call the API and need the token. An explicit `automountServiceAccountToken: true` on the pod is a decision (controllers and operators that call the API need the token) and is not reported.

## Why it matters
The token lets whoever gets a shell in the pod call the Kubernetes API with the pod's identity. Most apps never talk to the API.

## How to fix
```yaml
spec:
  automountServiceAccountToken: false
```
or on the ServiceAccount, for every pod that uses it:
```yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
automountServiceAccountToken: false
```
"#).security(3.0).precision("medium");

/// Every rule of this module.
pub fn rules() -> Vec<&'static Rule> {
    vec![
        &PRIVILEGED,
        &ESCALATION,
        &ROOT,
        &READONLY_FS,
        &DROP_ALL,
        &DANGEROUS_CAPS,
        &HOST_NETWORK,
        &HOST_PID,
        &HOST_IPC,
        &HOST_PATH,
        &HOST_PORT,
        &SECCOMP,
        &AUTOMOUNT,
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{only, pairs};

    const RULES: &[&str] = &[
        "privileged-container",
        "privilege-escalation",
        "run-as-root",
        "readonly-root-filesystem",
        "capabilities-drop-all",
        "dangerous-capabilities",
        "host-network",
        "host-pid",
        "host-ipc",
        "host-path-volume",
        "host-port",
        "seccomp-profile-unset",
        "automount-service-account-token",
    ];

    #[test]
    fn insecure_pod_fires_everything_on_its_line() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostNetwork: true\n  hostPID: true\n  hostIPC: true\n  securityContext:\n    runAsUser: 0\n  volumes:\n  - name: sock\n    hostPath:\n      path: /var/run/docker.sock\n  containers:\n  - name: a\n    image: a:1\n    ports:\n    - containerPort: 80\n      hostPort: 80\n    securityContext:\n      allowPrivilegeEscalation: true\n      readOnlyRootFilesystem: false\n      capabilities:\n        add: [NET_ADMIN, CHOWN]\n  - name: b\n    image: a:1\n    securityContext:\n      privileged: true\n";
        assert_eq!(
            only(text, RULES),
            pairs(&[
                ("automount-service-account-token", 5),
                ("host-network", 6),
                ("host-pid", 7),
                ("host-ipc", 8),
                ("run-as-root", 10),
                ("run-as-root", 10),
                ("host-path-volume", 13),
                ("capabilities-drop-all", 16),
                ("seccomp-profile-unset", 16),
                ("host-port", 20),
                ("privilege-escalation", 22),
                ("readonly-root-filesystem", 23),
                ("dangerous-capabilities", 25),
                ("readonly-root-filesystem", 26),
                ("seccomp-profile-unset", 26),
                ("privileged-container", 29),
            ])
        );
    }

    #[test]
    fn hardened_pod_is_quiet_and_container_overrides_pod() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      automountServiceAccountToken: false\n      securityContext:\n        runAsNonRoot: true\n        runAsUser: 0\n        seccompProfile: {type: RuntimeDefault}\n      containers:\n      - name: a\n        image: a:1\n        securityContext:\n          runAsUser: 1000\n          allowPrivilegeEscalation: false\n          readOnlyRootFilesystem: true\n          capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}\n";
        assert!(only(text, RULES).is_empty(), "{:?}", only(text, RULES));
    }
}
