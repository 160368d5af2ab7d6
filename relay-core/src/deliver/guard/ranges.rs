//! Which addresses are not on the public internet, and IPv6 forms that embed an IPv4 address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not a public unicast address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressClass {
    /// `0.0.0.0/8`, `::`.
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`.
    Private,
    /// `100.64.0.0/10`: carrier-grade NAT.
    SharedCgnat,
    /// `169.254.0.0/16`, `fe80::/10` (cloud metadata services live here).
    LinkLocal,
    /// `fc00::/7`.
    UniqueLocal,
    /// `fec0::/10`, deprecated but still routed inside some networks.
    SiteLocal,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `198.18.0.0/15`, `2001:2::/48`.
    Benchmarking,
    /// `192.0.0.0/24`: IETF protocol assignments.
    ProtocolAssignment,
    /// `192.88.99.0/24`: the deprecated 6to4 relay anycast.
    SixToFourRelay,
    /// `240.0.0.0/4`: reserved for future use.
    Reserved,
    /// `100::/64`: discard only.
    Discard,
    /// `64:ff9b:1::/48`: local-use NAT64, translating into some private network.
    LocalNat64,
}

impl AddressClass {
    /// A short description, e.g. `loopback`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::SharedCgnat => "shared (carrier-grade NAT)",
            Self::LinkLocal => "link-local",
            Self::UniqueLocal => "unique-local",
            Self::SiteLocal => "site-local",
            Self::Multicast => "multicast",
            Self::Broadcast => "broadcast",
            Self::Documentation => "documentation",
            Self::Benchmarking => "benchmarking",
            Self::ProtocolAssignment => "IETF protocol assignment",
            Self::SixToFourRelay => "6to4 relay anycast",
            Self::Reserved => "reserved",
            Self::Discard => "discard-only",
            Self::LocalNat64 => "local-use NAT64",
        }
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An IPv6 form that carries an IPv4 address inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Embedding {
    /// `::ffff:a.b.c.d`.
    Mapped,
    /// `::a.b.c.d` (deprecated IPv4-compatible).
    Compatible,
    /// `64:ff9b::a.b.c.d` (well-known NAT64 prefix).
    Nat64,
    /// `2002:AABB:CCDD::/48` (6to4).
    SixToFour,
    /// `2001:0:SSSS:SSSS:…:CCCC:CCCC` (Teredo server, or the client stored inverted).
    Teredo,
}

impl Embedding {
    /// The form's name, e.g. `NAT64`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mapped => "IPv4-mapped",
            Self::Compatible => "IPv4-compatible",
            Self::Nat64 => "NAT64",
            Self::SixToFour => "6to4",
            Self::Teredo => "Teredo",
        }
    }
}

impl fmt::Display for Embedding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class of a non-public IPv4 address; `None` for public unicast.
pub fn classify_v4(ip: Ipv4Addr) -> Option<AddressClass> {
    let [a, b, c, _] = ip.octets();
    let class = match (a, b, c) {
        (0, _, _) => AddressClass::Unspecified,
        (10, _, _) => AddressClass::Private,
        (100, 64..=127, _) => AddressClass::SharedCgnat,
        (127, _, _) => AddressClass::Loopback,
        (169, 254, _) => AddressClass::LinkLocal,
        (172, 16..=31, _) => AddressClass::Private,
        (192, 0, 0) => AddressClass::ProtocolAssignment,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => AddressClass::Documentation,
        (192, 88, 99) => AddressClass::SixToFourRelay,
        (192, 168, _) => AddressClass::Private,
        (198, 18..=19, _) => AddressClass::Benchmarking,
        (224..=239, _, _) => AddressClass::Multicast,
        _ if ip == Ipv4Addr::BROADCAST => AddressClass::Broadcast,
        (240..=255, _, _) => AddressClass::Reserved,
        _ => return None,
    };
    Some(class)
}

/// The class of a non-public IPv6 address itself (embedded IPv4 addresses are looked at by
/// [`embedded_v4`]); `None` for global unicast.
pub fn classify_v6(ip: Ipv6Addr) -> Option<AddressClass> {
    let s = ip.segments();
    let class = if ip.is_unspecified() {
        AddressClass::Unspecified
    } else if ip.is_loopback() {
        AddressClass::Loopback
    } else if s[0] & 0xffc0 == 0xfe80 {
        AddressClass::LinkLocal
    } else if s[0] & 0xffc0 == 0xfec0 {
        AddressClass::SiteLocal
    } else if s[0] & 0xfe00 == 0xfc00 {
        AddressClass::UniqueLocal
    } else if s[0] & 0xff00 == 0xff00 {
        AddressClass::Multicast
    } else if (s[0], s[1]) == (0x2001, 0x0db8) || s[0] & 0xfff0 == 0x3ff0 {
        AddressClass::Documentation
    } else if (s[0], s[1], s[2]) == (0x2001, 0x0002, 0) {
        AddressClass::Benchmarking
    } else if (s[0], s[1], s[2], s[3]) == (0x0100, 0, 0, 0) {
        AddressClass::Discard
    } else if (s[0], s[1], s[2]) == (0x0064, 0xff9b, 0x0001) {
        AddressClass::LocalNat64
    } else {
        return None;
    };
    Some(class)
}

/// The IPv4 addresses an IPv6 address embeds, with the form that embeds them.
pub fn embedded_v4(ip: Ipv6Addr) -> Vec<(Embedding, Ipv4Addr)> {
    let s = ip.segments();
    let octets = ip.octets();
    let last = Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return vec![(Embedding::Mapped, v4)];
    }
    if s[..6] == [0; 6] {
        // `::` and `::1` are classified as IPv6 already; the rest of `::/96` is compatible.
        return vec![(Embedding::Compatible, last)];
    }
    if s[..6] == [0x0064, 0xff9b, 0, 0, 0, 0] {
        return vec![(Embedding::Nat64, last)];
    }
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]);
        return vec![(Embedding::SixToFour, v4)];
    }
    if (s[0], s[1]) == (0x2001, 0) {
        let server = Ipv4Addr::new(octets[4], octets[5], octets[6], octets[7]);
        let client = Ipv4Addr::new(!octets[12], !octets[13], !octets[14], !octets[15]);
        return vec![(Embedding::Teredo, server), (Embedding::Teredo, client)];
    }
    Vec::new()
}

/// The address as the network stack treats it: an IPv4-mapped IPv6 address is its IPv4
/// address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Option<AddressClass> {
        classify_v4(s.parse().unwrap())
    }

    fn v6(s: &str) -> Option<AddressClass> {
        classify_v6(s.parse().unwrap())
    }

    #[test]
    fn ipv4_ranges_and_their_edges() {
        use AddressClass::*;
        let cases = [
            ("0.0.0.0", Some(Unspecified)),
            ("0.255.255.255", Some(Unspecified)),
            ("1.1.1.1", None),
            ("9.255.255.255", None),
            ("10.0.0.0", Some(Private)),
            ("10.255.255.255", Some(Private)),
            ("11.0.0.0", None),
            ("100.63.255.255", None),
            ("100.64.0.0", Some(SharedCgnat)),
            ("100.127.255.255", Some(SharedCgnat)),
            ("100.128.0.0", None),
            ("127.0.0.1", Some(Loopback)),
            ("127.255.255.254", Some(Loopback)),
            ("169.254.169.254", Some(LinkLocal)),
            ("169.253.0.1", None),
            ("172.15.255.255", None),
            ("172.16.0.0", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("172.32.0.0", None),
            ("192.0.0.8", Some(ProtocolAssignment)),
            ("192.0.1.1", None),
            ("192.0.2.1", Some(Documentation)),
            ("192.88.99.1", Some(SixToFourRelay)),
            ("192.167.255.255", None),
            ("192.168.1.1", Some(Private)),
            ("192.169.0.0", None),
            ("198.17.255.255", None),
            ("198.18.0.0", Some(Benchmarking)),
            ("198.19.255.255", Some(Benchmarking)),
            ("198.20.0.0", None),
            ("198.51.100.7", Some(Documentation)),
            ("203.0.113.9", Some(Documentation)),
            ("223.255.255.255", None),
            ("224.0.0.1", Some(Multicast)),
            ("239.255.255.255", Some(Multicast)),
            ("240.0.0.1", Some(Reserved)),
            ("255.255.255.255", Some(Broadcast)),
            ("8.8.8.8", None),
            ("93.184.216.34", None),
        ];
        for (ip, class) in cases {
            assert_eq!(v4(ip), class, "{ip}");
        }
    }

    #[test]
    fn ipv6_ranges() {
        use AddressClass::*;
        let cases = [
            ("::", Some(Unspecified)),
            ("::1", Some(Loopback)),
            ("fe80::1", Some(LinkLocal)),
            ("febf::1", Some(LinkLocal)),
            ("fec0::1", Some(SiteLocal)),
            ("fc00::1", Some(UniqueLocal)),
            ("fd12:3456::1", Some(UniqueLocal)),
            ("ff02::1", Some(Multicast)),
            ("2001:db8::1", Some(Documentation)),
            ("3fff:1::1", Some(Documentation)),
            ("2001:2::1", Some(Benchmarking)),
            ("100::1", Some(Discard)),
            ("64:ff9b:1::1", Some(LocalNat64)),
            ("2606:4700:4700::1111", None),
            ("2a00:1450:4001::200e", None),
        ];
        for (ip, class) in cases {
            assert_eq!(v6(ip), class, "{ip}");
        }
    }

    #[test]
    fn embedded_forms() {
        let e = |s: &str| embedded_v4(s.parse().unwrap());
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(
            e("::ffff:127.0.0.1"),
            [(Embedding::Mapped, ip("127.0.0.1"))]
        );
        assert_eq!(e("::10.0.0.1"), [(Embedding::Compatible, ip("10.0.0.1"))]);
        assert_eq!(
            e("64:ff9b::a9fe:a9fe"),
            [(Embedding::Nat64, ip("169.254.169.254"))]
        );
        assert_eq!(
            e("2002:7f00:1::1"),
            [(Embedding::SixToFour, ip("127.0.0.1"))]
        );
        // Teredo: server 65.54.227.120, client 192.168.1.1 stored inverted (3f57:fefe).
        assert_eq!(
            e("2001:0:4136:e378:8000:63bf:3f57:fefe"),
            [
                (Embedding::Teredo, ip("65.54.227.120")),
                (Embedding::Teredo, ip("192.168.1.1"))
            ]
        );
        assert!(e("2606:4700:4700::1111").is_empty());
        assert_eq!(
            canonical("::ffff:10.1.2.3".parse().unwrap()),
            "10.1.2.3".parse::<IpAddr>().unwrap()
        );
    }
}
