//! Owned frames, and batches of frames that reuse their memory.
//!
//! A live source copies each packet once, out of the kernel's ring or the socket buffer, into a
//! [`FrameBatch`]. The batch keeps one byte buffer for all its frames and one small record per
//! frame; [`FrameBatch::clear`] keeps both allocations, so a source thread that refills the same
//! batch allocates nothing per packet once the batch has grown to its working size.

use periscope_model::{Frame, LinkType, Timestamp};

/// One frame that owns its bytes: what crosses a thread boundary when a single frame must.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedFrame {
    /// Capture (or receive) time.
    pub ts: Timestamp,
    /// Link-layer type of `data`.
    pub link: LinkType,
    /// The captured bytes.
    pub data: Vec<u8>,
    /// Length on the wire; larger than `data.len()` when the snap length cut the frame.
    pub orig_len: u32,
}

impl OwnedFrame {
    /// Copies a borrowed frame.
    pub fn from_frame(frame: &Frame<'_>) -> Self {
        OwnedFrame {
            ts: frame.ts,
            link: frame.link,
            data: frame.data.to_vec(),
            orig_len: frame.orig_len,
        }
    }

    /// The frame as the decoder takes it.
    pub fn as_frame(&self) -> Frame<'_> {
        Frame {
            ts: self.ts,
            link: self.link,
            data: &self.data,
            orig_len: self.orig_len,
        }
    }
}

/// Where one frame of a batch lies in the batch's byte buffer.
#[derive(Debug, Clone, Copy)]
struct Slot {
    ts: Timestamp,
    link: LinkType,
    start: usize,
    len: usize,
    orig_len: u32,
}

/// Frames stored back to back in one reusable buffer.
///
/// Sources append with [`push`](FrameBatch::push); the caller reads with
/// [`iter`](FrameBatch::iter) or [`get`](FrameBatch::get) and hands the batch back for the next
/// call, which clears it first. The batch can be sent to another thread whole (it is `Send`),
/// which costs no copy.
#[derive(Debug, Default, Clone)]
pub struct FrameBatch {
    bytes: Vec<u8>,
    slots: Vec<Slot>,
}

impl FrameBatch {
    /// An empty batch with room for `frames` frames of `bytes` bytes in all.
    pub fn with_capacity(frames: usize, bytes: usize) -> Self {
        FrameBatch {
            bytes: Vec::with_capacity(bytes),
            slots: Vec::with_capacity(frames),
        }
    }

    /// Forgets the frames, keeping the memory.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.slots.clear();
    }

    /// Appends a copy of `data`.
    pub fn push(&mut self, ts: Timestamp, link: LinkType, data: &[u8], orig_len: u32) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(data);
        self.slots.push(Slot {
            ts,
            link,
            start,
            len: data.len(),
            orig_len,
        });
    }

    /// Appends a frame made of `head` followed by `tail` (e.g. a header put back in front of
    /// captured bytes).
    pub fn push_parts(
        &mut self,
        ts: Timestamp,
        link: LinkType,
        head: &[u8],
        tail: &[u8],
        orig_len: u32,
    ) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(head);
        self.bytes.extend_from_slice(tail);
        self.slots.push(Slot {
            ts,
            link,
            start,
            len: head.len() + tail.len(),
            orig_len,
        });
    }

    /// Appends a copy of a borrowed frame.
    pub fn push_frame(&mut self, frame: &Frame<'_>) {
        self.push(frame.ts, frame.link, frame.data, frame.orig_len);
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when the batch holds no frame.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Captured bytes of all frames together.
    pub fn bytes_len(&self) -> usize {
        self.bytes.len()
    }

    /// Frame `i`, when there is one.
    pub fn get(&self, i: usize) -> Option<Frame<'_>> {
        self.slots.get(i).map(|s| self.frame(s))
    }

    /// The frames in the order they were pushed.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Frame<'_>> + '_ {
        self.slots.iter().map(|s| self.frame(s))
    }

    fn frame(&self, s: &Slot) -> Frame<'_> {
        Frame {
            ts: s.ts,
            link: s.link,
            data: self.bytes.get(s.start..s.start + s.len).unwrap_or(&[]),
            orig_len: s.orig_len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_keeps_frames_apart_and_reuses_memory() {
        let mut batch = FrameBatch::default();
        batch.push(Timestamp(1), LinkType::Ethernet, b"first", 60);
        batch.push_parts(Timestamp(2), LinkType::Vxlan, b"he", b"ad", 4);
        batch.push(Timestamp(3), LinkType::Raw, b"", 0);
        let got: Vec<_> = batch
            .iter()
            .map(|f| (f.ts, f.link, f.data.to_vec(), f.orig_len))
            .collect();
        assert_eq!(
            got,
            vec![
                (Timestamp(1), LinkType::Ethernet, b"first".to_vec(), 60),
                (Timestamp(2), LinkType::Vxlan, b"head".to_vec(), 4),
                (Timestamp(3), LinkType::Raw, Vec::new(), 0),
            ]
        );
        assert_eq!((batch.len(), batch.bytes_len()), (3, 9));
        assert!(batch.get(3).is_none());
        let owned = batch.get(1).map(|f| OwnedFrame::from_frame(&f));
        assert_eq!(
            owned.as_ref().map(|o| o.as_frame().data),
            Some(&b"head"[..])
        );

        let (bytes_cap, slots_cap) = (batch.bytes.capacity(), batch.slots.capacity());
        batch.clear();
        assert!(batch.is_empty());
        batch.push(Timestamp(4), LinkType::Ethernet, b"again", 5);
        assert_eq!(batch.bytes.capacity(), bytes_cap);
        assert_eq!(batch.slots.capacity(), slots_cap);
    }
}
