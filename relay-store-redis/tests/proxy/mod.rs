//! A TCP proxy in front of the test's Redis server that the test can take down (every
//! connection cut, the port refusing), black-hole (connections accepted, nothing answered)
//! and bring back on the same port: Redis "down" for one client without stopping the server
//! the other tests share.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A proxy to `upstream` on a fixed loopback port.
pub struct Proxy {
    upstream: SocketAddr,
    address: SocketAddr,
    tasks: JoinSet<()>,
}

impl Proxy {
    /// Proxies a free loopback port to the Redis server of `redis_url` (`redis://host:port`).
    pub async fn start(redis_url: &str) -> Self {
        let upstream = redis_url
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut proxy = Self {
            upstream,
            address,
            tasks: JoinSet::new(),
        };
        proxy.serve(listener);
        proxy
    }

    /// The URL clients connect to.
    pub fn url(&self) -> String {
        format!("redis://{}", self.address)
    }

    /// Cuts every connection and stops listening: connections are refused.
    pub async fn stop(&mut self) {
        self.tasks.shutdown().await;
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        let listener = TcpListener::bind(self.address).await.unwrap();
        self.serve(listener);
    }

    /// Listens again on the same port, accepting connections and never answering.
    pub async fn black_hole(&mut self) {
        let listener = TcpListener::bind(self.address).await.unwrap();
        self.tasks.spawn(async move {
            let mut held = Vec::new();
            while let Ok((client, _)) = listener.accept().await {
                held.push(client);
            }
        });
    }

    fn serve(&mut self, listener: TcpListener) {
        let upstream = self.upstream;
        let (spawn, mut connections) = tokio::sync::mpsc::unbounded_channel::<TcpStream>();
        self.tasks.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if spawn.send(client).is_err() {
                    return;
                }
            }
        });
        // Connections are piped by tasks of the same set, so `stop` cuts them too.
        let mut pipes = JoinSet::new();
        self.tasks.spawn(async move {
            while let Some(mut client) = connections.recv().await {
                pipes.spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
            }
        });
    }
}
