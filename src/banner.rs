//! What the gateway prints when it starts: where it listens, where each
//! request goes, who may call, and one request to try per dialect. Every
//! line pastes into a POSIX shell as it is: what is not a command is a
//! comment, and the Keystone step sets `TOKEN` for the step that uses it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Who may call: the declared clients, or the documented demo client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callers {
    Declared,
    /// The demo client, on a loopback address.
    Demo,
    /// The demo client from any address (`--demo`).
    DemoAnywhere,
}

/// The start-up text: `destinations` are the route table's lines.
pub fn text(addr: SocketAddr, tls: bool, destinations: &[String], callers: Callers) -> String {
    let scheme = if tls { "https" } else { "http" };
    let mut out = format!("# dragoman listening on {scheme}://{addr}\n");
    for line in destinations {
        out.push_str(&format!("# {line}\n"));
    }
    let demo = match callers {
        Callers::Declared => {
            out.push_str("# clients: as declared in the configuration\n");
            return out;
        }
        Callers::Demo => "# clients: the demo client only",
        Callers::DemoAnywhere => {
            "# WARNING: --demo: the demo client (password demo) is accepted from ANY address that reaches this port; \
             for trying Dragoman out only, never in production\n# clients: the demo client only"
        }
    };
    out.push_str(demo);
    out.push_str(
        " — Basic demo/demo; Keystone user demo/demo, project demo, domain default; GoGrid api_key demo, secret demo\n",
    );
    let base = format!("{scheme}://{}", reachable(addr));
    out.push_str("# try (each line pastes into a shell):\n");
    out.push_str(&format!("curl -u demo:demo {base}/accounts/demo/flexcloud/images/133\n"));
    out.push_str(&format!("curl -u demo:demo {base}/api/compute_resources/980190962/images/980190962\n"));
    out.push_str(&format!(
        "curl \"{base}/api/grid/image/get?id=250&api_key=demo&v=1.3&format=json&sig=$(printf demodemo%s $(date +%s) | md5sum | cut -c1-32)\"\n"
    ));
    out.push_str(&format!(
        "TOKEN=$(curl -si {base}/v3/auth/tokens -H 'Content-Type: application/json' -d '{{\"auth\": {{\"identity\": \
         {{\"methods\": [\"password\"], \"password\": {{\"user\": {{\"name\": \"demo\", \"domain\": {{\"id\": \"default\"}}, \
         \"password\": \"demo\"}}}}}}, \"scope\": {{\"project\": {{\"name\": \"demo\", \"domain\": {{\"id\": \"default\"}}}}}}}}}}' \
         | awk 'tolower($1)==\"x-subject-token:\" {{print $2}}' | tr -d '\\r')\n"
    ));
    out.push_str(&format!(
        "curl -H \"X-Auth-Token: $TOKEN\" {base}/v2/demo/images/70a599e0-31e7-49b7-b260-868f441e862b"
    ));
    out
}

/// An address a client on this host reaches: loopback for an unspecified one.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port()),
        _ => addr,
    }
}
