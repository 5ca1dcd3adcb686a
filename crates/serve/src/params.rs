//! The query parameters of `GET /api/v1/events`, checked one by one so that a bad one gets a
//! 400 naming it.

use crate::error::ApiError;
use periscope_model::Timestamp;
use serde::Deserialize;
use std::time::{Duration, SystemTime};

/// The event types `/api/v1/events?type=` accepts.
pub const EVENT_TYPES: [&str; 6] = [
    "attack",
    "incident",
    "vulnerability",
    "endpoint",
    "exchange",
    "coverage",
];

/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 100;

/// Largest `limit` accepted.
pub const MAX_LIMIT: usize = 1000;

/// The query string as sent: every value is text until checked, so that a bad value is
/// reported by [`EventsParams::check`] with its parameter's name rather than by serde.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEventsParams {
    /// `type=`: one of [`EVENT_TYPES`].
    #[serde(rename = "type")]
    kind: Option<String>,
    /// `since=`: RFC 3339 time.
    since: Option<String>,
    /// `limit=`: page size.
    limit: Option<String>,
    /// `cursor=`: the `next` of the previous page.
    cursor: Option<String>,
}

/// Checked parameters of `/api/v1/events`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventsParams {
    /// Only this event type.
    pub kind: Option<&'static str>,
    /// Only events at or after this time.
    pub since: Option<Timestamp>,
    /// Page size, 1 to [`MAX_LIMIT`].
    pub limit: usize,
    /// Only records after this sequence number.
    pub after: Option<u64>,
}

impl RawEventsParams {
    /// Checks every parameter; the error names the first bad one.
    pub fn check(self) -> Result<EventsParams, ApiError> {
        let kind = match self.kind.as_deref() {
            None => None,
            Some(k) => match EVENT_TYPES.iter().find(|t| **t == k) {
                Some(t) => Some(*t),
                None => {
                    return Err(ApiError::bad_parameter(
                        "type",
                        format!(
                            "unknown event type {k:?}; expected one of {}",
                            EVENT_TYPES.join(", ")
                        ),
                    ))
                }
            },
        };
        let since = match self.since.as_deref() {
            None => None,
            Some(s) => Some(parse_rfc3339(s).map_err(|why| {
                ApiError::bad_parameter(
                    "since",
                    format!("{s:?} is not an RFC 3339 time ({why}), e.g. 2026-11-25T16:45:46Z"),
                )
            })?),
        };
        let limit = match self.limit.as_deref() {
            None => DEFAULT_LIMIT,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(ApiError::bad_parameter(
                        "limit",
                        format!("{l:?} is not a whole number from 1 to {MAX_LIMIT}"),
                    ))
                }
            },
        };
        let after = match self.cursor.as_deref() {
            None => None,
            Some(c) => Some(decode_cursor(c).ok_or_else(|| {
                ApiError::bad_parameter(
                    "cursor",
                    format!("{c:?} is not a cursor this API returned (use the \"next\" of a page)"),
                )
            })?),
        };
        Ok(EventsParams {
            kind,
            since,
            limit,
            after,
        })
    }
}

/// The cursor clients see for "after sequence number `seq`". Clients must treat it as opaque.
pub fn encode_cursor(seq: u64) -> String {
    seq.to_string()
}

/// The sequence number in a cursor from [`encode_cursor`].
fn decode_cursor(cursor: &str) -> Option<u64> {
    if cursor.is_empty() || !cursor.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    cursor.parse().ok()
}

