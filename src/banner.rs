//! What the gateway prints when it starts: where it listens, where each
//! request goes, and one request to try per dialect.

use std::net::SocketAddr;

/// The start-up text.
pub fn text(addr: SocketAddr, routes: &[String]) -> String {
    let base = format!("http://{addr}");
    let mut out = format!("dragoman listening on {base}\n");
    for route in routes {
        out.push_str(&format!("  route: {route}\n"));
    }
    out.push_str("try:\n");
    out.push_str(&format!("  curl -u demo:demo {base}/accounts/demo/flexcloud/images/133\n"));
    out.push_str(&format!(
        "  curl -H 'X-Auth-Token: demo' {base}/v2/demo/images/70a599e0-31e7-49b7-b260-868f441e862b\n"
    ));
    out.push_str(&format!(
        "  curl '{base}/api/grid/image/get?id=250&api_key=demo&v=1.3&sig=SIG&format=json'   (also format=xml, csv)\n"
    ));
    out.push_str(&format!("  curl -u demo:demo {base}/api/compute_resources/980190962/images/980190962"));
    out
}
