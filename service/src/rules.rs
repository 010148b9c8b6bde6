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
/// Longest short string field (a name, an email), in characters.
pub const MAX_STRING_CHARS: usize = 255;
/// Longest text field (notes, a description), in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;

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
        check_line(|| at("product"), &item.product, MAX_PRODUCT_CHARS, &mut violations);
        if item.quantity < *QUANTITY.start() {
            let msg = format!("Input should be greater than or equal to {}", QUANTITY.start());
            violations.push(violation(at("quantity"), msg, "greater_than_equal"));
        } else if item.quantity > *QUANTITY.end() {
            let msg = format!("Input should be less than or equal to {}", QUANTITY.end());
            violations.push(violation(at("quantity"), msg, "less_than_equal"));
        }
    }
    verdict(violations)
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
    verdict(violations)
}

/// Checks a short string `field`: not blank, one line with no control characters, at
/// most [`MAX_STRING_CHARS`] characters (not bytes). Broken rules go to `violations`.
pub fn check_string(field: &'static str, value: &str, violations: &mut Vec<Violation>) {
    check_line(|| vec![Loc::Field(field)], value, MAX_STRING_CHARS, violations);
}

/// Checks a text `field`: any lines, at most [`MAX_TEXT_CHARS`] characters, and no NUL
/// (which Postgres cannot store). Broken rules go to `violations`.
pub fn check_text(field: &'static str, value: &str, violations: &mut Vec<Violation>) {
    if value.contains('\0') {
        let msg = "String should not contain NUL characters";
        violations.push(violation(vec![Loc::Field(field)], msg, "string_control_characters"));
    } else if value.chars().count() > MAX_TEXT_CHARS {
        let msg = format!("String should have at most {MAX_TEXT_CHARS} characters");
        violations.push(violation(vec![Loc::Field(field)], msg, "string_too_long"));
    }
}

/// `Ok` when `violations` is empty: the end of a `validate` function.
pub fn verdict(violations: Vec<Violation>) -> Result<(), Vec<Violation>> {
    if violations.is_empty() { Ok(()) } else { Err(violations) }
}

/// `loc` is made only for a violation: a valid value (the usual case) allocates nothing.
fn check_line(loc: impl FnOnce() -> Vec<Loc>, value: &str, max: usize, violations: &mut Vec<Violation>) {
    if value.trim().is_empty() {
        violations.push(violation(loc(), "String should not be blank", "string_blank"));
    } else if value.chars().any(char::is_control) {
        violations.push(violation(loc(), "String should not contain control characters", "string_control_characters"));
    } else if value.chars().count() > max {
        violations.push(violation(loc(), format!("String should have at most {max} characters"), "string_too_long"));
    }
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
    fn strings_are_one_line_and_texts_are_bounded() {
        let mut violations = Vec::new();
        check_string("name", &"é".repeat(MAX_STRING_CHARS), &mut violations);
        check_text("notes", "two\nlines", &mut violations);
        assert_eq!(violations, []);
        check_string("name", " ", &mut violations);
        check_string("email", "a\nb", &mut violations);
        check_text("notes", &"x".repeat(MAX_TEXT_CHARS + 1), &mut violations);
        check_text("bio", "a\0b", &mut violations);
        let kinds: Vec<_> = violations.iter().map(|v| (v.loc.clone(), v.kind)).collect();
        assert_eq!(
            kinds,
            [
                (vec![Loc::Field("name")], "string_blank"),
                (vec![Loc::Field("email")], "string_control_characters"),
                (vec![Loc::Field("notes")], "string_too_long"),
                (vec![Loc::Field("bio")], "string_control_characters"),
            ]
        );
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
