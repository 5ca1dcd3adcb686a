//! The flow table: a slab of flows, a hash index holding only slab indices, and two intrusive
//! recency lists (active connections; closed ones lingering for late retransmissions).
//!
//! Every operation is O(1) (amortised for the hash index): eviction takes the tail of a list,
//! timeouts walk the tails only while they are expired.

use crate::half::Half;
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use periscope_model::{Endpoint, Segment, Timestamp, TunnelPath};
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::IpAddr;

/// "No slot" in the intrusive lists.
const NIL: u32 = u32::MAX;

/// Identifies a connection in both directions: the two endpoints in a canonical order, the
/// tunnel path and the VLAN (the same 4-tuple in two VNIs is two connections).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlowKey {
    pub a: Endpoint,
    pub b: Endpoint,
    pub tunnel: TunnelPath,
    pub vlan: Option<u16>,
}

impl FlowKey {
    /// The key of `seg`'s connection and whether `seg.src` is its `a` side.
    pub fn of(seg: &Segment<'_>) -> (Self, bool) {
        let src_is_a = seg.src <= seg.dst;
        let (a, b) = if src_is_a {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        (
            FlowKey {
                a,
                b,
                tunnel: seg.tunnel,
                vlan: seg.vlan,
            },
            src_is_a,
        )
    }
}

/// Hashes the key as a few wide integers: the derived `Hash` feeds every field and enum tag
/// separately, which measured as a fifth of the per-segment cost. Equality stays exact, so
/// mapping IPv4 into IPv6 space here can only cost a collision, never a wrong match.
impl Hash for FlowKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let ip = |e: &Endpoint| match e.ip {
            IpAddr::V4(v4) => u128::from(v4.to_bits()),
            IpAddr::V6(v6) => v6.to_bits(),
        };
        h.write_u128(ip(&self.a));
        h.write_u128(ip(&self.b));
        let vlan = self.vlan.map_or(0, |v| u64::from(v) | 1 << 16);
        h.write_u64(u64::from(self.a.port) << 48 | u64::from(self.b.port) << 32 | vlan);
        for t in self.tunnel.iter() {
            h.write_u64(u64::from(t.id) << 8 | t.kind as u64);
        }
    }
}

pub(crate) const F_SYN: u8 = 1;
pub(crate) const F_SYN_ACK: u8 = 2;
pub(crate) const F_RST: u8 = 4;
pub(crate) const F_HANDSHAKE: u8 = 8;
pub(crate) const F_CLIENT_IS_A: u8 = 16;
pub(crate) const F_CLOSED: u8 = 32;

/// One connection's state.
#[derive(Debug)]
pub(crate) struct Flow {
    pub key: FlowKey,
    pub id: u64,
    /// Latest capture time of a packet (or, once closed, the close time).
    pub last_seen: Timestamp,
    prev: u32,
    next: u32,
    pub flags: u8,
    /// Indexed by `Direction::index`: 0 is what the client sends, 1 what the server sends.
    pub half: [Half; 2],
}

impl Flow {
    pub fn new(key: FlowKey, id: u64, ts: Timestamp, flags: u8) -> Self {
        Flow {
            key,
            id,
            last_seen: ts,
            prev: NIL,
            next: NIL,
            flags,
            half: Default::default(),
        }
    }
    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }
    pub fn closed(&self) -> bool {
        self.has(F_CLOSED)
    }
}

/// Which recency list a flow is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListId {
    Active = 0,
    Closed = 1,
}

#[derive(Debug, Clone, Copy)]
struct List {
    /// Most recently touched.
    head: u32,
    /// Least recently touched: the next to evict or expire.
    tail: u32,
}

impl Default for List {
    fn default() -> Self {
        List {
            head: NIL,
            tail: NIL,
        }
    }
}

/// Slab + index + recency lists.
#[derive(Debug, Default)]
pub(crate) struct FlowTable {
    index: HashTable<u32>,
    hasher: RandomState,
    slots: Vec<Option<Flow>>,
    free: Vec<u32>,
    lists: [List; 2],
    len: usize,
}

impl FlowTable {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn hash(&self, key: &FlowKey) -> u64 {
        self.hasher.hash_one(key)
    }

