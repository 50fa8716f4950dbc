//! Running the real `dlrgate` binary: store commands, and `serve` as a child process that tests
//! can kill with SIGKILL.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::Value;

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_dlrgate")
}

/// Runs `dlrgate ARGS…` and returns its stdout; panics when it fails.
pub fn run(args: &[&str]) -> String {
    let output = Command::new(binary()).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "dlrgate {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

pub fn account_create(data_dir: &Path, name: &str, extra: &[&str]) -> Value {
    let data = data_dir.to_str().unwrap();
    let mut args = vec!["account", "create", name, "--data", data];
    args.extend_from_slice(extra);
    serde_json::from_str(run(&args).trim()).unwrap()
}

/// Everything a `start_capturing` server has written so far, line by line.
pub type Captured = Arc<Mutex<String>>;

/// A `dlrgate serve` child process.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// The API key printed on first start, if this start printed one.
    pub api_key: Option<String>,
}

impl Server {
    /// Starts `dlrgate serve --listen 127.0.0.1:0 --data DIR` with `env` set and waits for the
    /// "listening on" line.
    pub fn start(data_dir: &Path, env: &[(&str, &str)]) -> Server {
        Server::start_with_args(data_dir, env, &[])
    }

    /// Like `start`, with more arguments (such as `--config FILE`).
    pub fn start_with_args(data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Server {
        Server::launch(data_dir, env, args, None)
    }

    /// Like `start`, with everything the process writes to stdout and stderr collected in
    /// `output` (for checks over its logs); `env` may set `RUST_LOG`, which wins over
    /// `DLRGATE_LOG_LEVEL`.
    pub fn start_capturing(data_dir: &Path, env: &[(&str, &str)], output: &Captured) -> Server {
        Server::launch(data_dir, env, &[], Some(output.clone()))
    }

    fn launch(
        data_dir: &Path,
        env: &[(&str, &str)],
        args: &[&str],
        capture: Option<Captured>,
    ) -> Server {
        let stderr = match capture {
            Some(_) => Stdio::piped(),
            None => Stdio::inherit(),
        };
        let mut child = Command::new(binary())
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--data",
                data_dir.to_str().unwrap(),
            ])
            .args(args)
            .env("DLRGATE_LOG_LEVEL", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let keep = move |line: &str| {
            if let Some(output) = &capture {
                let mut output = output.lock().unwrap();
                output.push_str(line);
                output.push('\n');
            }
        };
        if let Some(stderr) = child.stderr.take() {
            let keep = keep.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    keep(&line);
                }
            });
        }
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut api_key = None;
        let base = loop {
            let line = lines
                .next()
                .expect("dlrgate exited before listening")
                .unwrap();
            keep(&line);
            if let Some(key) = line.trim().strip_prefix("api_key:") {
                api_key = Some(key.trim().to_owned());
            }
            if let Some(url) = line.strip_prefix("dlrgate listening on ") {
                break url.trim().to_owned();
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                keep(&line);
            }
        });
        Server {
            child,
            base,
            api_key,
        }
    }

    /// SIGKILL: no chance to clean up, like a crash.
    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
