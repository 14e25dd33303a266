//! Packed events (from `lib/pack.js`) straight to the core's typed event: no JSON parser.
//!
//! Strings are `<UTF-16 length>:<text>`; `-` marks an absent member. Only plain, valid
//! input takes this path: any text that does not read back exactly, and any rule not met,
//! answers `None`, and the JavaScript layer takes the JSON path, which accepts or reports
//! it exactly as before (same problems, paths and messages).
//!
//! Each thread refills one scratch body in place, so that its strings, vectors and maps
//! keep their allocations from one event to the next.

use std::cell::Cell;

use auditwire::{
    is_valid_metadata_key, is_valid_metadata_string, Event, Metadata, MetadataValue, Target,
    Timestamp, MAX_METADATA_KEYS,
};

/// Packed text longer than this is left to the JSON path (it enforces the document limits).
const MAX_PACKED_BYTES: usize = 64 * 1024;

/// A scratch body: organization id and event.
type Body = (String, Event);

thread_local! {
    static SCRATCH: Cell<Option<Body>> = const { Cell::new(None) };
}

fn empty_body() -> Body {
    (String::new(), Event::empty())
}

/// Reads packed `text` into the body `(organization_id, event)` and runs `emit` on it;
/// `None` (without running it) when the JSON path must decide. `at` is the Unix
/// milliseconds of a `Date` given for `occurred_at` (text `d`).
pub(crate) fn with_body<R>(
    text: &[u8],
    at: f64,
    emit: impl FnOnce(&str, &Event) -> R,
) -> Option<R> {
    if text.len() > MAX_PACKED_BYTES {
        return None;
    }
    let text = std::str::from_utf8(text).ok()?;
    let ascii = text.is_ascii();
    // A lone surrogate arrives as U+FFFD; JSON text keeps it, so the JSON path decides.
    if !ascii && text.contains('\u{FFFD}') {
        return None;
    }
    let mut body = SCRATCH
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_else(empty_body);
    let filled = Reader::new(text, ascii, at).body(&mut body);
    let result = filled.map(|()| emit(&body.0, &body.1));
    let _ = SCRATCH.try_with(|cell| cell.set(Some(body)));
    result
}

