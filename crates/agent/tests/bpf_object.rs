//! The committed BPF object must come from the committed source: `bpf/build.sh` records the
//! hashes in `bpf/periscope.bpf.manifest`. This test needs no clang, so CI catches a source
//! edited without rebuilding; `bpf/build.sh --check` (with clang and bpftool) also compares
//! the bytes of a rebuild.

use sha2::{Digest, Sha256};
use std::path::Path;

fn sha256(path: &Path) -> String {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn manifest(key: &str) -> String {
    let m = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf/periscope.bpf.manifest"),
    )
    .unwrap_or_default();
    m.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} ")))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn committed_object_matches_manifest() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf");
    assert_eq!(
        sha256(&dir.join("periscope.bpf.c")),
        manifest("source"),
        "periscope.bpf.c changed since the object was built: run crates/agent/bpf/build.sh"
    );
    assert_eq!(
        sha256(&dir.join("periscope.bpf.o")),
        manifest("object"),
        "periscope.bpf.o is not the object build.sh produced"
    );
}

#[test]
fn object_is_bpf_elf_with_btf() {
    let data = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf/periscope.bpf.o"))
        .unwrap_or_default();
    assert_eq!(data.get(..4), Some(&b"\x7fELF"[..]));
    // e_machine EM_BPF (247), little endian.
    assert_eq!(data.get(18..20), Some(&[247u8, 0][..]));
    let has = |needle: &[u8]| data.windows(needle.len()).any(|w| w == needle);
    assert!(has(b".BTF.ext"), "CO-RE needs BTF relocations");
    assert!(has(b"tracepoint/syscalls/sys_exit_read"));
    assert!(has(b"uretprobe"));
}
