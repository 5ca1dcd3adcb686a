//! The decode step of a frame source: each source thread owns a [`Decoder`] (tunnels, VLANs,
//! IP defragmentation), and hands the TCP segments it finds to the worker owning their flow.

use super::shard::{segment_shard, WhenFull, WorkItem, Workers};
use crate::pipeline::OwnedSegment;
use periscope_decode::{DecodeConfig, Decoded, Decoder};
use periscope_model::{Frame, Timestamp};
use periscope_serve::{Metrics, SourceCounters};
use std::sync::Arc;
use std::time::Duration;

/// Segments sent to a worker in one queue item.
const BATCH: usize = 64;

/// How often (capture time) unfinished IP fragments are expired.
const EXPIRE_EVERY: Duration = Duration::from_secs(1);

/// Frames in, segments out to the workers.
pub struct FrameIngest {
    decoder: Decoder,
    workers: Workers,
    when_full: WhenFull,
    counters: SourceCounters,
    metrics: Arc<Metrics>,
    last_expire: Timestamp,
    malformed_before: u64,
    /// Segments waiting to be sent, per worker.
    pending: Vec<Vec<OwnedSegment>>,
}

impl FrameIngest {
    /// An ingest step for the source named `source` (the metrics label).
    pub fn new(
        config: DecodeConfig,
        workers: Workers,
        when_full: WhenFull,
        metrics: Arc<Metrics>,
        source: &str,
    ) -> anyhow::Result<Self> {
        Ok(FrameIngest {
            decoder: Decoder::new(config)?,
            pending: (0..workers.len()).map(|_| Vec::new()).collect(),
            counters: metrics.source_counters(source),
            workers,
            when_full,
            metrics,
            last_expire: Timestamp(0),
            malformed_before: 0,
        })
    }

    /// Decodes one frame; a TCP segment joins the batch of the worker owning its flow, sent
    /// when it holds [`BATCH`] segments or at [`flush`](Self::flush).
    pub fn frame(&mut self, frame: &Frame<'_>) {
        self.counters.add(1, frame.data.len() as u64);
        if frame.ts.since(self.last_expire) >= EXPIRE_EVERY {
            self.last_expire = frame.ts;
            self.decoder.expire_fragments(frame.ts);
            self.report_malformed();
        }
        let Decoded::Tcp(segment) = self.decoder.decode(frame) else {
            return;
        };
        let shard = segment_shard(&segment, self.workers.len());
        let Some(batch) = self.pending.get_mut(shard) else {
            return;
        };
        batch.push(OwnedSegment::from_segment(&segment));
        if batch.len() >= BATCH {
            let full = std::mem::replace(batch, Vec::with_capacity(BATCH));
            self.workers
                .send(shard, WorkItem::Segments(full), self.when_full);
        }
    }

    /// Sends every partial batch (after each read from the source, so that quiet traffic is
    /// not held back).
    pub fn flush(&mut self) {
        for (shard, batch) in self.pending.iter_mut().enumerate() {
            if !batch.is_empty() {
                let part = std::mem::take(batch);
                self.workers
                    .send(shard, WorkItem::Segments(part), self.when_full);
            }
        }
    }

    /// Counts undecodable frames as drops of reason `malformed` (summarized, never logged per
    /// packet).
    pub fn report_malformed(&mut self) {
        self.flush();
        let stats = self.decoder.stats();
        let malformed = stats.malformed_total();
        if malformed > self.malformed_before {
            self.metrics
                .dropped("malformed", malformed - self.malformed_before);
            self.malformed_before = malformed;
        }
    }
}
