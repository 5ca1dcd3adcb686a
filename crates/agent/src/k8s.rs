//! Kubernetes selection: which cgroups belong to the pods of some namespaces or names.
//!
//! Read from the node, no API access needed: the kubelet keeps one directory per pod,
//! `/var/lib/kubelet/pods/<uid>/`, whose projected service-account volume holds a
//! `namespace` file and whose `etc-hosts` names the pod (its hostname). The pod's cgroup is
//! the directory under `/sys/fs/cgroup` whose name contains `pod<uid>` (cgroupfs driver) or
//! `pod<uid with _>` (systemd driver). Pods without a service-account volume have no
//! namespace file and are matched by name only.

use std::fs;
use std::path::{Path, PathBuf};

/// A pod found on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pod {
    pub uid: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

/// Pods listed in the kubelet's pod directory.
pub(crate) fn pods(kubelet_pods: &Path) -> Vec<Pod> {
    let Ok(rd) = fs::read_dir(kubelet_pods) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten().take(4096) {
        let Some(uid) = e.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let dir = e.path();
        let namespace = fs::read_dir(dir.join("volumes/kubernetes.io~projected"))
            .ok()
            .and_then(|vols| {
                vols.flatten()
                    .find_map(|v| fs::read_to_string(v.path().join("namespace")).ok())
                    .map(|s| s.trim().to_string())
            });
        let name = fs::read_to_string(dir.join("etc-hosts"))
            .ok()
            .and_then(|h| hostname_from_hosts(&h));
        out.push(Pod {
            uid,
            namespace,
            name,
        });
    }
    out
}

/// The kubelet writes the pod's own entry last: `<ip>\t<hostname>`.
fn hostname_from_hosts(hosts: &str) -> Option<String> {
    hosts
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with('#'))
        .and_then(|l| l.split_whitespace().nth(1))
        .map(str::to_string)
}

/// Whether `pod` is selected by namespace (`ns`) or name (`name` or `ns/name`).
pub(crate) fn selected(pod: &Pod, namespaces: &[String], names: &[String]) -> bool {
    let ns_ok = pod
        .namespace
        .as_ref()
        .is_some_and(|n| namespaces.iter().any(|x| x == n));
    let name_ok = pod.name.as_ref().is_some_and(|name| {
        names.iter().any(|x| match x.split_once('/') {
            Some((ns, n)) => n == name && pod.namespace.as_deref() == Some(ns),
            None => x == name,
        })
    });
    ns_ok || name_ok
}

/// Cgroup directories of the pods with these uids (walks `cgroup_root`, depth-limited).
pub(crate) fn pod_cgroups(cgroup_root: &Path, uids: &[String]) -> Vec<PathBuf> {
    let keys: Vec<(String, String)> = uids
        .iter()
        .map(|u| (format!("pod{u}"), format!("pod{}", u.replace('-', "_"))))
        .collect();
    let mut out = Vec::new();
    let mut stack = vec![(cgroup_root.to_path_buf(), 0usize)];
    let mut visited = 0usize;
    while let Some((dir, depth)) = stack.pop() {
        visited += 1;
        if visited > 100_000 {
            break;
        }
        let Ok(rd) = fs::read_dir(&dir) else { continue };
        for e in rd.flatten() {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let name = e.file_name();
            let name = name.to_string_lossy();
            if keys
                .iter()
                .any(|(a, b)| name.contains(a.as_str()) || name.contains(b.as_str()))
            {
                out.push(e.path());
            } else if depth < 6 {
                stack.push((e.path(), depth + 1));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_pods_and_their_cgroups_in_a_node_tree() {
        let root = std::env::temp_dir().join(format!("periscope-k8s-{}", std::process::id()));
        let kube = root.join("kubelet/pods");
        let uid_a = "1111-aaaa";
        let uid_b = "2222-bbbb";
        let mk = |p: PathBuf, content: &str| {
            if let Some(parent) = p.parent() {
                let _ = fs::create_dir_all(parent);
            }
            let _ = fs::write(p, content);
        };
        mk(
            kube.join(uid_a)
                .join("volumes/kubernetes.io~projected/kube-api-access-x/namespace"),
            "shop\n",
        );
        mk(
            kube.join(uid_a).join("etc-hosts"),
            "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n10.1.2.3\tcheckout-7d9f\n",
        );
        mk(kube.join(uid_b).join("etc-hosts"), "10.1.2.4\tbatch-job\n");
        let cg = root.join("cgroup");
        let _ = fs::create_dir_all(cg.join(format!("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-abc.scope", uid_a.replace('-', "_"))));
        let _ = fs::create_dir_all(cg.join(format!("kubepods/besteffort/pod{uid_b}/def")));
        let _ = fs::create_dir_all(cg.join("system.slice/nginx.service"));

        let mut ps = pods(&kube);
        ps.sort_by(|a, b| a.uid.cmp(&b.uid));
        assert_eq!(ps.len(), 2);
        assert_eq!(
            ps[0],
            Pod {
                uid: uid_a.into(),
                namespace: Some("shop".into()),
                name: Some("checkout-7d9f".into())
            }
        );
        assert_eq!(
            ps[1],
            Pod {
                uid: uid_b.into(),
                namespace: None,
                name: Some("batch-job".into())
            }
        );

        assert!(selected(&ps[0], &["shop".into()], &[]));
        assert!(!selected(&ps[1], &["shop".into()], &[]));
        assert!(selected(&ps[1], &[], &["batch-job".into()]));
        assert!(selected(&ps[0], &[], &["shop/checkout-7d9f".into()]));
        assert!(!selected(&ps[0], &[], &["other/checkout-7d9f".into()]));

        let dirs = pod_cgroups(&cg, &[uid_a.into(), uid_b.into()]);
        assert_eq!(dirs.len(), 2, "{dirs:?}");
        assert!(dirs.iter().all(|d| !d.ends_with("nginx.service")));
        assert!(pods(&root.join("missing")).is_empty());
        assert!(pod_cgroups(&root.join("missing"), &[uid_a.into()]).is_empty());
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn hosts_parsing_tolerates_garbage() {
        assert_eq!(hostname_from_hosts(""), None);
        assert_eq!(hostname_from_hosts("# only comments\n"), None);
        assert_eq!(hostname_from_hosts("10.0.0.1\n"), None);
        assert_eq!(hostname_from_hosts("10.0.0.1 a\n\n"), Some("a".into()));
    }
}
