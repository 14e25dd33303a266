//! Events and idempotency keys: an atomic check-and-insert, and the export query.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, OptionalExtension};

use super::{Db, WriteTx};

/// One event ready to store: indexed columns plus the normalised event JSON.
pub struct EventRecord {
    /// `audit_log_event_…`.
    pub id: String,
    /// The organization.
    pub organization_id: String,
    /// The action.
    pub action: String,
    /// When it happened, Unix milliseconds.
    pub occurred_at_ms: i64,
    /// The actor's id.
    pub actor_id: String,
    /// The actor's name.
    pub actor_name: Option<String>,
    /// Every target type, for export filters.
    pub target_types: Vec<String>,
    /// The normalised event JSON.
    pub body: String,
    /// `current` or `v1`.
    pub source: &'static str,
    /// When this server received it, Unix milliseconds.
    pub received_at_ms: i64,
}

/// An `Idempotency-Key` in its scope: the API key (hashed) and the event's organization.
pub struct ScopedKey<'a> {
    /// Hex SHA-256 of the API key that sent the request.
    pub api_key_hash: &'a str,
    /// The `Idempotency-Key` header.
    pub key: &'a str,
    /// Hex SHA-256 of the request, to tell a retry from a different request.
    pub fingerprint: &'a str,
}

/// What storing an event did.
#[derive(Debug, PartialEq)]
pub enum Stored {
    /// The event was stored.
    New,
    /// The key was seen within the window with the same request: nothing stored; the first
    /// response.
    Replayed {
        /// Status of the first response.
        status: u16,
        /// Body of the first response.
        body: String,
    },
    /// The key was seen within the window with a different request: nothing stored.
    Conflict,
}

/// Which events an export holds.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ExportFilter {
    /// The organization.
    pub organization_id: String,
    /// First instant included, Unix milliseconds.
    pub range_start_ms: i64,
    /// Last instant included, Unix milliseconds.
    pub range_end_ms: i64,
    /// Actions to keep (all when empty).
    pub actions: Vec<String>,
    /// Actor names to keep (all when empty).
    pub actor_names: Vec<String>,
    /// Actor ids to keep (all when empty).
    pub actor_ids: Vec<String>,
    /// Target types to keep (all when empty).
    pub targets: Vec<String>,
}

impl Db {
    /// Stores `rec` unless `key` was first seen in its scope after `key_cutoff_ms`, in one
    /// transaction.
    ///
    /// With a key, the first response (`status`, `response`) is remembered with it.
    pub fn store_event(
        &self,
        rec: &EventRecord,
        key: Option<&ScopedKey<'_>>,
        status: u16,
        response: &str,
        key_cutoff_ms: i64,
    ) -> rusqlite::Result<Stored> {
        let conn = self.lock();
        let tx = WriteTx::begin(&conn)?;
        if let Some(k) = key {
            let prior = tx
                .prepare_cached(
                    "SELECT fingerprint, status, body FROM idempotency_keys
                     WHERE api_key_hash = ?1 AND organization_id = ?2 AND key = ?3
                       AND created_at_ms > ?4",
                )?
                .query_row(
                    params![k.api_key_hash, rec.organization_id, k.key, key_cutoff_ms],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, String>(2)?,
                        ))
                    },
                )
                .optional()?;
            if let Some((fingerprint, status, body)) = prior {
                if fingerprint != k.fingerprint {
                    return Ok(Stored::Conflict);
                }
                return Ok(Stored::Replayed {
                    status: u16::try_from(status).unwrap_or(200),
                    body,
                });
            }
        }
        tx.prepare_cached(
            "INSERT INTO events (id, organization_id, action, occurred_at_ms, actor_id, actor_name,
                                 body, source, received_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            rec.id,
            rec.organization_id,
            rec.action,
            rec.occurred_at_ms,
            rec.actor_id,
            rec.actor_name,
            rec.body,
            rec.source,
            rec.received_at_ms
        ])?;
        let seq = tx.last_insert_rowid();
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO event_targets (event_seq, type) VALUES (?1, ?2)",
            )?;
            for t in &rec.target_types {
                insert.execute(params![seq, t])?;
            }
        }
        if let Some(k) = key {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO idempotency_keys
                     (api_key_hash, organization_id, key, fingerprint, status, body, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                k.api_key_hash,
                rec.organization_id,
                k.key,
                k.fingerprint,
                status,
                response,
                rec.received_at_ms
            ])?;
        }
        tx.commit()?;
        Ok(Stored::New)
    }

    /// Up to `limit` events matching `f` that come after `after`, oldest first: one short
    /// query, so a large export holds the database a moment per chunk, not for its whole run.
    pub fn export_chunk(
        &self,
        f: &ExportFilter,
        after: Option<ExportCursor>,
        limit: usize,
    ) -> rusqlite::Result<Vec<ExportedEvent>> {
        let mut sql = String::from(
            "SELECT e.occurred_at_ms, e.seq, e.id, e.organization_id, e.body FROM events e
             WHERE e.organization_id = ? AND e.occurred_at_ms >= ? AND e.occurred_at_ms <= ?",
        );
        let mut args = vec![
            SqlValue::Text(f.organization_id.clone()),
            SqlValue::Integer(after.map_or(f.range_start_ms, |c| c.occurred_at_ms)),
            SqlValue::Integer(f.range_end_ms),
        ];
        if let Some(c) = after {
            // The index range starts at the cursor's time; this skips what was read there.
            sql.push_str(" AND (e.occurred_at_ms > ? OR e.seq > ?)");
            args.push(SqlValue::Integer(c.occurred_at_ms));
            args.push(SqlValue::Integer(c.seq));
        }
        for (column, values) in [
            ("e.action", &f.actions),
            ("e.actor_name", &f.actor_names),
            ("e.actor_id", &f.actor_ids),
        ] {
            if !values.is_empty() {
                sql.push_str(&format!(
                    " AND {column} IN ({})",
                    placeholders(values.len())
                ));
                args.extend(values.iter().cloned().map(SqlValue::Text));
            }
        }
        if !f.targets.is_empty() {
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM event_targets t WHERE t.event_seq = e.seq AND t.type IN ({}))",
                placeholders(f.targets.len())
            ));
            args.extend(f.targets.iter().cloned().map(SqlValue::Text));
        }
        sql.push_str(" ORDER BY e.occurred_at_ms, e.seq LIMIT ?");
        args.push(SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
            Ok(ExportedEvent {
                cursor: ExportCursor {
                    occurred_at_ms: r.get(0)?,
                    seq: r.get(1)?,
                },
                id: r.get(2)?,
                organization_id: r.get(3)?,
                body: r.get(4)?,
            })
        })?;
        rows.collect()
    }
}

