//! Once the process-wide call-site table is full, new call sites take the general encoding:
//! their records still arrive with the right message, keys and values, and call sites registered
//! before keep their ids and records.

mod common;
use asynclog::__private::callsite::{self, Callsite, MAX_CALLSITES};
use asynclog::{try_info, Logger, OwnedValue};
use common::*;

#[test]
fn call_sites_past_the_full_table_fall_back_to_the_general_record() {
    let collector = Collector::default();
    let logger = Logger::new(config_with(&collector)).unwrap();
    // A macro call site registered before the table fills keeps the compact encoding.
    let early = |seq: u64| try_info!(logger, "early", seq = seq, tag = "e");
    early(0).unwrap();

    // Fill every remaining slot (ids are never reused, so this only grows).
    let mut last = None;
    for _ in 0..MAX_CALLSITES {
        let site: &'static Callsite = Box::leak(Box::new(Callsite::new("filler", &["x"])));
        match site.id() {
            Some(id) => last = Some(id),
            None => break,
        }
    }
    let last = last.expect("the table had room");
    assert_eq!(
        last as usize,
        MAX_CALLSITES - 1,
        "the last slot was handed out"
    );
    let overflow: &'static Callsite = Box::leak(Box::new(Callsite::new("overflow", &["x"])));
    assert_eq!(overflow.id(), None, "a full table refuses new call sites");
    assert_eq!(
        callsite::lookup(last).map(|c| c.message()),
        Some("filler"),
        "the last registered id is still found"
    );

    for seq in 1..4u64 {
        early(seq).unwrap();
        try_info!(logger, "late", seq = seq, tag = "l", flag = true).unwrap();
    }
    logger.flush().unwrap();
    let seen = collector.records();
    let summary: Vec<(String, u64, Option<OwnedValue>)> = seen
        .iter()
        .map(|r| {
            (
                r.message.clone(),
                r.u64_field("seq"),
                r.field("tag").cloned(),
            )
        })
        .collect();
    let e = |seq| ("early".to_owned(), seq, Some(OwnedValue::Str("e".into())));
    let l = |seq| ("late".to_owned(), seq, Some(OwnedValue::Str("l".into())));
    assert_eq!(summary, [e(0), e(1), l(1), e(2), l(2), e(3), l(3)]);
    for r in seen.iter().filter(|r| r.message == "late") {
        let keys: Vec<&str> = r.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["seq", "tag", "flag"]);
        assert_eq!(r.field("flag"), Some(&OwnedValue::Bool(true)));
    }
}
