//! Whole checkouts per second (order, PaymentIntent, confirmation at Stripe,
//! callback; Stripe's webhooks delivered as they come) beside the
//! simulator's own create + confirm rate measured alone in the same run, and
//! what one checkout costs: database statements (counted from sqlx's
//! statement log) and Stripe calls (counted by the simulator), per step.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use orderpay::stripe::api::PaymentIntentParams;
use orderpay::stripe::sim::webhooks::ReleaseOrder;
use orderpay::stripe::IdempotencyKey;

use super::backend::Backend;
use super::harness::{launch, measure, Server, Stats};
use super::shop::Shop;
use super::statements;

const IN_FLIGHT: usize = 16;
const CHECKOUTS: usize = 1_000;
const COUNTED: u64 = 20;

/// Statements and Stripe calls since `from`.
struct Tally {
    statements: u64,
    stripe: u64,
}

fn since(server: &Server, from: &Tally) -> Tally {
    Tally {
        statements: statements::now() - from.statements,
        stripe: server.sim.api_calls() - from.stripe,
    }
}

fn mark(server: &Server) -> Tally {
    Tally {
        statements: statements::now(),
        stripe: server.sim.api_calls(),
    }
}

/// Waits until no statement has run for a moment (work behind a response).
async fn quiet() {
    loop {
        let before = statements::now();
        rocket::tokio::time::sleep(Duration::from_millis(300)).await;
        if statements::now() == before {
            return;
        }
    }
}

/// The HTTP requests one checkout makes, as `count` found them.
struct Requests {
    /// Served by orderpay: order, PaymentIntent, callback, and each webhook
    /// delivery.
    orderpay: f64,
    /// Served by Stripe: orderpay's calls and the browser's confirmation.
    stripe: f64,
}

/// `COUNTED` checkouts one at a time, Stripe's webhooks held back and then
/// delivered: what each step costs.
async fn count(server: &Server, shop: &Shop) -> Requests {
    let mut settings = server.sim.webhooks.settings();
    settings.hold = true;
    server.sim.webhooks.configure(settings.clone());
    statements::start();
    let mut steps = [(); 4].map(|_| Tally {
        statements: 0,
        stripe: 0,
    });
    let base = &server.base;
    // ORDERPAY_BENCH_STATEMENTS=1 lists the statements of one checkout.
    let list = std::env::var("ORDERPAY_BENCH_STATEMENTS").is_ok_and(|v| v == "1");
    for n in 0..COUNTED as usize {
        if list && n == COUNTED as usize - 1 {
            statements::record();
        }
        let at = mark(server);
        let order = shop.order(base, n).await;
        let after_order = mark(server);
        let pi = shop.payment_intent(base, n, &order).await;
        let after_intent = mark(server);
        shop.confirm_at_stripe(&pi).await;
        let after_confirm = mark(server);
        shop.callback(base, &order, &pi).await;
        for (step, from, to) in [
            (0, &at, &after_order),
            (1, &after_order, &after_intent),
            (3, &after_confirm, &mark(server)),
        ] {
            steps[step].statements += to.statements - from.statements;
            steps[step].stripe += to.stripe - from.stripe;
        }
    }
    if list {
        println!("  statements of the last counted checkout, webhooks excluded:");
        for statement in statements::recorded() {
            println!("    {statement}");
        }
    }
    let held = server.sim.webhooks.held_count() as u64;
    let at = mark(server);
    settings.hold = false;
    server.sim.webhooks.configure(settings);
    server.sim.webhooks.release(ReleaseOrder::Fifo).await;
    quiet().await;
    steps[2] = since(server, &at);
    statements::stop();
    let per = |t: &Tally| {
        format!(
            "{:.1} statements, {:.1} Stripe calls",
            t.statements as f64 / COUNTED as f64,
            t.stripe as f64 / COUNTED as f64
        )
    };
    println!("  per checkout ({COUNTED} counted one at a time; statements as sqlx logs them, BEGIN/COMMIT included where it logs them):");
    println!("    create order              {}", per(&steps[0]));
    println!("    create PaymentIntent      {}", per(&steps[1]));
    println!("    confirm (browser->Stripe) not orderpay's: 1 Stripe call");
    println!("    callback                  {}", per(&steps[3]));
    println!(
        "    webhooks ({:.1} events)     {}",
        held as f64 / COUNTED as f64,
        per(&steps[2])
    );
    let total = Tally {
        statements: steps.iter().map(|t| t.statements).sum(),
        stripe: steps.iter().map(|t| t.stripe).sum(),
    };
    println!("    whole checkout            {}", per(&total));
    // Stripe's: the counted checkouts are most users' first (a customer
    // create each), and their events were held until after the callback (no
    // worker read); under load it is the other way round.
    Requests {
        orderpay: 3.0 + held as f64 / COUNTED as f64,
        stripe: 1.0 + total.stripe as f64 / COUNTED as f64,
    }
}

