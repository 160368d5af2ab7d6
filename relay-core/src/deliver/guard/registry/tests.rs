//! One row per registry entry, stated here independently of the tables: the first, last and
//! middle address of each range (those no more specific row claims) are refused or allowed,
//! at save time and at connect time, with the expected reason; forms embedding an IPv4
//! address are checked with a private and a public one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use super::*;
use crate::deliver::guard::{AddressClass as C, AddressGuard, BlockedAddress, Embedding as E};

#[derive(Debug, Clone, Copy)]
enum Expect {
    Refused(C),
    Allowed,
    Embeds(E),
}
use Expect::{Allowed, Embeds, Refused};

fn rows() -> Vec<(IpNet, Expect)> {
    let rows4 = [
        (THIS_NETWORK, Refused(C::Unspecified)),
        (THIS_HOST, Refused(C::Unspecified)),
        (PRIVATE_10, Refused(C::Private)),
        (SHARED, Refused(C::SharedCgnat)),
        (LOOPBACK_V4, Refused(C::Loopback)),
        (LINK_LOCAL_V4, Refused(C::LinkLocal)),
        (PRIVATE_172, Refused(C::Private)),
        (IETF_V4, Refused(C::ProtocolAssignment)),
        (SERVICE_CONTINUITY, Refused(C::ProtocolAssignment)),
        (DUMMY_V4, Refused(C::Dummy)),
        (PCP_ANYCAST_V4, Refused(C::ServiceAnycast)),
        (TURN_ANYCAST_V4, Refused(C::ServiceAnycast)),
        (NAT64_DISCOVERY_170, Refused(C::ProtocolAssignment)),
        (NAT64_DISCOVERY_171, Refused(C::ProtocolAssignment)),
        (TEST_NET_1, Refused(C::Documentation)),
        (AS112_V4, Allowed),
        (AMT_V4, Allowed),
        (SIX_TO_FOUR_RELAY, Refused(C::SixToFourRelay)),
        (SIX_A44_RELAY, Refused(C::SixToFourRelay)),
        (PRIVATE_192, Refused(C::Private)),
        (AS112_DIRECT_V4, Allowed),
        (BENCHMARKING_V4, Refused(C::Benchmarking)),
        (TEST_NET_2, Refused(C::Documentation)),
        (TEST_NET_3, Refused(C::Documentation)),
        (RESERVED_V4, Refused(C::Reserved)),
        (BROADCAST, Refused(C::Broadcast)),
        (MULTICAST_V4, Refused(C::Multicast)),
    ];
    let rows6 = [
        (LOOPBACK_V6, Refused(C::Loopback)),
        (UNSPECIFIED_V6, Refused(C::Unspecified)),
        (IPV4_MAPPED, Embeds(E::Mapped)),
        (NAT64, Embeds(E::Nat64)),
        (LOCAL_NAT64, Embeds(E::LocalNat64)),
        (DISCARD, Refused(C::Discard)),
        (DUMMY_V6, Refused(C::Dummy)),
        (IETF_V6, Refused(C::ProtocolAssignment)),
        (TEREDO, Embeds(E::Teredo)),
        (PCP_ANYCAST_V6, Refused(C::ServiceAnycast)),
        (TURN_ANYCAST_V6, Refused(C::ServiceAnycast)),
        (SRP_ANYCAST_V6, Refused(C::ServiceAnycast)),
        (BENCHMARKING_V6, Refused(C::Benchmarking)),
        (AMT_V6, Allowed),
        (AS112_V6, Allowed),
        (ORCHID, Refused(C::DeprecatedOrchid)),
        (ORCHID_V2, Allowed),
        (DRONE_DET, Allowed),
        (DOCUMENTATION_V6, Refused(C::Documentation)),
        (SIX_TO_FOUR, Embeds(E::SixToFour)),
        (AS112_DIRECT_V6, Allowed),
        (DOCUMENTATION_3FFF, Refused(C::Documentation)),
        (SRV6_SIDS, Refused(C::SegmentRouting)),
        (UNIQUE_LOCAL, Refused(C::UniqueLocal)),
        (LINK_LOCAL_V6, Refused(C::LinkLocal)),
        (MULTICAST_V6, Refused(C::Multicast)),
        (SITE_LOCAL, Refused(C::SiteLocal)),
        (IPV4_COMPATIBLE, Embeds(E::Compatible)),
        (IPV4_TRANSLATED, Embeds(E::Translated)),
    ];
    let rows4 = rows4.into_iter().map(|(net, e)| (IpNet::V4(net), e));
    rows4
        .chain(rows6.into_iter().map(|(net, e)| (IpNet::V6(net), e)))
        .collect()
}

