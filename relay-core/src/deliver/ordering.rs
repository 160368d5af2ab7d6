//! Ordered delivery: deliveries with the same ordering key to the same destination are
//! attempted one at a time, in ingest order.
//!
//! A route or a destination may name an [`OrderingKey`]: a header or a JSONPath read from
//! each event (e.g. `$.customer.id`). The value read is stored on the delivery, and the store
//! leases a delivery only when it is the head of its lane (same tenant, destination and key):
//! no delivery of the lane created before it is pending or in flight, and none of the lane is
//! in flight under an unexpired lease. Because the rule is evaluated by the store's lease
//! query, it holds across worker restarts and, on PostgreSQL, across nodes.
//!
//! A dead-lettered head either lets the lane go on ([`OnDeadLetter::Skip`], the default) or
//! holds it until it is redriven and delivered ([`OnDeadLetter::Block`]). An event the key
//! reads nothing from is delivered unordered. Events ingested concurrently (neither
//! acknowledged before the other was sent) have no defined order between them.

use std::fmt;
use std::str::FromStr;

use http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ingest::selector::{Selector, SelectorError};

/// What a dead-lettered delivery does to the deliveries queued behind it on its key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OnDeadLetter {
    /// The lane goes on with the next delivery. A redriven dead letter takes its place in
    /// the lane again: it goes before the deliveries created after it that are still queued.
    #[default]
    Skip,
    /// The lane waits until the dead letter is redriven and delivered (or pruned).
    Block,
}

impl OnDeadLetter {
    /// `skip` or `block`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Skip => "skip",
            Self::Block => "block",
        }
    }
}

impl FromStr for OnDeadLetter {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "skip" => Ok(Self::Skip),
            "block" => Ok(Self::Block),
            other => Err(format!("{other:?} is neither \"skip\" nor \"block\"")),
        }
    }
}

/// The ordering of one delivery, as stored with it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderedBy {
    /// The key's value read from the event.
    pub key: String,
    /// What a dead letter of this delivery does to its lane.
    pub on_dead_letter: OnDeadLetter,
}

/// Where a route's or destination's ordering key is read from, and what a dead letter does.
///
/// ```
/// use relay_core::deliver::ordering::{OnDeadLetter, OrderingKey};
/// let key: OrderingKey = "$.customer.id".parse().unwrap();
/// let key = key.on_dead_letter(OnDeadLetter::Block);
/// let doc = serde_json::json!({"customer": {"id": "cus_1"}});
/// let ordered = key.read(&http::HeaderMap::new(), Some(&doc)).unwrap();
/// assert_eq!((ordered.key.as_str(), ordered.on_dead_letter), ("cus_1", OnDeadLetter::Block));
/// assert!(key.read(&http::HeaderMap::new(), None).is_none());
/// ```
#[derive(Clone, PartialEq)]
pub struct OrderingKey {
    selector: Selector,
    on_dead_letter: OnDeadLetter,
}

impl OrderingKey {
    /// Keys read by `selector`; dead letters skip.
    pub fn new(selector: Selector) -> Self {
        Self {
            selector,
            on_dead_letter: OnDeadLetter::Skip,
        }
    }

    /// What a dead letter does to the deliveries behind it.
    pub fn on_dead_letter(mut self, on_dead_letter: OnDeadLetter) -> Self {
        self.on_dead_letter = on_dead_letter;
        self
    }

    /// The selector.
    pub fn selector(&self) -> &Selector {
        &self.selector
    }

    /// The dead-letter behaviour.
    pub fn dead_letter_behaviour(&self) -> OnDeadLetter {
        self.on_dead_letter
    }

    /// The ordering of an event with these headers and payload; `None` when the key reads
    /// nothing (the delivery is then unordered).
    pub fn read(&self, headers: &HeaderMap, json: Option<&Value>) -> Option<OrderedBy> {
        self.selector.read(headers, json).map(|key| OrderedBy {
            key,
            on_dead_letter: self.on_dead_letter,
        })
    }
}

impl FromStr for OrderingKey {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self::new)
    }
}

impl fmt::Debug for OrderingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OrderingKey({:?}, on_dead_letter = {})",
            self.selector,
            self.on_dead_letter.as_str()
        )
    }
}
