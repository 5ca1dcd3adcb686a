//! Helpers shared by the tests with real parts: network namespaces, commands, decoding.

#![allow(dead_code)]

use periscope_decode::{Decoded, Decoder};
use periscope_model::{Frame, Tunnel};
use periscope_sources::OwnedFrame;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Runs a command; an error carries its stderr.
pub fn run(cmd: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs a shell command line inside network namespace `ns`.
pub fn in_ns(ns: &str, script: &str) -> Result<String, String> {
    run(
        "nsenter",
        &[&format!("--net=/run/netns/{ns}"), "sh", "-c", script],
    )
}

/// Starts a long-running command inside `ns`.
pub fn spawn_in_ns(ns: &str, args: &[&str]) -> Result<Child, String> {
    Command::new("nsenter")
        .arg(format!("--net=/run/netns/{ns}"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("nsenter {args:?}: {e}"))
}

/// Network namespaces deleted (with their interfaces) when dropped.
pub struct Namespaces(pub Vec<String>);

impl Namespaces {
    /// Creates namespaces `prefix-<pid>-<name>`; `Err` is the reason to skip the test.
    pub fn create(names: &[&str]) -> Result<Namespaces, String> {
        let pid = std::process::id();
        let mut made = Namespaces(Vec::new());
        for n in names {
            let full = format!("psrc{pid}{n}");
            run("ip", &["netns", "add", &full])?;
            made.0.push(full);
        }
        Ok(made)
    }

    pub fn name(&self, i: usize) -> &str {
        self.0.get(i).map_or("", String::as_str)
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for n in &self.0 {
            let _ = run("ip", &["netns", "del", n]);
        }
    }
}

/// Runs `f` on a new thread that first joins network namespace `ns`.
pub fn thread_in_ns<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<JoinHandle<Result<T, String>>, String> {
    let path = format!("/run/netns/{ns}");
    let file = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
    Ok(std::thread::spawn(move || {
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("setns {path}: {e}"))?;
        Ok(f())
    }))
}

/// Why a test that needs only these tools cannot run here, if it cannot.
pub fn missing_tool(tools: &[&str]) -> Option<String> {
    tools
        .iter()
        .find(|t| which(t).is_none())
        .map(|t| format!("{t} is not installed"))
}

/// Why tests needing root and namespaces cannot run here, if they cannot.
pub fn skip_reason(tools: &[&str]) -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid_root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .is_some_and(|l| l.split_whitespace().nth(2) == Some("0"));
    if !uid_root {
        return Some("not root".into());
    }
    for t in tools {
        if which(t).is_none() {
            return Some(format!("{t} is not installed"));
        }
    }
    None
}

pub fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}

/// One decoded TCP segment, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seg {
    pub sport: u16,
    pub dport: u16,
    pub payload: Vec<u8>,
    pub tunnel: Vec<Tunnel>,
}

/// Decodes frames; returns the TCP segments and the decoder (for its counters).
pub fn decode<'a>(frames: impl IntoIterator<Item = Frame<'a>>) -> (Vec<Seg>, Decoder) {
    let mut decoder = Decoder::default();
    let mut segs = Vec::new();
    for f in frames {
        if let Decoded::Tcp(s) = decoder.decode(&f) {
            segs.push(Seg {
                sport: s.src.port,
                dport: s.dst.port,
                payload: s.payload.to_vec(),
                tunnel: s.tunnel.iter().copied().collect(),
            });
        }
    }
    (segs, decoder)
}

pub fn decode_owned(frames: &[OwnedFrame]) -> (Vec<Seg>, Decoder) {
    decode(frames.iter().map(OwnedFrame::as_frame))
}

/// Frames of a capture file.
pub fn read_capture(path: &std::path::Path) -> Result<Vec<OwnedFrame>, String> {
    let mut r = periscope_capture::open(path).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(f) = r.next_frame().map_err(|e| e.to_string())? {
        out.push(OwnedFrame::from_frame(&f));
    }
    Ok(out)
}

/// Segments whose payload starts with `prefix`.
pub fn starting_with<'a>(segs: &'a [Seg], prefix: &[u8]) -> Vec<&'a Seg> {
    segs.iter()
        .filter(|s| s.payload.starts_with(prefix))
        .collect()
}
