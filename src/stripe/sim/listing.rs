//! `GET /v1/payment_intents` as Stripe pages lists: newest first, `limit`
//! 1-100 (default 10), cursors `starting_after` (older) or `ending_before`
//! (newer) naming an object, `created` filters, `has_more`, and a 400 for
//! any parameter Stripe does not take.

use serde_json::{json, Value};

use super::objects::{integer, invalid, missing, Pi, SimError, SimResult};
use super::state::Data;
use crate::stripe::form::Params;

const DEFAULT_LIMIT: i64 = 10;
const MAX_LIMIT: i64 = 100;

/// The parameters the endpoint takes (`expand[]` is accepted and ignored:
/// PaymentIntents in lists carry ids, as unexpanded Stripe objects do).
fn known(key: &str) -> bool {
    matches!(
        key,
        "customer"
            | "limit"
            | "starting_after"
            | "ending_before"
            | "created"
            | "created[gt]"
            | "created[gte]"
            | "created[lt]"
            | "created[lte]"
    ) || key == "expand[]"
        || key
            .strip_prefix("expand[")
            .and_then(|rest| rest.strip_suffix(']'))
            .is_some_and(|index| index.parse::<usize>().is_ok())
}

/// Newest first; within one second, the later-created first.
fn order_key(pi: &Pi) -> (i64, u64) {
    (pi.created, pi.sequence)
}

fn limit(params: &Params) -> Result<usize, SimError> {
    let limit = integer(params, "limit")?.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(invalid(
            Some("limit"),
            "parameter_invalid_integer",
            format!("Invalid limit: {limit}. It must be between 1 and {MAX_LIMIT}."),
        ));
    }
    Ok(limit as usize)
}

/// Whether `created` passes the `created`, `created[gt]`, ... filters.
fn created_filter(params: &Params) -> Result<impl Fn(i64) -> bool, SimError> {
    let exact = integer(params, "created")?;
    let gt = integer(params, "created[gt]")?;
    let gte = integer(params, "created[gte]")?;
    let lt = integer(params, "created[lt]")?;
    let lte = integer(params, "created[lte]")?;
    Ok(move |created: i64| {
        exact.is_none_or(|v| created == v)
            && gt.is_none_or(|v| created > v)
            && gte.is_none_or(|v| created >= v)
            && lt.is_none_or(|v| created < v)
            && lte.is_none_or(|v| created <= v)
    })
}

impl Data {
    fn cursor(&self, params: &Params, param: &str) -> Result<Option<(i64, u64)>, SimError> {
        match params.get(param) {
            None => Ok(None),
            Some(id) => self
                .payment_intents
                .get(id)
                .map(|pi| Some(order_key(pi)))
                .ok_or_else(|| missing("payment_intent", id, param, 400)),
        }
    }

    pub fn list_payment_intents(&self, params: &Params) -> SimResult {
        if let Some((key, _)) = params.canonical().into_iter().find(|(k, _)| !known(k)) {
            return Err(invalid(
                Some(&key),
                "parameter_unknown",
                format!("Received unknown parameter: {key}"),
            ));
        }
        let limit = limit(params)?;
        let created = created_filter(params)?;
        let after = self.cursor(params, "starting_after")?;
        let before = self.cursor(params, "ending_before")?;
        if after.is_some() && before.is_some() {
            return Err(invalid(
                None,
                "parameter_invalid_string",
                "You may only specify one of these parameters: ending_before, starting_after.",
            ));
        }
        let customer = params.get("customer");
        let mut matching: Vec<&Pi> = self
            .payment_intents
            .values()
            .filter(|pi| customer.is_none() || pi.customer.as_deref() == customer)
            .filter(|pi| created(pi.created))
            .filter(|pi| after.is_none_or(|cursor| order_key(pi) < cursor))
            .filter(|pi| before.is_none_or(|cursor| order_key(pi) > cursor))
            .collect();
        matching.sort_by_key(|pi| std::cmp::Reverse(order_key(pi)));
        // `ending_before` pages toward newer objects: the page is the `limit`
        // objects nearest the cursor, still shown newest first.
        let (page, has_more) = if before.is_some() {
            let start = matching.len().saturating_sub(limit);
            (&matching[start..], start > 0)
        } else {
            let end = matching.len().min(limit);
            (&matching[..end], matching.len() > limit)
        };
        let data: Vec<Value> = page.iter().map(|pi| pi.json()).collect();
        Ok(
            json!({"object": "list", "url": "/v1/payment_intents", "has_more": has_more, "data": data}),
        )
    }
}
