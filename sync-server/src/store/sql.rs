//! The little SQL surface the server's storage logic needs, so one body of logic runs on both
//! backends: statements with `?N` placeholders, four kinds of value, rows read by position, and
//! the one thing the backends must do differently — hand out change sequence numbers that a
//! pull can never overtake. Runs on the blocking pool, inside one transaction.

use crate::error::StoreError;

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// Text.
    Text(String),
    /// A 64-bit integer.
    Int(i64),
    /// A boolean (stored as 0/1 on SQLite).
    Bool(bool),
    /// SQL NULL (of a text column).
    Null,
}

impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(v.to_string())
    }
}
impl From<&String> for Param {
    fn from(v: &String) -> Self {
        Param::Text(v.clone())
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(v)
    }
}
impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}
impl From<bool> for Param {
    fn from(v: bool) -> Self {
        Param::Bool(v)
    }
}
impl From<Option<String>> for Param {
    fn from(v: Option<String>) -> Self {
        v.map_or(Param::Null, Param::Text)
    }
}

/// Builds a `&[Param]` from values that convert into [`Param`].
macro_rules! args {
    ($($v:expr),* $(,)?) => { &[$($crate::store::sql::Param::from($v)),*][..] };
}
pub(crate) use args;

/// One column's value as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// NULL.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// A boolean (PostgreSQL only; SQLite answers integers).
    Bool(bool),
}

/// A row, read by column position.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Cell>);

impl Row {
    fn cell(&self, i: usize) -> Result<&Cell, StoreError> {
        self.0.get(i).ok_or(StoreError::Corrupt("row shape"))
    }

    /// Column `i` as text.
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        match self.cell(i)? {
            Cell::Text(s) => Ok(s.clone()),
            _ => Err(StoreError::Corrupt("text column")),
        }
    }

    /// Column `i` as text or NULL.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Text(s) => Ok(Some(s.clone())),
            _ => Err(StoreError::Corrupt("text column")),
        }
    }

    /// Column `i` as an integer.
    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.cell(i)? {
            Cell::Int(v) => Ok(*v),
            _ => Err(StoreError::Corrupt("integer column")),
        }
    }

    /// Column `i` as an integer or NULL.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(*v)),
            _ => Err(StoreError::Corrupt("integer column")),
        }
    }

    /// Column `i` as a boolean (an integer 0/1 on SQLite).
    pub fn bool(&self, i: usize) -> Result<bool, StoreError> {
        match self.cell(i)? {
            Cell::Bool(v) => Ok(*v),
            Cell::Int(v) => Ok(*v != 0),
            _ => Err(StoreError::Corrupt("boolean column")),
        }
    }
}

/// One open transaction of a backend. Statements are written once, in the dialect both
/// backends read (`?N` placeholders, `ON CONFLICT … DO …`, `RETURNING`, `TRUE`/`FALSE`).
pub trait Db {
    /// Runs a statement; the number of rows it changed.
    fn execute(&mut self, sql: &'static str, args: &[Param]) -> Result<u64, StoreError>;

    /// Runs a query; all its rows.
    fn query(&mut self, sql: &'static str, args: &[Param]) -> Result<Vec<Row>, StoreError>;

    /// Makes this transaction the only writer of changes until it ends. Pushes call it before
    /// reading the device's high-water mark, so a resend racing its original waits, and so
    /// writers never wait on each other in a cycle. SQLite's writer lock already does this.
    fn serialize_writers(&mut self) -> Result<(), StoreError>;

    /// The next change sequence number. A pull must never see number n+1 committed while n is
    /// still to come: each backend guarantees it (SQLite has one writer; PostgreSQL hands the
    /// numbers out under a transaction-level advisory lock).
    fn next_seq(&mut self) -> Result<i64, StoreError>;

    /// The first row of a query, if any.
    fn query_opt(&mut self, sql: &'static str, args: &[Param]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// The one row a query must return.
    fn query_one(&mut self, sql: &'static str, args: &[Param]) -> Result<Row, StoreError> {
        self.query_opt(sql, args)?
            .ok_or(StoreError::Corrupt("expected row"))
    }
}

/// Rewrites `?N` placeholders as PostgreSQL's `$N`. Statements hold no `?` in literals.
pub fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_and_nothing_else_changes() {
        assert_eq!(
            dollar_placeholders("UPDATE t SET a = ?2, b = 'x?' WHERE id = ?1 AND c = ?10"),
            "UPDATE t SET a = $2, b = 'x?' WHERE id = $1 AND c = $10"
        );
    }

    #[test]
    fn rows_read_booleans_from_integers_and_refuse_wrong_kinds() {
        let row = Row(vec![Cell::Int(1), Cell::Null, Cell::Text("a".into())]);
        assert!(row.bool(0).unwrap());
        assert_eq!(row.opt_text(1).unwrap(), None);
        assert!(row.int(2).is_err());
        assert!(row.text(3).is_err());
    }
}
