//! Bearer tokens from an identity provider: only an order's owner sees or touches it,
//! and every token that is not valid is refused without revealing or changing anything.

use crate::provider::{IdentityProvider, TestKey, claims, token, token_with_kid};
use crate::support::*;
use actix_http::Request;
use actix_web::http::{StatusCode, header};
use app_data::rstest_reuse::apply;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rstest::rstest;
use serde_json::json;
use std::time::Duration;

/// An app that requires tokens from `provider`, fetching its keys at most once per `refresh`.
async fn app_for(provider: &IdentityProvider, refresh: Duration, backend: Backend, target: Target) -> Option<TestApp> {
    let auth = provider.settings(refresh);
    TestApp::spawn_with(backend, target, move |config| config.http.auth = auth).await
}

/// Every orders operation, on order `id`, as requests.
fn every_operation(id: &str) -> Vec<(String, Request)> {
    let order = format!("/orders/{id}");
    vec![
        ("list".into(), get("/orders")),
        ("place".into(), post_json("/orders", &latte())),
        ("get".into(), get(&order)),
        ("update".into(), put_json(&order, &json!({"order": [{"product": "mocha", "size": "small"}]}))),
        ("pay".into(), post(&format!("{order}/pay"))),
        ("cancel".into(), post(&format!("{order}/cancel"))),
        ("delete".into(), delete(&order)),
    ]
}

#[apply(all_backends)]
#[actix_web::test]
async fn an_order_is_its_owners_alone(backend: Backend, target: Target) {
    let provider = IdentityProvider::start(&[TestKey::Rsa1, TestKey::Ec1]).await;
    let Some(app) = app_for(&provider, Duration::from_secs(60), backend, target).await else { return };
    // Alice signs in with an RSA key, Bob with an EC key: both algorithms are accepted.
    let (alice, bob) = (token(TestKey::Rsa1, &claims("alice")), token(TestKey::Ec1, &claims("bob")));
    let placed = app.send(bearer(post_json("/orders", &latte()), &alice)).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
    let id = placed.body["id"].as_str().unwrap().to_owned();

    for (operation, request) in every_operation(&id) {
        let reply = app.send(bearer(request, &bob)).await;
        match operation.as_str() {
            "list" => assert_eq!(reply.body, json!({"orders": []}), "bob lists only his own"),
            "place" => assert_eq!(reply.status, StatusCode::CREATED, "bob places his own"),
            _ => {
                assert_eq!(reply.status, StatusCode::NOT_FOUND, "{operation}: as if it did not exist");
                assert_eq!(reply.body, json!({"detail": format!("Order with ID {id} not found")}));
            }
        }
    }
    let mine = app.send(bearer(get(&format!("/orders/{id}")), &alice)).await;
    assert_eq!(mine.body, placed.body, "alice's order is untouched");
    let listed = app.send(bearer(get("/orders"), &alice)).await;
    assert_eq!(listed.body["orders"].as_array().unwrap().len(), 1, "and she sees only hers");
}

