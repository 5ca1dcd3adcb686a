//! Loading the BPF object, attaching it, and reading its ring buffer.

use crate::config::{AgentConfig, CaptureDirection};
use crate::error::AgentError;
use crate::procfs::{self, ExeKind, LibId, ProcessCoverage};
use crate::tracker::{OpaqueTls, Tracker, TrackerStats};
use aya::maps::{HashMap as BpfHashMap, MapData, PerCpuArray, RingBuf};
use aya::programs::uprobe::{UProbeLinkId, UProbeScope};
use aya::programs::{TracePoint, UProbe};
use aya::{Btf, Ebpf, EbpfLoader};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use periscope_model::{FlowId, StreamEvent};
use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The compiled BPF object (see `bpf/build.sh`), aligned for the ELF parser.
static OBJECT: &[u8] = aya::include_bytes_aligned!("../bpf/periscope.bpf.o");

/// Syscall tracepoints: (program, tracepoint).
const TRACEPOINTS: &[(&str, &str)] = &[
    ("enter_read", "sys_enter_read"),
    ("exit_read", "sys_exit_read"),
    ("enter_write", "sys_enter_write"),
    ("exit_write", "sys_exit_write"),
    ("enter_recvfrom", "sys_enter_recvfrom"),
    ("exit_recvfrom", "sys_exit_recvfrom"),
    ("enter_sendto", "sys_enter_sendto"),
    ("exit_sendto", "sys_exit_sendto"),
    ("enter_readv", "sys_enter_readv"),
    ("exit_readv", "sys_exit_readv"),
    ("enter_writev", "sys_enter_writev"),
    ("exit_writev", "sys_exit_writev"),
    ("enter_recvmsg", "sys_enter_recvmsg"),
    ("exit_recvmsg", "sys_exit_recvmsg"),
    ("enter_sendmsg", "sys_enter_sendmsg"),
    ("exit_sendmsg", "sys_exit_sendmsg"),
    ("enter_sendfile", "sys_enter_sendfile64"),
    ("exit_sendfile", "sys_exit_sendfile64"),
    ("exit_accept4", "sys_exit_accept4"),
    ("exit_accept", "sys_exit_accept"),
    ("enter_connect", "sys_enter_connect"),
    ("exit_connect", "sys_exit_connect"),
    ("enter_close", "sys_enter_close"),
];