fn url_of(ip: IpAddr) -> reqwest::Url {
    let text = match ip {
        IpAddr::V4(v4) => format!("http://{v4}:8080/hook"),
        IpAddr::V6(v6) => format!("http://[{v6}]:8080/hook"),
    };
    reqwest::Url::parse(&text).expect("URL")
}

/// The guard's answer for `ip` at connect time, which must be its answer at save time too.
fn judged(ip: IpAddr) -> Result<(), BlockedAddress> {
    let guard = AddressGuard::new();
    let at_connect = guard.check_ip(ip);
    let at_save = guard.check_url(&url_of(ip));
    assert_eq!(
        at_connect.as_ref().map_err(|b| (b.class, b.via)),
        at_save.as_ref().map_err(|b| (b.class, b.via)),
        "{ip}: save and connect disagree"
    );
    at_connect
}

/// The first, middle and last address of `net`.
fn samples(net: IpNet) -> [IpAddr; 3] {
    match net {
        IpNet::V4(n) => {
            let (lo, hi) = (u32::from(n.network()), u32::from(n.broadcast()));
            [lo, lo + (hi - lo) / 2, hi].map(|x| IpAddr::V4(Ipv4Addr::from(x)))
        }
        IpNet::V6(n) => {
            let (lo, hi) = (u128::from(n.network()), u128::from(n.broadcast()));
            [lo, lo + (hi - lo) / 2, hi].map(|x| IpAddr::V6(Ipv6Addr::from(x)))
        }
    }
}

/// An address of the form `form` embedding `v4` (Teredo: as the client, the server public).
fn embedding(form: E, v4: Ipv4Addr) -> Ipv6Addr {
    let [a, b, c, d] = v4.octets();
    let (hi, lo) = (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
    let (ihi, ilo) = (!hi, !lo);
    match form {
        E::Mapped => Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, hi, lo),
        E::Translated => Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, hi, lo),
        E::Compatible => Ipv6Addr::new(0, 0, 0, 0, 0, 0, hi, lo),
        E::Nat64 => Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, hi, lo),
        E::LocalNat64 => Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, hi, lo),
        E::SixToFour => Ipv6Addr::new(0x2002, hi, lo, 0, 0, 0, 0, 1),
        E::Teredo => Ipv6Addr::new(0x2001, 0, 0x5db8, 0xd822, 0x8000, 0, ihi, ilo),
    }
}

