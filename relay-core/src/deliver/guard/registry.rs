//! IANA's IPv4 and IPv6 special-purpose address registries (as updated 2025-10-09), one
//! [`ipnet`] constant per entry, and the guard's verdict on each: the tables
//! [`IPV4_REGISTRY`], [`IPV6_REGISTRY`] and [`BEYOND_REGISTRY`] (ranges the guard adds:
//! multicast, site-local, the IPv4-compatible and IPv4-translated forms).
//!
//! An address is judged by the most specific entry that contains it (so `192.0.0.9/32`
//! decides for `192.0.0.9`, not `192.0.0.0/24`); an IPv4 address no entry contains is public,
//! an IPv6 one is public only inside [`GLOBAL_UNICAST`] (`2000::/3`).
//!
//! ```
//! use relay_core::deliver::guard::registry::{self, Verdict};
//! let entry = registry::most_specific("192.0.0.170".parse().unwrap()).unwrap();
//! assert_eq!(entry.name, "NAT64/DNS64 Discovery");
//! assert!(matches!(entry.verdict, Verdict::Refuse(_)));
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::class::{AddressClass, Embedding};

/// The registry's "Globally Reachable" column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reachable {
    /// `True`.
    Yes,
    /// `False`.
    No,
    /// `N/A` (Teredo, 6to4), or no value (a terminated entry, or a range outside the registry).
    NotApplicable,
}

/// What the guard does with an address of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Refused, for this reason.
    Refuse(AddressClass),
    /// Allowed: a globally reachable service.
    Allow,
    /// Judged on the IPv4 address the form embeds (see `embedded_v4`).
    Embeds(Embedding),
}

/// One entry: a range, its registry name, its reachability and the guard's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Special {
    /// The range.
    pub net: IpNet,
    /// The registry's name for it.
    pub name: &'static str,
    /// The registry's "Globally Reachable" value.
    pub reachable: Reachable,
    /// What the guard does with it.
    pub verdict: Verdict,
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len)
}

const fn v6(s: [u16; 8], len: u8) -> Ipv6Net {
    let ip = Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]);
    Ipv6Net::new_assert(ip, len)
}

/// `0.0.0.0/8`: "this network".
pub const THIS_NETWORK: Ipv4Net = v4(0, 0, 0, 0, 8);
/// `0.0.0.0/32`: "this host on this network".
pub const THIS_HOST: Ipv4Net = v4(0, 0, 0, 0, 32);
/// `10.0.0.0/8`: private use.
pub const PRIVATE_10: Ipv4Net = v4(10, 0, 0, 0, 8);
/// `100.64.0.0/10`: shared address space (carrier-grade NAT).
pub const SHARED: Ipv4Net = v4(100, 64, 0, 0, 10);
/// `127.0.0.0/8`: loopback.
pub const LOOPBACK_V4: Ipv4Net = v4(127, 0, 0, 0, 8);
/// `169.254.0.0/16`: link local.
pub const LINK_LOCAL_V4: Ipv4Net = v4(169, 254, 0, 0, 16);
/// `172.16.0.0/12`: private use.
pub const PRIVATE_172: Ipv4Net = v4(172, 16, 0, 0, 12);
/// `192.0.0.0/24`: IETF protocol assignments.
pub const IETF_V4: Ipv4Net = v4(192, 0, 0, 0, 24);
/// `192.0.0.0/29`: IPv4 service continuity prefix (DS-Lite).
pub const SERVICE_CONTINUITY: Ipv4Net = v4(192, 0, 0, 0, 29);
/// `192.0.0.8/32`: IPv4 dummy address.
pub const DUMMY_V4: Ipv4Net = v4(192, 0, 0, 8, 32);
/// `192.0.0.9/32`: Port Control Protocol anycast.
pub const PCP_ANYCAST_V4: Ipv4Net = v4(192, 0, 0, 9, 32);
/// `192.0.0.10/32`: TURN anycast.
pub const TURN_ANYCAST_V4: Ipv4Net = v4(192, 0, 0, 10, 32);
/// `192.0.0.170/32`: NAT64/DNS64 discovery.
pub const NAT64_DISCOVERY_170: Ipv4Net = v4(192, 0, 0, 170, 32);
/// `192.0.0.171/32`: NAT64/DNS64 discovery.
pub const NAT64_DISCOVERY_171: Ipv4Net = v4(192, 0, 0, 171, 32);
/// `192.0.2.0/24`: documentation (TEST-NET-1).
pub const TEST_NET_1: Ipv4Net = v4(192, 0, 2, 0, 24);
/// `192.31.196.0/24`: AS112-v4.
pub const AS112_V4: Ipv4Net = v4(192, 31, 196, 0, 24);
/// `192.52.193.0/24`: AMT.
pub const AMT_V4: Ipv4Net = v4(192, 52, 193, 0, 24);
/// `192.88.99.0/24`: deprecated 6to4 relay anycast.
pub const SIX_TO_FOUR_RELAY: Ipv4Net = v4(192, 88, 99, 0, 24);
/// `192.88.99.2/32`: 6a44 relay anycast.
pub const SIX_A44_RELAY: Ipv4Net = v4(192, 88, 99, 2, 32);
/// `192.168.0.0/16`: private use.
pub const PRIVATE_192: Ipv4Net = v4(192, 168, 0, 0, 16);
/// `192.175.48.0/24`: direct delegation AS112 service.
pub const AS112_DIRECT_V4: Ipv4Net = v4(192, 175, 48, 0, 24);
/// `198.18.0.0/15`: benchmarking.
pub const BENCHMARKING_V4: Ipv4Net = v4(198, 18, 0, 0, 15);
/// `198.51.100.0/24`: documentation (TEST-NET-2).
pub const TEST_NET_2: Ipv4Net = v4(198, 51, 100, 0, 24);
/// `203.0.113.0/24`: documentation (TEST-NET-3).
pub const TEST_NET_3: Ipv4Net = v4(203, 0, 113, 0, 24);
/// `240.0.0.0/4`: reserved.
pub const RESERVED_V4: Ipv4Net = v4(240, 0, 0, 0, 4);
/// `255.255.255.255/32`: limited broadcast.
pub const BROADCAST: Ipv4Net = v4(255, 255, 255, 255, 32);

