//! Ignore annotations of other tools, mapped to our rule ids, so a repo that
//! already silenced kube-score, kube-linter, polaris or checkov is not
//! flooded. Read from the object's annotations and its pod template's.

use crate::manifest::{Manifest, Node};

/// kube-score check ids (`kube-score/ignore: a,b`).
pub const KUBE_SCORE: &[(&str, &[&str])] = &[
    (
        "container-resources",
        &[
            "cpu-request-missing",
            "memory-request-missing",
            "memory-limit-missing",
            "ephemeral-storage-missing",
        ],
    ),
    (
        "container-ephemeral-storage-request-and-limit",
        &["ephemeral-storage-missing"],
    ),
    ("container-image-tag", &["image-latest-tag"]),
    ("container-image-pull-policy", &["image-pull-policy"]),
    (
        "pod-probes",
        &["readiness-probe-missing", "liveness-probe-missing"],
    ),
    ("pod-probes-identical", &["probes-identical"]),
    ("container-security-context-user-group-id", &["run-as-root"]),
    (
        "container-security-context-privileged",
        &["privileged-container"],
    ),
    (
        "container-security-context-readonlyrootfilesystem",
        &["readonly-root-filesystem"],
    ),
    ("container-seccomp-profile", &["seccomp-profile-unset"]),
    ("service-targets-pod", &["service-selector-no-match"]),
    (
        "statefulset-has-servicename",
        &["statefulset-service-missing"],
    ),
    (
        "deployment-pod-selector-labels-match-template-metadata-labels",
        &["selector-mismatch"],
    ),
    (
        "statefulset-pod-selector-labels-match-template-metadata-labels",
        &["selector-mismatch"],
    ),
    (
        "horizontalpodautoscaler-has-target",
        &["hpa-target-missing"],
    ),
    ("deployment-has-poddisruptionbudget", &["pdb-missing"]),
    ("statefulset-has-poddisruptionbudget", &["pdb-missing"]),
    ("pod-networkpolicy", &["network-policy-missing"]),
];

/// kube-linter checks (`ignore-check.kube-linter.io/<check>`).
pub const KUBE_LINTER: &[(&str, &[&str])] = &[
    ("no-readiness-probe", &["readiness-probe-missing"]),
    ("no-liveness-probe", &["liveness-probe-missing"]),
    (
        "liveness-port",
        &["probe-port-unknown", "probe-port-not-exposed"],
    ),
    (
        "readiness-port",
        &["probe-port-unknown", "probe-port-not-exposed"],
    ),
    (
        "startup-port",
        &["probe-port-unknown", "probe-port-not-exposed"],
    ),
    ("unset-cpu-requirements", &["cpu-request-missing"]),
    (
        "unset-memory-requirements",
        &["memory-request-missing", "memory-limit-missing"],
    ),
    ("latest-tag", &["image-latest-tag"]),
    ("privileged-container", &["privileged-container"]),
    ("privilege-escalation-container", &["privilege-escalation"]),
    ("run-as-non-root", &["run-as-root"]),
    ("no-read-only-root-fs", &["readonly-root-filesystem"]),
    ("drop-net-raw-capability", &["capabilities-drop-all"]),
    ("host-network", &["host-network"]),
    ("host-pid", &["host-pid"]),
    ("host-ipc", &["host-ipc"]),
    ("sensitive-host-mounts", &["host-path-volume"]),
    ("docker-sock", &["host-path-volume"]),
    ("writable-host-mount", &["host-path-volume"]),
    ("dangling-service", &["service-selector-no-match"]),
    ("mismatching-selector", &["selector-mismatch"]),
    ("dangling-horizontalpodautoscaler", &["hpa-target-missing"]),
    ("non-isolated-pod", &["network-policy-missing"]),
    ("env-var-secret", &["env-secret"]),
    ("wildcard-in-rules", &["rbac-wildcard"]),
    ("access-to-secrets", &["rbac-secrets-read-cluster-wide"]),
    ("cluster-admin-role-binding", &["rbac-cluster-admin-bound"]),
];

