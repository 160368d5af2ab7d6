//! The SSRF guard: outbound deliveries only reach public addresses.
//!
//! A webhook gateway sends requests to URLs that its users type in, so without a guard anyone
//! who can add a destination can make Relay call `http://169.254.169.254/` (a cloud metadata
//! service), `http://localhost:6379/` or anything else on the gateway's private network.
//! [`AddressGuard`] refuses every address that is not public unicast: every entry of IANA's
//! IPv4 and IPv6 special-purpose address registries that is not globally reachable (unspecified,
//! loopback, private, carrier-grade NAT, link-local, unique-local, documentation, benchmarking,
//! discard, dummy, reserved, …; the [`registry`] module lists them all, one `ipnet` constant
//! each), multicast, site-local, IPv6 outside `2000::/3`, the service anycast addresses (PCP,
//! TURN, SRP) and the IPv6 forms that embed a refused IPv4 address: IPv4-mapped,
//! IPv4-translated (`::ffff:0:0:0/96`), IPv4-compatible, NAT64 (`64:ff9b::/96`; the local-use
//! `64:ff9b:1::/48` is refused whatever it embeds), 6to4 and Teredo (its server and its
//! obfuscated client address), each checked on the IPv4 address it carries.
//!
//! It is applied twice:
//! - when a destination is saved ([`AddressGuard::check_url`]): literal addresses in any
//!   spelling the URL parser accepts (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`,
//!   `[::ffff:7f00:1]`, a trailing dot, userinfo before the host) and `localhost` names;
//! - when a delivery connects: literal hosts again, and every name through [`GuardedResolver`],
//!   which drops refused addresses from each DNS answer, so a name that resolves to a private
//!   address later (DNS rebinding) is still refused at the moment of connecting.
//!
//! The only exceptions are the networks given to [`AddressGuard::allow`] (configured as
//! `[delivery] allow_cidrs`, or [`RelayBuilder::allow_cidrs`](crate::RelayBuilder::allow_cidrs)).
//!
//! ```
//! use relay_core::deliver::guard::AddressGuard;
//! let guard = AddressGuard::new();
//! let url = |s: &str| reqwest::Url::parse(s).unwrap();
//! assert!(guard.check_url(&url("https://hooks.example.com/in")).is_ok());
//! for refused in ["http://127.1/", "http://2130706433/", "http://[::ffff:169.254.169.254]/",
//!                 "http://user@10.0.0.1:8080/", "http://localhost./", "http://[::ffff:0:7f00:1]/"] {
//!     assert!(guard.check_url(&url(refused)).is_err(), "{refused}");
//! }
//! let local = AddressGuard::new().allow("127.0.0.0/8".parse().unwrap());
//! assert!(local.check_url(&url("http://127.0.0.1:9000/hook")).is_ok());
//! ```

mod class;
mod ranges;
pub mod registry;
mod resolver;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use ipnet::IpNet;

pub use class::{AddressClass, Embedding};
pub use ranges::{canonical, classify_v4, classify_v6, embedded_v4};
pub use resolver::GuardedResolver;

#[cfg(test)]
mod proptests;

/// A refused destination address, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Describe(self))]
pub struct BlockedAddress {
    /// The host as written or resolved (`localhost`, `127.0.0.1`, `[::ffff:a00:1]`).
    pub host: String,
    /// The class of the refused address.
    pub class: AddressClass,
    /// The IPv6 form that embedded the refused IPv4 address, if that is how it was found.
    pub via: Option<Embedding>,
    /// How to allow it, named in the message ([`AddressGuard::hint`]).
    pub allow_with: &'static str,
}

struct Describe<'a>(&'a BlockedAddress);

impl fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        match b.via {
            None => write!(f, "{} is a {} address", b.host, b.class)?,
            Some(via) => write!(f, "{} embeds a {} IPv4 address ({via})", b.host, b.class)?,
        }
        write!(
            f,
            " (refused by the SSRF guard; allow it with {})",
            b.allow_with
        )
    }
}

/// A value that is not a CIDR network or an IP address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a CIDR network (like 127.0.0.0/8) or an IP address")]
pub struct InvalidCidr {
    /// The value as given.
    pub value: String,
}

/// Parses `10.0.0.0/8`, `fd00::/8` or a single address (`192.168.1.10` means `/32`).
///
/// ```
/// let net = relay_core::deliver::guard::parse_cidr("127.0.0.1").unwrap();
/// assert_eq!(net.to_string(), "127.0.0.1/32");
/// assert!(relay_core::deliver::guard::parse_cidr("127.0.0.0/33").is_err());
/// ```
pub fn parse_cidr(value: &str) -> Result<IpNet, InvalidCidr> {
    let trimmed = value.trim();
    trimmed
        .parse::<IpNet>()
        .or_else(|_| trimmed.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| InvalidCidr {
            value: value.to_owned(),
        })
}