/// `::1/128`: loopback.
pub const LOOPBACK_V6: Ipv6Net = v6([0, 0, 0, 0, 0, 0, 0, 1], 128);
/// `::/128`: unspecified.
pub const UNSPECIFIED_V6: Ipv6Net = v6([0; 8], 128);
/// `::ffff:0:0/96`: IPv4-mapped.
pub const IPV4_MAPPED: Ipv6Net = v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96);
/// `64:ff9b::/96`: IPv4-IPv6 translation (well-known NAT64 prefix).
pub const NAT64: Ipv6Net = v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96);
/// `64:ff9b:1::/48`: IPv4-IPv6 translation, local use.
pub const LOCAL_NAT64: Ipv6Net = v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48);
/// `100::/64`: discard-only.
pub const DISCARD: Ipv6Net = v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64);
/// `100:0:0:1::/64`: dummy IPv6 prefix.
pub const DUMMY_V6: Ipv6Net = v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64);
/// `2001::/23`: IETF protocol assignments.
pub const IETF_V6: Ipv6Net = v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23);
/// `2001::/32`: Teredo.
pub const TEREDO: Ipv6Net = v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32);
/// `2001:1::1/128`: Port Control Protocol anycast.
pub const PCP_ANYCAST_V6: Ipv6Net = v6([0x2001, 1, 0, 0, 0, 0, 0, 1], 128);
/// `2001:1::2/128`: TURN anycast.
pub const TURN_ANYCAST_V6: Ipv6Net = v6([0x2001, 1, 0, 0, 0, 0, 0, 2], 128);
/// `2001:1::3/128`: DNS-SD service registration protocol anycast.
pub const SRP_ANYCAST_V6: Ipv6Net = v6([0x2001, 1, 0, 0, 0, 0, 0, 3], 128);
/// `2001:2::/48`: benchmarking.
pub const BENCHMARKING_V6: Ipv6Net = v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48);
/// `2001:3::/32`: AMT.
pub const AMT_V6: Ipv6Net = v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32);
/// `2001:4:112::/48`: AS112-v6.
pub const AS112_V6: Ipv6Net = v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0], 48);
/// `2001:10::/28`: deprecated ORCHID.
pub const ORCHID: Ipv6Net = v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28);
/// `2001:20::/28`: ORCHIDv2.
pub const ORCHID_V2: Ipv6Net = v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28);
/// `2001:30::/28`: drone remote ID protocol entity tags (DETs).
pub const DRONE_DET: Ipv6Net = v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0], 28);
/// `2001:db8::/32`: documentation.
pub const DOCUMENTATION_V6: Ipv6Net = v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32);
/// `2002::/16`: 6to4.
pub const SIX_TO_FOUR: Ipv6Net = v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16);
/// `2620:4f:8000::/48`: direct delegation AS112 service.
pub const AS112_DIRECT_V6: Ipv6Net = v6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0], 48);
/// `3fff::/20`: documentation (RFC 9637).
pub const DOCUMENTATION_3FFF: Ipv6Net = v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20);
/// `5f00::/16`: segment routing (SRv6) SIDs.
pub const SRV6_SIDS: Ipv6Net = v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16);
/// `fc00::/7`: unique-local.
pub const UNIQUE_LOCAL: Ipv6Net = v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7);
/// `fe80::/10`: link-local unicast.
pub const LINK_LOCAL_V6: Ipv6Net = v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10);

