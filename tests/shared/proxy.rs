//! A TCP proxy for tests that cut a connection on purpose. Shared by the test crates.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy on a local port that can be cut (listener closed, every connection
/// dropped) and restored on the same port.
pub struct Proxy {
    /// Where the proxy listens.
    pub address: SocketAddr,
    target: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// A proxy to `target` (`host:port`), listening now.
    pub async fn start(target: String) -> Self {
        let proxy = Self::stopped(target).await;
        proxy.restore().await;
        proxy
    }

    /// A proxy to `target` on a free port, not listening until [`Proxy::restore`].
    pub async fn stopped(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self { address: listener.local_addr().unwrap(), target, tasks: Arc::default() }
    }

    fn serve(&self, listener: TcpListener) {
        let (target, tasks) = (self.target.clone(), Arc::clone(&self.tasks));
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                let forward = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(forward);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Closes the listener and drops every connection; done when this returns.
    pub async fn cut(&self) {
        let tasks: Vec<_> = self.tasks.lock().unwrap().drain(..).collect();
        for task in tasks {
            task.abort();
            // An aborted task is finished (its sockets closed) once awaited.
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(self.address).await.expect("the proxy's port is free again");
        self.serve(listener);
    }
}
