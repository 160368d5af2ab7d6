//! Sending an attempt's signed outbound message to its destination's target: an HTTP
//! endpoint, a connected agent or an in-process handler, within the destination's timeouts.

use std::time::Duration;

use crate::control::agent::DeliverFrame;
use crate::deliver::destination::{Destination, EventHandler, Message, Target};
use crate::model::event::{Delivery, Event};
use crate::model::secret::Secret;
use crate::relay::Relay;
use crate::transform::Transformed;
use crate::unwind::{self, CatchUnwind};

use super::http::Timeouts;
use super::judge::Attempted;

impl Relay {
    /// Sends attempt `number` of `delivery` (its `outbound` message) to `destination`'s
    /// target, and reads the answer.
    pub(super) async fn send(
        &self,
        destination: &Destination,
        outbound: Transformed,
        delivery: &Delivery,
        event: &Event,
        number: u32,
    ) -> Attempted {
        let timeouts = destination.timeouts();
        match destination.target() {
            Target::Http { url, auth_header } => {
                self.send_http(url, auth_header.as_ref(), outbound, timeouts)
                    .await
            }
            Target::Agent {
                agent,
                allow_targets,
            } => {
                let frame = agent_frame(&outbound, delivery, event, number, timeouts.total);
                let agent = self.held_agent(agent);
                let sent = (self.agent_hub()).deliver(&agent, allow_targets, frame, timeouts.total);
                Attempted::of_agent(sent.await)
            }
            Target::Handler(handler) => {
                let message = handler_message(outbound, delivery, event, number);
                send_to_handler(handler.as_ref(), message, timeouts.total).await
            }
        }
    }

    /// POSTs `outbound` to `url` (with the destination's `Authorization`, if it has one).
    async fn send_http(
        &self,
        url: &reqwest::Url,
        auth_header: Option<&Secret>,
        outbound: Transformed,
        timeouts: Timeouts,
    ) -> Attempted {
        let Transformed { body, mut headers } = outbound;
        if let Some(auth) = auth_header
            && let Ok(mut value) = http::HeaderValue::from_str(auth.expose())
        {
            value.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, value);
        }
        Attempted::of_http(self.transport().post(url, headers, body, timeouts).await)
    }
}

/// The frame that hands attempt `number` of `delivery` to an agent (the hub sets its `id` and
/// `target`).
fn agent_frame(
    outbound: &Transformed,
    delivery: &Delivery,
    event: &Event,
    number: u32,
    timeout: Duration,
) -> DeliverFrame {
    DeliverFrame {
        id: 0,
        delivery_id: delivery.id.to_string(),
        destination: delivery.destination.clone(),
        event_type: event.event_type.clone(),
        attempt: number,
        target: String::new(),
        headers: DeliverFrame::encode_headers(&outbound.headers),
        body: DeliverFrame::encode_body(&outbound.body),
        timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
    }
}

/// The message that hands attempt `number` of `delivery` to an in-process handler.
fn handler_message(
    outbound: Transformed,
    delivery: &Delivery,
    event: &Event,
    number: u32,
) -> Message {
    Message {
        delivery_id: delivery.id,
        event_id: event.id,
        source: event.source.clone(),
        event_type: event.event_type.clone(),
        attempt: number,
        body: outbound.body,
        headers: outbound.headers,
    }
}

/// Calls an in-process handler with `message`, giving it at most `timeout`. A panic, while
/// the handler is called or while its future runs, fails this attempt only.
async fn send_to_handler(
    handler: &dyn EventHandler,
    message: Message,
    timeout: Duration,
) -> Attempted {
    let handled = match unwind::catch(|| handler.handle(message)) {
        Ok(future) => tokio::time::timeout(timeout, CatchUnwind::new(future)).await,
        Err(panic) => Ok(Err(panic)),
    };
    Attempted::of_handler(handled, timeout)
}
