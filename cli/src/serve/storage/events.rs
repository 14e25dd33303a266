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

/// What storing an event did.
#[derive(Debug, PartialEq)]
pub enum Stored {
    /// The event was stored.
    New,
    /// The key was seen within the window: nothing stored; the first response.
    Replayed {
        /// Status of the first response.
        status: u16,
        /// Body of the first response.
        body: String,
    },
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
    /// Stores `rec` unless `key` was first seen after `key_cutoff_ms`, in one transaction.
    ///
    /// With a key, the first response (`status`, `response`) is remembered with it.
    pub fn store_event(
        &self,
        rec: &EventRecord,
        key: Option<&str>,
        status: u16,
        response: &str,
        key_cutoff_ms: i64,
    ) -> rusqlite::Result<Stored> {
        let conn = self.lock();
        let tx = WriteTx::begin(&conn)?;
        if let Some(key) = key {
            let prior = tx
                .prepare_cached(
                    "SELECT status, body FROM idempotency WHERE key = ?1 AND created_at_ms > ?2",
                )?
                .query_row(params![key, key_cutoff_ms], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                })
                .optional()?;
            if let Some((status, body)) = prior {
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
        if let Some(key) = key {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO idempotency (key, status, body, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![key, status, response, rec.received_at_ms])?;
        }
        tx.commit()?;
        Ok(Stored::New)
    }

    /// `(id, organization_id, event JSON)` of the events matching `f`, oldest first.
    pub fn export_rows(&self, f: &ExportFilter) -> rusqlite::Result<Vec<(String, String, String)>> {
        let mut sql = String::from(
            "SELECT e.id, e.organization_id, e.body FROM events e
             WHERE e.organization_id = ? AND e.occurred_at_ms >= ? AND e.occurred_at_ms <= ?",
        );
        let mut args = vec![
            SqlValue::Text(f.organization_id.clone()),
            SqlValue::Integer(f.range_start_ms),
            SqlValue::Integer(f.range_end_ms),
        ];
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
        sql.push_str(" ORDER BY e.occurred_at_ms, e.seq");
        let conn = self.lock();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        rows.collect()
    }
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

    #[test]
    fn keys_replay_and_filters_select() {
        let db = Db::open(None).unwrap();
        let a = record("e1", "u1", &["team", "team"], 10);
        assert_eq!(
            db.store_event(&a, Some("k"), 201, "{\"a\":1}", 0).unwrap(),
            Stored::New
        );
        let again = db
            .store_event(&record("e2", "u1", &[], 10), Some("k"), 201, "x", 0)
            .unwrap();
        assert_eq!(
            again,
            Stored::Replayed {
                status: 201,
                body: "{\"a\":1}".into()
            }
        );
        // An expired key no longer replays.
        let later = db.store_event(
            &record("e3", "u2", &["doc"], 20),
            Some("k"),
            201,
            "y",
            5_000,
        );
        assert_eq!(later.unwrap(), Stored::New);
        assert_eq!(db.event_count().unwrap(), 2);
        let mut f = ExportFilter {
            organization_id: "org_1".into(),
            range_start_ms: 0,
            range_end_ms: 100,
            actions: vec![],
            actor_names: vec![],
            actor_ids: vec![],
            targets: vec!["doc".into()],
        };
        let ids: Vec<_> = db
            .export_rows(&f)
            .unwrap()
            .into_iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(ids, ["e3"]);
        f.targets.clear();
        f.actor_ids = vec!["u1".into()];
        assert_eq!(db.export_rows(&f).unwrap().len(), 1);
        f.range_end_ms = 5;
        assert!(db.export_rows(&f).unwrap().is_empty());
        db.reset().unwrap();
        assert_eq!(db.event_count().unwrap(), 0);
    }
}
