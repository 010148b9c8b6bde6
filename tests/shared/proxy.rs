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

    /// Closes the listener and drops every connection.
    pub fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn restore(&self) {
        // The aborted listener is dropped when its task is next polled; retry until free.
        for _ in 0..100 {
            if let Ok(listener) = TcpListener::bind(self.address).await {
                return self.serve(listener);
            }
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("could not listen on {} again", self.address);
    }
}
