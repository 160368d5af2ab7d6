//! Property: every IPv6 form that embeds a private (or otherwise refused) IPv4 address is
//! refused, at save time and at connect time, whatever the other bits of the form hold.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::{AddressClass, AddressGuard};

/// Refused IPv4 ranges as (first address, prefix length, class).
const REFUSED: &[([u8; 4], u8, AddressClass)] = &[
    ([10, 0, 0, 0], 8, AddressClass::Private),
    ([172, 16, 0, 0], 12, AddressClass::Private),
    ([192, 168, 0, 0], 16, AddressClass::Private),
    ([127, 0, 0, 0], 8, AddressClass::Loopback),
    ([169, 254, 0, 0], 16, AddressClass::LinkLocal),
    ([100, 64, 0, 0], 10, AddressClass::SharedCgnat),
];

fn refused_v4() -> impl Strategy<Value = (Ipv4Addr, AddressClass)> {
    (0..REFUSED.len(), any::<u32>()).prop_map(|(i, host)| {
        let (base, len, class) = REFUSED[i];
        let mask = u32::MAX >> len;
        (
            Ipv4Addr::from(u32::from_be_bytes(base) | (host & mask)),
            class,
        )
    })
}

/// The forms, by number: mapped, translated, compatible, NAT64, local NAT64, 6to4, Teredo
/// server, Teredo client (obfuscated).
fn embed(form: u8, v4: Ipv4Addr, noise: [u16; 6]) -> Ipv6Addr {
    let [a, b, c, d] = v4.octets();
    let (hi, lo) = (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
    let n = noise;
    match form {
        0 => Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, hi, lo),
        1 => Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, hi, lo),
        2 => Ipv6Addr::new(0, 0, 0, 0, 0, 0, hi, lo),
        3 => Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, hi, lo),
        4 => Ipv6Addr::new(0x64, 0xff9b, 1, n[0], n[1], n[2], hi, lo),
        5 => Ipv6Addr::new(0x2002, hi, lo, n[0], n[1], n[2], n[3], n[4]),
        6 => Ipv6Addr::new(0x2001, 0, hi, lo, n[0], n[1], n[2], n[3]),
        _ => Ipv6Addr::new(0x2001, 0, n[0], n[1], n[2], n[3], !hi, !lo),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn embedded_private_ipv4_is_refused(
        (v4, class) in refused_v4(),
        form in 0u8..8,
        noise in any::<[u16; 6]>(),
    ) {
        let ip = embed(form, v4, noise);
        let guard = AddressGuard::new();
        let at_connect = guard.check_ip(IpAddr::V6(ip));
        let url = reqwest::Url::parse(&format!("http://[{ip}]/")).expect("URL");
        let at_save = guard.check_url(&url);
        prop_assert!(at_connect.is_err(), "{ip} ({v4}) allowed at connect");
        prop_assert!(at_save.is_err(), "{ip} ({v4}) allowed at save");
        // Forms with nothing else to judge report the embedded address's class.
        if matches!(form, 0 | 1 | 3) {
            prop_assert_eq!(at_connect.map_err(|b| b.class), Err(class), "{}", ip);
        }
    }
}
