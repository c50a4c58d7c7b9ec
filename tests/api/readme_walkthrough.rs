//! Replays the README's walk-through, every shell line of it, against the
//! real binary on a fresh database, so the walk-through cannot go stale.
//!
//! The ```sh blocks under "## Walk-through with curl" (its `###` subsections
//! included) run in order in one bash with `set -euo pipefail`, after two
//! substitutions: `cargo run -q --` / `cargo run --` become the binary, and
//! `http://127.0.0.1:8000` the test server's address. The README states its
//! results as `grep`s on the answers, so a step that no longer says what the
//! README promises fails the test, which shows that README line.
//!
//! The server is the real binary, started from a fresh directory with no
//! Rocket.toml: on SQLite with no configuration at all (both terminals share
//! `data/orderpay.db` there, as after a fresh clone), on PostgreSQL with a
//! fresh database's `DATABASE_URL` in both terminals, as the README says.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{create_postgres_database, Backend, Cleanup, POSTGRES_ENV};

const README: &str = include_str!("../../README.md");
const WALKTHROUGH: &str = "## Walk-through with curl";
const README_ADDRESS: &str = "http://127.0.0.1:8000";
/// The whole replay, server start included; a hung step fails instead of waiting forever.
const REPLAY_LIMIT: Duration = Duration::from_secs(180);
/// Printed by the script's ERR trap, followed by the script line that failed.
const FAILED_AT: &str = "walkthrough failed at script line ";

/// One ```sh block: the README line number (1-based) of its first command line, and its lines.
struct ShellBlock<'a> {
    first_line: usize,
    lines: Vec<&'a str>,
}

/// The ```sh blocks of the walk-through section, up to the next `## ` heading.
fn walkthrough_blocks(readme: &str) -> Vec<ShellBlock<'_>> {
    let mut blocks = Vec::new();
    let mut in_section = false;
    let mut current: Option<ShellBlock> = None;
    for (index, line) in readme.lines().enumerate() {
        if current.is_none() && line.starts_with("## ") {
            in_section = line.trim_end() == WALKTHROUGH;
            continue;
        }
        if !in_section {
            continue;
        }
        match (&mut current, line.trim_end()) {
            (None, "```sh") => {
                current = Some(ShellBlock {
                    first_line: index + 2,
                    lines: Vec::new(),
                })
            }
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => block.lines.push(line),
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "an unclosed ```sh block in the README");
    blocks
}

