//! Helpers of the `periscope run` tests: a daemon process started from a temporary
//! configuration, queried over its REST API with real curl, stopped with SIGTERM.
//! (Included by `run.rs` and `run_live.rs`; compiled alone it holds no tests.)
#![allow(dead_code)]

use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Test result with any error.
pub type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// The API token every test daemon uses.
pub const TOKEN: &str = "test-token-0123456789";

/// `tests/data` at the repository root.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(name)
}

/// A fresh temporary directory (removed when dropped).
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `/tmp/periscope-run-<name>-<pid>-<n>`.
    pub fn new(name: &str) -> Res<TempDir> {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("periscope-run-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }

    /// A path inside.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("PERISCOPE_KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A free TCP port on loopback (bound and released; good enough for tests).
pub fn free_port() -> Res<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A free UDP port on loopback.
pub fn free_udp_port() -> Res<u16> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The binary under test.
pub fn periscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_periscope"))
}

/// A running daemon.
pub struct Daemon {
    child: Option<Child>,
    /// Network namespace it runs in (`/run/netns/NAME`), when not the test's.
    pub ns: Option<String>,
    /// Its API address.
    pub api: String,
    /// Its log (stderr) file.
    pub log: PathBuf,
}

impl Daemon {
    /// Writes `config` (plus an `[api]` section on a free port with the token file) into
    /// `dir/periscope.toml`, starts `periscope run` and waits until `/ready` answers 200.
    pub fn start(dir: &TempDir, config: &str) -> Res<Daemon> {
        Daemon::start_in(dir, config, None)
    }

    /// The same inside network namespace `ns`.
    pub fn start_in(dir: &TempDir, config: &str, ns: Option<&str>) -> Res<Daemon> {
        let port = free_port()?;
        std::fs::write(dir.path("token.txt"), format!("{TOKEN}\n"))?;
        let text =
            format!("{config}\n[api]\nlisten = \"127.0.0.1:{port}\"\ntoken_file = \"token.txt\"\n");
        let config_path = dir.path("periscope.toml");
        std::fs::write(&config_path, text)?;
        Daemon::start_file(&config_path, &format!("127.0.0.1:{port}"), dir, ns)
    }

    /// Starts `periscope run --config path` whose API is on `api`.
    pub fn start_file(path: &Path, api: &str, dir: &TempDir, ns: Option<&str>) -> Res<Daemon> {
        let log = dir.0.join(format!("daemon-{}.log", free_port()?));
        let mut cmd = match ns {
            None => periscope(),
            Some(ns) => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--net=/run/netns/{ns}"))
                    .arg(env!("CARGO_BIN_EXE_periscope"));
                c
            }
        };
        let child = cmd
            .args(["run", "--config"])
            .arg(path)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        let mut d = Daemon {
            child: Some(child),
            ns: ns.map(str::to_string),
            api: api.to_string(),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = d.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                return Err(format!("daemon exited at start ({status}): {}", d.log_text()).into());
            }
            if d.status("/ready").unwrap_or(0) == 200 {
                return Ok(d);
            }
            if Instant::now() > deadline {
                return Err(format!("daemon not ready after 60 s: {}", d.log_text()).into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log holds `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> Res {
        let deadline = Instant::now() + timeout;
        while !self.log_text().contains(needle) {
            if Instant::now() > deadline {
                return Err(format!("no {needle:?} in the log: {}", self.log_text()).into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// curl, in the daemon's namespace.
    pub fn curl(&self) -> Command {
        match &self.ns {
            None => Command::new("curl"),
            Some(ns) => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--net=/run/netns/{ns}")).arg("curl");
                c
            }
        }
    }

    /// HTTP status of `GET path` without a token.
    pub fn status(&self, path: &str) -> Res<u16> {
        let out = self
            .curl()
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "10",
            ])
            .arg(format!("http://{}{path}", self.api))
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
    }

    /// Body of `GET path` with the token (fails on a non-2xx answer).
    pub fn get_text(&self, path: &str) -> Res<String> {
        let out = self
            .curl()
            .args(["-sf", "--max-time", "20", "-H"])
            .arg(format!("Authorization: Bearer {TOKEN}"))
            .arg(format!("http://{}{path}", self.api))
            .output()?;
        if !out.status.success() {
            return Err(format!("GET {path}: curl {}", out.status).into());
        }
        Ok(String::from_utf8(out.stdout)?)
    }

    /// `GET path` with the token, as JSON.
    pub fn get(&self, path: &str) -> Res<Value> {
        Ok(serde_json::from_str(&self.get_text(path)?)?)
    }

    /// Every event (of `kind`, when given) following the cursor with pages of `limit`.
    pub fn all_events(&self, kind: Option<&str>, limit: usize) -> Res<Vec<Value>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..100_000 {
            let mut path = format!("/api/v1/events?limit={limit}");
            if let Some(k) = kind {
                path.push_str(&format!("&type={k}"));
            }
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = self.get(&path)?;
            let items = page["items"].as_array().cloned().unwrap_or_default();
            if items.len() > limit {
                return Err(format!("page of {} items for limit {limit}", items.len()).into());
            }
            out.extend(items);
            match page["next"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return Ok(out),
            }
        }
        Err("pagination does not end".into())
    }

    /// Record counts per type from `/api/v1/stats`.
    pub fn counts(&self) -> Res<Value> {
        Ok(self.get("/api/v1/stats")?["store"]["records"].clone())
    }

    /// Sends SIGTERM and waits for the exit code.
    pub fn terminate(self) -> Res<i32> {
        signal(self.pid(), "TERM")?;
        self.terminate_after_signal()
    }

    /// Waits for the exit code after a signal was sent.
    pub fn terminate_after_signal(mut self) -> Res<i32> {
        let Some(mut child) = self.child.take() else {
            return Err("no child".into());
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status.code().unwrap_or(-1));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(
                    format!("daemon did not exit after SIGTERM: {}", self.log_text()).into(),
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Sends `SIG<name>` to `pid` with kill(1).
pub fn signal(pid: u32, name: &str) -> Res {
    let st = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()?;
    if !st.success() {
        return Err(format!("kill -{name} {pid} failed").into());
    }
    Ok(())
}

/// `periscope analyze FILES --format json`, its events.
pub fn analyze(files: &[PathBuf]) -> Res<Vec<Value>> {
    let out = periscope()
        .args(["analyze", "--format", "json", "--quiet"])
        .args(files)
        .output()?;
    let mut events = Vec::new();
    for line in out.stdout.split(|&b| b == b'\n') {
        if !line.is_empty() {
            events.push(serde_json::from_slice(line)?);
        }
    }
    Ok(events)
}

/// Events counted by type, and attacks by class: the summary the one-code-path check compares.
pub fn summary(events: &[Value]) -> std::collections::BTreeMap<String, u64> {
    let mut m = std::collections::BTreeMap::new();
    let mut keys = std::collections::HashSet::new();
    for e in events {
        let t = e["type"].as_str().unwrap_or("?").to_string();
        if t == "coverage" {
            continue; // per worker in the daemon; not stored
        }
        // Findings that grow are emitted again with the same key; the store keeps the last one.
        if let Some(key) = e["key"].as_str() {
            if !keys.insert(format!("{t}|{key}")) {
                continue;
            }
        }
        if t == "attack" {
            *m.entry(format!("attack:{}", e["class"].as_str().unwrap_or("?")))
                .or_default() += 1;
        }
        *m.entry(t).or_default() += 1;
    }
    m
}

/// Resident memory of `pid` in KiB.
pub fn rss_kib(pid: u32) -> Res<u64> {
    let mut s = String::new();
    std::fs::File::open(format!("/proc/{pid}/status"))?.read_to_string(&mut s)?;
    let line = s
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or("no VmRSS")?;
    Ok(line.split_whitespace().nth(1).ok_or("bad VmRSS")?.parse()?)
}

/// True when the test runs with effective user id 0 (network namespaces, BPF, raw capture).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .is_some_and(|l| l.split_whitespace().nth(2) == Some("0"))
}

/// True when `tool` runs.
pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
