//! What /proc says about the host: listening ports, the libssl copies processes map, and
//! which processes the agent cannot decrypt (and why).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// How much of a process's traffic the agent can see.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "tls")]
pub enum TlsCoverage {
    /// Maps a dynamically linked libssl the uprobes are attached to: TLS plaintext visible.
    Openssl {
        /// The libssl file.
        library: PathBuf,
    },
    /// A Go binary: crypto/tls is compiled in and not instrumented.
    GoCryptoTls,
    /// OpenSSL or BoringSSL symbols inside the executable itself (statically linked): not
    /// instrumented.
    StaticTls,
    /// No TLS library found: its plaintext TCP is visible, TLS (if any) is not.
    NoTlsLibrary,
}

impl TlsCoverage {
    /// True when TLS traffic of the process cannot be decrypted.
    pub fn is_uninstrumented(&self) -> bool {
        matches!(self, TlsCoverage::GoCryptoTls | TlsCoverage::StaticTls)
    }

    /// One sentence for logs and coverage events.
    pub fn reason(&self) -> String {
        match self {
            TlsCoverage::Openssl { library } => format!("OpenSSL plaintext via uprobes on {}", library.display()),
            TlsCoverage::GoCryptoTls => "Go binary: crypto/tls is compiled in and not instrumented; only its plaintext TCP is visible".into(),
            TlsCoverage::StaticTls => "TLS library linked statically (OpenSSL/BoringSSL symbols in the executable): not instrumented; only its plaintext TCP is visible".into(),
            TlsCoverage::NoTlsLibrary => "no TLS library mapped: plaintext TCP visible, TLS would not be".into(),
        }
    }
}

/// A process with listening TCP sockets and what the agent can see of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProcessCoverage {
    /// Process id.
    pub pid: u32,
    /// Process name.
    pub comm: String,
    /// Executable (as /proc/PID/exe resolves it).
    pub exe: PathBuf,
    /// Listening ports.
    pub ports: Vec<u16>,
    /// TLS visibility.
    #[serde(flatten)]
    pub tls: TlsCoverage,
}

/// Parses /proc/net/tcp{,6} text: (listening ports, inodes of listening sockets).
pub(crate) fn parse_listening(text: &str, ports: &mut HashMap<u64, u16>) {
    for line in text.lines().skip(1) {
        let mut f = line.split_whitespace();
        let (Some(_sl), Some(local), Some(_rem), Some(st)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        if st != "0A" {
            continue;
        }
        // tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
        let inode = f.nth(5).and_then(|s| s.parse::<u64>().ok());
        let port = local
            .rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok());
        if let (Some(inode), Some(port)) = (inode, port) {
            ports.insert(inode, port);
        }
    }
}

/// Listening TCP sockets of the host (this network namespace): inode → port.
pub(crate) fn listening_sockets() -> HashMap<u64, u16> {
    let mut m = HashMap::new();
    for f in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(t) = fs::read_to_string(f) {
            parse_listening(&t, &mut m);
        }
    }
    m
}

/// Listening ports.
pub(crate) fn listening_ports() -> HashSet<u16> {
    listening_sockets().into_values().collect()
}

fn pids() -> Vec<u32> {
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Paths of libssl files mapped in `maps` text (deleted files excluded).
pub(crate) fn libssl_in_maps(maps: &str) -> Vec<&str> {
    let mut v: Vec<&str> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter(|p| {
            p.starts_with('/')
                && Path::new(p)
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("libssl.so"))
        })
        .collect();
    v.dedup();
    v
}

/// One libssl file, identified by device and inode (the uprobe is per inode, so one attach
/// covers every process and container mapping the same file).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct LibId {
    pub dev: u64,
    pub ino: u64,
}

/// Every distinct libssl mapped by a running process: id → a path that opens it from here
/// (through /proc/PID/root, so container files work too).
pub(crate) fn libssl_files() -> HashMap<LibId, PathBuf> {
    let mut out = HashMap::new();
    for pid in pids() {
        let Ok(maps) = fs::read_to_string(format!("/proc/{pid}/maps")) else {
            continue;
        };
        for p in libssl_in_maps(&maps) {
            let path = PathBuf::from(format!("/proc/{pid}/root{p}"));
            if let Ok(md) = fs::metadata(&path) {
                out.entry(LibId {
                    dev: md.dev(),
                    ino: md.ino(),
                })
                .or_insert(path);
            }
        }
    }
    out
}

