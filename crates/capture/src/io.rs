//! Small `Read` adapters: byte counting for progress, error capture (pcap-parser reduces I/O
//! errors to `ReadError`), and full reads (pcap-parser reads once per refill and gzip returns
//! short reads).

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Shared count of raw bytes read.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReadCounter(Arc<AtomicU64>);

impl ReadCounter {
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The last I/O error message seen by an adapter.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReadErrorSlot(Arc<Mutex<Option<String>>>);

impl ReadErrorSlot {
    fn set(&self, e: &io::Error) {
        if let Ok(mut g) = self.0.lock() {
            *g = Some(e.to_string());
        }
    }
    pub(crate) fn take(&self) -> Option<String> {
        self.0.lock().ok().and_then(|mut g| g.take())
    }
}

/// Counts bytes and records errors of the raw source.
pub(crate) struct Counting<R> {
    inner: R,
    counter: ReadCounter,
    errors: ReadErrorSlot,
}

impl<R> Counting<R> {
    pub(crate) fn new(inner: R, counter: ReadCounter, errors: ReadErrorSlot) -> Self {
        Counting {
            inner,
            counter,
            errors,
        }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.counter.0.fetch_add(n as u64, Ordering::Relaxed);
                Ok(n)
            }
            Err(e) => {
                self.errors.set(&e);
                Err(e)
            }
        }
    }
}

/// Records errors of a decoding layer (gzip).
pub(crate) struct Recording<R> {
    inner: R,
    errors: ReadErrorSlot,
}

impl<R> Recording<R> {
    pub(crate) fn new(inner: R, errors: ReadErrorSlot) -> Self {
        Recording { inner, errors }
    }
}

impl<R: Read> Read for Recording<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            let wrapped = io::Error::new(e.kind(), format!("gzip: {e}"));
            self.errors.set(&wrapped);
        })
    }
}

/// Makes every `read` fill the buffer unless the source ends: pcap-parser treats a 0-byte read
/// as the end and reads once per refill, so short reads would cost extra round trips.
pub(crate) struct FullRead<R> {
    inner: R,
}

impl<R> FullRead<R> {
    pub(crate) fn new(inner: R) -> Self {
        FullRead { inner }
    }
}

impl<R: Read> Read for FullRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_full(&mut self.inner, buf)
    }
}

/// Reads until `buf` is full or the source ends; returns the bytes read.
pub(crate) fn read_full<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(buf.get_mut(filled..).unwrap_or(&mut [])) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                if filled > 0 {
                    // Hand over what we have; the error comes back on the next call.
                    break;
                }
                return Err(e);
            }
        }
    }
    Ok(filled)
}