/// Detaches uprobe links. A failed detach means the kernel already dropped the link (its
/// process is gone), so it is not an error.
fn detach_probes(bpf: &mut Ebpf, links: Vec<(&'static str, UProbeLinkId)>) {
    for (prog, link) in links {
        if let Some(Ok(p)) = bpf.program_mut(prog).map(<&mut UProbe>::try_from) {
            let _ = p.detach(link);
        }
    }
}

/// Server processes instrumented one by one at most (each costs one link per probe).
const MAX_PROBED_PROCESSES: usize = 1024;

/// OpenSSL uprobes: (program, symbol). Entry programs end in `_enter`.
const SSL_PROBES: &[(&str, &str)] = &[
    ("ssl_read_enter", "SSL_read"),
    ("ssl_read_exit", "SSL_read"),
    ("ssl_write_enter", "SSL_write"),
    ("ssl_write_exit", "SSL_write"),
    ("ssl_read_ex_enter", "SSL_read_ex"),
    ("ssl_read_ex_exit", "SSL_read_ex"),
    ("ssl_write_ex_enter", "SSL_write_ex"),
    ("ssl_write_ex_exit", "SSL_write_ex"),
    ("ssl_handshake_enter", "SSL_do_handshake"),
    ("ssl_handshake_exit", "SSL_do_handshake"),
];

// Stat slots of the `stats` map (ST_* in the C source).
const ST_EVENTS: u32 = 0;
const ST_LOST_EVENTS: u32 = 1;
const ST_LOST_BYTES: u32 = 2;
const ST_TRUNC_EVENTS: u32 = 3;
const ST_TRUNC_BYTES: u32 = 4;
const ST_SSL_NO_FD: u32 = 5;
const ST_CONNS: u32 = 6;
const ST_LOST_CLOSE: u32 = 7;

/// What the agent saw and missed.
#[derive(Debug, Clone, Default)]
pub struct AgentStats {
    /// Ring buffer records sent, summed over CPUs.
    pub events: u64,
    /// Records lost because the ring buffer was full, per CPU. Each loss also shows up as a
    /// `Gap` on its connection.
    pub lost_events_per_cpu: Vec<u64>,
    /// Lost records that were a connection's close: the tail of such a connection may be
    /// missing without a `Gap` (its final offsets were in the lost record).
    pub lost_close_events: u64,
    /// Payload bytes in the lost records, per CPU.
    pub lost_bytes_per_cpu: Vec<u64>,
    /// Calls whose payload exceeded `max_payload_per_event * max_chunks_per_call`.
    pub truncated_calls: u64,
    /// Bytes not copied from those calls, plus bytes sent with sendfile (never copied).
    pub truncated_bytes: u64,
    /// SSL calls whose SSL object could not be tied to a socket (its plaintext was dropped).
    pub ssl_without_fd: u64,
    /// Connections the kernel side started tracking.
    pub kernel_connections: u64,
    /// Userspace counters.
    pub tracker: TrackerStats,
    /// Connections open in the userspace table.
    pub open_connections: usize,
    /// libssl files with uprobes attached.
    pub libssl_attached: Vec<PathBuf>,
    /// libssl files where attaching failed, with the reason.
    pub libssl_failed: Vec<(PathBuf, String)>,
    /// Processes with listening sockets whose TLS cannot be decrypted, with the reason
    /// (statically linked TLS, Go crypto/tls).
    pub uninstrumentable: Vec<ProcessCoverage>,
    /// Every process with listening sockets and its coverage (last scan).
    pub processes: Vec<ProcessCoverage>,
    /// Processes that carried TLS records the agent could not decrypt.
    pub opaque_tls: Vec<OpaqueTls>,
}

impl AgentStats {
    /// Lost records over all CPUs.
    pub fn lost_events(&self) -> u64 {
        self.lost_events_per_cpu.iter().sum()
    }
}

/// A running agent: the programs stay attached until [`Agent::stop`] or drop.
pub struct Agent {
    cfg: AgentConfig,
    bpf: Ebpf,
    ring: RingBuf<MapData>,
    tracker: Tracker,
    mono_to_real: i128,
    libs: HashMap<LibId, PathBuf>,
    libs_failed: Vec<(PathBuf, String)>,
    /// Per-process uprobe links when the probes are scoped to servers, by (pid, start time).
    server_probes: HashMap<(u32, u64), Vec<(&'static str, UProbeLinkId)>>,
    exe_cache: HashMap<LibId, ExeKind>,
    processes: Vec<ProcessCoverage>,
    last_sweep: Instant,
    last_scan: Instant,
    stopped: bool,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

fn now_ns(clock: nix::time::ClockId) -> i128 {
    nix::time::clock_gettime(clock)
        .map(|t| i128::from(t.tv_sec()) * 1_000_000_000 + i128::from(t.tv_nsec()))
        .unwrap_or(0)
}

fn mono_now() -> u64 {
    now_ns(nix::time::ClockId::CLOCK_MONOTONIC).max(0) as u64
}

fn is_mounted(path: &str, fstype: &str) -> bool {
    std::fs::read_to_string("/proc/self/mounts").is_ok_and(|m| {
        m.lines().any(|l| {
            let mut f = l.split_whitespace();
            let (_, mp, ty) = (f.next(), f.next(), f.next());
            mp == Some(path) && ty == Some(fstype)
        })
    })
}

/// Mounts `fstype` at `path` unless it is there already.
fn ensure_mounted(fstype: &'static str, path: &str) -> Result<(), AgentError> {
    if is_mounted(path, fstype) {
        return Ok(());
    }
    nix::mount::mount(
        Some(fstype),
        path,
        Some(fstype),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .map_err(|source| AgentError::Mount {
        fs: fstype,
        path: path.into(),
        source,
    })?;
    tracing::info!(fs = fstype, path, "mounted");
    Ok(())
}

/// Cgroup ids of the selected pods' cgroups and their descendants (capped at the map size).
fn k8s_cgroup_ids(cfg: &AgentConfig) -> Vec<u64> {
    let uids: Vec<String> = crate::k8s::pods(&cfg.kubelet_pods_dir)
        .into_iter()
        .filter(|p| crate::k8s::selected(p, &cfg.k8s_namespaces, &cfg.k8s_pods))
        .map(|p| p.uid)
        .collect();
    let mut ids = Vec::new();
    if uids.is_empty() {
        return ids;
    }
    for dir in crate::k8s::pod_cgroups(&cfg.cgroup_root, &uids) {
        let _ = procfs::cgroup_ids(&dir, &mut ids, 1024);
    }
    ids
}

/// Adds cgroup ids to the kernel filter (the map holds 1024; extra ids fail and are logged).
fn insert_cgroups(bpf: &mut Ebpf, ids: &[u64]) -> Result<(), AgentError> {
    let m = bpf.map_mut("cgroups").ok_or_else(|| AgentError::Map {
        name: "cgroups",
        why: "missing".into(),
    })?;
    let mut cg: BpfHashMap<_, u64, u8> = BpfHashMap::try_from(m).map_err(map_err("cgroups"))?;
    for id in ids {
        cg.insert(id, 1, 0).map_err(map_err("cgroups"))?;
    }
    Ok(())
}

fn map_err(name: &'static str) -> impl Fn(aya::maps::MapError) -> AgentError {
    move |e| AgentError::Map {
        name,
        why: e.to_string(),
    }
}

impl Agent {
    /// Checks the host, loads the BPF object, fills the filters and attaches every program.
    ///
    /// Errors name what is missing: root, kernel BTF, bpffs/tracefs, or the program the
    /// kernel refused. A libssl the uprobes cannot attach to is not an error: it is listed in
    /// [`AgentStats::libssl_failed`].
    pub fn start(cfg: AgentConfig) -> Result<Agent, AgentError> {
        cfg.validate()?;
        let uid = nix::unistd::geteuid().as_raw();
        if uid != 0 {
            return Err(AgentError::NotRoot { uid });
        }
        let btf_path = Path::new("/sys/kernel/btf/vmlinux");
        if !btf_path.exists() {
            return Err(AgentError::NoBtf {
                path: btf_path.into(),
            });
        }
        ensure_mounted("bpf", "/sys/fs/bpf")?;
        if !Path::new("/sys/kernel/tracing/events").exists()
            && !Path::new("/sys/kernel/debug/tracing/events").exists()
        {
            ensure_mounted("tracefs", "/sys/kernel/tracing")?;
        }
        let t0 = Instant::now();
        let btf = Btf::from_sys_fs().map_err(|_| AgentError::NoBtf {
            path: btf_path.into(),
        })?;

        let pid = std::process::id();
        let chunk = cfg.max_payload_per_event;
        let chunks = cfg.max_chunks_per_call;
        let outbound = u8::from(cfg.direction == CaptureDirection::Both);
        let f_ports = u8::from(!cfg.ports.is_empty());
        let f_comms = u8::from(!cfg.process_names.is_empty());
        let f_cgroups = u8::from(cfg.cgroup_filter());
        let wakeup = u64::from(cfg.ring_size() / 4).min(256 * 1024);
        let mut bpf = EbpfLoader::new()
            .btf(Some(&btf))
            .override_global("agent_tgid", &pid, true)
            .override_global("chunk_size", &chunk, true)
            .override_global("max_chunks", &chunks, true)
            .override_global("capture_outbound", &outbound, true)
            .override_global("filter_ports", &f_ports, true)
            .override_global("filter_comms", &f_comms, true)
            .override_global("filter_cgroups", &f_cgroups, true)
            .override_global("wakeup_bytes", &wakeup, true)
            .map_max_entries("events", cfg.ring_size())
            .load(OBJECT)
            .map_err(|e| AgentError::Load(Box::new(e)))?;

        tracing::info!(
            elapsed_ms = t0.elapsed().as_millis() as u64,
            "BPF object loaded"
        );
        Self::fill_filters(&mut bpf, &cfg)?;

        for &(prog, tp) in TRACEPOINTS {
            let refused = |source| AgentError::Program {
                program: prog,
                kind: "tracepoint",
                attach: format!("syscalls/{tp}"),
                source: Box::new(source),
            };
            let p: &mut TracePoint = bpf
                .program_mut(prog)
                .ok_or_else(|| AgentError::Map {
                    name: "program",
                    why: format!("{prog} missing from the object"),
                })?
                .try_into()
                .map_err(refused)?;
            let t = Instant::now();
            p.load().map_err(refused)?;
            p.attach("syscalls", tp).map_err(refused)?;
            tracing::debug!(
                program = prog,
                elapsed_ms = t.elapsed().as_millis() as u64,
                "tracepoint loaded"
            );
        }
        tracing::info!(
            elapsed_ms = t0.elapsed().as_millis() as u64,
            "tracepoints attached"
        );
        if cfg.openssl {
            for &(prog, sym) in SSL_PROBES {
                let refused = |source| AgentError::Program {
                    program: prog,
                    kind: "uprobe",
                    attach: sym.to_string(),
                    source: Box::new(source),
                };
                let p: &mut UProbe = bpf
                    .program_mut(prog)
                    .ok_or_else(|| AgentError::Map {
                        name: "program",
                        why: format!("{prog} missing from the object"),
                    })?
                    .try_into()
                    .map_err(refused)?;
                let t = Instant::now();
                p.load().map_err(refused)?;
                tracing::debug!(
                    program = prog,
                    elapsed_ms = t.elapsed().as_millis() as u64,
                    "uprobe loaded"
                );
            }
        }

        let ring = RingBuf::try_from(bpf.take_map("events").ok_or_else(|| AgentError::Map {
            name: "events",
            why: "missing from the object".into(),
        })?)
        .map_err(map_err("events"))?;

        let mono_to_real = now_ns(nix::time::ClockId::CLOCK_REALTIME)
            - now_ns(nix::time::ClockId::CLOCK_MONOTONIC);
        let mut tracker = Tracker::new(cfg.max_connections, outbound == 1, mono_to_real);
        tracker.set_listening(procfs::listening_ports());
        let long_ago = Instant::now()
            .checked_sub(Duration::from_secs(3600))
            .unwrap_or_else(Instant::now);
        let mut agent = Agent {
            cfg,
            bpf,
            ring,
            tracker,
            mono_to_real,
            libs: HashMap::new(),
            libs_failed: Vec::new(),
            server_probes: HashMap::new(),
            exe_cache: HashMap::new(),
            processes: Vec::new(),
            last_sweep: Instant::now(),
            last_scan: long_ago,
            stopped: false,
        };
        agent.rescan();
        tracing::info!(
            elapsed_ms = t0.elapsed().as_millis() as u64,
            "agent started"
        );
        Ok(agent)
    }

    fn fill_filters(bpf: &mut Ebpf, cfg: &AgentConfig) -> Result<(), AgentError> {
        if !cfg.ports.is_empty() {
            let m = bpf.map_mut("ports").ok_or_else(|| AgentError::Map {
                name: "ports",
                why: "missing".into(),
            })?;
            let mut ports: BpfHashMap<_, u16, u8> =
                BpfHashMap::try_from(m).map_err(map_err("ports"))?;
            for p in &cfg.ports {
                ports.insert(p, 1, 0).map_err(map_err("ports"))?;
            }
        }
        if !cfg.process_names.is_empty() {
            let m = bpf.map_mut("comms").ok_or_else(|| AgentError::Map {
                name: "comms",
                why: "missing".into(),
            })?;
            let mut comms: BpfHashMap<_, [u8; 16], u8> =
                BpfHashMap::try_from(m).map_err(map_err("comms"))?;
            for n in &cfg.process_names {
                let mut k = [0u8; 16];
                for (d, s) in k.iter_mut().zip(n.bytes().take(15)) {
                    *d = s;
                }
                comms.insert(k, 1, 0).map_err(map_err("comms"))?;
            }
        }
        if !cfg.cgroups.is_empty() {
            let mut ids = Vec::new();
            for dir in &cfg.cgroups {
                procfs::cgroup_ids(dir, &mut ids, 1024).map_err(|source| AgentError::Io {
                    path: dir.clone(),
                    source,
                })?;
            }
            insert_cgroups(bpf, &ids)?;
        }
        if !cfg.k8s_namespaces.is_empty() || !cfg.k8s_pods.is_empty() {
            insert_cgroups(bpf, &k8s_cgroup_ids(cfg))?;
        }
        Ok(())
    }

    /// Finds libssl copies not yet instrumented, attaches the uprobes to them, refreshes the
    /// listening ports, the cgroups of selected Kubernetes pods, and the coverage of
    /// listening processes.
    fn rescan(&mut self) {
        self.last_scan = Instant::now();
        if !self.cfg.k8s_namespaces.is_empty() || !self.cfg.k8s_pods.is_empty() {
            let ids = k8s_cgroup_ids(&self.cfg);
            if let Err(e) = insert_cgroups(&mut self.bpf, &ids) {
                tracing::warn!(error = %e, "cannot update the pod cgroup filter");
            }
        }
        self.tracker.set_listening(procfs::listening_ports());
        if self.cfg.openssl && self.cfg.tls_probes_per_server() {
            self.probe_servers();
        } else if self.cfg.openssl {
            for (id, path) in procfs::libssl_files() {
                if self.libs.contains_key(&id) || self.libs_failed.iter().any(|(p, _)| *p == path) {
                    continue;
                }
                match self.attach_ssl(&path) {
                    Ok(()) => {
                        tracing::info!(library = %path.display(), "OpenSSL uprobes attached");
                        self.libs.insert(id, path);
                    }
                    Err(e) => {
                        tracing::warn!(library = %path.display(), error = %e, "cannot attach OpenSSL uprobes");
                        if self.libs_failed.len() < 256 {
                            self.libs_failed.push((path, e.to_string()));
                        }
                    }
                }
            }
        }
        self.processes = procfs::coverage(&mut self.exe_cache, &self.libs);
    }

    /// Attaches the OpenSSL uprobes to each server process (holding a listening socket, mapping
    /// libssl) not yet instrumented, and detaches those of processes that are gone.
    fn probe_servers(&mut self) {
        let servers = procfs::ssl_servers();
        let alive: HashSet<(u32, u64)> = servers.iter().map(|s| (s.pid, s.start_time)).collect();
        let gone: Vec<(u32, u64)> = self
            .server_probes
            .keys()
            .filter(|k| !alive.contains(k))
            .copied()
            .collect();
        for key in gone {
            let links = self.server_probes.remove(&key).unwrap_or_default();
            detach_probes(&mut self.bpf, links);
        }
        for server in servers {
            let key = (server.pid, server.start_time);
            if self.server_probes.contains_key(&key) {
                continue;
            }
            if self.server_probes.len() >= MAX_PROBED_PROCESSES {
                tracing::warn!(
                    limit = MAX_PROBED_PROCESSES,
                    "too many TLS server processes to instrument one by one; the rest are not decrypted"
                );
                break;
            }
            let Some(pid) = NonZeroU32::new(server.pid) else {
                continue;
            };
            match self.attach_ssl_scoped(&server.lib_path, UProbeScope::OneProcess(pid)) {
                Ok(links) => {
                    tracing::info!(pid = server.pid, library = %server.lib_path.display(), "OpenSSL uprobes attached to server process");
                    self.server_probes.insert(key, links);
                    self.libs.entry(server.lib).or_insert(server.lib_path);
                }
                Err(e) => {
                    tracing::warn!(pid = server.pid, library = %server.lib_path.display(), error = %e, "cannot attach OpenSSL uprobes");
                    if self.libs_failed.len() < 256
                        && !self.libs_failed.iter().any(|(p, _)| *p == server.lib_path)
                    {
                        self.libs_failed.push((server.lib_path, e.to_string()));
                    }
                }
            }
        }
    }

    fn attach_ssl(&mut self, lib: &Path) -> Result<(), AgentError> {
        self.attach_ssl_scoped(lib, UProbeScope::AllProcesses)
            .map(|_| ())
    }

    /// Attaches every OpenSSL probe to `lib` for `scope`; returns the links made.
    fn attach_ssl_scoped(
        &mut self,
        lib: &Path,
        scope: UProbeScope,
    ) -> Result<Vec<(&'static str, UProbeLinkId)>, AgentError> {
        let mut links = Vec::new();
        for &(prog, sym) in SSL_PROBES {
            let refused = |source| AgentError::Program {
                program: prog,
                kind: "uprobe",
                attach: format!("{sym} in {}", lib.display()),
                source: Box::new(source),
            };
            let p: &mut UProbe = self
                .bpf
                .program_mut(prog)
                .ok_or_else(|| AgentError::Map {
                    name: "program",
                    why: format!("{prog} missing from the object"),
                })?
                .try_into()
                .map_err(refused)?;
            // The _ex forms exist since OpenSSL 1.1.1; a missing symbol is not fatal for the
            // others, so only SSL_read/SSL_write failures are errors.
            match p.attach(sym, lib, scope) {
                Ok(link) => links.push((prog, link)),
                Err(e) if sym.ends_with("_ex") => {
                    tracing::debug!(symbol = sym, error = %e, "optional OpenSSL symbol not attached");
                }
                Err(e) => {
                    // Leave no half-instrumented process behind.
                    detach_probes(&mut self.bpf, links);
                    return Err(refused(e));
                }
            }
        }
        Ok(links)
    }

    /// Waits up to `timeout` for events and hands every resulting stream event to `sink`.
    /// Returns after the first batch (or the timeout); call it in a loop.
    pub fn poll(
        &mut self,
        timeout: Duration,
        sink: &mut impl FnMut(FlowId, StreamEvent<'_>),
    ) -> Result<(), AgentError> {
        if self.drain(sink) == 0 {
            // The kernel side wakes us only when a batch is waiting (see wakeup_bytes in the
            // C source), so drain after the timeout too.
            let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
            let mut fds = [PollFd::new(self.ring.as_fd(), PollFlags::POLLIN)];
            match nix::poll::poll(
                &mut fds,
                PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
            ) {
                Ok(_) | Err(nix::Error::EINTR) => {}
                Err(e) => return Err(AgentError::Poll(e)),
            }
            self.drain(sink);
        }
        if self.last_sweep.elapsed() >= Duration::from_secs(1) {
            self.last_sweep = Instant::now();
            let idle = self.cfg.idle_timeout.as_nanos().min(u128::from(u64::MAX)) as u64;
            self.tracker.sweep(mono_now(), idle, sink);
            self.tracker.set_listening(procfs::listening_ports());
        }
        if self.last_scan.elapsed() >= self.cfg.rescan_interval {
            self.rescan();
        }
        Ok(())
    }

    fn drain(&mut self, sink: &mut impl FnMut(FlowId, StreamEvent<'_>)) -> usize {
        let mut n = 0;
        // Bounded so that a flood cannot starve the sweep and the caller.
        while n < 65536 {
            let Some(item) = self.ring.next() else { break };
            self.tracker.handle(&item, sink);
            n += 1;
        }
        n
    }

    /// Counters: losses per CPU, truncations, and the processes the agent cannot decrypt.
    pub fn stats(&self) -> AgentStats {
        let mut s = AgentStats {
            tracker: self.tracker.stats.clone(),
            open_connections: self.tracker.open_connections(),
            libssl_attached: self.libs.values().cloned().collect(),
            libssl_failed: self.libs_failed.clone(),
            uninstrumentable: self
                .processes
                .iter()
                .filter(|p| p.tls.is_uninstrumented())
                .cloned()
                .collect(),
            processes: self.processes.clone(),
            opaque_tls: self.tracker.opaque_tls(),
            ..Default::default()
        };
        if let Some(m) = self.bpf.map("stats") {
            if let Ok(arr) = PerCpuArray::<_, u64>::try_from(m) {
                let per_cpu = |slot: u32| {
                    arr.get(&slot, 0)
                        .map(|v| v.iter().copied().collect::<Vec<u64>>())
                        .unwrap_or_default()
                };
                s.events = per_cpu(ST_EVENTS).iter().sum();
                s.lost_events_per_cpu = per_cpu(ST_LOST_EVENTS);
                s.lost_bytes_per_cpu = per_cpu(ST_LOST_BYTES);
                s.truncated_calls = per_cpu(ST_TRUNC_EVENTS).iter().sum();
                s.truncated_bytes = per_cpu(ST_TRUNC_BYTES).iter().sum();
                s.ssl_without_fd = per_cpu(ST_SSL_NO_FD).iter().sum();
                s.kernel_connections = per_cpu(ST_CONNS).iter().sum();
                s.lost_close_events = per_cpu(ST_LOST_CLOSE).iter().sum();
            }
        }
        s
    }

    /// Delivers what is still in the ring buffer, closes every open connection
    /// (`CloseReason::EndOfCapture`) and detaches the programs.
    pub fn stop(mut self, sink: &mut impl FnMut(FlowId, StreamEvent<'_>)) -> AgentStats {
        self.drain(sink);
        self.tracker.close_all(mono_now(), sink);
        self.stopped = true;
        let stats = self.stats();
        drop(self);
        stats
    }

    /// Offset between the kernel's monotonic clock and wall-clock time, in nanoseconds.
    pub fn clock_offset_ns(&self) -> i128 {
        self.mono_to_real
    }
}

#[cfg(test)]
mod tests {
    /// The binary may run the agent on its own thread.
    #[test]
    fn agent_is_send() {
        fn send<T: Send>() {}
        send::<super::Agent>();
        send::<crate::wire::Forwarder>();
    }
}