/// A cursor over packed text.
struct Reader<'a> {
    text: &'a str,
    pos: usize,
    /// Lengths count UTF-16 units; in ASCII text they are bytes.
    ascii: bool,
    /// The Unix milliseconds of a `Date` for `occurred_at`.
    at: f64,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, ascii: bool, at: f64) -> Self {
        Reader {
            text,
            pos: 0,
            ascii,
            at,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Takes `b` when it comes next.
    fn eat(&mut self, b: u8) -> bool {
        let found = self.peek() == Some(b);
        self.pos += usize::from(found);
        found
    }

    /// A decimal count ended by `end`.
    fn count(&mut self, end: u8) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut n: usize = 0;
        while let Some(&b) = bytes.get(self.pos) {
            if !b.is_ascii_digit() {
                break;
            }
            n = n.checked_mul(10)?.checked_add(usize::from(b - b'0'))?;
            self.pos += 1;
        }
        (self.pos > start && self.eat(end)).then_some(n)
    }

    /// A string: `<UTF-16 length>:<text>`.
    fn str(&mut self) -> Option<&'a str> {
        let units = self.count(b':')?;
        let rest = &self.text[self.pos..];
        let len = if self.ascii {
            units
        } else {
            utf8_len(rest, units)?
        };
        let s = rest.get(..len)?;
        self.pos += len;
        Some(s)
    }

    /// A string, or `None` inside for `-`.
    fn optional_str(&mut self) -> Option<Option<&'a str>> {
        if self.eat(b'-') {
            Some(None)
        } else {
            self.str().map(Some)
        }
    }

    fn body(&mut self, (org, event): &mut Body) -> Option<()> {
        required_text(self.str()?, org)?;
        required_text(self.str()?, &mut event.action)?;
        event.occurred_at = self.timestamp()?;
        event.version = match self.optional_str()? {
            None => None,
            Some(v) => Some(v.parse::<i64>().ok().filter(|&n| n >= 1)?),
        };
        let a = &mut event.actor;
        self.party((&mut a.id, &mut a.kind, &mut a.name, &mut a.metadata))?;
        self.targets(&mut event.targets)?;
        required_text(self.str()?, &mut event.context.location)?;
        optional_text(self.optional_str()?, &mut event.context.user_agent);
        self.optional_metadata(&mut event.metadata)?;
        (self.pos == self.text.len()).then_some(())
    }

    /// `occurred_at`: a string, or `d` for the `Date` given beside the text.
    fn timestamp(&mut self) -> Option<Timestamp> {
        if !self.eat(b'd') {
            return Timestamp::parse(self.str()?).ok();
        }
        // A Date's time is a whole number of milliseconds within ±8.64e15.
        let at = self.at;
        if !(at.fract() == 0.0 && at.abs() <= 8.64e15) {
            return None;
        }
        Timestamp::from_unix_millis(at as i64).ok()
    }

    /// An actor's or a target's fields: id, type, name, metadata.
    #[allow(clippy::type_complexity)]
    fn party(
        &mut self,
        (id, kind, name, metadata): (
            &mut String,
            &mut String,
            &mut Option<String>,
            &mut Option<Metadata>,
        ),
    ) -> Option<()> {
        required_text(self.str()?, id)?;
        required_text(self.str()?, kind)?;
        optional_text(self.optional_str()?, name);
        self.optional_metadata(metadata)
    }

    fn targets(&mut self, out: &mut Vec<Target>) -> Option<()> {
        let len = self.count(b'[')?;
        // Each target takes at least 7 bytes: a bound before allocating.
        if len > self.text.len() / 7 {
            return None;
        }
        out.truncate(len);
        for i in 0..len {
            if i == out.len() {
                out.push(Target::new("", ""));
            }
            let t = &mut out[i];
            self.party((&mut t.id, &mut t.kind, &mut t.name, &mut t.metadata))?;
        }
        Some(())
    }

    fn optional_metadata(&mut self, out: &mut Option<Metadata>) -> Option<()> {
        if self.eat(b'-') {
            *out = None;
            return Some(());
        }
        self.metadata(out.get_or_insert_with(Metadata::new))
    }

    /// A metadata object meeting every limit; entries whose key is unchanged since the
    /// last event keep their allocations.
    fn metadata(&mut self, out: &mut Metadata) -> Option<()> {
        let len = self.count(b'{')?;
        if len > MAX_METADATA_KEYS {
            return None;
        }
        for i in 0..len {
            let key = self.str()?;
            if !is_valid_metadata_key(key) {
                return None;
            }
            if !out.get_index(i).is_some_and(|(old, _)| old == key) {
                out.truncate(i);
                // A key seen twice is not plain JavaScript input: the JSON path decides.
                if out.contains_key(key) {
                    return None;
                }
                out.insert(key.to_owned(), MetadataValue::Bool(false));
            }
            let (_, value) = out.get_index_mut(i).expect("entry i was just checked");
            self.metadata_value(value)?;
        }
        out.truncate(len);
        Some(())
    }

    fn metadata_value(&mut self, dst: &mut MetadataValue) -> Option<()> {
        let tag = self.peek()?;
        self.pos += 1;
        match tag {
            b's' => {
                let text = self.str()?;
                if !is_valid_metadata_string(text) {
                    return None;
                }
                if let MetadataValue::String(s) = dst {
                    s.clear();
                    s.push_str(text);
                } else {
                    *dst = MetadataValue::String(text.to_owned());
                }
            }
            b'n' => *dst = MetadataValue::Number(self.str()?.parse().ok()?),
            b't' => *dst = MetadataValue::Bool(true),
            b'f' => *dst = MetadataValue::Bool(false),
            _ => return None,
        }
        Some(())
    }
}

/// The UTF-8 length of the first `units` UTF-16 units of `text`.
fn utf8_len(text: &str, units: usize) -> Option<usize> {
    let mut seen = 0;
    for (i, c) in text.char_indices() {
        if seen == units {
            return Some(i);
        }
        seen += c.len_utf16();
    }
    (seen == units).then_some(text.len())
}

/// Copies non-empty `text` into `dst`, reusing its allocation.
fn required_text(text: &str, dst: &mut String) -> Option<()> {
    if text.is_empty() {
        return None;
    }
    dst.clear();
    dst.push_str(text);
    Some(())
}

