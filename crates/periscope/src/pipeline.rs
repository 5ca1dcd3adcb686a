//! One pipeline for every input: frames → segments → stream events → exchanges → events.
//!
//! `periscope analyze` feeds it frames from files; the sensor daemon will feed it frames from
//! live sources and the eBPF agent stream events directly (skipping decode and reassembly).
//! Timeouts run on capture time: the pipeline's clock is the newest frame timestamp it saw.

use crate::coverage::CoverageTable;
use periscope_decode::{DecodeConfig, Decoded, Decoder};
use periscope_http::{HttpConfig, HttpOutput, HttpTracker};
use periscope_model::{Event, Exchange, FlowId, Frame, Segment, StreamEvent, Timestamp};
use periscope_reassemble::{Reassembler, ReassemblyConfig};
use std::time::Duration;

/// How often (in capture time) idle flows and unanswered requests are checked.
const TICK: Duration = Duration::from_millis(100);

/// Settings of every stage.
#[derive(Debug, Clone, Default)]
pub struct PipelineConfig {
    /// Packet decoding: tunnel ports, defragmentation caps.
    pub decode: DecodeConfig,
    /// TCP reassembly: flow table and buffer caps, timeouts.
    pub reassembly: ReassemblyConfig,
    /// HTTP parsing: body caps, decompression limits, response timeout.
    pub http: HttpConfig,
}

/// Consumer of exchanges (analysers). The pipeline calls it for every exchange, in the order
/// they complete, and once at the end.
pub trait ExchangeConsumer {
    /// Sees one exchange; may add events of its own to `out` (emitted right after the exchange).
    fn on_exchange(&mut self, ex: &Exchange, out: &mut Vec<Event>);
    /// End of input: adds what was held back.
    fn finish(&mut self, _out: &mut Vec<Event>) {}
}

/// Where the pipeline's events go. Any `FnMut(Event)` is one; the [`crate::analysers::Aggregated`]
/// sink runs the cross-request analysers before handing events on.
pub trait EventSink {
    /// Takes one event.
    fn event(&mut self, event: Event);
    /// Capture time moved to `now` (called about every 100 ms of capture time, and by live sources
    /// while no traffic comes).
    fn tick(&mut self, _now: Timestamp) {}
    /// End of input: nothing follows.
    fn finish(&mut self) {}
}

impl<F: FnMut(Event)> EventSink for F {
    fn event(&mut self, event: Event) {
        self(event)
    }
}

/// Frames in, events out.
pub struct Pipeline<E: EventSink> {
    decoder: Decoder,
    reassembler: Reassembler,
    after: AfterReassembly<E>,
    clock: Timestamp,
    last_tick: Timestamp,
}

/// The stages after reassembly, kept apart so that reassembly's sink can borrow them while
/// the reassembler itself is borrowed.
struct AfterReassembly<E: EventSink> {
    http: HttpTracker,
    router: Router<E>,
}

/// Where the HTTP stage's outputs go: coverage, the analysers, and the output.
struct Router<E: EventSink> {
    coverage: CoverageTable,
    consumers: Vec<Box<dyn ExchangeConsumer>>,
    emit: E,
    exchanges: u64,
    /// Events the consumers produced for the exchange being routed (reused buffer).
    pending: Vec<Event>,
}

impl<E: EventSink> AfterReassembly<E> {
    fn on_stream_event(&mut self, flow: FlowId, ev: StreamEvent<'_>) {
        let router = &mut self.router;
        self.http.on_event(flow, ev, &mut |out| router.route(out));
    }

    fn advance(&mut self, now: Timestamp) {
        let router = &mut self.router;
        self.http.advance(now, &mut |out| router.route(out));
    }

    fn finish(&mut self) {
        let router = &mut self.router;
        self.http.finish(&mut |out| router.route(out));
        let Router {
            coverage,
            consumers,
            emit,
            pending,
            ..
        } = router;
        for consumer in consumers.iter_mut() {
            consumer.finish(pending);
        }
        pending.drain(..).for_each(|e| emit.event(e));
        for event in coverage.drain_events() {
            emit.event(event);
        }
        emit.finish();
    }
}

impl<E: EventSink> Router<E> {
    /// Sends one HTTP-layer output where it belongs: exchanges to coverage, the analysers and
    /// the output (the analysers' events right after their exchange); connection summaries to
    /// coverage only.
    fn route(&mut self, out: HttpOutput) {
        match out {
            HttpOutput::Exchange(ex) => {
                self.exchanges += 1;
                self.coverage.on_exchange(&ex);
                for consumer in self.consumers.iter_mut() {
                    consumer.on_exchange(&ex, &mut self.pending);
                }
                self.emit.event(Event::Exchange(ex));
                let emit = &mut self.emit;
                self.pending.drain(..).for_each(|e| emit.event(e));
            }
            HttpOutput::Connection(summary) => self.coverage.on_connection(&summary),
        }
    }
}

impl<E: EventSink> Pipeline<E> {
    /// Builds a pipeline that hands every event to `emit`. Fails when a stage's settings are
    /// invalid (the error names the setting).
    pub fn new(config: PipelineConfig, emit: E) -> anyhow::Result<Self> {
        Self::with_exchange_ids(config, emit, 1, 1)
    }

