//! The simulator's `/v1` API: authentication, fault injection and
//! Idempotency-Key handling around every call, then one router.

use std::path::PathBuf;
use std::sync::Arc;

use rocket::http::uri::Origin;
use rocket::http::{ContentType, Header, Status};
use rocket::request::{self, FromRequest, Request};
use rocket::response::{self, Responder, Response};
use rocket::{Route, State};
use serde_json::{json, Value};

use super::faults::Fault;
use super::idempotency::Begin;
use super::state::{new_id, Data, SimError, SimResult};
use super::Sim;
use crate::stripe::form::Params;

pub struct StripeHeaders {
    authorization: Option<String>,
    idempotency_key: Option<String>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for StripeHeaders {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        request::Outcome::Success(StripeHeaders {
            authorization: req.headers().get_one("Authorization").map(str::to_string),
            idempotency_key: req.headers().get_one("Idempotency-Key").map(str::to_string),
        })
    }
}

pub struct SimReply {
    status: u16,
    body: Value,
    should_retry: Option<bool>,
    replayed: bool,
}

impl SimReply {
    fn from_result(result: SimResult) -> Self {
        match result {
            Ok(body) => SimReply {
                status: 200,
                body,
                should_retry: None,
                replayed: false,
            },
            Err(SimError { status, error, .. }) => SimReply {
                status,
                body: json!({ "error": error }),
                should_retry: Some(false),
                replayed: false,
            },
        }
    }

    fn error(
        status: u16,
        kind: &str,
        code: Option<&str>,
        message: &str,
        should_retry: bool,
    ) -> Self {
        let mut error = json!({"type": kind, "message": message});
        if let Some(code) = code {
            error["code"] = json!(code);
        }
        SimReply {
            status,
            body: json!({ "error": error }),
            should_retry: Some(should_retry),
            replayed: false,
        }
    }
}

impl<'r> Responder<'r, 'static> for SimReply {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let body = self.body.to_string();
        let mut response = Response::build();
        response
            .status(Status::new(self.status))
            .header(ContentType::JSON)
            .header(Header::new("Request-Id", new_id("req")))
            .sized_body(body.len(), std::io::Cursor::new(body));
        if let Some(retry) = self.should_retry {
            response.header(Header::new("Stripe-Should-Retry", retry.to_string()));
        }
        if self.replayed {
            response.header(Header::new("Idempotent-Replayed", "true"));
        }
        Ok(response.finalize())
    }
}