fn optional_text(text: Option<&str>, dst: &mut Option<String>) {
    match text {
        None => *dst = None,
        Some(t) => {
            let s = dst.get_or_insert_with(String::new);
            s.clear();
            s.push_str(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_at(text: &str, at: f64) -> Option<Body> {
        with_body(text.as_bytes(), at, |org, event| {
            (org.to_owned(), event.clone())
        })
    }

    fn read(text: &str) -> Option<Body> {
        read_at(text, f64::NAN)
    }

    const PLAIN: &str = "3:org14:user.signed_in24:2026-02-02T16:35:39.317Z1:1\
        4:u_014:user9:Jon Smith1{4:roles5:admin\
        1[4:t_014:team-0{\
        9:127.0.0.12:ua\
        3{1:an3:1.51:bt1:cs0:";

    #[test]
    fn a_plain_event_reads_back_whole() {
        let (org, e) = read(PLAIN).expect("plain input is read");
        assert_eq!(org, "org");
        assert_eq!(e.action, "user.signed_in");
        assert_eq!(e.occurred_at.to_string(), "2026-02-02T16:35:39.317Z");
        assert_eq!(e.version, Some(1));
        assert_eq!(e.actor.name.as_deref(), Some("Jon Smith"));
        assert_eq!(e.targets.len(), 1);
        assert_eq!(e.targets[0].name, None);
        assert_eq!(e.targets[0].metadata, Some(Metadata::new()));
        assert_eq!(e.context.user_agent.as_deref(), Some("ua"));
        let m = e.metadata.expect("metadata");
        assert_eq!(m["a"], MetadataValue::Number("1.5".parse().unwrap()));
        assert_eq!(m["b"], MetadataValue::Bool(true));
        assert_eq!(m["c"], MetadataValue::String(String::new()));
    }

    #[test]
    fn lengths_count_utf16_units() {
        // "é" is one unit (two bytes), "😀" two units (four bytes).
        let text = "3:org4:é.😀24:2026-02-02T16:35:39.317Z-2:id1:t--0[1:x--";
        let (_, e) = read(text).expect("non-ASCII text is read");
        assert_eq!(e.action, "é.😀");
        assert!(read(&text.replace("4:é", "3:é")).is_none());
    }

    #[test]
    fn anything_off_leaves_the_decision_to_the_json_path() {
        for bad in [
            PLAIN.replacen("3:org", "0:", 1),
            PLAIN.replacen("1:1", "1:0", 1),
            PLAIN.replacen("2026-02-02T16:35:39.317Z", "2026-02-02 16:35:39.317?", 1),
            PLAIN.replacen("4:role", "4:ro.e", 1),
            PLAIN.replacen("1:cs0:", "1:cx", 1),
            format!("{PLAIN}-"),
            PLAIN[..PLAIN.len() - 1].to_owned(),
            PLAIN.replacen("1[", "99999999999999999999999[", 1),
            PLAIN.replacen("1:an3:1.5", "1:an3:1.x", 1),
            PLAIN.replacen("1{4:roles5:admin", "2{4:roles5:admin4:roles5:admin", 1),
            PLAIN.replacen("Jon Smith", "Jon \u{FFFD}mith", 1),
        ] {
            assert!(read(&bad).is_none(), "{bad:?} was read");
        }
    }

    #[test]
    fn a_date_arrives_as_unix_milliseconds_beside_the_text() {
        let text = "3:org1:ad-2:id1:t--0[1:x--";
        let (_, e) = read_at(text, 1_770_050_139_317.0).expect("a Date's milliseconds are read");
        assert_eq!(e.occurred_at.to_string(), "2026-02-02T16:35:39.317Z");
        let (_, e) = read_at(text, -1.0).expect("before 1970");
        assert_eq!(e.occurred_at.to_string(), "1969-12-31T23:59:59.999Z");
        // Not a Date's time, or outside the years 0001-9999: the JSON path decides.
        for bad in [f64::NAN, f64::INFINITY, 0.5, 8.64e15, -8.64e15] {
            assert!(read_at(text, bad).is_none(), "{bad} was read");
        }
    }

    #[test]
    fn the_scratch_body_carries_nothing_over() {
        read(PLAIN).expect("plain input is read");
        let bare = "3:org1:a24:2026-02-02T16:35:39.317Z-2:id1:t--0[1:x--";
        let (_, e) = read(bare).expect("a bare event is read");
        assert_eq!(e.version, None);
        assert_eq!(e.actor.name, None);
        assert_eq!(e.actor.metadata, None);
        assert!(e.targets.is_empty());
        assert_eq!(e.context.user_agent, None);
        assert_eq!(e.metadata, None);
    }
}
