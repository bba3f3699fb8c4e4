//! Shared by the file-sink tests (and the `write_nasty_jsonl` example): scratch directories, a
//! deterministic generator of hostile records, and the expected read-back of each one under
//! the JSON mapping (`asynclog::__private::json`).
#![allow(dead_code)]

use asynclog::{Field, Level, OwnedValue, Value};
use std::path::{Path, PathBuf};

/// A directory under the system temp dir, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!(
            "asynclog-test-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Scratch(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// SplitMix64: a deterministic stream of u64s from a seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Strings that break naive JSON writers.
pub fn nasty_strings() -> Vec<String> {
    let controls: String = (0u8..0x20).map(char::from).collect();
    let mut long = String::new();
    while long.len() < 3000 {
        long.push_str("long \"quoted\" \\ text\t😀\u{1}");
    }
    vec![
        String::new(),
        "\"".into(),
        "\\".into(),
        "\\\"".into(),
        "\"\\\"\\\\\"".into(),
        "\u{0}".into(),
        "a\u{0}b".into(),
        controls,
        "\n\r\t\u{8}\u{c}".into(),
        "\u{7f}".into(),
        "😀".into(),
        "\u{10FFFF}\u{10000}".into(),
        "\u{2028}\u{2029}".into(),
        "\u{FEFF}bom".into(),
        "é ü 中文 ελληνικά".into(),
        r#"{"json":"inside","n":1}"#.into(),
        "}\n{\"timestamp\":\"forged\"}".into(),
        "NaN".into(),
        "-Infinity".into(),
        "null".into(),
        "$f64".into(),
        "/* comment */".into(),
        "</script>".into(),
        long,
    ]
}

/// Keys, including the top-level names and the non-finite marker.
pub fn nasty_keys() -> Vec<String> {
    let mut keys: Vec<String> = [
        "timestamp",
        "level",
        "message",
        "thread_id",
        "fields",
        "$f64",
        "",
        "k\"ey",
        "k\\ey",
        "😀",
        "\u{1}",
        "\u{0}",
        "order_id",
        "price",
        "symbol",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    keys.extend((0..8).map(|i| format!("k{i}")));
    keys
}

/// Numbers at the edges of i64, u64, f64 and of JSON's safe range.
pub fn nasty_numbers() -> Vec<OwnedValue> {
    vec![
        OwnedValue::U64(u64::MAX),
        OwnedValue::U64((1 << 53) + 1),
        OwnedValue::U64(1 << 63),
        OwnedValue::U64(0),
        OwnedValue::I64(i64::MIN),
        OwnedValue::I64(i64::MAX),
        OwnedValue::I64(-1),
        OwnedValue::I64(-(1 << 53) - 1),
        OwnedValue::F64(f64::NAN),
        OwnedValue::F64(-f64::NAN),
        OwnedValue::F64(f64::INFINITY),
        OwnedValue::F64(f64::NEG_INFINITY),
        OwnedValue::F64(-0.0),
        OwnedValue::F64(0.0),
        OwnedValue::F64(5e-324),
        OwnedValue::F64(-2.2250738585072014e-308),
        OwnedValue::F64(f64::MAX),
        OwnedValue::F64(f64::MIN),
        OwnedValue::F64(f64::MIN_POSITIVE),
        OwnedValue::F64(0.1),
        OwnedValue::F64(1e21),
        OwnedValue::F64(1e-7),
        OwnedValue::F64(123_456_789.123_456_79),
        OwnedValue::F64(3.0),
        OwnedValue::F64(1.0 / 3.0),
        OwnedValue::F32(0.1),
        OwnedValue::F32(1.0 / 3.0),
        OwnedValue::F32(3.0),
        OwnedValue::F32(-0.0),
        OwnedValue::F32(1e20),
        OwnedValue::F32(f32::MAX),
        OwnedValue::F32(f32::MIN_POSITIVE),
        OwnedValue::F32(1e-45),
        OwnedValue::F32(16_777_216.0),
        OwnedValue::F32(f32::NAN),
        OwnedValue::F32(f32::NEG_INFINITY),
        OwnedValue::Bool(true),
        OwnedValue::Bool(false),
        OwnedValue::Null,
    ]
}

/// A record to log: `(level, message, fields)`.
pub type Spec = (Level, String, Vec<(String, OwnedValue)>);

/// Builds record specs from a seed; the same seed gives the same records.
pub struct Generator {
    rng: Rng,
    strings: Vec<String>,
    keys: Vec<String>,
    numbers: Vec<OwnedValue>,
}

impl Generator {
    pub fn new(seed: u64) -> Generator {
        Generator {
            rng: Rng::new(seed),
            strings: nasty_strings(),
            keys: nasty_keys(),
            numbers: nasty_numbers(),
        }
    }

    fn value(&mut self) -> OwnedValue {
        match self.rng.below(9) {
            0..=2 => self.numbers[self.rng.below(self.numbers.len() as u64) as usize].clone(),
            3 => OwnedValue::F64(f64::from_bits(self.rng.next())),
            8 => OwnedValue::F32(f32::from_bits(self.rng.next() as u32)),
            4 => OwnedValue::I64(self.rng.next() as i64),
            5 => OwnedValue::U64(self.rng.next()),
            _ => OwnedValue::Str(self.string()),
        }
    }

    fn string(&mut self) -> String {
        // The long string is rare, so a million records stay a few hundred MB of JSON.
        let n = self.strings.len() as u64;
        let pick = self.rng.below(n * 50);
        let index = if pick == 0 { n - 1 } else { pick % (n - 1) };
        self.strings[index as usize].clone()
    }

    /// Record `seq`: a `seq` field first (so tests can match records up), then 0-5 hostile
    /// fields, sometimes with duplicate keys.
    pub fn record(&mut self, seq: u64) -> Spec {
        let level = Level::ALL[self.rng.below(6) as usize];
        let message = format!("{}#{seq}", self.string());
        let mut fields = vec![("seq".to_owned(), OwnedValue::U64(seq))];
        for _ in 0..self.rng.below(6) {
            let key = self.keys[self.rng.below(self.keys.len() as u64) as usize].clone();
            let value = self.value();
            fields.push((key, value));
        }
        (level, message, fields)
    }
}

/// Borrowed fields for a log call.
pub fn borrowed(fields: &[(String, OwnedValue)]) -> Vec<Field<'_>> {
    fields
        .iter()
        .map(|(k, v)| Field {
            key: k,
            value: Value::from(v),
        })
        .collect()
}

