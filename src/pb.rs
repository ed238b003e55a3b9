//! Code generated from `proto/authlete/v1/*.proto`. Nothing here is hand-written.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

tonic::include_proto!("authlete.v1");

/// The encoded descriptor set of `proto/`, served by server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("authlete_descriptor");
