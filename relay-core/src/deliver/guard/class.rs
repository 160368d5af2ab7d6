//! Why an address is refused ([`AddressClass`]), and the IPv6 forms that carry an IPv4 address
//! ([`Embedding`]).

use std::fmt;

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
    /// `192.0.0.0/24` and `2001::/23` outside their more specific entries: IETF protocol
    /// assignments (DS-Lite, NAT64 discovery, …).
    ProtocolAssignment,
    /// `192.88.99.0/24` (the deprecated 6to4 relay anycast) and `192.88.99.2/32` (6a44).
    SixToFourRelay,
    /// `240.0.0.0/4`, and IPv6 outside `2000::/3` that no other entry names.
    Reserved,
    /// `100::/64`: discard only.
    Discard,
    /// `192.0.0.8/32`, `100:0:0:1::/64`: dummy addresses, never a destination.
    Dummy,
    /// `64:ff9b:1::/48`: local-use NAT64, translating into some private network.
    LocalNat64,
    /// `192.0.0.9`, `192.0.0.10`, `2001:1::1`–`2001:1::3`: anycast addresses of network
    /// services (PCP, TURN, DNS-SD SRP) that answer from the nearest router or NAT. The
    /// registries call them globally reachable; the guard refuses them all the same, since
    /// what they reach is the gateway's own network equipment.
    ServiceAnycast,
    /// `2001:10::/28`: the deprecated ORCHID identifiers, not routed.
    DeprecatedOrchid,
    /// `5f00::/16`: segment routing (SRv6) SIDs, meaningful only inside an SRv6 domain.
    SegmentRouting,
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
            Self::Dummy => "dummy",
            Self::LocalNat64 => "local-use NAT64",
            Self::ServiceAnycast => "service anycast (PCP, TURN, SRP)",
            Self::DeprecatedOrchid => "deprecated ORCHID",
            Self::SegmentRouting => "segment routing (SRv6 SID)",
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
    /// `::ffff:a.b.c.d` (IPv4-mapped).
    Mapped,
    /// `::ffff:0:a.b.c.d` (IPv4-translated, SIIT).
    Translated,
    /// `::a.b.c.d` (deprecated IPv4-compatible).
    Compatible,
    /// `64:ff9b::a.b.c.d` (well-known NAT64 prefix).
    Nat64,
    /// `64:ff9b:1::/48` (local-use NAT64), the IPv4 address in the last 32 bits. The form is
    /// refused whatever it embeds; the embedded address only makes the reason more precise.
    LocalNat64,
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
            Self::Translated => "IPv4-translated",
            Self::Compatible => "IPv4-compatible",
            Self::Nat64 => "NAT64",
            Self::LocalNat64 => "local-use NAT64",
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
