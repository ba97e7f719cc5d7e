//! The behaviour suite: the contract of API.md driven through the real router, on SQLite by
//! default and on PostgreSQL when `DATABASE_URL` is set (Redis as L2 when `REDIS_URL` is set).

mod helpers;

mod activity;
mod auth;
mod authz;
mod budget;
mod cache;
mod conditional;
mod export;
mod feedback;
mod files;
mod members;
mod memos;
mod ops;
mod projects;
mod security;
mod threads;
mod validation;
mod versions;
