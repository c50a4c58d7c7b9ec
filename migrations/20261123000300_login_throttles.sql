-- One row per email that logins have been tried for. A login first takes
-- this row's lock (a row lock on PostgreSQL, the write lock on SQLite), then
-- counts the email's recent failures and reserves one more in the same
-- transaction: concurrent logins, on any number of instances, are counted
-- one after another instead of all reading the same count.
CREATE TABLE login_throttles (
    email TEXT PRIMARY KEY
);
