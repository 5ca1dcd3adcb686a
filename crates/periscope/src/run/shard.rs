//! What source threads hand to the workers, and how they pick the worker: a symmetric hash of
//! the flow, so that both directions of a connection meet on one thread and per-flow state
//! needs no lock.

use crate::pipeline::OwnedSegment;
use crossbeam_channel::{Sender, TrySendError};
use periscope_agent::wire::WireEvent;
use periscope_model::{Exchange, Segment};
use periscope_serve::Metrics;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

/// One unit of work for a worker's pipeline.
pub enum WorkItem {
    /// Decoded TCP segments of this worker's flows, in arrival order (interface, tunnels,
    /// capture files): batched, so that a queue operation is paid per batch, not per packet.
    Segments(Vec<OwnedSegment>),
    /// A reassembled stream event from an eBPF agent (flow id already made unique).
    Stream(WireEvent),
    /// A whole exchange from the HTTP mirror listener.
    Exchange(Box<Exchange>),
}

/// How a source behaves when the worker's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
    /// Drop the item and count it: live traffic cannot wait.
    Drop,
    /// Wait for room: capture files and agents (which buffer on their side) can.
    Wait,
}

/// The senders to every worker, shared by the source threads.
#[derive(Clone)]
pub struct Workers {
    senders: Arc<Vec<Sender<WorkItem>>>,
    metrics: Arc<Metrics>,
}

impl WorkItem {
    /// Packets or events it carries (what a drop counts).
    fn weight(&self) -> u64 {
        match self {
            WorkItem::Segments(s) => s.len() as u64,
            WorkItem::Stream(_) | WorkItem::Exchange(_) => 1,
        }
    }
}

impl Workers {
    /// Wraps one sender per worker.
    pub fn new(senders: Vec<Sender<WorkItem>>, metrics: Arc<Metrics>) -> Self {
        Workers {
            senders: Arc::new(senders),
            metrics,
        }
    }

    /// Number of workers.
    pub fn len(&self) -> usize {
        self.senders.len()
    }

    /// Items waiting in each worker's queue.
    pub fn depths(&self) -> impl Iterator<Item = usize> + '_ {
        self.senders.iter().map(|s| s.len())
    }

    /// Sends `item` to worker `shard`. Returns false when the item was dropped (queue full
    /// under [`WhenFull::Drop`], counted as `worker_queue_full`, one per packet or event) or
    /// the worker is gone.
    pub fn send(&self, shard: usize, item: WorkItem, when_full: WhenFull) -> bool {
        let Some(tx) = self.senders.get(shard % self.senders.len().max(1)) else {
            return false;
        };
        match when_full {
            WhenFull::Wait => tx.send(item).is_ok(),
            WhenFull::Drop => match tx.try_send(item) {
                Ok(()) => true,
                Err(TrySendError::Full(item)) => {
                    self.metrics.dropped("worker_queue_full", item.weight());
                    false
                }
                Err(TrySendError::Disconnected(_)) => false,
            },
        }
    }
}

/// The worker of a segment's flow: the same for both directions (the endpoints are ordered
/// before hashing, like the reassembler's flow key, which also holds the tunnel path and VLAN).
pub fn segment_shard(segment: &Segment<'_>, workers: usize) -> usize {
    let (a, b) = if segment.src <= segment.dst {
        (segment.src, segment.dst)
    } else {
        (segment.dst, segment.src)
    };
    let mut h = DefaultHasher::new();
    (a, b, segment.tunnel, segment.vlan).hash(&mut h);
    bucket(h.finish(), workers)
}

/// The worker of anything else keyed by a number (agent flows, mirror clients).
pub fn key_shard(key: impl Hash, workers: usize) -> usize {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    bucket(h.finish(), workers)
}

fn bucket(hash: u64, workers: usize) -> usize {
    (hash % workers.max(1) as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use periscope_model::{Endpoint, TcpFlags, TunnelPath};

    fn seg(src: Endpoint, dst: Endpoint, vlan: Option<u16>) -> Segment<'static> {
        Segment {
            ts: periscope_model::Timestamp(1),
            src,
            dst,
            tunnel: TunnelPath::default(),
            vlan,
            seq: 1,
            ack: 1,
            flags: TcpFlags(TcpFlags::ACK),
            window: 100,
            payload: &[],
            payload_len: 0,
        }
    }

    #[test]
    fn both_directions_go_to_one_worker_and_flows_spread() {
        let server = Endpoint::new([10, 0, 0, 1].into(), 80);
        let mut used = [0usize; 4];
        for port in 40000..40400u16 {
            let client = Endpoint::new([10, 0, 0, 2].into(), port);
            let there = segment_shard(&seg(client, server, None), 4);
            let back = segment_shard(&seg(server, client, None), 4);
            assert_eq!(there, back);
            used[there] += 1;
        }
        // 400 flows over 4 workers: none gets less than half its share.
        assert!(used.iter().all(|&n| n > 50), "{used:?}");
    }
}