/// Where an export stopped reading: the last event's time and sequence number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExportCursor {
    /// When the event happened, Unix milliseconds.
    pub occurred_at_ms: i64,
    /// Its row number.
    pub seq: i64,
}

/// One event read for an export.
#[derive(Debug)]
pub struct ExportedEvent {
    /// Where the next chunk starts.
    pub cursor: ExportCursor,
    /// `audit_log_event_…`.
    pub id: String,
    /// The organization.
    pub organization_id: String,
    /// The normalised event JSON.
    pub body: String,
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, actor: &str, targets: &[&str], at: i64) -> EventRecord {
        EventRecord {
            id: id.into(),
            organization_id: "org_1".into(),
            action: "user.signed_in".into(),
            occurred_at_ms: at,
            actor_id: actor.into(),
            actor_name: Some(format!("{actor} name")),
            target_types: targets.iter().map(|t| t.to_string()).collect(),
            body: "{}".into(),
            source: "current",
            received_at_ms: 1_000,
        }
    }

    /// Every matching event id, read two at a time.
    fn export_ids(db: &Db, f: &ExportFilter) -> Vec<String> {
        let mut ids = Vec::new();
        let mut after = None;
        loop {
            let chunk = db.export_chunk(f, after, 2).unwrap();
            let Some(last) = chunk.last() else {
                return ids;
            };
            after = Some(last.cursor);
            ids.extend(chunk.into_iter().map(|e| e.id));
        }
    }

    #[test]
    fn keys_replay_and_filters_select() {
        let db = Db::open(None).unwrap();
        let k = |api_key_hash, fingerprint| ScopedKey {
            api_key_hash,
            key: "k",
            fingerprint,
        };
        let a = record("e1", "u1", &["team", "team"], 10);
        assert_eq!(
            db.store_event(&a, Some(&k("h1", "f1")), 201, "{\"a\":1}", 0)
                .unwrap(),
            Stored::New
        );
        let again = db
            .store_event(
                &record("e2", "u1", &[], 10),
                Some(&k("h1", "f1")),
                201,
                "x",
                0,
            )
            .unwrap();
        assert_eq!(
            again,
            Stored::Replayed {
                status: 201,
                body: "{\"a\":1}".into()
            }
        );
        // Another request under the key conflicts; another API key has its own keys.
        let other = record("e2", "u1", &[], 10);
        assert_eq!(
            db.store_event(&other, Some(&k("h1", "f2")), 201, "x", 0)
                .unwrap(),
            Stored::Conflict
        );
        assert_eq!(
            db.store_event(&other, Some(&k("h2", "f2")), 201, "x", 0)
                .unwrap(),
            Stored::New
        );
        // An expired key no longer replays.
        let later = db.store_event(
            &record("e3", "u2", &["doc"], 20),
            Some(&k("h1", "f3")),
            201,
            "y",
            5_000,
        );
        assert_eq!(later.unwrap(), Stored::New);
        assert_eq!(db.event_count().unwrap(), 3);
        let mut f = ExportFilter {
            organization_id: "org_1".into(),
            range_start_ms: 0,
            range_end_ms: 100,
            actions: vec![],
            actor_names: vec![],
            actor_ids: vec![],
            targets: vec!["doc".into()],
        };
        assert_eq!(export_ids(&db, &f), ["e3"]);
        f.targets.clear();
        assert_eq!(export_ids(&db, &f), ["e1", "e2", "e3"]);
        f.actor_ids = vec!["u1".into()];
        assert_eq!(export_ids(&db, &f), ["e1", "e2"]);
        f.range_end_ms = 5;
        assert!(export_ids(&db, &f).is_empty());
        db.reset().unwrap();
        assert_eq!(db.event_count().unwrap(), 0);
    }
}