/// `GET path` answered `status`, at the checkout's concurrency.
async fn measure_get(server: &Server, name: &str, path: &str, status: u16) -> Stats {
    measure(name, CHECKOUTS * 4, IN_FLIGHT, |_| async move {
        let (answered, _) = server.call(reqwest::Method::GET, path, &[], None).await;
        assert_eq!(answered, status, "{path}");
    })
    .await
}

/// What the checkout could reach if every request orderpay serves cost no
/// more than `cheap` (measured alone at the same concurrency), with the
/// simulator's requests at their cost alone: the most a checkout of this
/// shape can be, as a ratio of the simulator's create+confirm rate.
fn ceiling(requests: &Requests, cheap: &Stats, what: &str, alone: &Stats) {
    // Whole-machine seconds per request, load generator included in each.
    let stripe_request = 1.0 / (2.0 * alone.per_sec);
    let orderpay_request = 1.0 / cheap.per_sec;
    let checkout = requests.stripe * stripe_request + requests.orderpay * orderpay_request;
    println!(
        "  ceiling: {:.1} orderpay requests (each as cheap as {what}) + {:.1} Stripe requests \
         per checkout = {:.0}/s, {:.3}x the simulator's create+confirm",
        requests.orderpay,
        requests.stripe,
        1.0 / checkout,
        1.0 / checkout / alone.per_sec
    );
}

pub async fn run_part(backend: &Backend) {
    let db = backend.fresh("checkout").await;
    let server = launch(&db.url).await;
    let admin = server.key("admin").await;
    server.seed(&admin).await;
    let (sim_base, sim_key) = (server.sim.base_url(), server.sim.secret_key().to_string());
    let shop = Shop::open(&server.pool, &server.base, &sim_base, &sim_key, 16).await;
    let requests = count(&server, &shop).await;

    let (s, shop) = (&server, &shop);
    // Where a checkout's time goes under the load: each step's latency.
    let steps: Mutex<[Vec<Duration>; 4]> = Mutex::new(Default::default());
    let steps = &steps;
    let whole = measure(
        "whole checkout (order, PI, confirm, callback)",
        CHECKOUTS,
        IN_FLIGHT,
        |i| async move {
            let t = Instant::now();
            let order = shop.order(&s.base, i).await;
            let t_order = t.elapsed();
            let t = Instant::now();
            let pi = shop.payment_intent(&s.base, i, &order).await;
            let t_pi = t.elapsed();
            let t = Instant::now();
            shop.confirm_at_stripe(&pi).await;
            let t_confirm = t.elapsed();
            let t = Instant::now();
            shop.callback(&s.base, &order, &pi).await;
            let t_callback = t.elapsed();
            let mut steps = steps.lock().unwrap();
            for (n, d) in [t_order, t_pi, t_confirm, t_callback]
                .into_iter()
                .enumerate()
            {
                steps[n].push(d);
            }
        },
    )
    .await;
    let steps = std::mem::take(&mut *steps.lock().unwrap());
    for (name, latencies) in [
        "create order",
        "create PaymentIntent",
        "confirm at Stripe",
        "callback",
    ]
    .iter()
    .zip(steps)
    {
        let stats = Stats::from(latencies, Duration::from_secs(1));
        println!(
            "    {name:<22} p50 {:>7.2} ms   p99 {:>7.2} ms   (of the whole checkouts above)",
            stats.p50_ms, stats.p99_ms
        );
    }
    // Alone: its events go nowhere (orderpay would otherwise handle them).
    let mut webhooks = server.sim.webhooks.settings();
    webhooks.url = None;
    server.sim.webhooks.configure(webhooks);
    let alone = measure(
        "simulator alone: create + confirm a PI",
        CHECKOUTS * 2,
        IN_FLIGHT,
        |i| async move {
            let params = PaymentIntentParams {
                amount: 2000,
                currency: "usd",
                payment_method_types: vec!["card"],
                ..PaymentIntentParams::default()
            };
            let key = IdempotencyKey::new(format!("bench-alone-{}-{i}", std::process::id()))
                .expect("key");
            let pi = shop
                .stripe
                .create_payment_intent(&params, &key)
                .await
                .expect("created");
            shop.confirm_at_stripe(&pi.id).await;
        },
    )
    .await;
    println!(
        "  whole checkouts / simulator's create+confirm: {:.3}x",
        whole.per_sec / alone.per_sec
    );
    let noop = measure_get(
        s,
        "orderpay doing nothing: GET an unrouted path (404)",
        "/api/v1/no-such-path",
        404,
    )
    .await;
    // The cheapest route that reads the database: one SELECT of one row,
    // no caller.
    let one_read = measure_get(
        s,
        "orderpay's cheapest read: GET /api/v1/shop/products?limit=1",
        "/api/v1/shop/products?limit=1",
        200,
    )
    .await;
    // A 404 is Rocket, the fairings and the JSON catcher: no database, no
    // Stripe, no caller. A checkout's requests need a caller, a body, and
    // 5-10 statements each.
    ceiling(&requests, &noop, "a 404", &alone);
    ceiling(&requests, &one_read, "one product's page", &alone);
    server.stop();
    db.remove().await;
}
