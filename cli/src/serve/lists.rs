//! List endpoints: `limit`, `order`, `before`, `after` and the list envelope.

use serde_json::{json, Value};

use super::errors::ApiError;

/// Parsed list parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ListParams {
    /// 1 to 100.
    pub limit: usize,
    /// Newest first.
    pub descending: bool,
    /// Cursor: items before this one.
    pub before: Option<String>,
    /// Cursor: items after this one.
    pub after: Option<String>,
}

/// Reads `limit` (1–100, default 10), `order` (asc|desc|normal, default desc), `before`, `after`.
pub fn params(query: &[(String, String)]) -> Result<ListParams, ApiError> {
    let mut p = ListParams {
        limit: 10,
        descending: true,
        before: None,
        after: None,
    };
    for (k, v) in query {
        match k.as_str() {
            "limit" => {
                p.limit = match v.parse::<usize>() {
                    Ok(n) if (1..=100).contains(&n) => n,
                    _ => {
                        return Err(ApiError::field(
                            "invalid_value",
                            "limit",
                            format!("must be an integer from 1 to 100 (found {v:?})"),
                        ))
                    }
                }
            }
            "order" => {
                p.descending = match v.as_str() {
                    "desc" => true,
                    "asc" | "normal" => false,
                    _ => {
                        return Err(ApiError::field(
                            "invalid_value",
                            "order",
                            format!("must be asc, desc or normal (found {v:?})"),
                        ))
                    }
                }
            }
            "before" if !v.is_empty() => p.before = Some(v.clone()),
            "after" if !v.is_empty() => p.after = Some(v.clone()),
            _ => {}
        }
    }
    if p.before.is_some() && p.after.is_some() {
        return Err(ApiError::field(
            "invalid_value",
            "before",
            "give either before or after, not both",
        ));
    }
    Ok(p)
}

/// One page of `items` (oldest first) as the list envelope; `cursor` names an item.
pub fn page<T>(
    mut items: Vec<T>,
    p: &ListParams,
    cursor: impl Fn(&T) -> &str,
    render: impl Fn(&T) -> Value,
) -> Result<Value, ApiError> {
    if p.descending {
        items.reverse();
    }
    let find = |field: &str, id: &str| {
        items.iter().position(|t| cursor(t) == id).ok_or_else(|| {
            ApiError::field("invalid_value", field, format!("no object with id {id:?}"))
        })
    };
    let (start, end) = if let Some(after) = &p.after {
        let i = find("after", after)? + 1;
        (i, (i + p.limit).min(items.len()))
    } else if let Some(before) = &p.before {
        let i = find("before", before)?;
        (i.saturating_sub(p.limit), i)
    } else {
        (0, p.limit.min(items.len()))
    };
    let window = &items[start..end];
    let before = (start > 0).then(|| window.first()).flatten().map(&cursor);
    let after = (end < items.len())
        .then(|| window.last())
        .flatten()
        .map(&cursor);
    Ok(json!({
        "object": "list",
        "data": window.iter().map(render).collect::<Vec<_>>(),
        "list_metadata": { "before": before, "after": after },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn ids(v: &Value) -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn pages_walk_both_ways() {
        let items: Vec<String> = (1..=5).map(|i| format!("i{i}")).collect();
        let run = |query: &[(&str, &str)]| {
            let p = params(&q(query)).unwrap();
            page(items.clone(), &p, |s| s.as_str(), |s| json!(s)).unwrap()
        };
        let first = run(&[("limit", "2"), ("order", "asc")]);
        assert_eq!(ids(&first), ["i1", "i2"]);
        assert_eq!(
            first["list_metadata"],
            json!({"before": null, "after": "i2"})
        );
        let second = run(&[("limit", "2"), ("order", "asc"), ("after", "i2")]);
        assert_eq!(ids(&second), ["i3", "i4"]);
        assert_eq!(
            second["list_metadata"],
            json!({"before": "i3", "after": "i4"})
        );
        let back = run(&[("limit", "2"), ("order", "asc"), ("before", "i3")]);
        assert_eq!(ids(&back), ["i1", "i2"]);
        let desc = run(&[("limit", "10")]);
        assert_eq!(ids(&desc), ["i5", "i4", "i3", "i2", "i1"]);
        assert_eq!(
            desc["list_metadata"],
            json!({"before": null, "after": null})
        );
    }

    #[test]
    fn bad_params_are_422() {
        for query in [
            &[("limit", "0")][..],
            &[("limit", "101")],
            &[("order", "up")],
            &[("before", "a"), ("after", "b")],
        ] {
            assert_eq!(params(&q(query)).unwrap_err().status().as_u16(), 422);
        }
        let p = params(&q(&[("after", "nope")])).unwrap();
        let err = page(vec!["a".to_string()], &p, |s| s.as_str(), |s| json!(s)).unwrap_err();
        assert_eq!(err.status().as_u16(), 422);
    }
}
