//! The `POST /orders` body.

use lambda_http::Body;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sts_verifier::context::Caller;

/// Largest accepted body, in bytes.
const MAX_BODY_BYTES: usize = 16 * 1024;
/// Largest quantity one order may ask for.
const MAX_QUANTITY: u32 = 1000;
/// Longest item name, in characters.
const MAX_ITEM_CHARS: usize = 100;

/// Why an order body is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OrderError {
    /// The body is empty.
    #[error("body is empty; send a json object with item and quantity")]
    Empty,
    /// The body is larger than 16 KiB.
    #[error("body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// The body is not a JSON object of the expected fields.
    #[error("body is not a valid order: {0}")]
    Json(#[from] serde_json::Error),
    /// `item` is empty, too long, or holds control characters.
    #[error("item must be 1 to {MAX_ITEM_CHARS} printable characters")]
    Item,
    /// `quantity` is outside 1 to 1000.
    #[error("quantity must be between 1 and {MAX_QUANTITY}")]
    Quantity,
}

impl OrderError {
    /// A stable code for the response body.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Empty | Self::TooLarge | Self::Json(_) => "bad_request",
            Self::Item | Self::Quantity => "invalid_order",
        }
    }
}

/// An order as the client sends it: `{"item": "...", "quantity": n}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// What is ordered.
    pub item: String,
    /// How many.
    pub quantity: u32,
}

impl OrderRequest {
    /// Parses and checks a request body.
    ///
    /// # Errors
    ///
    /// An [`OrderError`] for an empty, over-long or malformed body, or out-of-range fields.
    pub fn from_body(body: &Body) -> Result<Self, OrderError> {
        let bytes: &[u8] = match body {
            Body::Empty => return Err(OrderError::Empty),
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => return Err(OrderError::Empty),
        };
        if bytes.len() > MAX_BODY_BYTES {
            return Err(OrderError::TooLarge);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(OrderError::Empty);
        }
        let order: Self = serde_json::from_slice(bytes)?;
        let chars = order.item.chars().count();
        if !(1..=MAX_ITEM_CHARS).contains(&chars) || order.item.chars().any(char::is_control) {
            return Err(OrderError::Item);
        }
        if !(1..=MAX_QUANTITY).contains(&order.quantity) {
            return Err(OrderError::Quantity);
        }
        Ok(order)
    }

    /// The `201` answer naming who ordered.
    pub fn accepted_for(&self, caller: &Caller) -> Value {
        json!({
            "status": "accepted",
            "item": self.item,
            "quantity": self.quantity,
            "orderedBy": caller.role_arn(),
            "account": caller.account(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<OrderRequest, OrderError> {
        OrderRequest::from_body(&Body::Text(text.to_owned()))
    }

    #[test]
    fn well_formed_order_is_accepted() {
        let order = parse(r#"{"item": "widget", "quantity": 3}"#).unwrap();
        assert_eq!(
            order,
            OrderRequest {
                item: "widget".into(),
                quantity: 3
            }
        );
        let order =
            OrderRequest::from_body(&Body::Binary(br#"{"item":"\u00e9","quantity":1}"#.to_vec()));
        assert_eq!(order.unwrap().item, "é");
    }

    #[test]
    fn malformed_bodies_are_bad_requests() {
        for text in [
            "{",
            "[]",
            "null",
            r#"{"item": "x"}"#,
            r#"{"item": "x", "quantity": "3"}"#,
            r#"{"item": "x", "quantity": 1, "price": 2}"#,
            r#"{"item": "x", "quantity": -1}"#,
        ] {
            let error = parse(text).unwrap_err();
            assert!(matches!(error, OrderError::Json(_)), "{text}: {error:?}");
            assert_eq!(error.reason(), "bad_request");
        }
        assert!(matches!(
            OrderRequest::from_body(&Body::Empty),
            Err(OrderError::Empty)
        ));
        assert!(matches!(parse("  \n"), Err(OrderError::Empty)));
        assert!(matches!(
            parse(&" ".repeat(MAX_BODY_BYTES + 1)),
            Err(OrderError::TooLarge)
        ));
        assert!(matches!(
            OrderRequest::from_body(&Body::Binary(vec![0xff, 0xfe])),
            Err(OrderError::Json(_))
        ));
    }

    #[test]
    fn out_of_range_fields_are_invalid_orders() {
        assert!(matches!(
            parse(r#"{"item": "", "quantity": 1}"#),
            Err(OrderError::Item)
        ));
        assert!(matches!(
            parse(r#"{"item": "a\u0000b", "quantity": 1}"#),
            Err(OrderError::Item)
        ));
        let long = format!(r#"{{"item": "{}", "quantity": 1}}"#, "x".repeat(101));
        assert!(matches!(parse(&long), Err(OrderError::Item)));
        assert!(matches!(
            parse(r#"{"item": "x", "quantity": 0}"#),
            Err(OrderError::Quantity)
        ));
        assert!(matches!(
            parse(r#"{"item": "x", "quantity": 1001}"#),
            Err(OrderError::Quantity)
        ));
    }
}
