//! `/hi` waits without blocking; `/hi/blocking` blocks a threadpool thread, not a worker.

use crate::support::*;
use actix_web::http::StatusCode;
use serde_json::json;
use std::time::Duration;

#[actix_web::test]
async fn hi_answers_the_greeting() {
    let Some(app) = TestApp::spawn_default().await else { return };
    for uri in ["/hi", "/hi/blocking"] {
        let reply = app.get(uri).await;
        assert_eq!((reply.status, reply.body), (StatusCode::OK, json!("Hello? World?")), "{uri}");
    }
}

/// A thousand concurrent greetings take one delay, not a thousand. Measured on tokio's
/// paused clock, which moves only when every task waits: deterministic, not wall time.
#[actix_web::test]
async fn a_thousand_concurrent_greetings_take_one_delay() {
    let delay = Duration::from_secs(1);
    let with_delay = |config: &mut app::config::Config| config.http.hi_delay = delay;
    let Some(app) = TestApp::spawn_with(Backend::default(), default_kind(), with_delay).await else { return };
    tokio::time::pause();
    let start = tokio::time::Instant::now();
    let replies = futures::future::join_all((0..1000).map(|_| app.get("/hi"))).await;
    let waited = start.elapsed();
    tokio::time::resume();
    assert!(replies.iter().all(|r| r.status == StatusCode::OK));
    assert!(waited >= delay, "each waited its delay: {waited:?}");
    assert!(waited < delay * 2, "they waited together, not in turn: {waited:?}");
}

/// While blocking greetings occupy the threadpool, an async greeting still answers at
/// once: it completes before any of the blocking ones, which all started first.
#[actix_web::test]
async fn blocking_work_does_not_stall_async_requests() {
    let slow = |config: &mut app::config::Config| config.http.hi_delay = Duration::from_secs(2);
    let Some(app) = TestApp::spawn_with(Backend::default(), default_kind(), slow).await else { return };
    let fast_app = app.variant(|http| http.hi_delay = Duration::ZERO).await;
    let slow_app = std::rc::Rc::new(app);

    let blocking: Vec<_> = (0..8)
        .map(|_| {
            let app = std::rc::Rc::clone(&slow_app);
            actix_web::rt::spawn(async move { app.get("/hi/blocking").await.status })
        })
        .collect();
    // Let every blocking request reach the threadpool first.
    actix_web::rt::task::yield_now().await;

    let quick = send(&fast_app, get("/hi")).await;
    assert_eq!(quick.status, StatusCode::OK);
    let still_blocked = blocking.iter().filter(|task| !task.is_finished()).count();
    assert_eq!(still_blocked, blocking.len(), "the async greeting answered while all blocking ones still slept");
    // Orders on the diesel threadpool are served meanwhile too.
    let listing = send(&fast_app, get("/orders")).await;
    assert_eq!(listing.status, StatusCode::OK);

    for task in blocking {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
}