/// Decides which destination addresses may be connected to: public unicast addresses, and
/// addresses inside the allowed networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressGuard {
    allowed: Vec<IpNet>,
    hint: &'static str,
}

impl Default for AddressGuard {
    fn default() -> Self {
        Self {
            allowed: Vec::new(),
            hint: "RelayBuilder::allow_cidrs",
        }
    }
}

impl AddressGuard {
    /// A guard refusing every non-public address.
    pub fn new() -> Self {
        Self::default()
    }

    /// How a refusal says to allow an address (default `RelayBuilder::allow_cidrs`, what an
    /// embedding app calls; the relay binary names its `delivery.allow_cidrs`).
    ///
    /// ```
    /// use relay_core::deliver::guard::AddressGuard;
    /// let loopback = "127.0.0.1".parse().unwrap();
    /// let refused = AddressGuard::new().check_ip(loopback).unwrap_err();
    /// assert!(refused.to_string().ends_with("allow it with RelayBuilder::allow_cidrs)"));
    /// let refused = AddressGuard::new().hint("delivery.allow_cidrs").check_ip(loopback);
    /// assert!(refused.unwrap_err().to_string().ends_with("allow it with delivery.allow_cidrs)"));
    /// ```
    pub fn hint(mut self, allow_with: &'static str) -> Self {
        self.hint = allow_with;
        self
    }

    /// Also allows addresses in `net` (e.g. `127.0.0.0/8` for receivers on this machine).
    pub fn allow(mut self, net: IpNet) -> Self {
        self.allowed.push(net.trunc());
        self
    }

    /// Also allows every network in `nets`.
    pub fn allow_all(self, nets: impl IntoIterator<Item = IpNet>) -> Self {
        nets.into_iter().fold(self, Self::allow)
    }

    /// The allowed networks.
    pub fn allowed(&self) -> &[IpNet] {
        &self.allowed
    }

    fn is_allowed(&self, ip: IpAddr) -> bool {
        self.allowed.iter().any(|net| net.contains(&ip))
    }

    /// Whether `ip` may be connected to.
    ///
    /// ```
    /// use relay_core::deliver::guard::{AddressClass, AddressGuard, Embedding};
    /// let guard = AddressGuard::new();
    /// assert!(guard.check_ip("93.184.216.34".parse().unwrap()).is_ok());
    /// let refused = guard.check_ip("64:ff9b::7f00:1".parse().unwrap()).unwrap_err();
    /// assert_eq!((refused.class, refused.via), (AddressClass::Loopback, Some(Embedding::Nat64)));
    /// ```
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), BlockedAddress> {
        let host = match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        let ip = canonical(ip);
        if self.is_allowed(ip) {
            return Ok(());
        }
        let blocked = |class, via| BlockedAddress {
            host: host.clone(),
            class,
            via,
            allow_with: self.hint,
        };
        match ip {
            IpAddr::V4(v4) => match classify_v4(v4) {
                Some(class) => Err(blocked(class, None)),
                None => Ok(()),
            },
            IpAddr::V6(v6) => {
                for (via, v4) in embedded_v4(v6) {
                    if let Some(class) = classify_v4(v4) {
                        return Err(blocked(class, Some(via)));
                    }
                }
                match classify_v6(v6) {
                    Some(class) => Err(blocked(class, None)),
                    None => Ok(()),
                }
            }
        }
    }

    /// The save-time check of a destination URL: a literal address must be allowed, and
    /// `localhost` names (`localhost`, `*.localhost`, with or without a trailing dot) count as
    /// loopback. Other names are checked when they are resolved, at connect time.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), BlockedAddress> {
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)),
            Some(url::Host::Domain(name)) => self.check_name(name),
            None => Ok(()),
        }
    }

    fn check_name(&self, name: &str) -> Result<(), BlockedAddress> {
        let bare = name.trim_end_matches('.').to_ascii_lowercase();
        let local = resolver::is_localhost(&bare);
        let loopback_allowed = self.is_allowed(IpAddr::V4(Ipv4Addr::LOCALHOST))
            || self.is_allowed(IpAddr::V6(Ipv6Addr::LOCALHOST));
        if local && !loopback_allowed {
            return Err(BlockedAddress {
                host: name.to_owned(),
                class: AddressClass::Loopback,
                via: None,
                allow_with: self.hint,
            });
        }
        Ok(())
    }
}
