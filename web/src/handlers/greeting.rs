//! `GET /hi` and `GET /hi/blocking`: the same greeting, waited for in the two ways an
//! async server can wait. Compare them under load to see why blocking work belongs on
//! the threadpool.

use crate::AppState;
use crate::error::ApiError;
use actix_web::{get, web};

/// The greeting, shy as it is.
pub const GREETING: &str = "Hello? World?";

/// Answers after a non-blocking sleep of `HI_DELAY_MS`.
///
/// The sleep is a timer: while it runs, the worker serves other requests, so a thousand
/// concurrent calls all finish after about one delay.
#[utoipa::path(
    tag = "greeting",
    responses((status = 200, description = "The greeting", body = String, content_type = "application/json", example = json!(GREETING)))
)]
#[get("/hi")]
pub async fn hi(state: web::Data<AppState>) -> web::Json<&'static str> {
    // No delay, no timer: registering one costs a little on every request.
    if !state.http.hi_delay.is_zero() {
        tokio::time::sleep(state.http.hi_delay).await;
    }
    web::Json(GREETING)
}

/// Answers after a *blocking* sleep of `HI_DELAY_MS`, run on the threadpool.
///
/// `std::thread::sleep` would freeze an async worker and every request on it; handed to
/// `web::block`, it occupies one threadpool thread instead, and the workers stay free.
/// This is how any blocking call (diesel, file I/O, CPU-heavy work) should be made.
#[utoipa::path(
    tag = "greeting",
    responses(
        (status = 200, description = "The greeting", body = String, content_type = "application/json", example = json!(GREETING)),
        (status = 500, description = "The blocking task failed", body = crate::schemas::ErrorBody),
    )
)]
#[get("/hi/blocking")]
pub async fn hi_blocking(state: web::Data<AppState>) -> Result<web::Json<&'static str>, ApiError> {
    let delay = state.http.hi_delay;
    web::block(move || std::thread::sleep(delay)).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(web::Json(GREETING))
}