    pub fn find(&self, hash: u64, key: &FlowKey) -> Option<u32> {
        let slots = &self.slots;
        self.index
            .find(hash, |&i| slot(slots, i).is_some_and(|f| f.key == *key))
            .copied()
    }

    pub fn get(&self, i: u32) -> Option<&Flow> {
        slot(&self.slots, i)
    }

    pub fn get_mut(&mut self, i: u32) -> Option<&mut Flow> {
        self.slots.get_mut(i as usize).and_then(Option::as_mut)
    }

    /// Adds a flow at the head of the active list. The caller keeps `len` under its cap.
    pub fn insert(&mut self, hash: u64, flow: Flow) -> u32 {
        let i = match self.free.pop() {
            Some(i) => {
                if let Some(s) = self.slots.get_mut(i as usize) {
                    *s = Some(flow);
                }
                i
            }
            None => {
                self.slots.push(Some(flow));
                (self.slots.len() - 1) as u32
            }
        };
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index.insert_unique(hash, i, |&j| {
            slot(slots, j).map_or(0, |f| hasher.hash_one(f.key))
        });
        self.len += 1;
        self.link_head(ListId::Active, i);
        i
    }

    /// Removes a flow entirely.
    pub fn remove(&mut self, i: u32) -> Option<Flow> {
        let list = self.list_of(i)?;
        self.unlink(list, i);
        let hash = self.get(i).map(|f| self.hash(&f.key))?;
        if let Ok(e) = self.index.find_entry(hash, |&j| j == i) {
            e.remove();
        }
        let flow = self.slots.get_mut(i as usize).and_then(Option::take)?;
        self.free.push(i);
        self.len = self.len.saturating_sub(1);
        Some(flow)
    }

    /// Moves a flow to the head of its list (it just saw a packet).
    pub fn touch(&mut self, i: u32) {
        if let Some(list) = self.list_of(i) {
            if self.lists[list as usize].head != i {
                self.unlink(list, i);
                self.link_head(list, i);
            }
        }
    }

    /// Marks a flow closed and moves it to the closed list, where it lingers.
    pub fn move_to_closed(&mut self, i: u32, ts: Timestamp) {
        if self.list_of(i) == Some(ListId::Active) {
            self.unlink(ListId::Active, i);
            if let Some(f) = self.get_mut(i) {
                f.flags |= F_CLOSED;
                f.last_seen = ts;
            }
            self.link_head(ListId::Closed, i);
        }
    }

    /// The least recently touched flow of `list`.
    pub fn tail(&self, list: ListId) -> Option<u32> {
        let t = self.lists[list as usize].tail;
        (t != NIL).then_some(t)
    }

    fn list_of(&self, i: u32) -> Option<ListId> {
        self.get(i).map(|f| {
            if f.closed() {
                ListId::Closed
            } else {
                ListId::Active
            }
        })
    }

    fn link_head(&mut self, list: ListId, i: u32) {
        let old_head = self.lists[list as usize].head;
        if let Some(f) = self.get_mut(i) {
            f.prev = NIL;
            f.next = old_head;
        }
        if let Some(h) = self.get_mut(old_head) {
            h.prev = i;
        }
        let l = &mut self.lists[list as usize];
        l.head = i;
        if l.tail == NIL {
            l.tail = i;
        }
    }

    fn unlink(&mut self, list: ListId, i: u32) {
        let Some((prev, next)) = self.get(i).map(|f| (f.prev, f.next)) else {
            return;
        };
        match self.get_mut(prev) {
            Some(p) => p.next = next,
            None => self.lists[list as usize].head = next,
        }
        match self.get_mut(next) {
            Some(n) => n.prev = prev,
            None => self.lists[list as usize].tail = prev,
        }
        if let Some(f) = self.get_mut(i) {
            f.prev = NIL;
            f.next = NIL;
        }
    }

    /// Slots allocated (live + free), and the hash index's capacity: for memory reports.
    pub fn capacity(&self) -> (usize, usize) {
        (self.slots.capacity(), self.index.capacity())
    }
}

#[cfg(test)]
impl FlowTable {
    /// Every live flow (tests recount buffers with it).
    pub fn flows(&self) -> impl Iterator<Item = &Flow> {
        self.slots.iter().flatten()
    }
}

fn slot(slots: &[Option<Flow>], i: u32) -> Option<&Flow> {
    slots.get(i as usize).and_then(Option::as_ref)
}
