//! The node's stable identity (`[server] node_id`): recorded on the leases its delivery worker
//! takes, so that its next life, started with the same identity, resumes them at once instead
//! of waiting for them to expire.
//!
//! Without `node_id`, the identity is derived from what stays the same across restarts of
//! one gateway and differs between two gateways on one machine: `HOST/LISTEN/CONFIG` with
//! the host name, the listen address and a short digest of the configuration file's absolute
//! path, e.g. `web-1/0.0.0.0:8080/3f2a9c1d`.

use std::net::SocketAddr;
use std::path::Path;

use relay_core::model::ids::NodeId;

use crate::config::model::Server;

/// The identity of this node: `server.node_id`, or the one derived from the host name, the
/// listen address and the configuration file (see the module docs).
pub fn node_id(server: &Server, config: &Path, listen: SocketAddr) -> NodeId {
    if let Some(id) = server.node_id.as_deref()
        && let Ok(id) = NodeId::new(id)
    {
        return id;
    }
    derived(&host_name(), config, listen)
}

fn derived(host: &str, config: &Path, listen: SocketAddr) -> NodeId {
    let config = std::path::absolute(config).unwrap_or_else(|_| config.to_owned());
    let digest = fnv1a(config.to_string_lossy().as_bytes());
    let mut host: String = host.chars().filter(|c| !c.is_control()).collect();
    // Room for "/[v6 address]:port/digest" within the limit.
    let mut end = host.len().min(NodeId::MAX_LEN - 80);
    while !host.is_char_boundary(end) {
        end -= 1;
    }
    host.truncate(end);
    if host.trim().is_empty() {
        host = "localhost".to_owned();
    }
    let id = format!("{host}/{listen}/{:08x}", digest >> 32);
    NodeId::new(id).expect("a host name without control characters, shortened, is a valid node id")
}

/// The machine's host name (`uname`), or `localhost` when it has none.
fn host_name() -> String {
    let uname = rustix::system::uname();
    let name = uname.nodename().to_string_lossy().trim().to_owned();
    if name.is_empty() {
        "localhost".to_owned()
    } else {
        name
    }
}

/// FNV-1a, 64 bits: a digest that is the same in every build (std's hasher is not promised
/// to be).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(node_id: Option<&str>) -> Server {
        Server {
            node_id: node_id.map(str::to_owned),
            ..Server::default()
        }
    }

    #[test]
    fn the_configured_identity_wins() {
        let listen = SocketAddr::from(([0, 0, 0, 0], 8080));
        let id = node_id(&server(Some("node-a")), Path::new("relay.toml"), listen);
        assert_eq!(id.as_str(), "node-a");
    }

    #[test]
    fn the_derived_identity_is_stable_and_tells_gateways_apart() {
        let listen = SocketAddr::from(([0, 0, 0, 0], 8080));
        let other_port = SocketAddr::from(([0, 0, 0, 0], 8081));
        let config = Path::new("/etc/relay/relay.toml");
        let a = derived("web-1", config, listen);
        assert_eq!(a, derived("web-1", config, listen), "stable");
        assert!(a.as_str().starts_with("web-1/0.0.0.0:8080/"), "{a}");
        assert_eq!(a.as_str().len(), "web-1/0.0.0.0:8080/".len() + 8);
        assert_ne!(a, derived("web-2", config, listen));
        assert_ne!(a, derived("web-1", config, other_port));
        assert_ne!(a, derived("web-1", Path::new("/etc/relay/b.toml"), listen));
        // The digest is FNV-1a: the same in every build.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn odd_host_names_still_give_a_valid_identity() {
        let listen = SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], 65535));
        let config = Path::new("relay.toml");
        let long = derived(&"h".repeat(500), config, listen);
        assert!(long.as_str().len() <= NodeId::MAX_LEN, "{long}");
        assert!(
            derived("", config, listen)
                .as_str()
                .starts_with("localhost/")
        );
        assert!(derived("a\nb", config, listen).as_str().starts_with("ab/"));
        assert!(!host_name().is_empty());
    }

    #[test]
    fn a_bad_node_id_is_a_problem_naming_the_key() {
        for bad in ["", "   ", "a\tb"] {
            let problems = server(Some(bad)).node_id_problems();
            assert_eq!(problems.len(), 1, "{bad:?}");
            assert_eq!(problems[0].key, "server.node_id");
        }
        let long = "n".repeat(NodeId::MAX_LEN + 1);
        assert_eq!(server(Some(&long)).node_id_problems().len(), 1);
        assert!(server(Some("node-a")).node_id_problems().is_empty());
        assert!(server(None).node_id_problems().is_empty());
    }
}
