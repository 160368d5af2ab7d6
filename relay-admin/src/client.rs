//! The client address of a request: the TCP peer, or, behind trusted reverse proxies, the
//! address they report.
//!
//! `X-Forwarded-For` and `Forwarded: for=` are believed only when the TCP peer is one of the
//! [`TrustedProxies`] (the standalone gateway's `server.trusted_proxies`). Then the hops are read from right to left (each proxy appends
//! the address it received the request from) and the first one that is not itself a trusted
//! proxy is the client; if every hop is trusted, the left-most is. A hop that cannot be read
//! (`unknown`, an obfuscated name, garbage) ends the walk: nothing left of it is believed,
//! and the last address read is the client. `Forwarded` is read when present, else
//! `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use http::header::FORWARDED;
use ipnet::IpNet;

/// The networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Proxies in `networks`.
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    /// Whether `addr` is one of the proxies (then its forwarding headers are read).
    pub fn trusts(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// The client address of a request from the TCP peer `peer` with `headers`.
    pub fn client_addr(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops = if headers.contains_key(FORWARDED) {
            forwarded_hops(headers)
        } else {
            x_forwarded_for_hops(headers)
        };
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop {
                Some(addr) => {
                    client = *addr;
                    if !self.trusts(*addr) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, as a dual-stack socket reports IPv4
/// peers) as the IPv4 address they are.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        IpAddr::V4(_) => addr,
    }
}

/// Every `X-Forwarded-For` hop, left to right (`None`: unreadable).
fn x_forwarded_for_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| match value.to_str() {
            Ok(text) => text.split(',').map(parse_node).collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect()
}

/// Every `Forwarded` element's `for=`, left to right (`None`: unreadable or missing).
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all(FORWARDED)
        .iter()
        .flat_map(|value| match value.to_str() {
            Ok(text) => text.split(',').map(forwarded_for).collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect()
}

/// The address in one `Forwarded` element (`for=192.0.2.1;proto=https`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("for") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        parse_node(value)
    })
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Some(canonical(addr));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(canonical(addr.ip()));
    }
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    inner.parse::<IpAddr>().ok().map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(nets: &[&str]) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|n| n.parse().expect("cidr")).collect())
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().expect("header value"));
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let claims = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(
            trusted.client_addr(ip("203.0.113.9"), &claims),
            ip("203.0.113.9")
        );
        let nobody = TrustedProxies::default();
        assert_eq!(nobody.client_addr(ip("10.0.0.1"), &claims), ip("10.0.0.1"));
    }

    #[test]
    fn a_trusted_peer_reports_the_client() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let xff = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(
            trusted.client_addr(ip("10.1.2.3"), &xff),
            ip("198.51.100.7")
        );
        let forwarded = headers(&[("forwarded", "for=198.51.100.8;proto=https")]);
        assert_eq!(
            trusted.client_addr(ip("10.1.2.3"), &forwarded),
            ip("198.51.100.8")
        );
        // Without a header, the proxy itself is the client.
        assert_eq!(
            trusted.client_addr(ip("10.1.2.3"), &HeaderMap::new()),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "192.168.0.0/16"]);
        // The client forged the left-most entry; the proxies appended the rest.
        let xff = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 192.168.1.1")]);
        assert_eq!(
            trusted.client_addr(ip("10.0.0.2"), &xff),
            ip("198.51.100.7")
        );
        // Hops split over several header lines read as one list.
        let split = headers(&[
            ("x-forwarded-for", "6.6.6.6, 198.51.100.7"),
            ("x-forwarded-for", "192.168.1.1"),
        ]);
        assert_eq!(
            trusted.client_addr(ip("10.0.0.2"), &split),
            ip("198.51.100.7")
        );
        let forwarded = headers(&[(
            "forwarded",
            r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, for=192.168.1.1"#,
        )]);
        assert_eq!(
            trusted.client_addr(ip("10.0.0.2"), &forwarded),
            ip("2001:db8:cafe::17")
        );
        // Every hop trusted: the left-most is the client.
        let internal = headers(&[("x-forwarded-for", "10.9.9.9, 192.168.1.1")]);
        assert_eq!(
            trusted.client_addr(ip("10.0.0.2"), &internal),
            ip("10.9.9.9")
        );
    }

    #[test]
    fn garbage_ends_the_walk_at_the_last_address_read() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let cases = [
            ("x-forwarded-for", "not-an-ip", "10.0.0.2"),
            ("x-forwarded-for", "198.51.100.7, ", "10.0.0.2"),
            (
                "x-forwarded-for",
                "198.51.100.7, garbage, 10.0.0.5",
                "10.0.0.5",
            ),
            ("forwarded", "for=unknown", "10.0.0.2"),
            ("forwarded", "for=_hidden, for=10.0.0.5", "10.0.0.5"),
            ("forwarded", "proto=https", "10.0.0.2"),
            ("forwarded", "for=\"198.51.100.7", "10.0.0.2"),
        ];
        for (name, value, expected) in cases {
            let claims = headers(&[(name, value)]);
            assert_eq!(
                trusted.client_addr(ip("10.0.0.2"), &claims),
                ip(expected),
                "{name}: {value}"
            );
        }
        let mut binary = HeaderMap::new();
        binary.insert(
            "x-forwarded-for",
            http::HeaderValue::from_bytes(b"\xff198.51.100.7").expect("opaque bytes"),
        );
        assert_eq!(trusted.client_addr(ip("10.0.0.2"), &binary), ip("10.0.0.2"));
    }

    #[test]
    fn mapped_ipv4_peers_match_ipv4_networks() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let xff = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(
            trusted.client_addr(ip("::ffff:10.0.0.2"), &xff),
            ip("198.51.100.7")
        );
        assert_eq!(
            trusted.client_addr(ip("::ffff:203.0.113.9"), &xff),
            ip("203.0.113.9")
        );
    }
}
