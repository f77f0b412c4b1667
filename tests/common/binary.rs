//! The `dragoman` binary, run as a user runs it.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};

/// A running gateway process; killed when dropped.
pub struct Binary {
    pub child: Child,
    /// `http://addr`, as its banner says.
    pub base: String,
    /// `http://addr` of its admin listener.
    pub admin: String,
    /// Kept open: the gateway may still write to it.
    _stdout: BufReader<ChildStdout>,
}

impl Binary {
    /// Starts the binary with `args` and `env`, and reads where it listens
    /// from the first line it prints. `logs` keeps its stderr for [`Binary::logs`].
    pub fn start(args: &[&str], env: &[(&str, &str)], logs: bool) -> Binary {
        let (binary, _) = Binary::start_with_banner(args, env, logs);
        binary
    }

    /// Starts the binary, and returns its whole start-up banner too.
    pub fn start_with_banner(args: &[&str], env: &[(&str, &str)], logs: bool) -> (Binary, Vec<String>) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dragoman"))
            .args(args)
            // tests run side by side: each admin listener on a port of its own
            .env("DRAGOMAN_ADMIN_LISTEN", "127.0.0.1:0")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(if logs { Stdio::piped() } else { Stdio::null() })
            .spawn()
            .expect("the binary starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = Vec::new();
        loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break;
            }
            let line = line.trim_end_matches('\n').to_owned();
            // the banner ends with its clients, or with its last request to try
            let last =
                line == "# clients: as declared in the configuration" || line.starts_with("curl -H \"X-Auth-Token");
            banner.push(line);
            if last {
                break;
            }
        }
        let first = banner.first().cloned().unwrap_or_default();
        let addr = first.trim().strip_prefix("# dragoman listening on http://").unwrap_or_else(|| panic!("{first}"));
        let admin = admin_address(&mut stdout);
        (Binary { base: format!("http://{addr}"), admin, child, _stdout: stdout }, banner)
    }

    /// Starts the binary with a configuration file.
    pub fn with_config(config: &std::path::Path, env: &[(&str, &str)], logs: bool) -> Binary {
        Binary::start(&["--config", config.to_str().unwrap()], env, logs)
    }

    /// A URL of the admin listener.
    pub fn admin_url(&self, path: &str) -> String {
        format!("{}{path}", self.admin)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Stops the gateway and returns everything it logged.
    pub fn logs(mut self) -> String {
        self.child.kill().unwrap();
        let mut logs = String::new();
        self.child.stderr.take().expect("started with logs").read_to_string(&mut logs).unwrap();
        self.child.wait().unwrap();
        logs
    }
}

/// `http://addr` of the admin listener, from the line that says where it
/// listens, after the banner.
pub fn admin_address(stdout: &mut impl BufRead) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the gateway said nothing of its admin listener");
        if let Some(rest) = line.strip_prefix("# admin listening on ") {
            return rest.split_whitespace().next().unwrap().to_owned();
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
