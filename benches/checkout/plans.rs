//! Query plans of the exact statements orderpay runs, for the values the
//! bench sends. On PostgreSQL listings are planned for their values on every
//! run (`store::fetch_page` sets `plan_cache_mode = force_custom_plan`
//! around them), so that is the plan shown; `generic` shows the plan a
//! pooled prepared statement would otherwise settle on.

use sqlx::{AnyConnection, Executor, Row};

/// Text binds written into `EXECUTE` as literals.
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

pub async fn explain(
    conn: &mut AnyConnection,
    postgres: bool,
    sql: &str,
    binds: &[String],
) -> Vec<String> {
    explain_in(conn, postgres, sql, binds, "force_custom_plan").await
}

/// PostgreSQL's generic plan of the statement (SQLite has no other kind).
pub async fn generic(
    conn: &mut AnyConnection,
    postgres: bool,
    sql: &str,
    binds: &[String],
) -> Vec<String> {
    explain_in(conn, postgres, sql, binds, "force_generic_plan").await
}

async fn explain_in(
    conn: &mut AnyConnection,
    postgres: bool,
    sql: &str,
    binds: &[String],
    mode: &str,
) -> Vec<String> {
    if !postgres {
        let text = format!("EXPLAIN QUERY PLAN {sql}");
        let mut query = sqlx::query(&text);
        for value in binds {
            query = query.bind(value);
        }
        let rows = query
            .fetch_all(&mut *conn)
            .await
            .expect("EXPLAIN QUERY PLAN");
        return rows
            .iter()
            .map(|row| row.try_get::<String, _>("detail").unwrap_or_default())
            .collect();
    }
    let types = if binds.is_empty() {
        String::new()
    } else {
        format!("({})", vec!["text"; binds.len()].join(", "))
    };
    let args = if binds.is_empty() {
        String::new()
    } else {
        let values: Vec<String> = binds.iter().map(|b| literal(b)).collect();
        format!("({})", values.join(", "))
    };
    conn.execute(format!("SET plan_cache_mode = {mode}").as_str())
        .await
        .expect("plan mode");
    conn.execute(format!("PREPARE bench_plan {types} AS {sql}").as_str())
        .await
        .expect("PREPARE");
    let rows = conn
        .fetch_all(format!("EXPLAIN EXECUTE bench_plan {args}").as_str())
        .await
        .expect("EXPLAIN");
    conn.execute("DEALLOCATE bench_plan; RESET plan_cache_mode")
        .await
        .expect("DEALLOCATE");
    rows.iter()
        .map(|row| row.try_get::<String, _>(0).unwrap_or_default())
        .collect()
}

/// Prints a plan indented under its listing's line.
pub fn print(lines: &[String]) {
    for line in lines {
        println!("        | {line}");
    }
}