/// Reads an RFC 3339 time with a `Z` or `±HH:MM` offset into capture time (UTC).
///
/// A `+` in a query string that was not percent-encoded arrives as a space; a space where the
/// offset's sign belongs is read as `+`.
pub fn parse_rfc3339(text: &str) -> Result<Timestamp, &'static str> {
    if !text.is_ascii() {
        return Err("not ASCII");
    }
    let bytes = text.as_bytes();
    let (local, offset_secs): (&str, i64) =
        if let Some(local) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
            (local, 0)
        } else if bytes.len() > 6 && bytes[bytes.len() - 3] == b':' {
            let sign = match bytes[bytes.len() - 6] {
                b'+' | b' ' => 1,
                b'-' => -1,
                _ => return Err("no time zone: end it with Z or an offset like +02:00"),
            };
            let hours = two_digits(&bytes[bytes.len() - 5..bytes.len() - 3]).ok_or("bad offset")?;
            let minutes = two_digits(&bytes[bytes.len() - 2..]).ok_or("bad offset")?;
            if hours > 23 || minutes > 59 {
                return Err("offset out of range");
            }
            (
                &text[..text.len() - 6],
                sign * (i64::from(hours) * 3600 + i64::from(minutes) * 60),
            )
        } else {
            return Err("no time zone: end it with Z or an offset like +02:00");
        };
    let local = humantime::parse_rfc3339(&format!("{local}Z")).map_err(|e| match e {
        humantime::TimestampError::OutOfRange => "out of range (1970 to 9999)",
        _ => "bad date or time",
    })?;
    // Local time = UTC + offset, so UTC = local - offset.
    let offset = Duration::from_secs(offset_secs.unsigned_abs());
    let utc = if offset_secs >= 0 {
        local.checked_sub(offset)
    } else {
        local.checked_add(offset)
    };
    // Before 1970 every capture time is later: the filter keeps everything.
    Ok(utc.map_or(Timestamp(0), |t: SystemTime| Timestamp::from(t)))
}

fn two_digits(b: &[u8]) -> Option<u8> {
    match b {
        [h @ b'0'..=b'9', l @ b'0'..=b'9'] => Some((h - b'0') * 10 + (l - b'0')),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_offsets_are_converted_to_utc() -> Result<(), &'static str> {
        let utc = parse_rfc3339("2026-11-25T16:45:46.123456Z")?;
        assert_eq!(utc.to_rfc3339(), "2026-11-25T16:45:46.123456Z");
        assert_eq!(parse_rfc3339("2026-11-25T18:45:46.123456+02:00")?, utc);
        assert_eq!(parse_rfc3339("2026-11-25T18:45:46.123456 02:00")?, utc);
        assert_eq!(parse_rfc3339("2026-11-25T15:15:46.123456-01:30")?, utc);
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+02:00")?, Timestamp(0));
        for bad in [
            "",
            "yesterday",
            "2026-11-25T16:45:46",
            "2026-13-25T16:45:46Z",
            "2026-11-25T16:45:46+2:00",
            "2026-11-25T16:45:46+24:00",
            "2026-11-25T16:45:46é",
            "+00:00",
            "1960-01-01T00:00:00Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad:?} was accepted");
        }
        Ok(())
    }

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor(&encode_cursor(u64::MAX)), Some(u64::MAX));
        for bad in ["", "-1", "+1", "1e3", "abc", "99999999999999999999999"] {
            assert_eq!(decode_cursor(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn each_bad_parameter_is_named() {
        let cases = [
            (("bogus", "", "", ""), "type"),
            (("", "soon", "", ""), "since"),
            (("", "", "0", ""), "limit"),
            (("", "", "1001", ""), "limit"),
            (("", "", "ten", ""), "limit"),
            (("", "", "", "x1"), "cursor"),
        ];
        for ((kind, since, limit, cursor), name) in cases {
            let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
            let raw = RawEventsParams {
                kind: some(kind),
                since: some(since),
                limit: some(limit),
                cursor: some(cursor),
            };
            match raw.check() {
                Err(ApiError::BadParameter { parameter, .. }) => assert_eq!(parameter, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        let ok = RawEventsParams {
            kind: Some("attack".into()),
            limit: Some("1000".into()),
            ..RawEventsParams::default()
        }
        .check();
        assert!(
            matches!(
                ok,
                Ok(EventsParams {
                    kind: Some("attack"),
                    limit: 1000,
                    ..
                })
            ),
            "{ok:?}"
        );
    }
}
