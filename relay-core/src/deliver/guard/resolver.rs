//! A DNS resolver for the outbound client that drops refused addresses from every answer.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::AddressGuard;

/// A name resolved to no address at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} resolved to no address")]
pub(super) struct NoAddress(pub String);

/// Resolves names for outbound deliveries (pinned entries first, `localhost` names to
/// loopback as RFC 6761 has it, then the system's DNS) and keeps
/// only the addresses its [`AddressGuard`] allows. When none is left, resolution fails with
/// the [`BlockedAddress`](super::BlockedAddress) of the first refused one, so the attempt is
/// recorded as `blocked_address`. Because the check runs on the addresses actually connected
/// to, a name that resolves to a public address when saved and to a private one later (DNS
/// rebinding) is still refused.
///
/// ```
/// use std::sync::Arc;
/// use relay_core::deliver::guard::{AddressGuard, GuardedResolver};
/// let resolver = GuardedResolver::new(AddressGuard::new())
///     .pin("internal.example", ["10.1.2.3".parse().unwrap()]);
/// let client = relay_core::tls::client_builder().dns_resolver(Arc::new(resolver)).build().unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    guard: Arc<AddressGuard>,
    pinned: Arc<HashMap<String, Vec<IpAddr>>>,
}

impl GuardedResolver {
    /// A resolver using the system's DNS, filtered by `guard`.
    pub fn new(guard: AddressGuard) -> Self {
        Self {
            guard: Arc::new(guard),
            pinned: Arc::new(HashMap::new()),
        }
    }

    /// Answers `name` with `addrs` instead of asking DNS (like `curl --resolve`); the guard
    /// still applies to them.
    pub fn pin(mut self, name: &str, addrs: impl IntoIterator<Item = IpAddr>) -> Self {
        Arc::make_mut(&mut self.pinned).insert(normalize(name), addrs.into_iter().collect());
        self
    }

    /// The guard applied.
    pub fn guard(&self) -> &AddressGuard {
        &self.guard
    }

    /// Resolves `host` and keeps the allowed addresses.
    pub async fn lookup(
        &self,
        host: &str,
    ) -> Result<Vec<IpAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let name = normalize(host);
        let found: Vec<IpAddr> = match self.pinned.get(&name) {
            Some(addrs) => addrs.clone(),
            // RFC 6761: `localhost` names are loopback, whatever a DNS server says.
            None if is_localhost(&name) => {
                vec![
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    IpAddr::V6(Ipv6Addr::LOCALHOST),
                ]
            }
            None => tokio::net::lookup_host((host, 0))
                .await?
                .map(|addr| addr.ip())
                .collect(),
        };
        let mut refused = None;
        let allowed: Vec<IpAddr> = found
            .iter()
            .copied()
            .filter(|ip| match self.guard.check_ip(*ip) {
                Ok(()) => true,
                Err(blocked) => {
                    refused.get_or_insert(blocked);
                    false
                }
            })
            .collect();
        match (allowed.is_empty(), refused) {
            (false, _) => Ok(allowed),
            (true, Some(mut blocked)) => {
                blocked.host = format!("{host} ({})", blocked.host);
                Err(Box::new(blocked))
            }
            (true, None) => Err(Box::new(NoAddress(host.to_owned()))),
        }
    }
}

fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// `localhost` or a name under it (already [`normalize`]d).
pub(super) fn is_localhost(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolver.lookup(&host).await?;
            let addrs: Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliver::guard::{AddressClass, BlockedAddress};

    #[tokio::test]
    async fn pinned_names_are_filtered_and_refusals_are_typed() {
        let resolver = GuardedResolver::new(AddressGuard::new())
            .pin(
                "mixed.test",
                [
                    "10.0.0.1".parse().unwrap(),
                    "93.184.216.34".parse().unwrap(),
                ],
            )
            .pin("Private.Test.", ["192.168.0.10".parse().unwrap()]);
        assert_eq!(
            resolver.lookup("mixed.test").await.unwrap(),
            ["93.184.216.34".parse::<IpAddr>().unwrap()]
        );
        let error = resolver.lookup("private.test.").await.unwrap_err();
        let blocked = error.downcast_ref::<BlockedAddress>().unwrap();
        assert_eq!(blocked.class, AddressClass::Private);
        assert!(
            blocked.host.starts_with("private.test."),
            "{}",
            blocked.host
        );
    }

    #[tokio::test]
    async fn localhost_resolves_to_loopback_and_is_refused() {
        let resolver = GuardedResolver::new(AddressGuard::new());
        let error = resolver.lookup("localhost").await.unwrap_err();
        let blocked = error.downcast_ref::<BlockedAddress>().unwrap();
        assert_eq!(blocked.class, AddressClass::Loopback);
        let allowed = GuardedResolver::new(
            AddressGuard::new()
                .allow("127.0.0.0/8".parse().unwrap())
                .allow("::1/128".parse().unwrap()),
        );
        assert!(!allowed.lookup("localhost").await.unwrap().is_empty());
    }
}