#[test]
fn every_registry_entry_has_its_row_and_its_verdict() {
    let rows = rows();
    let mut wrong = Vec::new();
    for (net, expect) in &rows {
        // Addresses a more specific row claims are that row's business.
        let claimed = |ip: &IpAddr| {
            rows.iter()
                .any(|(other, _)| other.prefix_len() > net.prefix_len() && other.contains(ip))
        };
        let checked: Vec<IpAddr> = samples(*net)
            .into_iter()
            .filter(|ip| !claimed(ip))
            .collect();
        if checked.is_empty() && !matches!(expect, Embeds(_)) {
            wrong.push(format!("{net}: no address of its own to check"));
        }
        let private = Ipv4Addr::new(10, 1, 2, 3);
        let public = Ipv4Addr::new(93, 184, 216, 34);
        match *expect {
            Refused(class) => {
                for ip in checked {
                    match judged(ip) {
                        Err(b) if b.class == class && b.via.is_none() => {}
                        other => wrong.push(format!("{net} {ip}: expected {class:?}, {other:?}")),
                    }
                }
            }
            Allowed => {
                for ip in checked {
                    if let Err(b) = judged(ip) {
                        wrong.push(format!("{net} {ip}: expected allowed, refused: {b}"));
                    }
                }
            }
            Embeds(form) => {
                let ip = IpAddr::V6(embedding(form, private));
                let via = (form != E::Mapped).then_some(form);
                match judged(ip) {
                    Err(b) if b.class == C::Private && b.via == via => {}
                    other => wrong.push(format!(
                        "{net} {ip}: expected private via {via:?}, {other:?}"
                    )),
                }
                let ip = IpAddr::V6(embedding(form, public));
                match (form, judged(ip)) {
                    (E::LocalNat64, Err(b)) if b.class == C::LocalNat64 && b.via.is_none() => {}
                    (E::LocalNat64, other) => {
                        wrong.push(format!("{ip}: expected refused, {other:?}"))
                    }
                    (_, Ok(())) => {}
                    (_, Err(b)) => wrong.push(format!("{net} {ip}: public IPv4 refused: {b}")),
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The rows are exactly the tables' entries, so an entry added without a row fails.
    let mut from_rows: Vec<IpNet> = rows.iter().map(|(net, _)| *net).collect();
    let mut from_tables: Vec<IpNet> = all().map(|entry| entry.net).collect();
    from_rows.sort();
    from_tables.sort();
    assert_eq!(from_rows, from_tables);
    // The registries as of 2025-10-09: 26 IPv4 entries, 25 IPv6 entries.
    assert_eq!((IPV4_REGISTRY.len(), IPV6_REGISTRY.len()), (26, 25));
}

#[test]
fn no_entry_that_is_not_globally_reachable_is_allowed() {
    for entry in all() {
        if entry.reachable == Reachable::No {
            assert_ne!(entry.verdict, Verdict::Allow, "{}", entry.net);
        }
    }
}

/// What the guard refused an address as, if it did.
type Refusal = Option<(C, Option<E>)>;

#[test]
fn edges_of_the_ranges() {
    let refused = |s: &str| {
        judged(s.parse().expect("IP"))
            .err()
            .map(|b| (b.class, b.via))
    };
    let cases: &[(&str, Refusal)] = &[
        ("9.255.255.255", None),
        ("11.0.0.0", None),
        ("100.63.255.255", None),
        ("100.128.0.0", None),
        ("169.253.255.255", None),
        ("172.15.255.255", None),
        ("172.32.0.0", None),
        ("192.0.1.0", None),
        ("192.31.195.255", None),
        ("192.88.98.255", None),
        ("192.167.255.255", None),
        ("192.169.0.0", None),
        ("198.17.255.255", None),
        ("198.20.0.0", None),
        ("223.255.255.255", None),
        ("8.8.8.8", None),
        ("192.0.0.11", Some((C::ProtocolAssignment, None))),
        ("192.88.99.1", Some((C::SixToFourRelay, None))),
        ("2606:4700:4700::1111", None),
        ("2a00:1450:4001::200e", None),
        ("2001:200::1", None),
        ("1fff:ffff::1", Some((C::Reserved, None))),
        ("4000::1", Some((C::Reserved, None))),
        ("::1:0:0:1", Some((C::Reserved, None))),
        ("fe00::1", Some((C::Reserved, None))),
        ("febf::1", Some((C::LinkLocal, None))),
        ("fdff::1", Some((C::UniqueLocal, None))),
        // 3fff::/20 is documentation; the rest of 3ff0::/12 is ordinary global unicast.
        ("3fff:fff:ffff::1", Some((C::Documentation, None))),
        ("3fff:1000::1", None),
        ("3ffe::1", None),
        ("3ff0::1", None),
        ("2001:1::4", Some((C::ProtocolAssignment, None))),
        ("64:ff9b:0:1::1", Some((C::Reserved, None))),
        // Forms whose embedded IPv4 is refused, the example first.
        ("::ffff:0:7f00:1", Some((C::Loopback, Some(E::Translated)))),
        ("::ffff:127.0.0.1", Some((C::Loopback, None))),
        ("2002:a9fe:a9fe::", Some((C::LinkLocal, Some(E::SixToFour)))),
        ("2001:0:a00:1::", Some((C::Private, Some(E::Teredo)))),
        (
            "2001:0:4136:e378:8000:63bf:3f57:fefe",
            Some((C::Private, Some(E::Teredo))),
        ),
        ("64:ff9b::c0a8:1", Some((C::Private, Some(E::Nat64)))),
        ("::0.0.0.2", Some((C::Unspecified, Some(E::Compatible)))),
    ];
    for (ip, expected) in cases {
        assert_eq!(refused(ip), *expected, "{ip}");
    }
}