/// `224.0.0.0/4`: multicast (its own registry).
pub const MULTICAST_V4: Ipv4Net = v4(224, 0, 0, 0, 4);
/// `ff00::/8`: multicast (its own registry).
pub const MULTICAST_V6: Ipv6Net = v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8);
/// `fec0::/10`: site-local (deprecated by RFC 3879, still routed inside some networks).
pub const SITE_LOCAL: Ipv6Net = v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10);
/// `::/96`: IPv4-compatible (deprecated by RFC 4291).
pub const IPV4_COMPATIBLE: Ipv6Net = v6([0; 8], 96);
/// `::ffff:0:0:0/96`: IPv4-translated (RFC 2765).
pub const IPV4_TRANSLATED: Ipv6Net = v6([0, 0, 0, 0, 0xffff, 0, 0, 0], 96);
/// `2000::/3`: global unicast; IPv6 outside it that no entry names is reserved by the IETF.
pub const GLOBAL_UNICAST: Ipv6Net = v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3);

const fn entry(net: IpNet, name: &'static str, reachable: Reachable, verdict: Verdict) -> Special {
    Special {
        net,
        name,
        reachable,
        verdict,
    }
}

use AddressClass as C;
use Reachable::{No, NotApplicable as NA, Yes};
use Verdict::{Allow, Embeds, Refuse};

/// Every entry of IANA's IPv4 special-purpose address registry.
#[rustfmt::skip]
pub const IPV4_REGISTRY: &[Special] = &[
    entry(IpNet::V4(THIS_NETWORK), "This network", No, Refuse(C::Unspecified)),
    entry(IpNet::V4(THIS_HOST), "This host on this network", No, Refuse(C::Unspecified)),
    entry(IpNet::V4(PRIVATE_10), "Private-Use", No, Refuse(C::Private)),
    entry(IpNet::V4(SHARED), "Shared Address Space", No, Refuse(C::SharedCgnat)),
    entry(IpNet::V4(LOOPBACK_V4), "Loopback", No, Refuse(C::Loopback)),
    entry(IpNet::V4(LINK_LOCAL_V4), "Link Local", No, Refuse(C::LinkLocal)),
    entry(IpNet::V4(PRIVATE_172), "Private-Use", No, Refuse(C::Private)),
    entry(IpNet::V4(IETF_V4), "IETF Protocol Assignments", No, Refuse(C::ProtocolAssignment)),
    entry(IpNet::V4(SERVICE_CONTINUITY), "IPv4 Service Continuity Prefix", No, Refuse(C::ProtocolAssignment)),
    entry(IpNet::V4(DUMMY_V4), "IPv4 dummy address", No, Refuse(C::Dummy)),
    entry(IpNet::V4(PCP_ANYCAST_V4), "Port Control Protocol Anycast", Yes, Refuse(C::ServiceAnycast)),
    entry(IpNet::V4(TURN_ANYCAST_V4), "Traversal Using Relays around NAT Anycast", Yes, Refuse(C::ServiceAnycast)),
    entry(IpNet::V4(NAT64_DISCOVERY_170), "NAT64/DNS64 Discovery", No, Refuse(C::ProtocolAssignment)),
    entry(IpNet::V4(NAT64_DISCOVERY_171), "NAT64/DNS64 Discovery", No, Refuse(C::ProtocolAssignment)),
    entry(IpNet::V4(TEST_NET_1), "Documentation (TEST-NET-1)", No, Refuse(C::Documentation)),
    entry(IpNet::V4(AS112_V4), "AS112-v4", Yes, Allow),
    entry(IpNet::V4(AMT_V4), "AMT", Yes, Allow),
    entry(IpNet::V4(SIX_TO_FOUR_RELAY), "Deprecated (6to4 Relay Anycast)", NA, Refuse(C::SixToFourRelay)),
    entry(IpNet::V4(SIX_A44_RELAY), "6a44-relay anycast address", No, Refuse(C::SixToFourRelay)),
    entry(IpNet::V4(PRIVATE_192), "Private-Use", No, Refuse(C::Private)),
    entry(IpNet::V4(AS112_DIRECT_V4), "Direct Delegation AS112 Service", Yes, Allow),
    entry(IpNet::V4(BENCHMARKING_V4), "Benchmarking", No, Refuse(C::Benchmarking)),
    entry(IpNet::V4(TEST_NET_2), "Documentation (TEST-NET-2)", No, Refuse(C::Documentation)),
    entry(IpNet::V4(TEST_NET_3), "Documentation (TEST-NET-3)", No, Refuse(C::Documentation)),
    entry(IpNet::V4(RESERVED_V4), "Reserved", No, Refuse(C::Reserved)),
    entry(IpNet::V4(BROADCAST), "Limited Broadcast", No, Refuse(C::Broadcast)),
];

