//! Integration tests: the real app, a fresh database per test, on SQLite and
//! on PostgreSQL (see helpers.rs).

mod helpers;

mod api_keys;
mod auth_matrix;
mod checkout;
mod cli;
mod customer_orders;
mod errors;
mod health;
mod hostile_input;
mod layers;
mod login_abuse;
mod model;
mod openapi;
mod orders;
mod products;
mod readme_walkthrough;
mod secrets_in_logs;
mod seeding;
mod storage;
mod stripe_client;
mod stripe_sim;
mod stripe_webhooks;
mod users;
mod webhook_hostile;
