//! Business rules: input limits and the status machine. The web layer reports
//! violations; it does not decide them.

use crate::error::{Loc, Violation};
use crate::model::{OrderItem, Status};

/// Most items one order may hold.
pub const MAX_ITEMS: usize = 50;
/// Longest product name, in characters (not bytes).
pub const MAX_PRODUCT_CHARS: usize = 100;
/// Allowed quantity per item.
pub const QUANTITY: std::ops::RangeInclusive<i64> = 1..=1000;
/// Default page size of a listing.
pub const DEFAULT_LIMIT: i64 = 20;
/// Largest page size of a listing.
pub const MAX_LIMIT: i64 = 100;

/// Statuses from which an order may be paid.
pub const PAYABLE: &[Status] = &[Status::Created];
/// Statuses from which an order may be cancelled.
pub const CANCELLABLE: &[Status] = &[Status::Created, Status::Paid, Status::Progress];
/// Statuses in which an order's items may be replaced.
pub const EDITABLE: &[Status] = &[Status::Created];

/// Checks the items of a new or replaced order. Locations are relative to the list.
pub fn validate_items(items: &[OrderItem]) -> Result<(), Vec<Violation>> {
    let mut violations = Vec::new();
    if items.is_empty() {
        violations.push(violation(vec![], "List should have at least 1 item", "too_short"));
    } else if items.len() > MAX_ITEMS {
        let msg = format!("List should have at most {MAX_ITEMS} items, not {}", items.len());
        violations.push(violation(vec![], msg, "too_long"));
    }
    for (index, item) in items.iter().enumerate() {
        let at = |field| vec![Loc::Index(index), Loc::Field(field)];
        if item.product.trim().is_empty() {
            violations.push(violation(at("product"), "String should not be blank", "string_blank"));
        } else if item.product.chars().any(char::is_control) {
            let msg = "String should not contain control characters";
            violations.push(violation(at("product"), msg, "string_control_characters"));
        } else if item.product.chars().count() > MAX_PRODUCT_CHARS {
            let msg = format!("String should have at most {MAX_PRODUCT_CHARS} characters");
            violations.push(violation(at("product"), msg, "string_too_long"));
        }
        if item.quantity < *QUANTITY.start() {
            let msg = format!("Input should be greater than or equal to {}", QUANTITY.start());
            violations.push(violation(at("quantity"), msg, "greater_than_equal"));
        } else if item.quantity > *QUANTITY.end() {
            let msg = format!("Input should be less than or equal to {}", QUANTITY.end());
            violations.push(violation(at("quantity"), msg, "less_than_equal"));
        }
    }
    if violations.is_empty() { Ok(()) } else { Err(violations) }
}

/// Checks a listing's page. Locations name the query parameters.
pub fn validate_page(limit: i64, offset: i64) -> Result<(), Vec<Violation>> {
    let mut violations = Vec::new();
    if !(1..=MAX_LIMIT).contains(&limit) {
        let msg = format!("Input should be between 1 and {MAX_LIMIT}");
        violations.push(violation(vec![Loc::Field("limit")], msg, "range"));
    }
    if offset < 0 {
        let msg = "Input should be greater than or equal to 0";
        violations.push(violation(vec![Loc::Field("offset")], msg, "greater_than_equal"));
    }
    if violations.is_empty() { Ok(()) } else { Err(violations) }
}

fn violation(loc: Vec<Loc>, msg: impl Into<String>, kind: &'static str) -> Violation {
    Violation { loc, msg: msg.into(), kind }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Size;

    fn item(product: &str, quantity: i64) -> OrderItem {
        OrderItem { product: product.into(), size: Size::Small, quantity }
    }

    #[test]
    fn accepts_the_limits() {
        let longest = "é".repeat(MAX_PRODUCT_CHARS);
        let items = vec![item(&longest, 1000); MAX_ITEMS];
        assert_eq!(validate_items(&items), Ok(()));
    }

    #[test]
    fn counts_characters_not_bytes() {
        let too_long = "é".repeat(MAX_PRODUCT_CHARS + 1);
        let errors = validate_items(&[item(&too_long, 1)]).unwrap_err();
        assert_eq!(errors[0].loc, vec![Loc::Index(0), Loc::Field("product")]);
        assert_eq!(errors[0].kind, "string_too_long");
    }

    #[test]
    fn reports_every_broken_rule_with_its_place() {
        let errors = validate_items(&[item("latte", 1), item("  ", 0), item("tea", 1001)]).unwrap_err();
        let places: Vec<_> = errors.iter().map(|v| (v.loc.clone(), v.kind)).collect();
        assert_eq!(
            places,
            vec![
                (vec![Loc::Index(1), Loc::Field("product")], "string_blank"),
                (vec![Loc::Index(1), Loc::Field("quantity")], "greater_than_equal"),
                (vec![Loc::Index(2), Loc::Field("quantity")], "less_than_equal"),
            ]
        );
    }

    #[test]
    fn rejects_control_characters() {
        // Postgres cannot store NUL in text; no product name needs control characters.
        for product in ["a\u{0}b", "tab\there", "new\nline"] {
            assert_eq!(validate_items(&[item(product, 1)]).unwrap_err()[0].kind, "string_control_characters");
        }
    }

    #[test]
    fn rejects_empty_and_oversized_lists() {
        assert_eq!(validate_items(&[]).unwrap_err()[0].kind, "too_short");
        let many = vec![item("latte", 1); MAX_ITEMS + 1];
        assert_eq!(validate_items(&many).unwrap_err()[0].kind, "too_long");
    }

    #[test]
    fn pages_are_bounded() {
        assert!(validate_page(1, 0).is_ok());
        assert!(validate_page(MAX_LIMIT, 10).is_ok());
        assert_eq!(validate_page(0, 0).unwrap_err()[0].loc, vec![Loc::Field("limit")]);
        assert_eq!(validate_page(MAX_LIMIT + 1, 0).unwrap_err().len(), 1);
        assert_eq!(validate_page(5, -1).unwrap_err()[0].loc, vec![Loc::Field("offset")]);
    }
}