/// Every entry of IANA's IPv6 special-purpose address registry.
#[rustfmt::skip]
pub const IPV6_REGISTRY: &[Special] = &[
    entry(IpNet::V6(LOOPBACK_V6), "Loopback Address", No, Refuse(C::Loopback)),
    entry(IpNet::V6(UNSPECIFIED_V6), "Unspecified Address", No, Refuse(C::Unspecified)),
    entry(IpNet::V6(IPV4_MAPPED), "IPv4-mapped Address", No, Embeds(Embedding::Mapped)),
    entry(IpNet::V6(NAT64), "IPv4-IPv6 Translat.", Yes, Embeds(Embedding::Nat64)),
    entry(IpNet::V6(LOCAL_NAT64), "IPv4-IPv6 Translat.", No, Embeds(Embedding::LocalNat64)),
    entry(IpNet::V6(DISCARD), "Discard-Only Address Block", No, Refuse(C::Discard)),
    entry(IpNet::V6(DUMMY_V6), "Dummy IPv6 Prefix", No, Refuse(C::Dummy)),
    entry(IpNet::V6(IETF_V6), "IETF Protocol Assignments", No, Refuse(C::ProtocolAssignment)),
    entry(IpNet::V6(TEREDO), "TEREDO", NA, Embeds(Embedding::Teredo)),
    entry(IpNet::V6(PCP_ANYCAST_V6), "Port Control Protocol Anycast", Yes, Refuse(C::ServiceAnycast)),
    entry(IpNet::V6(TURN_ANYCAST_V6), "Traversal Using Relays around NAT Anycast", Yes, Refuse(C::ServiceAnycast)),
    entry(IpNet::V6(SRP_ANYCAST_V6), "DNS-SD Service Registration Protocol Anycast", Yes, Refuse(C::ServiceAnycast)),
    entry(IpNet::V6(BENCHMARKING_V6), "Benchmarking", No, Refuse(C::Benchmarking)),
    entry(IpNet::V6(AMT_V6), "AMT", Yes, Allow),
    entry(IpNet::V6(AS112_V6), "AS112-v6", Yes, Allow),
    entry(IpNet::V6(ORCHID), "Deprecated (previously ORCHID)", No, Refuse(C::DeprecatedOrchid)),
    entry(IpNet::V6(ORCHID_V2), "ORCHIDv2", Yes, Allow),
    entry(IpNet::V6(DRONE_DET), "Drone Remote ID Protocol Entity Tags (DETs) Prefix", Yes, Allow),
    entry(IpNet::V6(DOCUMENTATION_V6), "Documentation", No, Refuse(C::Documentation)),
    entry(IpNet::V6(SIX_TO_FOUR), "6to4", NA, Embeds(Embedding::SixToFour)),
    entry(IpNet::V6(AS112_DIRECT_V6), "Direct Delegation AS112 Service", Yes, Allow),
    entry(IpNet::V6(DOCUMENTATION_3FFF), "Documentation", No, Refuse(C::Documentation)),
    entry(IpNet::V6(SRV6_SIDS), "Segment Routing (SRv6) SIDs", No, Refuse(C::SegmentRouting)),
    entry(IpNet::V6(UNIQUE_LOCAL), "Unique-Local", No, Refuse(C::UniqueLocal)),
    entry(IpNet::V6(LINK_LOCAL_V6), "Link-Local Unicast", No, Refuse(C::LinkLocal)),
];

/// Ranges the guard refuses or looks into beyond the special-purpose registries.
#[rustfmt::skip]
pub const BEYOND_REGISTRY: &[Special] = &[
    entry(IpNet::V4(MULTICAST_V4), "Multicast", NA, Refuse(C::Multicast)),
    entry(IpNet::V6(MULTICAST_V6), "Multicast", NA, Refuse(C::Multicast)),
    entry(IpNet::V6(SITE_LOCAL), "Site-Local (deprecated)", NA, Refuse(C::SiteLocal)),
    entry(IpNet::V6(IPV4_COMPATIBLE), "IPv4-compatible (deprecated)", NA, Embeds(Embedding::Compatible)),
    entry(IpNet::V6(IPV4_TRANSLATED), "IPv4-translated", NA, Embeds(Embedding::Translated)),
];

/// Every entry the guard knows, registry or not.
pub fn all() -> impl Iterator<Item = &'static Special> {
    IPV4_REGISTRY
        .iter()
        .chain(IPV6_REGISTRY)
        .chain(BEYOND_REGISTRY)
}

/// The most specific entry containing `ip`, if any.
pub fn most_specific(ip: IpAddr) -> Option<&'static Special> {
    all()
        .filter(|entry| entry.net.contains(&ip))
        .max_by_key(|entry| entry.net.prefix_len())
}

#[cfg(test)]
mod tests;