/// The bash script, and for each of its lines the README line it came from
/// (0 for the script's own preamble).
fn replay_script(blocks: &[ShellBlock], binary: &str, base_url: &str) -> (String, Vec<usize>) {
    let mut script = vec![
        "set -euo pipefail".to_string(),
        format!("trap 'echo \"{FAILED_AT}$LINENO\" >&2' ERR"),
    ];
    let mut origin = vec![0, 0];
    for block in blocks {
        for (offset, line) in block.lines.iter().enumerate() {
            let replayed = line
                .replace("cargo run -q --", binary)
                .replace("cargo run --", binary)
                .replace(README_ADDRESS, base_url);
            assert!(
                !replayed.contains("cargo ") && !replayed.contains("127.0.0.1:8000"),
                "README line {} cannot be replayed: {line}",
                block.first_line + offset
            );
            script.push(replayed);
            origin.push(block.first_line + offset);
        }
    }
    (script.join("\n") + "\n", origin)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server binary, killed when the test ends however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The database both terminals use: `DATABASE_URL` when given, else (as
/// after a fresh clone) none, so the debug default `data/orderpay.db`
/// relative to `dir`.
fn database_env(command: &mut Command, database_url: Option<&str>) {
    match database_url {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
}

/// `orderpay` as `cargo run` starts it (debug profile, so the in-process
/// Stripe simulator), from `dir`, on a free port, its log in `dir`.
fn start_server(binary: &str, database_url: Option<&str>, dir: &Path) -> (Server, String) {
    let port = free_port();
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let mut command = Command::new(binary);
    database_env(&mut command, database_url);
    let child = command
        .current_dir(dir)
        .env_remove("ROCKET_CONFIG")
        .env("ROCKET_PROFILE", "debug")
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start orderpay");
    let server = Server(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not start: {}",
            std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, format!("http://127.0.0.1:{port}"))
}

/// Runs the script like the second terminal of the README would: in the
/// server's directory, with the server's `DATABASE_URL` if it has one.
fn run_script(script_path: &Path, database_url: Option<&str>, dir: &Path) -> Output {
    let mut command = Command::new("bash");
    database_env(&mut command, database_url);
    let mut child = command
        .arg(script_path)
        .current_dir(dir)
        .env_remove("ROCKET_CONFIG")
        .env("ROCKET_PROFILE", "debug")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bash");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > REPLAY_LIMIT {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

/// The README line a failed run stopped at, from the ERR trap's report.
fn failed_readme_line(stderr: &str, origin: &[usize]) -> Option<usize> {
    let script_line: usize = stderr
        .lines()
        .find_map(|line| line.strip_prefix(FAILED_AT))?
        .trim()
        .parse()
        .ok()?;
    origin.get(script_line.checked_sub(1)?).copied()
}

async fn replay_on(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    // SQLite as a newcomer gets it: no configuration at all, the debug
    // defaults compiled into the binary, the file under the directory's data/.
    let (database_url, cleanup) = match backend {
        Backend::Sqlite => (None, None),
        Backend::Postgres => match std::env::var(POSTGRES_ENV) {
            Ok(server) if !server.trim().is_empty() => {
                let (url, name) = create_postgres_database(server.trim()).await;
                (
                    Some(url),
                    Some(Cleanup::Postgres(server.trim().to_string(), name)),
                )
            }
            _ => {
                eprintln!("SKIPPED readme_walkthrough on postgres: {POSTGRES_ENV} is not set");
                return;
            }
        },
    };
    let binary = env!("CARGO_BIN_EXE_orderpay");
    let blocks = walkthrough_blocks(README);
    let (server, base_url) = start_server(binary, database_url.as_deref(), dir.path());
    let (script, origin) = replay_script(&blocks, binary, &base_url);
    let script_path = dir.path().join("walkthrough.sh");
    std::fs::write(&script_path, &script).unwrap();
    let output = run_script(&script_path, database_url.as_deref(), dir.path());
    drop(server);
    if let Some(cleanup) = cleanup {
        cleanup.finish().await;
    }

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let shown = match failed_readme_line(&stderr, &origin) {
            Some(line) => format!(
                "README.md line {line}: {}",
                README.lines().nth(line - 1).unwrap_or_default()
            ),
            None => "no failing line reported (timed out?)".to_string(),
        };
        panic!(
            "the README walk-through failed at {shown}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
    }
}

#[test]
fn the_walkthrough_is_found_with_its_checks() {
    let blocks = walkthrough_blocks(README);
    let text: String = blocks
        .iter()
        .flat_map(|b| b.lines.iter())
        .map(|line| format!("{line}\n"))
        .collect();
    // The walk-through's sections: server keys, the customer, a paid order.
    assert!(blocks.len() >= 5, "only {} sh blocks found", blocks.len());
    for promised in [
        "api-key create",
        "/api/v1/users/login",
        "payment-intent/confirm",
        "grep '\"status\":\"paid\"'",
        "\"code\":\"insufficient_scope\"",
    ] {
        assert!(text.contains(promised), "the walk-through lost: {promised}");
    }
    // The server start is the test's job, not a line to replay.
    assert!(!text.lines().any(|line| line.trim() == "cargo run"));
}

mod replays_the_readme_walkthrough {
    use super::*;

    #[rocket::async_test]
    async fn sqlite() {
        replay_on(Backend::Sqlite).await
    }

    #[rocket::async_test]
    async fn postgres() {
        replay_on(Backend::Postgres).await
    }
}
