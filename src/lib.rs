//! orderpay: the order-payment service of a shop backend.
//! See README.md for running it and DESIGN.md (shared) for the rules it keeps.

pub mod accounts;
pub mod app;
pub mod auth;
pub mod checkout;
pub mod cli;
pub mod config;
pub mod currency_review;
pub mod db;
pub mod domain;
pub mod http;
pub mod secret;
pub mod seed;
pub mod store;
pub mod stripe;
pub mod telemetry;