/// What the reader returns for `fields`: duplicate keys grouped at their first position (values
/// in order), integers that fit i64 as `I64`, the rest as written.
pub fn expected_fields(fields: &[(String, OwnedValue)]) -> Vec<(String, OwnedValue)> {
    let mut order: Vec<&str> = Vec::new();
    for (key, _) in fields {
        if !order.contains(&key.as_str()) {
            order.push(key);
        }
    }
    let mut out = Vec::new();
    for key in order {
        for (k, v) in fields.iter().filter(|(k, _)| k == key) {
            let v = match v {
                OwnedValue::U64(u) if *u <= i64::MAX as u64 => OwnedValue::I64(*u as i64),
                other => other.clone(),
            };
            out.push((k.clone(), v));
        }
    }
    out
}

/// Equality that treats every NaN as equal and tells -0.0 from 0.0. JSON has one kind of
/// number, so a logged `F32` reads back as an `F64`: the same when it narrows to that `f32`.
pub fn same_value(a: &OwnedValue, b: &OwnedValue) -> bool {
    match (a, b) {
        (OwnedValue::F64(x), OwnedValue::F64(y)) => {
            (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
        }
        (OwnedValue::F64(x), OwnedValue::F32(y)) | (OwnedValue::F32(y), OwnedValue::F64(x)) => {
            (x.is_nan() && y.is_nan()) || (*x as f32).to_bits() == y.to_bits()
        }
        _ => a == b,
    }
}

/// Asserts that `got` equals `expected` under [`same_value`], naming the record.
pub fn assert_same_fields(
    seq: u64,
    got: &[(String, OwnedValue)],
    expected: &[(String, OwnedValue)],
) {
    let same = got.len() == expected.len()
        && got
            .iter()
            .zip(expected)
            .all(|((gk, gv), (ek, ev))| gk == ek && same_value(gv, ev));
    assert!(
        same,
        "record {seq}: fields\n got      {got:?}\n expected {expected:?}"
    );
}

/// The `seq` field of a read-back record.
pub fn seq_of(record: &asynclog::JsonlRecord) -> u64 {
    match record.fields.first() {
        Some((k, OwnedValue::I64(v))) if k == "seq" => *v as u64,
        other => panic!("record without a leading seq field: {other:?}"),
    }
}
