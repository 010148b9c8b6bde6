//! Request handlers: each parses its input, calls the service once, and shapes the
//! answer. `#[utoipa::path]` documents it where it is written, and [`routes`] registers
//! it with actix and with the OpenAPI document in one call, so no route goes undocumented.

pub mod greeting;
pub mod operations;
pub mod orders;
// xtask scaffold: modules

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every operation. A new resource adds its handlers here.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(operations::health)
        .service(operations::ready)
        .service(operations::metrics)
        .service(greeting::hi)
        .service(greeting::hi_blocking)
        .service(orders::list_orders)
        .service(orders::create_order)
        .service(orders::get_order)
        .service(orders::update_order)
        .service(orders::delete_order)
        .service(orders::pay_order)
        .service(orders::cancel_order);
    // xtask scaffold: routes
}
