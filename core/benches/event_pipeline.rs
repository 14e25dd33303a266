//! Parse + validate + serialise of a typical ~450-byte event.

use std::hint::black_box;

use auditwire::{CreateEventBody, LegacyEvent};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// A typical current-API body: actor and target with metadata, context, event metadata.
pub const TYPICAL: &str = r#"{"organization_id":"org_01EHWNCE74X7JSDV0X3SZ3KJNY","event":{"action":"user.signed_in","occurred_at":"2026-02-02T16:35:39.317Z","version":1,"actor":{"id":"user_01GBNJC3MX9ZZJW1FSTF4C5938","type":"user","name":"Jon Smith","metadata":{"role":"admin"}},"targets":[{"id":"team_01GBNJD4MKHVKJGEWK42JNMBGS","type":"team","name":"Team","metadata":{"plan":"pro"}}],"context":{"location":"123.123.123.123","user_agent":"Chrome/104.0.0.0"},"metadata":{"owner":"user_01GBTCQ2"}}}"#;

const LEGACY: &str = r#"{"group":"foo-corp.com","action":"tweet.update","action_type":"U","actor_name":"Jon Smith","actor_id":"user_01DGZ0FAXN978HCET66Q98QMTQ","target_name":"What I am eating for dinner","target_id":"tweet_5","location":"1.1.1.1","occurred_at":"2019-05-01T01:15:55.619Z","metadata":{"body_was":"What I am eating for dinner","body":"What I am eating for lunch"}}"#;

fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("event");
    group.throughput(Throughput::Elements(1));
    group.bench_function(
        format!("parse_validate_serialise_{}B", TYPICAL.len()),
        |b| {
            b.iter(|| {
                let body = CreateEventBody::from_json(black_box(TYPICAL.as_bytes())).unwrap();
                black_box(body.to_json())
            })
        },
    );
    let body = CreateEventBody::from_json(TYPICAL.as_bytes()).unwrap();
    group.bench_function("validate_serialise_typed", |b| {
        b.iter(|| {
            black_box(&body).validate().unwrap();
            black_box(black_box(&body).to_json())
        })
    });
    group.bench_function(
        format!("legacy_parse_translate_serialise_{}B", LEGACY.len()),
        |b| {
            b.iter(|| {
                let e = LegacyEvent::from_json(black_box(LEGACY.as_bytes())).unwrap();
                black_box(e.to_current().unwrap().to_json())
            })
        },
    );
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