fn path_text(path: &std::path::Path) -> String {
    path.iter()
        .map(|s| s.to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

impl Sim {
    fn authorized(&self, authorization: Option<&str>) -> Result<(), SimReply> {
        let given = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or("");
        if given == self.secret_key() {
            return Ok(());
        }
        let shown = if given.len() > 4 {
            format!("sk_test_****{}", &given[given.len() - 4..])
        } else {
            "****".into()
        };
        let message = if given.is_empty() {
            "You did not provide an API key.".to_string()
        } else {
            format!("Invalid API Key provided: {shown}")
        };
        Err(SimReply::error(
            401,
            "invalid_request_error",
            None,
            &message,
            false,
        ))
    }

    pub async fn handle(
        self: &Arc<Self>,
        method: &str,
        path: &str,
        headers: &StripeHeaders,
        params: Params,
    ) -> SimReply {
        self.api_calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Err(reply) = self.authorized(headers.authorization.as_deref()) {
            return reply;
        }
        let fault = self.faults.lock().expect("lock").take(path);
        match fault {
            Some(Fault::Fail(429)) => {
                return SimReply::error(
                    429,
                    "invalid_request_error",
                    Some("rate_limit"),
                    "Too many requests hit the API too quickly.",
                    true,
                )
            }
            Some(Fault::Fail(status)) => {
                return SimReply::error(
                    status,
                    "api_error",
                    None,
                    "An unknown error occurred (simulated).",
                    true,
                )
            }
            Some(Fault::Hang(delay)) => rocket::tokio::time::sleep(delay).await,
            _ => {}
        }
        let reply = self.execute(method, path, headers, &params, fault);
        // A dropped answer is lost whatever it was: a result, a replay or a
        // refusal (so under `drop_all` every retry is lost as well).
        if let Some(Fault::Drop(delay)) = fault {
            rocket::tokio::time::sleep(delay).await;
        }
        reply
    }

    /// Idempotency-Key handling around one call of the router.
    fn execute(
        &self,
        method: &str,
        path: &str,
        headers: &StripeHeaders,
        params: &Params,
        fault: Option<Fault>,
    ) -> SimReply {
        let key = headers.idempotency_key.clone().filter(|_| method == "POST");
        let fingerprint = format!("{method} {path} {:?}", params.canonical());
        if let Some(key) = &key {
            let now = self.clock.now();
            match self.keys.lock().expect("lock").begin(key, &fingerprint, now) {
                Begin::Execute => {}
                Begin::Replay { status, body } => {
                    return SimReply {
                        status,
                        body,
                        should_retry: None,
                        replayed: true,
                    }
                }
                Begin::Mismatch => {
                    let message = format!(
                        "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
                    );
                    return SimReply::error(400, "idempotency_error", None, &message, false);
                }
                Begin::InUse => {
                    return SimReply::error(
                        409,
                        "invalid_request_error",
                        Some("idempotency_key_in_use"),
                        "There is currently another in-progress request using this Idempotency Key. Try again later.",
                        true,
                    )
                }
            }
        }
        let base_url = self.base_url();
        let (result, events) = {
            let mut data = self.data.lock().expect("lock");
            data.outbox.clear();
            let result = route(&mut data, method, path, params, &base_url);
            (result, std::mem::take(&mut data.outbox))
        };
        // Stripe saves the result of every request that began executing;
        // one refused by validation never began.
        let began = match &result {
            Ok(_) => true,
            Err(error) => error.replayable,
        };
        let reply = if began && fault == Some(Fault::FailInside) {
            SimReply::error(
                500,
                "api_error",
                None,
                "An unknown error occurred inside the request (simulated).",
                true,
            )
        } else {
            SimReply::from_result(result)
        };
        if let Some(key) = key {
            let mut keys = self.keys.lock().expect("lock");
            if began {
                let now = self.clock.now();
                keys.save(&key, fingerprint, reply.status, reply.body.clone(), now);
            } else {
                keys.forget(&key);
            }
        }
        self.webhooks.dispatch(events);
        reply
    }
}

fn route(data: &mut Data, method: &str, path: &str, params: &Params, base_url: &str) -> SimResult {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match (method, segments.as_slice()) {
        ("POST", ["customers"]) => data.create_customer(params),
        ("GET", ["customers", id]) => data.retrieve_customer(id),
        ("GET", ["payment_methods"]) => data.list_payment_methods(params),
        ("GET", ["payment_methods", id]) => data.retrieve_payment_method(id),
        ("POST", ["payment_methods", id, "attach"]) => data.attach_payment_method(id, params),
        ("POST", ["payment_methods", id, "detach"]) => data.detach_payment_method(id),
        ("POST", ["payment_intents"]) => data.create_payment_intent(params, base_url),
        ("GET", ["payment_intents"]) => data.list_payment_intents(params),
        ("GET", ["payment_intents", id]) => data.retrieve_payment_intent(id),
        ("POST", ["payment_intents", id]) => data.update_payment_intent(id, params),
        ("POST", ["payment_intents", id, "confirm"]) => data.confirm_payment_intent(id, params, base_url),
        ("POST", ["payment_intents", id, "cancel"]) => data.cancel_payment_intent(id, params),
        ("POST", ["payment_intents", id, "capture"]) => data.capture_payment_intent(id, params),
        ("POST", ["refunds"]) => data.create_refund(params),
        ("GET", ["refunds", id]) => data.retrieve_refund(id),
        ("GET", ["charges", id]) => data.retrieve_charge(id),
        ("GET", ["events"]) => data.list_events(params),
        ("GET", ["events", id]) => data.event_by_id(id).ok_or_else(|| SimError {
            status: 404,
            error: json!({"type": "invalid_request_error", "code": "resource_missing", "param": "id", "message": format!("No such event: '{id}'")}),
            replayable: false,
        }),
        _ => Err(SimError {
            status: 404,
            error: json!({"type": "invalid_request_error", "message": format!("Unrecognized request URL ({method}: /v1/{path}).")}),
            replayable: false,
        }),
    }
}

#[rocket::post("/v1/<path..>", data = "<body>")]
async fn post(
    sim: &State<Arc<Sim>>,
    headers: StripeHeaders,
    path: PathBuf,
    body: String,
) -> SimReply {
    sim.handle("POST", &path_text(&path), &headers, Params::parse(&body))
        .await
}

#[rocket::get("/v1/<path..>")]
async fn get(
    sim: &State<Arc<Sim>>,
    headers: StripeHeaders,
    path: PathBuf,
    origin: &Origin<'_>,
) -> SimReply {
    let query = origin
        .query()
        .map(|q| q.as_str().to_string())
        .unwrap_or_default();
    sim.handle("GET", &path_text(&path), &headers, Params::parse(&query))
        .await
}

pub fn routes() -> Vec<Route> {
    rocket::routes![post, get]
}