/// What an executable contains, as far as TLS goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExeKind {
    Go,
    StaticTls,
    Other,
}

/// Executables bigger than this are not inspected (reported as `Other`).
const MAX_EXE_BYTES: u64 = 512 << 20;

/// Classifies an ELF executable from its bytes. Never panics on garbage.
pub(crate) fn classify_elf(data: &[u8]) -> ExeKind {
    use object::{Object, ObjectSymbol};
    let Ok(file) = object::File::parse(data) else {
        return ExeKind::Other;
    };
    if file.section_by_name(".go.buildinfo").is_some()
        || file.section_by_name(".gopclntab").is_some()
    {
        return ExeKind::Go;
    }
    let defines_ssl =
        |name: &[u8]| name == b"SSL_read" || name == b"SSL_write" || name == b"SSL_read_ex";
    let in_symtab = file
        .symbols()
        .any(|s| s.is_definition() && s.name_bytes().is_ok_and(defines_ssl));
    let in_dynsym = file
        .dynamic_symbols()
        .any(|s| s.is_definition() && s.name_bytes().is_ok_and(defines_ssl));
    if in_symtab || in_dynsym {
        return ExeKind::StaticTls;
    }
    ExeKind::Other
}

/// Processes with listening TCP sockets and their TLS coverage. `cache` remembers the
/// classification of executables by (dev, inode) across scans (capped).
pub(crate) fn coverage(
    cache: &mut HashMap<LibId, ExeKind>,
    attached: &HashMap<LibId, PathBuf>,
) -> Vec<ProcessCoverage> {
    let listening = listening_sockets();
    let mut out = Vec::new();
    if listening.is_empty() {
        return out;
    }
    for pid in pids() {
        let ports = listening_ports_of(pid, &listening);
        if ports.is_empty() {
            continue;
        }
        let comm = fs::read_to_string(format!("/proc/{pid}/comm"))
            .unwrap_or_default()
            .trim_end()
            .to_string();
        let exe = fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        let maps = fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
        let lib = libssl_in_maps(&maps).into_iter().find_map(|p| {
            let md = fs::metadata(format!("/proc/{pid}/root{p}")).ok()?;
            attached.get(&LibId {
                dev: md.dev(),
                ino: md.ino(),
            })?;
            Some(PathBuf::from(p))
        });
        let tls = match lib {
            Some(library) => TlsCoverage::Openssl { library },
            None => {
                let exe_path = format!("/proc/{pid}/exe");
                let kind = match fs::metadata(&exe_path) {
                    Ok(md) => {
                        let id = LibId {
                            dev: md.dev(),
                            ino: md.ino(),
                        };
                        match cache.get(&id) {
                            Some(k) => *k,
                            None => {
                                let k = if md.len() > MAX_EXE_BYTES {
                                    ExeKind::Other
                                } else {
                                    fs::read(&exe_path)
                                        .map(|d| classify_elf(&d))
                                        .unwrap_or(ExeKind::Other)
                                };
                                if cache.len() < 4096 {
                                    cache.insert(id, k);
                                }
                                k
                            }
                        }
                    }
                    Err(_) => ExeKind::Other,
                };
                match kind {
                    ExeKind::Go => TlsCoverage::GoCryptoTls,
                    ExeKind::StaticTls => TlsCoverage::StaticTls,
                    ExeKind::Other => TlsCoverage::NoTlsLibrary,
                }
            }
        };
        out.push(ProcessCoverage {
            pid,
            comm,
            exe,
            ports,
            tls,
        });
    }
    out
}

