//! HTTP/1.x: pure parsing functions ([`parser`]), the per-direction message reader
//! ([`half`]) and the per-connection state that pairs requests with responses ([`conn`]).

pub(crate) mod conn;
pub(crate) mod half;
pub(crate) mod parser;
