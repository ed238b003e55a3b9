//! authlete-grpc: a gRPC service whose Protobuf services mirror Authlete's Core
//! APIs and answer with Authlete's `action` plus a ready-built HTTP response.
//! See ARCHITECTURE.md for the map.

pub mod action;
pub mod api;
pub mod auth;
pub mod authz;
pub mod backend;
pub mod cache;
pub mod config;
pub mod deadline;
pub mod grpc;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod notify;
pub mod pb;
pub mod secret;
pub mod server;
pub mod telemetry;
pub mod toml_error;
