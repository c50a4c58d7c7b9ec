use crate::db_test;
use rocket::http::Status;

db_test!(health_reports_the_database, |app| {
    let reply = app.get("/health", None).await;
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.body["data"]["database"], "ok");
    let expected = match app.backend {
        crate::helpers::Backend::Sqlite => "sqlite",
        crate::helpers::Backend::Postgres => "postgres",
    };
    assert_eq!(reply.body["data"]["backend"], expected);
});

db_test!(health_is_503_when_the_database_is_down, |app| {
    app.app_pool().close().await;
    let reply = app.get("/health", None).await;
    assert_eq!(reply.status, Status::ServiceUnavailable);
    assert_eq!(reply.code(), "database_unavailable");
    assert_eq!(reply.body["error"]["details"]["database"], "unavailable");
});
