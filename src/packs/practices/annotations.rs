//! Ignore annotations of other tools, mapped to our rule ids, so a repo that
//! already silenced kube-score, kube-linter, polaris or checkov is not
//! flooded. Read from the object's annotations and its pod template's.

use super::{cross, env_secret, image, probes, rbac, resources, security};
use crate::finding::Rule;
use crate::manifest::{Manifest, Node};

/// kube-score check ids (`kube-score/ignore: a,b`).
pub static KUBE_SCORE: &[(&str, &[&Rule])] = &[
    (
        "container-resources",
        &[
            &resources::CPU_REQUEST,
            &resources::MEMORY_REQUEST,
            &resources::MEMORY_LIMIT,
            &resources::EPHEMERAL,
        ],
    ),
    (
        "container-ephemeral-storage-request-and-limit",
        &[&resources::EPHEMERAL],
    ),
    ("container-image-tag", &[&image::LATEST]),
    ("container-image-pull-policy", &[&image::PULL_POLICY]),
    ("pod-probes", &[&probes::READINESS, &probes::LIVENESS]),
    ("pod-probes-identical", &[&probes::IDENTICAL]),
    (
        "container-security-context-user-group-id",
        &[&security::ROOT],
    ),
    (
        "container-security-context-privileged",
        &[&security::PRIVILEGED],
    ),
    (
        "container-security-context-readonlyrootfilesystem",
        &[&security::READONLY_FS],
    ),
    ("container-seccomp-profile", &[&security::SECCOMP]),
    ("service-targets-pod", &[&cross::SERVICE_NO_MATCH]),
    ("statefulset-has-servicename", &[&cross::STS_SERVICE]),
    (
        "deployment-pod-selector-labels-match-template-metadata-labels",
        &[&cross::SELECTOR_MISMATCH],
    ),
    (
        "statefulset-pod-selector-labels-match-template-metadata-labels",
        &[&cross::SELECTOR_MISMATCH],
    ),
    ("horizontalpodautoscaler-has-target", &[&cross::HPA_TARGET]),
    ("deployment-has-poddisruptionbudget", &[&cross::PDB_MISSING]),
    (
        "statefulset-has-poddisruptionbudget",
        &[&cross::PDB_MISSING],
    ),
    ("pod-networkpolicy", &[&cross::NETPOL_MISSING]),
];

/// kube-linter checks (`ignore-check.kube-linter.io/<check>`).
pub static KUBE_LINTER: &[(&str, &[&Rule])] = &[
    ("no-readiness-probe", &[&probes::READINESS]),
    ("no-liveness-probe", &[&probes::LIVENESS]),
    (
        "liveness-port",
        &[&probes::PORT_UNKNOWN, &probes::PORT_NOT_EXPOSED],
    ),
    (
        "readiness-port",
        &[&probes::PORT_UNKNOWN, &probes::PORT_NOT_EXPOSED],
    ),
    (
        "startup-port",
        &[&probes::PORT_UNKNOWN, &probes::PORT_NOT_EXPOSED],
    ),
    ("unset-cpu-requirements", &[&resources::CPU_REQUEST]),
    (
        "unset-memory-requirements",
        &[&resources::MEMORY_REQUEST, &resources::MEMORY_LIMIT],
    ),
    ("latest-tag", &[&image::LATEST]),
    ("privileged-container", &[&security::PRIVILEGED]),
    ("privilege-escalation-container", &[&security::ESCALATION]),
    ("run-as-non-root", &[&security::ROOT]),
    ("no-read-only-root-fs", &[&security::READONLY_FS]),
    ("drop-net-raw-capability", &[&security::DROP_ALL]),
    ("host-network", &[&security::HOST_NETWORK]),
    ("host-pid", &[&security::HOST_PID]),
    ("host-ipc", &[&security::HOST_IPC]),
    ("sensitive-host-mounts", &[&security::HOST_PATH]),
    ("docker-sock", &[&security::HOST_PATH]),
    ("writable-host-mount", &[&security::HOST_PATH]),
    ("dangling-service", &[&cross::SERVICE_NO_MATCH]),
    ("mismatching-selector", &[&cross::SELECTOR_MISMATCH]),
    ("dangling-horizontalpodautoscaler", &[&cross::HPA_TARGET]),
    ("non-isolated-pod", &[&cross::NETPOL_MISSING]),
    ("env-var-secret", &[&env_secret::ENV_SECRET]),
    ("wildcard-in-rules", &[&rbac::WILDCARD]),
    ("access-to-secrets", &[&rbac::SECRETS]),
    ("cluster-admin-role-binding", &[&rbac::CLUSTER_ADMIN]),
];

