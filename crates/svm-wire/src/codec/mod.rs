//! The encoders and decoders of the crate's messages (the byte tables in
//! the crate docs): one file per message, over one field reader and one
//! field writer.

mod call;
mod consensus;
mod deploy;
mod error;
mod reader;
mod receipt;
mod tx;
pub(crate) mod writer;

#[cfg(test)]
mod tests;

pub use error::{DecodeError, EncodeError};
pub use tx::{TX_KIND_CALL, TX_KIND_DEPLOY};
