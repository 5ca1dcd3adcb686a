//! Capture filters in tcpdump syntax, compiled by libpcap into classic BPF.

use crate::SourceError;
use netring::{BpfFilter, BpfInsn};
use pcap::{Capture, Linktype};

/// Compiles `filter` (tcpdump syntax, e.g. `tcp port 80`) for Ethernet frames, optimised, into
/// the classic BPF program the kernel runs on each packet before it reaches the ring.
///
/// libpcap compiles against a "dead" handle, so no capture device is needed (this also
/// validates configuration files). The pcap crate keeps the instruction fields private and
/// prints each as `code jt jf k`: that printed form is read back, which keeps this crate free of
/// `unsafe`.
pub fn compile_filter(filter: &str) -> Result<BpfFilter, SourceError> {
    let fail = |message: String| SourceError::Filter {
        filter: filter.to_string(),
        message,
    };
    let dead = Capture::dead(Linktype::ETHERNET).map_err(|e| fail(e.to_string()))?;
    let program = dead
        .compile(filter, true)
        .map_err(|e| fail(e.to_string()))?;
    let mut insns = Vec::with_capacity(program.get_instructions().len());
    for insn in program.get_instructions() {
        let text = insn.to_string();
        let mut fields = text.split_ascii_whitespace();
        let mut next = || fields.next().and_then(|f| f.parse::<u64>().ok());
        let (Some(code), Some(jt), Some(jf), Some(k)) = (next(), next(), next(), next()) else {
            return Err(fail(format!("unreadable BPF instruction {text:?}")));
        };
        let (Ok(code), Ok(jt), Ok(jf), Ok(k)) = (
            u16::try_from(code),
            u8::try_from(jt),
            u8::try_from(jf),
            u32::try_from(k),
        ) else {
            return Err(fail(format!("BPF instruction out of range {text:?}")));
        };
        insns.push(BpfInsn { code, jt, jf, k });
    }
    BpfFilter::new(insns).map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_and_rejects() -> Result<(), SourceError> {
        let f = compile_filter("tcp port 80")?;
        // `tcpdump -d 'tcp port 80'` prints 22 instructions with libpcap 1.10 (IPv4 and IPv6,
        // fragments); any sane compilation has more than a handful.
        assert!(f.len() > 5, "{} instructions", f.len());
        let all = compile_filter("")?;
        assert_eq!(all.len(), 1, "empty filter accepts everything");
        assert!(matches!(
            compile_filter("tcp port eighty"),
            Err(SourceError::Filter { .. })
        ));
        Ok(())
    }
}