/// Polaris checks (`polaris.fairwinds.com/<check>-exempt: "true"`).
pub const POLARIS: &[(&str, &[&str])] = &[
    ("readinessProbeMissing", &["readiness-probe-missing"]),
    ("livenessProbeMissing", &["liveness-probe-missing"]),
    ("tagNotSpecified", &["image-latest-tag"]),
    ("pullPolicyNotAlways", &["image-pull-policy"]),
    ("cpuRequestsMissing", &["cpu-request-missing"]),
    ("memoryRequestsMissing", &["memory-request-missing"]),
    ("memoryLimitsMissing", &["memory-limit-missing"]),
    ("hostIPCSet", &["host-ipc"]),
    ("hostPIDSet", &["host-pid"]),
    ("hostNetworkSet", &["host-network"]),
    ("privilegeEscalationAllowed", &["privilege-escalation"]),
    ("runAsRootAllowed", &["run-as-root"]),
    ("runAsPrivileged", &["privileged-container"]),
    ("dangerousCapabilities", &["dangerous-capabilities"]),
    ("insecureCapabilities", &["capabilities-drop-all"]),
    ("notReadOnlyRootFilesystem", &["readonly-root-filesystem"]),
    ("hostPathSet", &["host-path-volume"]),
    ("hostPortSet", &["host-port"]),
    (
        "automountServiceAccountToken",
        &["automount-service-account-token"],
    ),
    ("linuxHardening", &["seccomp-profile-unset"]),
    ("missingNetworkPolicy", &["network-policy-missing"]),
    ("missingPodDisruptionBudget", &["pdb-missing"]),
    ("sensitiveContainerEnvVar", &["env-secret"]),
    ("clusterrolePodExecAttach", &["rbac-pods-exec"]),
    ("rolePodExecAttach", &["rbac-pods-exec"]),
    (
        "clusterrolebindingClusterAdmin",
        &["rbac-cluster-admin-bound"],
    ),
    (
        "rolebindingClusterAdminClusterRole",
        &["rbac-cluster-admin-bound"],
    ),
];

/// checkov ids (`checkov.io/skip1: CKV_K8S_20=reason`).
pub const CHECKOV: &[(&str, &[&str])] = &[
    ("CKV_K8S_8", &["liveness-probe-missing"]),
    ("CKV_K8S_9", &["readiness-probe-missing"]),
    ("CKV_K8S_10", &["cpu-request-missing"]),
    ("CKV_K8S_12", &["memory-request-missing"]),
    ("CKV_K8S_13", &["memory-limit-missing"]),
    ("CKV_K8S_14", &["image-latest-tag"]),
    ("CKV_K8S_15", &["image-pull-policy"]),
    ("CKV_K8S_16", &["privileged-container"]),
    ("CKV_K8S_17", &["host-pid"]),
    ("CKV_K8S_18", &["host-ipc"]),
    ("CKV_K8S_19", &["host-network"]),
    ("CKV_K8S_20", &["privilege-escalation"]),
    ("CKV_K8S_22", &["readonly-root-filesystem"]),
    ("CKV_K8S_23", &["run-as-root"]),
    ("CKV_K8S_25", &["dangerous-capabilities"]),
    ("CKV_K8S_26", &["host-port"]),
    ("CKV_K8S_27", &["host-path-volume"]),
    ("CKV_K8S_28", &["capabilities-drop-all"]),
    ("CKV_K8S_31", &["seccomp-profile-unset"]),
    ("CKV_K8S_37", &["capabilities-drop-all"]),
    ("CKV_K8S_38", &["automount-service-account-token"]),
    ("CKV_K8S_39", &["dangerous-capabilities"]),
    ("CKV_K8S_40", &["run-as-root"]),
    ("CKV_K8S_43", &["image-digest-missing"]),
    ("CKV_K8S_42", &["rbac-default-service-account-bound"]),
    ("CKV_K8S_49", &["rbac-wildcard"]),
    ("CKV_K8S_155", &["rbac-webhook-control"]),
    ("CKV_K8S_157", &["rbac-escalation-verbs"]),
    ("CKV_K8S_158", &["rbac-escalation-verbs"]),
    ("CKV2_K8S_2", &["rbac-pods-exec"]),
    ("CKV2_K8S_3", &["rbac-escalation-verbs"]),
    ("CKV2_K8S_5", &["rbac-secrets-read-cluster-wide"]),
];