#[actix_web::test]
async fn no_request_without_a_valid_token_reveals_or_changes_an_order() {
    let provider = IdentityProvider::start(&[TestKey::Rsa1, TestKey::Ec1]).await;
    let Some(app) = app_for(&provider, Duration::from_secs(3600), Backend::default(), default_kind()).await else {
        return;
    };
    let alice = token(TestKey::Rsa1, &claims("alice"));
    let placed = app.send(bearer(post_json("/orders", &latte()), &alice)).await;
    let id = placed.body["id"].as_str().unwrap().to_owned();

    let now = jsonwebtoken::get_current_timestamp();
    let with = |change: serde_json::Value| {
        let mut claims = claims("alice");
        claims.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        claims
    };
    let mut no_sub = claims("alice");
    no_sub.as_object_mut().unwrap().remove("sub");
    let unsigned = {
        let encode = |value: serde_json::Value| URL_SAFE_NO_PAD.encode(value.to_string());
        format!("{}.{}.", encode(json!({"alg": "none", "kid": "rsa-1"})), encode(claims("alice")))
    };
    // HS256 signed with the provider's public key as the secret: the classic key confusion.
    let confused = {
        let public = serde_json::to_vec(&TestKey::Rsa1.jwk()).unwrap();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some("rsa-1".into());
        jsonwebtoken::encode(&header, &claims("alice"), &jsonwebtoken::EncodingKey::from_secret(&public)).unwrap()
    };
    let mut no_exp = claims("alice");
    no_exp.as_object_mut().unwrap().remove("exp");
    let signed = |claims: &serde_json::Value| Some(format!("Bearer {}", token(TestKey::Rsa1, claims)));
    let refused: Vec<(&str, Option<String>, &str)> = vec![
        ("no header", None, "Not authenticated"),
        ("another scheme", Some("Basic YWxpY2U6c2VjcmV0".into()), "Authorization must be a Bearer token"),
        ("not a JWT", Some("Bearer not.a.token".into()), "malformed token"),
        ("alg none", Some(format!("Bearer {unsigned}")), "malformed token"),
        ("HS256", Some(format!("Bearer {confused}")), "token algorithm not accepted"),
        (
            "bad signature",
            Some(format!("Bearer {}", token_with_kid(TestKey::Attacker, "rsa-1", &claims("alice")))),
            "token signature is invalid",
        ),
        ("unknown kid", Some(format!("Bearer {}", token(TestKey::Attacker, &claims("alice")))), "unknown signing key"),
        ("expired", signed(&with(json!({"exp": now - 120}))), "token has expired"),
        ("not yet valid", signed(&with(json!({"nbf": now + 120}))), "token is not valid yet"),
        ("issued later", signed(&with(json!({"iat": now + 120}))), "token is issued in the future"),
        ("other issuer", signed(&with(json!({"iss": "https://evil.test/"}))), "token is from another issuer"),
        ("other audience", signed(&with(json!({"aud": "billing"}))), "token is for another audience"),
        ("no subject", signed(&no_sub), "token has no subject (sub)"),
        ("no expiry", signed(&no_exp), "token has no expiry (exp)"),
    ];
    for (case, authorization, detail) in &refused {
        for (operation, mut request) in every_operation(&id) {
            if let Some(value) = authorization {
                request.headers_mut().insert(header::AUTHORIZATION, header::HeaderValue::from_str(value).unwrap());
            }
            let reply = app.send(request).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{case}, {operation}: {:?}", reply.body);
            assert_eq!(reply.body, json!({"detail": detail}), "{case}, {operation}");
            let challenge = reply.header(header::WWW_AUTHENTICATE);
            if authorization.as_deref().is_some_and(|a| a.starts_with("Bearer ")) {
                assert!(challenge.starts_with(r#"Bearer error="invalid_token""#), "{case}: {challenge}");
            } else {
                assert_eq!(challenge, "Bearer", "{case}");
            }
            let token = authorization.as_deref().and_then(|a| a.split_once(' ')).map_or("", |(_, t)| t);
            assert!(!String::from_utf8_lossy(&reply.raw).contains(token) || token.is_empty(), "{case}: echoed");
        }
    }
    // Within the 60 s leeway, a token just expired is still accepted.
    let lenient = token(TestKey::Rsa1, &with(json!({"exp": now - 30})));
    assert_eq!(app.send(bearer(get(&format!("/orders/{id}")), &lenient)).await.status, StatusCode::OK);

    let listed = app.send(bearer(get("/orders"), &alice)).await;
    assert_eq!(listed.body["orders"], json!([placed.body]), "nothing was revealed, placed or changed");
    for open in ["/hi", "/health", "/ready", "/metrics", "/openapi.json", "/docs/"] {
        assert_eq!(app.get(open).await.status, StatusCode::OK, "{open} needs no token");
    }
}

#[actix_web::test]
async fn a_rotated_key_is_accepted_after_one_refresh() {
    let provider = IdentityProvider::start(&[TestKey::Rsa1]).await;
    let Some(app) = app_for(&provider, Duration::ZERO, Backend::default(), default_kind()).await else { return };
    let first = app.send(bearer(get("/orders"), &token(TestKey::Rsa1, &claims("alice")))).await;
    assert_eq!((first.status, provider.fetches()), (StatusCode::OK, 1));

    provider.publish(&[TestKey::Rsa1, TestKey::Rsa2]);
    let rotated = app.send(bearer(get("/orders"), &token(TestKey::Rsa2, &claims("alice")))).await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.body);
    assert_eq!(provider.fetches(), 2, "one refresh for the new kid");
    let known = app.send(bearer(get("/orders"), &token(TestKey::Rsa1, &claims("alice")))).await;
    assert_eq!((known.status, provider.fetches()), (StatusCode::OK, 2), "known keys need no fetch");
}

#[actix_web::test]
async fn made_up_key_ids_cannot_hammer_the_provider() {
    let provider = IdentityProvider::start(&[TestKey::Rsa1]).await;
    let Some(app) = app_for(&provider, Duration::from_secs(3600), Backend::default(), default_kind()).await else {
        return;
    };
    for n in 0..20 {
        let forged = token_with_kid(TestKey::Attacker, &format!("forged-{n}"), &claims("mallory"));
        assert_eq!(app.send(bearer(get("/orders"), &forged)).await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(provider.fetches(), 1, "one fetch per refresh interval, however many unknown kids");
}

#[actix_web::test]
async fn an_unreachable_provider_is_503_until_keys_are_known_then_cached_keys_serve() {
    let provider = IdentityProvider::start(&[TestKey::Rsa1]).await;
    provider.set_reachable(false);
    let Some(app) = app_for(&provider, Duration::ZERO, Backend::default(), default_kind()).await else { return };
    let alice = token(TestKey::Rsa1, &claims("alice"));

    let away = app.send(bearer(get("/orders"), &alice)).await;
    assert_eq!(away.status, StatusCode::SERVICE_UNAVAILABLE, "the token may be fine: {:?}", away.body);
    assert_eq!(away.header(header::RETRY_AFTER), "1");
    assert_eq!(away.body, json!({"detail": "the identity provider's keys are unavailable"}));

    provider.set_reachable(true);
    assert_eq!(app.send(bearer(get("/orders"), &alice)).await.status, StatusCode::OK, "back without a restart");

    provider.set_reachable(false);
    assert_eq!(app.send(bearer(get("/orders"), &alice)).await.status, StatusCode::OK, "cached keys still serve");
    let unknown = app.send(bearer(get("/orders"), &token(TestKey::Rsa2, &claims("alice")))).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED, "a failed refresh keeps the known keys");
}

/// Two callers with the same `Idempotency-Key` have two keys: each gets an order of their
/// own, and each repeat answers its own caller's.
#[apply(all_backends)]
#[actix_web::test]
async fn an_idempotency_key_is_its_callers_own(backend: Backend, target: Target) {
    let provider = IdentityProvider::start(&[TestKey::Rsa1]).await;
    let Some(app) = app_for(&provider, Duration::from_secs(60), backend, target).await else { return };
    let keyed = |who: &str| {
        let mut request = post_json("/orders", &latte());
        request.headers_mut().insert(header::HeaderName::from_static("idempotency-key"), "same".parse().unwrap());
        bearer(request, &token(TestKey::Rsa1, &claims(who)))
    };
    let (alice, bob) = (app.send(keyed("alice")).await, app.send(keyed("bob")).await);
    assert_eq!((alice.status, bob.status), (StatusCode::CREATED, StatusCode::CREATED), "{:?}", bob.body);
    assert_ne!(alice.body["id"], bob.body["id"], "two keys, two orders");
    for (who, first) in [("alice", &alice), ("bob", &bob)] {
        let again = app.send(keyed(who)).await;
        assert_eq!((again.status, &again.raw), (StatusCode::CREATED, &first.raw), "{who}'s own answer");
    }
}