/// Polaris checks (`polaris.fairwinds.com/<check>-exempt: "true"`).
pub static POLARIS: &[(&str, &[&Rule])] = &[
    ("readinessProbeMissing", &[&probes::READINESS]),
    ("livenessProbeMissing", &[&probes::LIVENESS]),
    ("tagNotSpecified", &[&image::LATEST]),
    ("pullPolicyNotAlways", &[&image::PULL_POLICY]),
    ("cpuRequestsMissing", &[&resources::CPU_REQUEST]),
    ("memoryRequestsMissing", &[&resources::MEMORY_REQUEST]),
    ("memoryLimitsMissing", &[&resources::MEMORY_LIMIT]),
    ("hostIPCSet", &[&security::HOST_IPC]),
    ("hostPIDSet", &[&security::HOST_PID]),
    ("hostNetworkSet", &[&security::HOST_NETWORK]),
    ("privilegeEscalationAllowed", &[&security::ESCALATION]),
    ("runAsRootAllowed", &[&security::ROOT]),
    ("runAsPrivileged", &[&security::PRIVILEGED]),
    ("dangerousCapabilities", &[&security::DANGEROUS_CAPS]),
    ("insecureCapabilities", &[&security::DROP_ALL]),
    ("notReadOnlyRootFilesystem", &[&security::READONLY_FS]),
    ("hostPathSet", &[&security::HOST_PATH]),
    ("hostPortSet", &[&security::HOST_PORT]),
    ("automountServiceAccountToken", &[&security::AUTOMOUNT]),
    ("linuxHardening", &[&security::SECCOMP]),
    ("missingNetworkPolicy", &[&cross::NETPOL_MISSING]),
    ("missingPodDisruptionBudget", &[&cross::PDB_MISSING]),
    ("sensitiveContainerEnvVar", &[&env_secret::ENV_SECRET]),
    ("clusterrolePodExecAttach", &[&rbac::EXEC]),
    ("rolePodExecAttach", &[&rbac::EXEC]),
    ("clusterrolebindingClusterAdmin", &[&rbac::CLUSTER_ADMIN]),
    (
        "rolebindingClusterAdminClusterRole",
        &[&rbac::CLUSTER_ADMIN],
    ),
];

/// checkov ids (`checkov.io/skip1: CKV_K8S_20=reason`).
pub static CHECKOV: &[(&str, &[&Rule])] = &[
    ("CKV_K8S_8", &[&probes::LIVENESS]),
    ("CKV_K8S_9", &[&probes::READINESS]),
    ("CKV_K8S_10", &[&resources::CPU_REQUEST]),
    ("CKV_K8S_12", &[&resources::MEMORY_REQUEST]),
    ("CKV_K8S_13", &[&resources::MEMORY_LIMIT]),
    ("CKV_K8S_14", &[&image::LATEST]),
    ("CKV_K8S_15", &[&image::PULL_POLICY]),
    ("CKV_K8S_16", &[&security::PRIVILEGED]),
    ("CKV_K8S_17", &[&security::HOST_PID]),
    ("CKV_K8S_18", &[&security::HOST_IPC]),
    ("CKV_K8S_19", &[&security::HOST_NETWORK]),
    ("CKV_K8S_20", &[&security::ESCALATION]),
    ("CKV_K8S_22", &[&security::READONLY_FS]),
    ("CKV_K8S_23", &[&security::ROOT]),
    ("CKV_K8S_25", &[&security::DANGEROUS_CAPS]),
    ("CKV_K8S_26", &[&security::HOST_PORT]),
    ("CKV_K8S_27", &[&security::HOST_PATH]),
    ("CKV_K8S_28", &[&security::DROP_ALL]),
    ("CKV_K8S_31", &[&security::SECCOMP]),
    ("CKV_K8S_37", &[&security::DROP_ALL]),
    ("CKV_K8S_38", &[&security::AUTOMOUNT]),
    ("CKV_K8S_39", &[&security::DANGEROUS_CAPS]),
    ("CKV_K8S_40", &[&security::ROOT]),
    ("CKV_K8S_43", &[&image::DIGEST]),
    ("CKV_K8S_42", &[&rbac::DEFAULT_SA]),
    ("CKV_K8S_49", &[&rbac::WILDCARD]),
    ("CKV_K8S_155", &[&rbac::WEBHOOKS]),
    ("CKV_K8S_157", &[&rbac::ESCALATION]),
    ("CKV_K8S_158", &[&rbac::ESCALATION]),
    ("CKV2_K8S_2", &[&rbac::EXEC]),
    ("CKV2_K8S_3", &[&rbac::ESCALATION]),
    ("CKV2_K8S_5", &[&rbac::SECRETS]),
];

fn mapped(table: &[(&str, &[&Rule])], id: &str, out: &mut Vec<String>) {
    for (theirs, ours) in table {
        if theirs.eq_ignore_ascii_case(id.trim()) {
            out.extend(ours.iter().map(|r| r.id.to_string()));
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

/// The mapping as Markdown, for a rule's help.
pub fn help_table(rule: &Rule) -> String {
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
            .filter(|(_, ours)| ours.iter().any(|r| r.id == rule.id))
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

    /// Every rule a peer's annotation maps to is a registered practices
    /// rule (the tables name rule items, so a typo does not compile; this
    /// keeps an item out of the tables unless `rules()` lists it).
    #[test]
    fn every_mapped_rule_is_registered() {
        let registered = super::super::rules();
        for table in [KUBE_SCORE, KUBE_LINTER, POLARIS, CHECKOV] {
            for (theirs, ours) in table {
                assert!(!ours.is_empty(), "{theirs} maps to nothing");
                for r in *ours {
                    assert!(
                        registered.iter().any(|x| x.id == r.id),
                        "{theirs} → {}: not a registered rule",
                        r.id
                    );
                }
            }
        }
    }

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
