//! Query plans of the exact statements orderpay runs. On PostgreSQL the
//! plan shown is the generic one (`plan_cache_mode = force_generic_plan`):
//! a pooled connection's prepared statement switches to it after five
//! executions, so it is the plan that serves most requests.

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
    conn.execute("SET plan_cache_mode = force_generic_plan")
        .await
        .expect("generic plans");
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