    /// The same, numbering exchanges `first`, `first + step`, …: the daemon's worker `i` of `n`
    /// uses `(i + 1, n)` so that exchange ids stay unique across workers.
    pub fn with_exchange_ids(
        config: PipelineConfig,
        emit: E,
        first: u64,
        step: u64,
    ) -> anyhow::Result<Self> {
        config.reassembly.validate()?;
        config.http.validate()?;
        Ok(Pipeline {
            decoder: Decoder::new(config.decode)?,
            reassembler: Reassembler::new(config.reassembly),
            after: AfterReassembly {
                http: HttpTracker::with_id_base(config.http, first, step.max(1)),
                router: Router {
                    coverage: CoverageTable::default(),
                    consumers: Vec::new(),
                    emit,
                    exchanges: 0,
                    pending: Vec::new(),
                },
            },
            clock: Timestamp(0),
            last_tick: Timestamp(0),
        })
    }

    /// Adds an analyser that sees every exchange.
    pub fn add_consumer(&mut self, consumer: Box<dyn ExchangeConsumer>) {
        self.after.router.consumers.push(consumer);
    }

    /// Feeds one captured frame.
    pub fn feed_frame(&mut self, frame: &Frame<'_>) {
        self.tick(frame.ts);
        if let Decoded::Tcp(segment) = self.decoder.decode(frame) {
            let after = &mut self.after;
            self.reassembler
                .process(&segment, &mut |flow: FlowId, ev: StreamEvent<'_>| {
                    after.on_stream_event(flow, ev)
                });
        }
    }

    /// Feeds one TCP segment from a source that decodes itself (tests, benchmarks).
    pub fn feed_segment(&mut self, segment: &Segment<'_>) {
        self.tick(segment.ts);
        let after = &mut self.after;
        self.reassembler
            .process(segment, &mut |flow: FlowId, ev: StreamEvent<'_>| {
                after.on_stream_event(flow, ev)
            });
    }

    /// Feeds one stream event from a source that reassembles itself (the eBPF agent).
    pub fn feed_stream_event(&mut self, flow: FlowId, ev: StreamEvent<'_>) {
        if let StreamEvent::Data { ts, .. } | StreamEvent::Open { ts, .. } = ev {
            self.clock = self.clock.max(ts);
        }
        self.after.on_stream_event(flow, ev);
    }

    /// Feeds one exchange from a source that parses HTTP itself (the `http_mirror` listener):
    /// it skips decode, reassembly and HTTP pairing but goes through the analysers and out like
    /// any other exchange.
    pub fn feed_exchange(&mut self, ex: Box<Exchange>) {
        self.tick(ex.ts);
        self.after.router.route(HttpOutput::Exchange(ex));
    }

    /// The event sink (the daemon's workers take the events it collected after each feed).
    pub fn sink_mut(&mut self) -> &mut E {
        &mut self.after.router.emit
    }

    /// Moves the clock of a live source forward (so unanswered requests time out while no
    /// traffic comes).
    pub fn advance_clock(&mut self, now: Timestamp) {
        self.tick(now);
    }

    /// Moves the capture clock forward and runs timeouts when a tick has passed. Captures are
    /// not always sorted, so the clock never goes back.
    fn tick(&mut self, ts: Timestamp) {
        if ts <= self.clock {
            return;
        }
        self.clock = ts;
        if self.clock.since(self.last_tick) < TICK {
            return;
        }
        self.last_tick = self.clock;
        self.decoder.expire_fragments(self.clock);
        let after = &mut self.after;
        self.reassembler
            .advance(self.clock, &mut |flow: FlowId, ev: StreamEvent<'_>| {
                after.on_stream_event(flow, ev)
            });
        self.after.advance(self.clock);
        self.after.router.emit.tick(self.clock);
    }

    /// End of input: closes every flow, emits what is pending and the coverage events.
    pub fn finish(&mut self) {
        let after = &mut self.after;
        self.reassembler
            .finish(&mut |flow: FlowId, ev: StreamEvent<'_>| after.on_stream_event(flow, ev));
        self.after.finish();
    }

    /// Counters of every stage, for the summary and metrics.
    pub fn stats(&self) -> PipelineStats<'_> {
        PipelineStats {
            decode: self.decoder.stats(),
            reassembly: self.reassembler.stats(),
            http: self.after.http.stats(),
            exchanges: self.after.router.exchanges,
        }
    }
}

/// Borrowed view of every stage's counters.
pub struct PipelineStats<'a> {
    /// Decoder counters.
    pub decode: &'a periscope_decode::DecodeStats,
    /// Reassembler counters.
    pub reassembly: &'a periscope_reassemble::ReassemblyStats,
    /// HTTP counters.
    pub http: &'a periscope_http::HttpStats,
    /// Exchanges emitted.
    pub exchanges: u64,
}

/// A TCP segment that owns its payload: what crosses from a source thread to the worker that
/// owns the segment's flow.
#[derive(Debug, Clone)]
pub struct OwnedSegment {
    /// The segment's fields; `payload` is empty here (see `payload`).
    pub head: Segment<'static>,
    /// The captured payload bytes.
    pub payload: Vec<u8>,
}

impl OwnedSegment {
    /// Copies a borrowed segment.
    pub fn from_segment(segment: &Segment<'_>) -> Self {
        OwnedSegment {
            head: Segment {
                ts: segment.ts,
                src: segment.src,
                dst: segment.dst,
                tunnel: segment.tunnel,
                vlan: segment.vlan,
                seq: segment.seq,
                ack: segment.ack,
                flags: segment.flags,
                window: segment.window,
                payload: &[],
                payload_len: segment.payload_len,
            },
            payload: segment.payload.to_vec(),
        }
    }

    /// The segment as the reassembler takes it.
    pub fn as_segment(&self) -> Segment<'_> {
        Segment {
            payload: &self.payload,
            ..self.head
        }
    }
}
