//! What the gateway prints when it starts: where it listens, where each
//! request goes, who may call, and one request to try per dialect.

use std::net::SocketAddr;

/// The start-up text; `demo` when the documented demo client is the only one.
pub fn text(addr: SocketAddr, tls: bool, routes: &[String], demo: bool) -> String {
    let base = format!("{}://{addr}", if tls { "https" } else { "http" });
    let mut out = format!("dragoman listening on {base}\n");
    for route in routes {
        out.push_str(&format!("  route: {route}\n"));
    }
    if !demo {
        out.push_str("clients: as declared in the configuration\n");
        return out;
    }
    out.push_str(
        "clients: the demo client only — Basic demo/demo; Keystone user demo/demo, project demo, \
         domain default; GoGrid api_key demo, secret demo\n",
    );
    out.push_str("try:\n");
    out.push_str(&format!("  curl -u demo:demo {base}/accounts/demo/flexcloud/images/133\n"));
    out.push_str(&format!("  curl -u demo:demo {base}/api/compute_resources/980190962/images/980190962\n"));
    out.push_str(&format!(
        "  curl \"{base}/api/grid/image/get?id=250&api_key=demo&v=1.3&format=json&sig=$(printf demodemo%s $(date +%s) | md5sum | cut -c1-32)\"\n"
    ));
    out.push_str(&format!(
        "  curl -si {base}/v3/auth/tokens -H 'Content-Type: application/json' -d '{{\"auth\": {{\"identity\": {{\"methods\": [\"password\"], \
         \"password\": {{\"user\": {{\"name\": \"demo\", \"domain\": {{\"id\": \"default\"}}, \"password\": \"demo\"}}}}}}, \
         \"scope\": {{\"project\": {{\"name\": \"demo\", \"domain\": {{\"id\": \"default\"}}}}}}}}}}'   (X-Subject-Token is the token)\n"
    ));
    out.push_str(&format!(
        "  curl -H \"X-Auth-Token: $TOKEN\" {base}/v2/demo/images/70a599e0-31e7-49b7-b260-868f441e862b"
    ));
    out
}
