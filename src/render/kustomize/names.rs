//! What kustomize does once the root is built: references by name kept in
//! step with renamed objects (prefixes, suffixes, hash suffixes), and its
//! output order.

use super::build::{at_path, text_of, Res};
use super::tree::{Pos, P, V};

/// References by name kustomize keeps in step with renamed objects:
/// (referenced kind, where under a pod spec or object).
pub fn fix_name_references(acc: &mut [Res]) {
    // (kind, old names, new name, namespace)
    let renamed: Vec<(String, Vec<String>, String, String)> = acc
        .iter()
        .filter(|r| r.names.len() > 1)
        .map(|r| {
            (
                r.kind().to_string(),
                r.names.clone(),
                r.name().to_string(),
                r.namespace().to_string(),
            )
        })
        .collect();
    if renamed.is_empty() {
        return;
    }
    let lookup = |kind: &str, old: &str| -> Option<(String, String)> {
        let hits: Vec<_> = renamed
            .iter()
            .filter(|(k, names, _, _)| k == kind && names.iter().any(|n| n == old))
            .collect();
        match hits.as_slice() {
            [one] if one.2 != old => Some((one.2.clone(), one.3.clone())),
            _ => None,
        }
    };
    let rename = |p: Option<&mut P>, kind: &str| {
        if let Some(p) = p {
            if let Some(new) = p.as_str().and_then(|old| lookup(kind, old)) {
                p.v = V::Str(new.0);
            }
        }
    };
    for r in acc.iter_mut() {
        let kind = r.kind().to_string();
        for spec_path in [
            &["spec"][..],
            &["spec", "template", "spec"],
            &["spec", "jobTemplate", "spec", "template", "spec"],
        ] {
            if spec_path.len() == 1 && kind != "Pod" {
                continue;
            }
            let Some(spec) = spec_path.iter().try_fold(&mut r.obj, |n, k| n.get_mut(k)) else {
                continue;
            };
            rename(spec.get_mut("serviceAccountName"), "ServiceAccount");
            rename(spec.get_mut("serviceAccount"), "ServiceAccount");
            if let Some(V::Seq(ps)) = spec.get_mut("imagePullSecrets").map(|x| &mut x.v) {
                ps.iter_mut()
                    .for_each(|s| rename(s.get_mut("name"), "Secret"));
            }
            if let Some(V::Seq(vols)) = spec.get_mut("volumes").map(|x| &mut x.v) {
                for v in vols.iter_mut() {
                    rename(
                        v.get_mut("configMap").and_then(|c| c.get_mut("name")),
                        "ConfigMap",
                    );
                    rename(
                        v.get_mut("secret").and_then(|c| c.get_mut("secretName")),
                        "Secret",
                    );
                    rename(
                        v.get_mut("persistentVolumeClaim")
                            .and_then(|c| c.get_mut("claimName")),
                        "PersistentVolumeClaim",
                    );
                    if let Some(V::Seq(srcs)) = v
                        .get_mut("projected")
                        .and_then(|p| p.get_mut("sources"))
                        .map(|x| &mut x.v)
                    {
                        for s in srcs.iter_mut() {
                            rename(
                                s.get_mut("configMap").and_then(|c| c.get_mut("name")),
                                "ConfigMap",
                            );
                            rename(
                                s.get_mut("secret").and_then(|c| c.get_mut("name")),
                                "Secret",
                            );
                        }
                    }
                }
            }
            for ckey in ["containers", "initContainers"] {
                let Some(V::Seq(cs)) = spec.get_mut(ckey).map(|x| &mut x.v) else {
                    continue;
                };
                for c in cs.iter_mut() {
                    if let Some(V::Seq(env)) = c.get_mut("env").map(|x| &mut x.v) {
                        for e in env.iter_mut() {
                            if let Some(vf) = e.get_mut("valueFrom") {
                                rename(
                                    vf.get_mut("configMapKeyRef")
                                        .and_then(|c| c.get_mut("name")),
                                    "ConfigMap",
                                );
                                rename(
                                    vf.get_mut("secretKeyRef").and_then(|c| c.get_mut("name")),
                                    "Secret",
                                );
                            }
                        }
                    }
                    if let Some(V::Seq(ef)) = c.get_mut("envFrom").map(|x| &mut x.v) {
                        for e in ef.iter_mut() {
                            rename(
                                e.get_mut("configMapRef").and_then(|c| c.get_mut("name")),
                                "ConfigMap",
                            );
                            rename(
                                e.get_mut("secretRef").and_then(|c| c.get_mut("name")),
                                "Secret",
                            );
                        }
                    }
                }
            }
        }
        match kind.as_str() {
            "RoleBinding" | "ClusterRoleBinding" => {
                let role_kind = r
                    .obj
                    .path(&["roleRef", "kind"])
                    .and_then(P::as_str)
                    .unwrap_or("")
                    .to_string();
                rename(
                    r.obj.get_mut("roleRef").and_then(|x| x.get_mut("name")),
                    &role_kind,
                );
                if let Some(V::Seq(subjects)) = r.obj.get_mut("subjects").map(|x| &mut x.v) {
                    for s in subjects.iter_mut() {
                        if text_of(s.get("kind")) != "ServiceAccount" {
                            continue;
                        }
                        let Some(old) = s.get("name").and_then(P::as_str).map(str::to_string)
                        else {
                            continue;
                        };
                        let hit = renamed
                            .iter()
                            .find(|(k, names, _, _)| k == "ServiceAccount" && names.contains(&old));
                        if let Some((_, _, new, ns)) = hit {
                            let pos = s
                                .get("name")
                                .map(|n| n.pos.clone())
                                .unwrap_or(s.pos.clone());
                            s.set("name", P::str(new, &pos));
                            if !ns.is_empty() {
                                s.set("namespace", P::str(ns, &pos));
                            }
                        }
                    }
                }
            }
            "StatefulSet" => rename(
                r.obj.get_mut("spec").and_then(|x| x.get_mut("serviceName")),
                "Service",
            ),
            "HorizontalPodAutoscaler" => {
                let target = r
                    .obj
                    .path(&["spec", "scaleTargetRef", "kind"])
                    .and_then(P::as_str)
                    .unwrap_or("")
                    .to_string();
                rename(
                    r.obj
                        .get_mut("spec")
                        .and_then(|x| x.get_mut("scaleTargetRef"))
                        .and_then(|x| x.get_mut("name")),
                    &target,
                );
            }
            "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration" => {
                let Some(V::Seq(hooks)) = r.obj.get_mut("webhooks").map(|x| &mut x.v) else {
                    continue;
                };
                for h in hooks.iter_mut() {
                    let Some(svc) = h.get_mut("clientConfig").and_then(|c| c.get_mut("service"))
                    else {
                        continue;
                    };
                    let Some(old) = svc.get("name").and_then(P::as_str).map(str::to_string) else {
                        continue;
                    };
                    let ns = text_of(svc.get("namespace")).to_string();
                    // Only a Service of the build: by name, and by namespace
                    // when the webhook names one.
                    let hit = renamed.iter().find(|(k, names, _, cur_ns)| {
                        k == "Service" && names.contains(&old) && (ns.is_empty() || ns == *cur_ns)
                    });
                    if let Some((_, _, new, cur_ns)) = hit {
                        let pos = svc.get("name").map_or(svc.pos.clone(), |n| n.pos.clone());
                        svc.set("name", P::str(new, &pos));
                        if !cur_ns.is_empty() {
                            svc.set("namespace", P::str(cur_ns, &pos));
                        }
                    }
                }
            }
            "APIService" => rename(
                r.obj
                    .get_mut("spec")
                    .and_then(|x| x.get_mut("service"))
                    .and_then(|x| x.get_mut("name")),
                "Service",
            ),
            "Ingress" => {
                if let Some(rules) = r.obj.get_mut("spec").and_then(|s| s.get_mut("rules")) {
                    at_path(
                        rules,
                        &["http", "paths", "backend", "service", "name"],
                        false,
                        &Pos {
                            file: "".into(),
                            line: 1,
                        },
                        &mut |n| rename(Some(n), "Service"),
                    );
                }
            }
            _ => {}
        }
    }
}

/// Kustomize's output order (its legacy sort: by kind, then id).
pub fn sort(acc: &mut [Res]) {
    const FIRST: &[&str] = &[
        "Namespace",
        "ResourceQuota",
        "StorageClass",
        "CustomResourceDefinition",
        "ServiceAccount",
        "PodSecurityPolicy",
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "ConfigMap",
        "Secret",
        "Endpoints",
        "Service",
        "LimitRange",
        "PriorityClass",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Deployment",
        "StatefulSet",
        "CronJob",
        "PodDisruptionBudget",
    ];
    const LAST: &[&str] = &[
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ];
    let rank = |k: &str| {
        FIRST.iter().position(|x| *x == k).unwrap_or_else(|| {
            LAST.iter()
                .position(|x| *x == k)
                .map_or(FIRST.len(), |i| FIRST.len() + 1 + i)
        })
    };
    acc.sort_by(|a, b| {
        (rank(a.kind()), a.kind(), a.group(), a.namespace(), a.name()).cmp(&(
            rank(b.kind()),
            b.kind(),
            b.group(),
            b.namespace(),
            b.name(),
        ))
    });
}
