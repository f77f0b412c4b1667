//! SIGTERM and Ctrl-C: the gateway stops accepting at once, lets the
//! requests in flight finish, and exits 0. The request line in the log
//! carries the id the reply did.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{TestGateway, get};
use crate::protect;
use dragoman::config::Config;
use tokio::net::TcpStream;

#[tokio::test]
async fn a_signal_lets_the_request_in_flight_finish_then_the_gateway_exits_0() {
    let inner = TestGateway::start(Config::default()).await;
    let held = protect::Held::start(inner.addr).await;
    let dir = std::env::temp_dir().join(format!("dragoman-shutdown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("front.toml");
    std::fs::write(
        &config,
        format!(
            r#"[server]
listen = "127.0.0.1:0"
default_backend = "held"
shutdown_grace_secs = 60

[[upstream]]
name = "held"
dialect = "hostway"
url = "{}"
scope = "demo"

[upstream.credentials]
user = "demo"
password = "demo"
"#,
            held.url()
        ),
    )
    .unwrap();
    for signal in ["TERM", "INT"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dragoman"))
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "dragoman=info")
            .env("DRAGOMAN_ADMIN_LISTEN", "127.0.0.1:0")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let addr = first.trim().strip_prefix("# dragoman listening on http://").unwrap_or_else(|| panic!("{first}"));
        let addr: std::net::SocketAddr = addr.parse().unwrap();

        let in_flight =
            tokio::spawn(async move { get(&format!("http://{addr}/accounts/demo/flexcloud/images/133")).await });
        held.arrived().await;
        let kill = Command::new("sh").arg("-c").arg(format!("kill -{signal} {}", child.id())).status().unwrap();
        assert!(kill.success());
        // new connections are refused once the signal is handled
        for attempt in 0.. {
            match TcpStream::connect(addr).await {
                Err(_) => break,
                Ok(_) => assert!(attempt < 400, "SIG{signal}: still accepting"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // the request in flight finishes
        held.release(1);
        let got = in_flight.await.unwrap();
        assert_eq!(got.status, 200, "SIG{signal}: {}", got.text());
        let request_id = got.headers["x-request-id"].to_str().unwrap().to_owned();
        // and the gateway exits 0
        let mut status = None;
        for _ in 0..400 {
            status = child.try_wait().unwrap();
            if status.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let status = status.unwrap_or_else(|| {
            let _ = child.kill();
            panic!("SIG{signal}: the gateway did not exit");
        });
        assert_eq!(status.code(), Some(0), "SIG{signal}");
        let mut logs = String::new();
        child.stderr.take().unwrap().read_to_string(&mut logs).unwrap();
        assert!(logs.contains("shutting down"), "{logs}");
        let line =
            logs.lines().find(|l| l.contains(&request_id)).unwrap_or_else(|| panic!("no {request_id} in {logs}"));
        assert!(line.contains("status=200"), "{line}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
