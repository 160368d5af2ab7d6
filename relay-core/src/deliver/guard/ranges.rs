//! Which addresses are not on the public internet (by the [`registry`](super::registry)), and
//! the IPv4 addresses that IPv6 forms embed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::class::{AddressClass, Embedding};
use super::registry::{self, GLOBAL_UNICAST, Verdict};

/// The class of a non-public IPv4 address; `None` for public unicast.
///
/// ```
/// use relay_core::deliver::guard::{AddressClass, classify_v4};
/// assert_eq!(classify_v4("192.0.0.171".parse().unwrap()), Some(AddressClass::ProtocolAssignment));
/// assert_eq!(classify_v4("192.31.196.1".parse().unwrap()), None); // AS112: globally reachable
/// ```
pub fn classify_v4(ip: Ipv4Addr) -> Option<AddressClass> {
    match registry::most_specific(IpAddr::V4(ip)).map(|entry| entry.verdict) {
        Some(Verdict::Refuse(class)) => Some(class),
        _ => None,
    }
}

/// The class of a non-public IPv6 address itself; `None` for global unicast and for the forms
/// judged on the IPv4 address they embed (looked at by [`embedded_v4`]), except local-use
/// NAT64, which is refused whatever it embeds. IPv6 outside `2000::/3` that no entry names is
/// [`AddressClass::Reserved`].
///
/// ```
/// use relay_core::deliver::guard::{AddressClass, classify_v6};
/// assert_eq!(classify_v6("3fff:1::1".parse().unwrap()), Some(AddressClass::Documentation));
/// assert_eq!(classify_v6("3fff:fff:ffff::1".parse().unwrap()), Some(AddressClass::Documentation));
/// assert_eq!(classify_v6("3ff0::1".parse().unwrap()), None); // `3fff::/20` only, not `3ff0::/12`
/// assert_eq!(classify_v6("4000::1".parse().unwrap()), Some(AddressClass::Reserved));
/// assert_eq!(classify_v6("2606:4700:4700::1111".parse().unwrap()), None);
/// ```
pub fn classify_v6(ip: Ipv6Addr) -> Option<AddressClass> {
    match registry::most_specific(IpAddr::V6(ip)).map(|entry| entry.verdict) {
        Some(Verdict::Refuse(class)) => Some(class),
        Some(Verdict::Embeds(Embedding::LocalNat64)) => Some(AddressClass::LocalNat64),
        Some(Verdict::Allow | Verdict::Embeds(_)) => None,
        None if GLOBAL_UNICAST.contains(&ip) => None,
        None => Some(AddressClass::Reserved),
    }
}

/// The IPv4 addresses an IPv6 address embeds, with the form that embeds them (by the most
/// specific registry entry containing it, so `::` and `::1` embed nothing).
///
/// ```
/// use relay_core::deliver::guard::{Embedding, embedded_v4};
/// let found = embedded_v4("::ffff:0:7f00:1".parse().unwrap());
/// assert_eq!(found, [(Embedding::Translated, "127.0.0.1".parse().unwrap())]);
/// ```
pub fn embedded_v4(ip: Ipv6Addr) -> Vec<(Embedding, Ipv4Addr)> {
    let Some(Verdict::Embeds(form)) =
        registry::most_specific(IpAddr::V6(ip)).map(|entry| entry.verdict)
    else {
        return Vec::new();
    };
    let o = ip.octets();
    let last = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    match form {
        Embedding::Mapped
        | Embedding::Translated
        | Embedding::Compatible
        | Embedding::Nat64
        | Embedding::LocalNat64 => vec![(form, last)],
        Embedding::SixToFour => vec![(form, Ipv4Addr::new(o[2], o[3], o[4], o[5]))],
        Embedding::Teredo => {
            let server = Ipv4Addr::new(o[4], o[5], o[6], o[7]);
            let client = Ipv4Addr::new(!o[12], !o[13], !o[14], !o[15]);
            vec![(form, server), (form, client)]
        }
    }
}

/// The address as the network stack treats it: an IPv4-mapped IPv6 address is its IPv4
/// address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}
