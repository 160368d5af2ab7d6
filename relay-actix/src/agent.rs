//! The agent endpoint's socket plumbing: the checks and the session are
//! [`relay_admin::agent`]'s; actix-ws upgrades the connection and carries the frames.

use actix_web::dev::Payload;
use actix_web::web::Payload as WebPayload;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use actix_ws::{Message, MessageStream, Session};
use relay_admin::agent::{AgentSocket, Incoming, SocketError, admit, websocket_required};
use relay_core::Relay;

use crate::convert;
use crate::error::ConvertError;

/// Admits the agent, upgrades, and runs its session on the worker's runtime.
pub(crate) async fn connect(
    relay: Relay,
    request: &HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, ConvertError> {
    let headers = convert::request_headers(request.headers())?;
    let admitted = match admit(&relay, &headers).await {
        Ok(admitted) => admitted,
        Err(refusal) => return convert::reply(refusal),
    };
    let mut payload = payload;
    let Ok(payload) = WebPayload::from_request(request, &mut payload).await else {
        return convert::reply(websocket_required());
    };
    let Ok((response, session, stream)) = actix_ws::handle(request, payload) else {
        return convert::reply(websocket_required());
    };
    actix_web::rt::spawn(relay_admin::agent::serve(
        relay,
        admitted,
        Socket { session, stream },
    ));
    Ok(response)
}

/// actix-ws's session and stream as an [`AgentSocket`].
struct Socket {
    session: Session,
    stream: MessageStream,
}

impl AgentSocket for Socket {
    async fn send_text(&mut self, text: String) -> Result<(), SocketError> {
        self.session.text(text).await.map_err(|_| SocketError)
    }

    async fn send_ping(&mut self) -> Result<(), SocketError> {
        self.session.ping(b"").await.map_err(|_| SocketError)
    }

    async fn close(&mut self) {
        let _ = self.session.clone().close(None).await;
    }

    async fn recv(&mut self) -> Option<Result<Incoming, SocketError>> {
        Some(match self.stream.recv().await? {
            Ok(Message::Text(text)) => Ok(Incoming::Text(text.to_string())),
            Ok(Message::Close(_)) => Ok(Incoming::Close),
            Ok(Message::Ping(bytes)) => {
                let _ = self.session.pong(&bytes).await;
                Ok(Incoming::Other)
            }
            Ok(_) => Ok(Incoming::Other),
            Err(_) => Err(SocketError),
        })
    }
}