fn mapped(table: &[(&str, &[&str])], id: &str, out: &mut Vec<String>) {
    for (theirs, ours) in table {
        if theirs.eq_ignore_ascii_case(id.trim()) {
            out.extend(ours.iter().map(|r| format!("practices/{r}")));
        }
    }
}

fn annotation_entries(node: Option<&Node>) -> impl Iterator<Item = (String, String)> + '_ {
    node.and_then(|m| m.get("annotations"))
        .map(Node::entries)
        .unwrap_or(&[])
        .iter()
        .filter_map(|e| Some((e.key.key_str()?.into_owned(), e.value.scalar_text()?)))
}

/// Our rule ids silenced by other tools' annotations on this resource (or
/// its pod template).
pub fn ignores(m: &Manifest, pod_meta: Option<&Node>) -> Vec<String> {
    let mut out = Vec::new();
    let own = annotation_entries(m.root.get("metadata"));
    for (key, value) in own.chain(annotation_entries(pod_meta)) {
        if key == "kube-score/ignore" {
            for id in value.split(',') {
                mapped(KUBE_SCORE, id, &mut out);
            }
        } else if let Some(check) = key.strip_prefix("ignore-check.kube-linter.io/") {
            mapped(KUBE_LINTER, check, &mut out);
        } else if key == "kube-linter.io/ignore-all" {
            out.push("practices/*".into());
        } else if let Some(rest) = key.strip_prefix("polaris.fairwinds.com/") {
            if !value.trim().eq_ignore_ascii_case("true") {
                continue;
            }
            match rest.strip_suffix("-exempt") {
                Some(check) => mapped(POLARIS, check, &mut out),
                None if rest == "exempt" => out.push("practices/*".into()),
                None => {}
            }
        } else if ["checkov.io/skip", "bridgecrew.io/skip", "cortex.io/skip"]
            .iter()
            .any(|p| key.contains(p))
        {
            let id = value.split('=').next().unwrap_or("");
            mapped(CHECKOV, id, &mut out);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The mapping as Markdown, for rule help.
pub fn help_table(rule: &str) -> String {
    let mut parts = Vec::new();
    for (tool, table, fmt) in [
        ("kube-score", KUBE_SCORE, "`kube-score/ignore: {}`"),
        (
            "kube-linter",
            KUBE_LINTER,
            "`ignore-check.kube-linter.io/{}: \"reason\"`",
        ),
        (
            "polaris",
            POLARIS,
            "`polaris.fairwinds.com/{}-exempt: \"true\"`",
        ),
        ("checkov", CHECKOV, "`checkov.io/skip1: {}=reason`"),
    ] {
        let ids: Vec<String> = table
            .iter()
            .filter(|(_, ours)| ours.contains(&rule))
            .map(|(theirs, _)| fmt.replace("{}", theirs))
            .collect();
        if !ids.is_empty() {
            parts.push(format!("{tool}: {}", ids.join(", ")));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(
            "\n\n## Other tools' annotations\nAlso silenced by {} (on the resource or its pod template). `kube-linter.io/ignore-all` and `polaris.fairwinds.com/exempt: \"true\"` silence every `practices/*` rule.",
            parts.join("; ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{parse_file, Limits};
    use crate::source::SourceFile;

    #[test]
    fn maps_every_tool() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\n  annotations:\n    kube-score/ignore: pod-probes, container-image-tag\n    ignore-check.kube-linter.io/privileged-container: needs it\n    polaris.fairwinds.com/hostNetworkSet-exempt: \"true\"\n    polaris.fairwinds.com/hostPIDSet-exempt: \"false\"\n    checkov.io/skip1: CKV_K8S_20=reason\nspec:\n  template:\n    metadata:\n      annotations:\n        bridgecrew.io/skip2: CKV_K8S_43\n    spec:\n      containers: []\n";
        let p = parse_file(&SourceFile::new("d.yaml", text.into()), Limits::default());
        let m = &p.manifests[0];
        let got = ignores(m, m.root.path(&["spec", "template", "metadata"]));
        assert_eq!(
            got,
            vec![
                "practices/host-network",
                "practices/image-digest-missing",
                "practices/image-latest-tag",
                "practices/liveness-probe-missing",
                "practices/privilege-escalation",
                "practices/privileged-container",
                "practices/readiness-probe-missing",
            ]
        );
    }
}
