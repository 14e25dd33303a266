//! Actions and their versioned schemas.

use rusqlite::{params, OptionalExtension, Row};

use super::Db;

/// One schema version of an action.
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaRow {
    /// `audit_log_schema_…`.
    pub id: String,
    /// The action.
    pub action: String,
    /// 1, 2, …
    pub version: i64,
    /// The normalised schema JSON (`actor`, `targets`, `metadata`).
    pub body: String,
    /// Creation time, Unix milliseconds.
    pub created_at_ms: i64,
}

/// An action with its latest schema.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionRow {
    /// The action name.
    pub name: String,
    /// Creation time, Unix milliseconds.
    pub created_at_ms: i64,
    /// Time of the latest schema, Unix milliseconds.
    pub updated_at_ms: i64,
    /// The latest schema.
    pub latest: SchemaRow,
}

const SCHEMA_COLUMNS: &str = "id, action, version, body, created_at_ms";

fn schema_row(r: &Row<'_>) -> rusqlite::Result<SchemaRow> {
    Ok(SchemaRow {
        id: r.get(0)?,
        action: r.get(1)?,
        version: r.get(2)?,
        body: r.get(3)?,
        created_at_ms: r.get(4)?,
    })
}

impl Db {
    /// Adds a schema version unless `same(latest body)` holds; returns the row and whether it is new.
    pub fn create_schema(
        &self,
        action: &str,
        body: &str,
        same: impl Fn(&str) -> bool,
        new_id: impl FnOnce() -> String,
        now_ms: i64,
    ) -> rusqlite::Result<(SchemaRow, bool)> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let latest = tx
            .query_row(
                &format!(
                    "SELECT {SCHEMA_COLUMNS} FROM schemas WHERE action = ?1 ORDER BY version DESC LIMIT 1"
                ),
                [action],
                schema_row,
            )
            .optional()?;
        if let Some(latest) = latest {
            if same(&latest.body) {
                return Ok((latest, false));
            }
        }
        let row = SchemaRow {
            id: new_id(),
            action: action.to_owned(),
            version: latest_version(&tx, action)? + 1,
            body: body.to_owned(),
            created_at_ms: now_ms,
        };
        tx.execute(
            "INSERT INTO schemas (id, action, version, body, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![row.id, row.action, row.version, row.body, row.created_at_ms],
        )?;
        tx.execute(
            "INSERT INTO actions (name, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?2)
             ON CONFLICT (name) DO UPDATE SET updated_at_ms = excluded.updated_at_ms",
            params![action, now_ms],
        )?;
        tx.commit()?;
        Ok((row, true))
    }

    /// Every schema version, oldest first.
    pub fn all_schemas(&self) -> rusqlite::Result<Vec<SchemaRow>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT {SCHEMA_COLUMNS} FROM schemas ORDER BY seq"
        ))?;
        let rows = stmt.query_map([], schema_row)?;
        rows.collect()
    }

    /// The versions of `action`, oldest first; `None` when the action does not exist.
    pub fn schemas_of(&self, action: &str) -> rusqlite::Result<Option<Vec<SchemaRow>>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT {SCHEMA_COLUMNS} FROM schemas WHERE action = ?1 ORDER BY version"
        ))?;
        let rows: Vec<SchemaRow> = stmt
            .query_map([action], schema_row)?
            .collect::<Result<_, _>>()?;
        Ok((!rows.is_empty()).then_some(rows))
    }

    /// Every action with its latest schema, oldest action first.
    pub fn actions(&self) -> rusqlite::Result<Vec<ActionRow>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT s.id, s.action, s.version, s.body, s.created_at_ms, a.created_at_ms, a.updated_at_ms
             FROM actions a JOIN schemas s ON s.action = a.name
             WHERE s.version = (SELECT MAX(version) FROM schemas WHERE action = a.name)
             ORDER BY a.seq",
        )?;
        let rows = stmt.query_map([], |r| {
            let latest = schema_row(r)?;
            Ok(ActionRow {
                name: latest.action.clone(),
                created_at_ms: r.get(5)?,
                updated_at_ms: r.get(6)?,
                latest,
            })
        })?;
        rows.collect()
    }
}

fn latest_version(conn: &rusqlite::Connection, action: &str) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schemas WHERE action = ?1",
        [action],
        |r| r.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_grow_only_on_change() {
        let db = Db::open(None).unwrap();
        fn same(b: &'static str) -> impl Fn(&str) -> bool {
            move |latest: &str| latest == b
        }
        let (a, new) = db
            .create_schema("x.y", "A", same("A"), || "s1".into(), 1)
            .unwrap();
        assert!(new);
        assert_eq!(a.version, 1);
        let (b, new) = db
            .create_schema("x.y", "A", same("A"), || "s2".into(), 2)
            .unwrap();
        assert!(!new);
        assert_eq!(b.id, "s1");
        let (c, new) = db
            .create_schema("x.y", "B", same("B"), || "s3".into(), 3)
            .unwrap();
        assert!(new);
        assert_eq!(c.version, 2);
        assert_eq!(db.schemas_of("x.y").unwrap().unwrap().len(), 2);
        assert!(db.schemas_of("nope").unwrap().is_none());
        let actions = db.actions().unwrap();
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].latest.version, 2);
        assert_eq!(actions[0].updated_at_ms, 3);
        assert_eq!(db.all_schemas().unwrap().len(), 2);
    }
}
