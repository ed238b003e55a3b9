//! The fake Authlete's lifetime: its server (`fake_server`) run in this
//! process, or this executable re-run as a child process that serves it.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};

use crate::fake_server::{Counters, listen};

/// Set in the environment of the bench executable re-run as the fake Authlete.
pub const ROLE_ENV: &str = "AUTHLETE_GRPC_BENCH_ROLE";
/// How the child fake reports its port on its first line.
const PORT_PREFIX: &str = "PORT ";

/// The fake Authlete: in this process, or this executable re-run as a child
/// process so that the HTTP hop to it crosses processes as the service's does.
pub enum Fake {
    InProcess(Arc<Counters>),
    Child(Box<RoleChild>),
}

/// This executable re-run in a role (the fake, the passthrough, the echo): it ends
/// when its stdin closes.
pub struct RoleChild {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl RoleChild {
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

impl Fake {
    pub fn pid(&self) -> Option<u32> {
        match self {
            Fake::InProcess(_) => None,
            Fake::Child(c) => c.pid(),
        }
    }

    /// Stops a child fake; returns the counts of calls it served.
    pub async fn finish(self) -> String {
        match self {
            Fake::InProcess(c) => c.summary(),
            Fake::Child(c) => {
                let RoleChild {
                    mut child,
                    stdin,
                    mut stdout,
                } = *c;
                drop(stdin);
                let mut line = String::new();
                let read = read_line(&mut stdout, Duration::from_secs(3), &mut line).await;
                let _ = child.start_kill();
                let _ = tokio::time::timeout(Duration::from_secs(3), child.wait()).await;
                let summary = line.trim();
                if read && !summary.is_empty() {
                    summary.to_owned()
                } else {
                    "(the fake Authlete process did not report its counts)".to_owned()
                }
            }
        }
    }
}

/// Reads a line into `line`; `true` when it was read within `wait`.
async fn read_line(stdout: &mut BufReader<ChildStdout>, wait: Duration, line: &mut String) -> bool {
    matches!(
        tokio::time::timeout(wait, stdout.read_line(line)).await,
        Ok(Ok(_))
    )
}

/// Starts the fake Authlete in this process.
pub async fn start_in_process() -> Result<(SocketAddr, Fake), String> {
    listen()
        .await
        .map(|(addr, counters)| (addr, Fake::InProcess(counters)))
        .map_err(|e| format!("cannot start the fake Authlete: {e}"))
}

/// Re-runs this executable as the fake Authlete (see `run_process`).
pub async fn start_child() -> Result<(SocketAddr, Fake), String> {
    let (child, addr) = spawn_role("fake", &[]).await?;
    Ok((addr, Fake::Child(Box::new(child))))
}

/// Re-runs this executable in `role`, with `envs`; waits for the port it
/// reports on its first line and returns the child and its loopback address.
pub async fn spawn_role(
    role: &str,
    envs: &[(&str, String)],
) -> Result<(RoleChild, SocketAddr), String> {
    let exe = std::env::current_exe().map_err(|e| format!("no executable path: {e}"))?;
    let mut child = tokio::process::Command::new(exe)
        .env(ROLE_ENV, role)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start the {role} process: {e}"))?;
    let stdin = child.stdin.take();
    let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut line = String::new();
    let port = if read_line(&mut stdout, Duration::from_secs(10), &mut line).await {
        line.trim()
            .strip_prefix(PORT_PREFIX)
            .and_then(|p| p.parse::<u16>().ok())
    } else {
        None
    };
    let Some(port) = port else {
        let _ = child.start_kill();
        return Err(format!(
            "the {role} process did not report its port (got {line:?})"
        ));
    };
    let child = RoleChild {
        child,
        stdin,
        stdout,
    };
    Ok((child, ([127, 0, 0, 1], port).into()))
}

/// In a role process: reports `addr`'s port, then waits until stdin closes
/// (at most 10 minutes).
pub async fn serve_role(addr: SocketAddr) {
    println!("{PORT_PREFIX}{}", addr.port());
    let mut stdin = tokio::io::stdin();
    let mut sink = [0u8; 64];
    let _ = tokio::time::timeout(Duration::from_secs(600), async {
        while let Ok(n) = stdin.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// The fake Authlete as a process of its own: prints `PORT <n>`, serves until
/// stdin closes (at most 10 minutes), then prints its counts.
pub async fn run_process() {
    let (addr, counters) = match listen().await {
        Ok(v) => v,
        Err(e) => {
            eprintln!("fake Authlete: cannot listen: {e}");
            return;
        }
    };
    serve_role(addr).await;
    println!("{}", counters.summary());
}
