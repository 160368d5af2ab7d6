//! Lockout per client address: [`LOCK_CLIENT_AFTER_FAILURES`] failed logins from one address
//! (whatever the usernames) within [`LOCK_FOR`] lock that address out for [`LOCK_FOR`], beside
//! the lockout of each username. Kept in the memory of
//! each node (bounded: idle addresses are swept out).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use std::time::Duration;

use crate::model::time::Timestamp;

/// How long a locked username, or client address, stays locked (and, for an address, the
/// window its failures are counted in).
pub const LOCK_FOR: Duration = Duration::from_secs(3600);

/// Failed logins from one client address, within [`LOCK_FOR`] of each other, that lock the
/// address.
pub const LOCK_CLIENT_AFTER_FAILURES: u32 = 20;

/// Addresses tracked before idle ones are swept out.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Tally {
    failures: u32,
    last_failure: Timestamp,
    locked_until: Option<Timestamp>,
}

impl Tally {
    fn idle(&self, now: Timestamp) -> bool {
        self.locked_until.is_none_or(|until| until <= now)
            && self.last_failure.plus(LOCK_FOR) <= now
    }
}

/// The failed logins of each client address (see the module's documentation).
#[derive(Debug, Default)]
pub(crate) struct ClientLockouts {
    tallies: Mutex<HashMap<IpAddr, Tally>>,
}

impl ClientLockouts {
    fn tallies(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Tally>> {
        self.tallies.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Until when `client` is locked out, if it is at `now`.
    pub(crate) fn locked_until(&self, client: IpAddr, now: Timestamp) -> Option<Timestamp> {
        let tallies = self.tallies();
        (tallies.get(&client)?.locked_until).filter(|until| *until > now)
    }

    /// Counts a failed login from `client`; returns until when it is locked when this
    /// failure locked it.
    pub(crate) fn failed(&self, client: IpAddr, now: Timestamp) -> Option<Timestamp> {
        let mut tallies = self.tallies();
        if tallies.len() >= SWEEP_AT {
            tallies.retain(|_, tally| !tally.idle(now));
        }
        let tally = tallies.entry(client).or_insert(Tally {
            failures: 0,
            last_failure: now,
            locked_until: None,
        });
        if tally.idle(now) {
            tally.failures = 0;
            tally.locked_until = None;
        }
        tally.failures += 1;
        tally.last_failure = now;
        if tally.failures >= LOCK_CLIENT_AFTER_FAILURES && tally.locked_until.is_none() {
            let until = now.plus(LOCK_FOR);
            tally.locked_until = Some(until);
            return Some(until);
        }
        None
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.tallies().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_locked_after_its_failures_and_unlocked_after_the_lock() {
        let lockouts = ClientLockouts::default();
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let at = |ms: i64| Timestamp::from_millis(1_000_000 + ms);
        for i in 1..LOCK_CLIENT_AFTER_FAILURES {
            assert_eq!(lockouts.failed(a, at(i.into())), None);
        }
        let until = lockouts.failed(a, at(100)).expect("locked by this failure");
        assert_eq!(until, at(100).plus(LOCK_FOR));
        assert_eq!(lockouts.locked_until(a, at(101)), Some(until));
        assert_eq!(lockouts.locked_until(b, at(101)), None, "per address");
        assert_eq!(lockouts.failed(a, at(102)), None, "locked once");
        assert_eq!(lockouts.locked_until(a, until), None, "the lock ends");
        assert_eq!(lockouts.failed(a, until), None, "and the count starts over");
    }

    #[test]
    fn idle_addresses_are_swept() {
        let lockouts = ClientLockouts::default();
        for i in 0..SWEEP_AT as u32 {
            lockouts.failed(IpAddr::from(i.to_be_bytes()), Timestamp::from_millis(0));
        }
        let later = Timestamp::from_millis(0).plus(LOCK_FOR);
        lockouts.failed("192.0.2.9".parse().unwrap(), later);
        assert_eq!(lockouts.len(), 1);
    }
}
