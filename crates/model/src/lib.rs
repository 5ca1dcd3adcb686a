//! Types that cross Periscope's stage boundaries. No I/O, no async.
//!
//! The pipeline is capture → decode → reassemble → http → analyse → out. Each stage
//! knows only these types, never another stage:
//!
//! ```text
//! capture    → Frame<'buf>        link type, timestamp, captured bytes (borrowed)
//! decode     → Segment<'buf>      one TCP segment with addresses, tunnel path, seq/ack, payload (borrowed)
//! reassemble → StreamEvent<'buf>  Open | Data | Gap | Close, per flow and direction (borrowed)
//! http       → Exchange           owned request + response, flags
//! analyse    → Event              the NDJSON schema ("type": "exchange", "coverage", …)
//! ```
//!
//! `Exchange` is the first owned, allocated value on the path; everything before it borrows.

pub mod attack;
pub mod endpoint;
pub mod event;
pub mod exchange;
pub mod finding;
pub mod flow;
pub mod frame;
pub mod stream;
pub mod time;

pub use attack::{Attack, Outcome};
pub use event::{Coverage, Event};
pub use exchange::{Body, Exchange, Flag, Headers, HttpVersion, Request, Response};
pub use finding::{Incident, Severity, Vulnerability};
pub use flow::{Direction, Endpoint, FlowId, TcpFlags, Tunnel, TunnelKind, TunnelPath};
pub use frame::{Frame, LinkType, Segment};
pub use stream::{CloseReason, FlowStats, StreamEvent};
pub use time::Timestamp;