/// The listening ports among the sockets `pid` holds (sorted, deduplicated).
fn listening_ports_of(pid: u32, listening: &HashMap<u64, u16>) -> Vec<u16> {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    let mut ports: Vec<u16> = fds
        .filter_map(|e| {
            let l = fs::read_link(e.ok()?.path()).ok()?;
            let ino: u64 = l
                .to_str()?
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()?;
            listening.get(&ino).copied()
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// A process that holds a listening socket and maps a libssl: a TLS server whose OpenSSL calls
/// the agent instruments when uprobes are scoped to servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SslServer {
    /// Process id.
    pub pid: u32,
    /// Start time in clock ticks since boot (`/proc/PID/stat` field 22): with the pid, it tells a
    /// process apart from a later one that reuses its pid.
    pub start_time: u64,
    /// The libssl file it maps.
    pub lib: LibId,
    /// That file, through the process's root (works across containers).
    pub lib_path: PathBuf,
}

/// Every process that holds a listening TCP socket and maps a libssl.
pub(crate) fn ssl_servers() -> Vec<SslServer> {
    let listening = listening_sockets();
    if listening.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for pid in pids() {
        let Ok(maps) = fs::read_to_string(format!("/proc/{pid}/maps")) else {
            continue;
        };
        let Some(lib) = libssl_in_maps(&maps)
            .first()
            .map(|p| format!("/proc/{pid}/root{p}"))
        else {
            continue;
        };
        if listening_ports_of(pid, &listening).is_empty() {
            continue;
        }
        let (Ok(md), Some(start_time)) = (fs::metadata(&lib), start_time(pid)) else {
            continue;
        };
        out.push(SslServer {
            pid,
            start_time,
            lib: LibId {
                dev: md.dev(),
                ino: md.ino(),
            },
            lib_path: PathBuf::from(lib),
        });
    }
    out
}

/// Field 22 of `/proc/PID/stat` (start time), read after the parenthesised command name, which
/// may itself contain spaces and parentheses.
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

fn parse_start_time(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    // Fields after the command start at field 3 (state); the start time is field 22.
    after_comm.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// Ids of a cgroup v2 directory and the directories below it (cgroup id = inode number).
pub(crate) fn cgroup_ids(dir: &Path, out: &mut Vec<u64>, cap: usize) -> std::io::Result<()> {
    let md = fs::metadata(dir)?;
    if out.len() < cap {
        out.push(md.ino());
    }
    for e in fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() && out.len() < cap {
            cgroup_ids(&e.path(), out, cap)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn start_time_is_read_after_an_odd_command_name() {
        let stat = "4242 (we (ird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 12345 67";
        assert_eq!(super::parse_start_time(stat), Some(987654));
        assert_eq!(super::parse_start_time("garbage"), None);
        assert_eq!(
            super::start_time(std::process::id()).is_some(),
            cfg!(target_os = "linux")
        );
    }

    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 20 4 30 10 -1
   2: garbage
   3: 00000000:ZZZZ 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9 1
";

    #[test]
    fn listening_parser_keeps_only_listen_state_and_skips_garbage() {
        let mut m = HashMap::new();
        parse_listening(TCP, &mut m);
        assert_eq!(m.len(), 1);
        assert_eq!(m.get(&12345), Some(&8080));
        parse_listening("", &mut m);
        parse_listening("header only", &mut m);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn libssl_found_in_maps() {
        let maps = "7f00-7f01 r--p 00000000 08:01 1234 /usr/lib/x86_64-linux-gnu/libssl.so.3\n\
                    7f01-7f02 r-xp 00001000 08:01 1234 /usr/lib/x86_64-linux-gnu/libssl.so.3\n\
                    7f02-7f03 r--p 00000000 08:01 99 /usr/lib/x86_64-linux-gnu/libcrypto.so.3\n\
                    7f03-7f04 rw-p 00000000 00:00 0 \n\
                    7f04-7f05 r--p 00000000 08:01 5 /opt/app/libssl-custom.a\n";
        assert_eq!(
            libssl_in_maps(maps),
            vec!["/usr/lib/x86_64-linux-gnu/libssl.so.3"]
        );
        assert!(libssl_in_maps("garbage\n\n  \n").is_empty());
    }

    #[test]
    fn classify_handles_garbage_and_real_binaries() {
        assert_eq!(classify_elf(b""), ExeKind::Other);
        assert_eq!(classify_elf(b"\x7fELF\x02\x01\x01garbage"), ExeKind::Other);
        // The test binary itself: not Go, no OpenSSL symbols.
        if let Ok(me) = std::env::current_exe().and_then(fs::read) {
            assert_eq!(classify_elf(&me), ExeKind::Other);
            for cut in [0, 16, 64, 1000, me.len() / 2] {
                let _ = classify_elf(me.get(..cut).unwrap_or(&[]));
            }
        }
        // libssl itself defines SSL_read: what a statically linked server would look like.
        if let Ok(d) = fs::read("/usr/lib/x86_64-linux-gnu/libssl.so.3") {
            assert_eq!(classify_elf(&d), ExeKind::StaticTls);
        }
    }
}
