//! Result columns as Arrow arrays: each database column type maps to one Arrow type, and values
//! are appended to a builder of that type.
//!
//! PostgreSQL values arrive in the binary protocol and are decoded here directly (NUMERIC
//! becomes float64). SQLite is dynamically typed: a column's Arrow type comes from its
//! declared type, and each value is converted to it (text when the type is unknown).

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder,
    IntervalMonthDayNanoBuilder, StringBuilder, Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::types::IntervalMonthDayNano;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, IntervalUnit, Schema, SchemaRef, TimeUnit};

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_US: i64 = 946_684_800_000_000;
/// Days between the Unix epoch and PostgreSQL's.
const PG_EPOCH_DAYS: i32 = 10_957;

/// The Arrow type of a result column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// true / false.
    Bool,
    /// 32-bit integers.
    Int32,
    /// 64-bit integers.
    Int64,
    /// Floating point (and PostgreSQL NUMERIC).
    Float64,
    /// Text.
    Utf8,
    /// Bytes.
    Binary,
    /// An instant, microseconds, UTC.
    TimestampUtc,
    /// A wall-clock date and time without a zone, microseconds.
    Timestamp,
    /// A date.
    Date,
    /// A time of day, microseconds.
    Time,
    /// A PostgreSQL interval: months, days and nanoseconds.
    Interval,
}

impl Kind {
    /// The Arrow data type.
    pub fn data_type(self) -> DataType {
        match self {
            Kind::Bool => DataType::Boolean,
            Kind::Int32 => DataType::Int32,
            Kind::Int64 => DataType::Int64,
            Kind::Float64 => DataType::Float64,
            Kind::Utf8 => DataType::Utf8,
            Kind::Binary => DataType::Binary,
            Kind::TimestampUtc => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            Kind::Date => DataType::Date32,
            Kind::Time => DataType::Time64(TimeUnit::Microsecond),
            Kind::Interval => DataType::Interval(IntervalUnit::MonthDayNano),
        }
    }

    /// The kind of a PostgreSQL type, by its name; None when results cannot carry it.
    pub fn of_postgres(type_name: &str) -> Option<Kind> {
        Some(match type_name {
            "BOOL" => Kind::Bool,
            "INT2" | "INT4" => Kind::Int32,
            "INT8" | "OID" => Kind::Int64,
            "FLOAT4" | "FLOAT8" | "NUMERIC" => Kind::Float64,
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "\"CHAR\"" | "UNKNOWN" | "JSON" | "JSONB" | "UUID"
            | "XML" | "CITEXT" => Kind::Utf8,
            // `void` (what `SELECT pg_sleep(1)` returns) has no value: a text column of nulls.
            "VOID" => Kind::Utf8,
            "BYTEA" => Kind::Binary,
            "TIMESTAMPTZ" => Kind::TimestampUtc,
            "TIMESTAMP" => Kind::Timestamp,
            "DATE" => Kind::Date,
            "TIME" => Kind::Time,
            "INTERVAL" => Kind::Interval,
            _ => return None,
        })
    }

    /// The kind of a SQLite column by its declared (or inferred) type name.
    pub fn of_sqlite(type_name: &str) -> Kind {
        match type_name.to_ascii_uppercase().as_str() {
            "BOOLEAN" | "BOOL" => Kind::Bool,
            "INTEGER" | "INT" | "BIGINT" | "INT8" => Kind::Int64,
            "REAL" | "FLOAT" | "DOUBLE" | "DOUBLE PRECISION" | "NUMERIC" => Kind::Float64,
            "BLOB" => Kind::Binary,
            _ => Kind::Utf8,
        }
    }
}

/// A schema from column names and kinds; every column may be null.
pub fn schema(columns: &[(String, Kind)]) -> SchemaRef {
    Arc::new(Schema::new(
        columns.iter().map(|(name, kind)| Field::new(name, kind.data_type(), true)).collect::<Vec<_>>(),
    ))
}

/// One column's builder.
pub enum Builder {
    /// Booleans.
    Bool(BooleanBuilder),
    /// 32-bit integers.
    Int32(Int32Builder),
    /// 64-bit integers.
    Int64(Int64Builder),
    /// Floats.
    Float64(Float64Builder),
    /// Text.
    Utf8(StringBuilder),
    /// Bytes.
    Binary(BinaryBuilder),
    /// Timestamps with or without the UTC zone.
    Timestamp(TimestampMicrosecondBuilder, bool),
    /// Dates.
    Date(Date32Builder),
    /// Times of day.
    Time(Time64MicrosecondBuilder),
    /// Intervals.
    Interval(IntervalMonthDayNanoBuilder),
}

impl Builder {
    /// An empty builder for `kind`.
    pub fn new(kind: Kind) -> Self {
        match kind {
            Kind::Bool => Builder::Bool(BooleanBuilder::new()),
            Kind::Int32 => Builder::Int32(Int32Builder::new()),
            Kind::Int64 => Builder::Int64(Int64Builder::new()),
            Kind::Float64 => Builder::Float64(Float64Builder::new()),
            Kind::Utf8 => Builder::Utf8(StringBuilder::new()),
            Kind::Binary => Builder::Binary(BinaryBuilder::new()),
            Kind::TimestampUtc => Builder::Timestamp(TimestampMicrosecondBuilder::new(), true),
            Kind::Timestamp => Builder::Timestamp(TimestampMicrosecondBuilder::new(), false),
            Kind::Date => Builder::Date(Date32Builder::new()),
            Kind::Time => Builder::Time(Time64MicrosecondBuilder::new()),
            Kind::Interval => Builder::Interval(IntervalMonthDayNanoBuilder::new()),
        }
    }

    /// Appends a NULL.
    pub fn null(&mut self) {
        match self {
            Builder::Bool(b) => b.append_null(),
            Builder::Int32(b) => b.append_null(),
            Builder::Int64(b) => b.append_null(),
            Builder::Float64(b) => b.append_null(),
            Builder::Utf8(b) => b.append_null(),
            Builder::Binary(b) => b.append_null(),
            Builder::Timestamp(b, _) => b.append_null(),
            Builder::Date(b) => b.append_null(),
            Builder::Time(b) => b.append_null(),
            Builder::Interval(b) => b.append_null(),
        }
    }

    /// The column so far, leaving the builder empty.
    pub fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Int32(b) => Arc::new(b.finish()),
            Builder::Int64(b) => Arc::new(b.finish()),
            Builder::Float64(b) => Arc::new(b.finish()),
            Builder::Utf8(b) => Arc::new(b.finish()),
            Builder::Binary(b) => Arc::new(b.finish()),
            Builder::Timestamp(b, utc) => {
                let array = b.finish();
                if *utc { Arc::new(array.with_timezone("UTC")) } else { Arc::new(array) }
            }
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Time(b) => Arc::new(b.finish()),
            Builder::Interval(b) => Arc::new(b.finish()),
        }
    }

    /// Appends a PostgreSQL value in its binary form, of the PostgreSQL type `type_name`.
    pub fn postgres(&mut self, type_name: &str, bytes: &[u8]) -> Result<(), String> {
        let short = || format!("a {type_name} value of {} bytes does not decode", bytes.len());
        let be_i64 = |b: &[u8]| b.get(..8).and_then(|s| s.try_into().ok()).map(i64::from_be_bytes);
        let be_i32 = |b: &[u8]| b.get(..4).and_then(|s| s.try_into().ok()).map(i32::from_be_bytes);
        match self {
            Builder::Utf8(b) if type_name == "VOID" => b.append_null(),
            Builder::Bool(b) => b.append_value(*bytes.first().ok_or_else(short)? != 0),
            Builder::Int32(b) => match type_name {
                "INT2" => {
                    let v = bytes.get(..2).and_then(|s| s.try_into().ok()).map(i16::from_be_bytes);
                    b.append_value(i32::from(v.ok_or_else(short)?))
                }
                _ => b.append_value(be_i32(bytes).ok_or_else(short)?),
            },
            Builder::Int64(b) => match type_name {
                "OID" => {
                    let v = bytes.get(..4).and_then(|s| s.try_into().ok()).map(u32::from_be_bytes);
                    b.append_value(i64::from(v.ok_or_else(short)?))
                }
                _ => b.append_value(be_i64(bytes).ok_or_else(short)?),
            },
            Builder::Float64(b) => match type_name {
                "FLOAT4" => {
                    let v = bytes.get(..4).and_then(|s| s.try_into().ok()).map(f32::from_be_bytes);
                    b.append_value(f64::from(v.ok_or_else(short)?))
                }
                "FLOAT8" => {
                    let v = bytes.get(..8).and_then(|s| s.try_into().ok()).map(f64::from_be_bytes);
                    b.append_value(v.ok_or_else(short)?)
                }
                _ => b.append_value(numeric(bytes).ok_or_else(short)?),
            },
            Builder::Utf8(b) => match type_name {
                "UUID" => {
                    let id = uuid::Uuid::from_slice(bytes).map_err(|_| short())?;
                    b.append_value(id.hyphenated().to_string())
                }
                "JSONB" => b.append_value(String::from_utf8_lossy(bytes.get(1..).unwrap_or_default())),
                _ => b.append_value(String::from_utf8_lossy(bytes)),
            },
            Builder::Binary(b) => b.append_value(bytes),
            Builder::Timestamp(b, _) => match be_i64(bytes).ok_or_else(short)? {
                // ±infinity have no instant.
                i64::MAX | i64::MIN => b.append_null(),
                v => b.append_value(v.saturating_add(PG_EPOCH_US)),
            },
            Builder::Date(b) => match be_i32(bytes).ok_or_else(short)? {
                i32::MAX | i32::MIN => b.append_null(),
                v => b.append_value(v.saturating_add(PG_EPOCH_DAYS)),
            },
            Builder::Time(b) => b.append_value(be_i64(bytes).ok_or_else(short)?),
            Builder::Interval(b) => {
                let micros = be_i64(bytes).ok_or_else(short)?;
                let days = be_i32(bytes.get(8..).unwrap_or_default()).ok_or_else(short)?;
                let months = be_i32(bytes.get(12..).unwrap_or_default()).ok_or_else(short)?;
                b.append_value(IntervalMonthDayNano::new(months, days, micros.saturating_mul(1_000)))
            }
        }
        Ok(())
    }

    /// Appends a SQLite value, converted to this column's type.
    pub fn sqlite(&mut self, value: SqliteValue) {
        match (self, value) {
            (b, SqliteValue::Null) => b.null(),
            (Builder::Bool(b), SqliteValue::Integer(i)) => b.append_value(i != 0),
            (Builder::Bool(b), SqliteValue::Real(f)) => b.append_value(f != 0.0),
            (Builder::Int64(b), SqliteValue::Integer(i)) => b.append_value(i),
            (Builder::Int64(b), SqliteValue::Real(f)) => b.append_value(f as i64),
            (Builder::Float64(b), SqliteValue::Real(f)) => b.append_value(f),
            (Builder::Float64(b), SqliteValue::Integer(i)) => b.append_value(i as f64),
            (Builder::Binary(b), SqliteValue::Blob(v)) => b.append_value(v),
            (Builder::Binary(b), SqliteValue::Text(t)) => b.append_value(t.as_bytes()),
            (Builder::Utf8(b), SqliteValue::Text(t)) => b.append_value(t),
            (Builder::Utf8(b), SqliteValue::Integer(i)) => b.append_value(i.to_string()),
            (Builder::Utf8(b), SqliteValue::Real(f)) => b.append_value(f.to_string()),
            (Builder::Utf8(b), SqliteValue::Blob(v)) => b.append_value(String::from_utf8_lossy(&v)),
            (Builder::Int64(b), SqliteValue::Text(t)) => match t.trim().parse() {
                Ok(v) => b.append_value(v),
                Err(_) => b.append_null(),
            },
            (Builder::Float64(b), SqliteValue::Text(t)) => match t.trim().parse() {
                Ok(v) => b.append_value(v),
                Err(_) => b.append_null(),
            },
            (b, _) => b.null(),
        }
    }
}

/// A SQLite value by its storage class.
#[derive(Debug, Clone, PartialEq)]
pub enum SqliteValue {
    /// NULL.
    Null,
    /// INTEGER.
    Integer(i64),
    /// REAL.
    Real(f64),
    /// TEXT.
    Text(String),
    /// BLOB.
    Blob(Vec<u8>),
}

/// PostgreSQL NUMERIC in binary form as f64: digit count, weight, sign, scale, then base-10000
/// digits. NaN and infinities map to themselves.
pub fn numeric(bytes: &[u8]) -> Option<f64> {
    let u16_at = |i: usize| bytes.get(i..i + 2).and_then(|s| s.try_into().ok()).map(u16::from_be_bytes);
    let ndigits = u16_at(0)? as usize;
    let weight = u16_at(2)? as i16;
    let sign = u16_at(4)?;
    match sign {
        0xC000 => return Some(f64::NAN),
        0xD000 => return Some(f64::INFINITY),
        0xF000 => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    let mut value = 0.0;
    for i in 0..ndigits {
        let digit = f64::from(u16_at(8 + 2 * i)?);
        value += digit * 10_000f64.powi(i32::from(weight) - i as i32);
    }
    Some(if sign == 0x4000 { -value } else { value })
}

/// A record batch of `schema` from builders, leaving them empty.
pub fn batch(schema: &SchemaRef, builders: &mut [Builder]) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let columns: Vec<ArrayRef> = builders.iter_mut().map(Builder::finish).collect();
    RecordBatch::try_new(schema.clone(), columns)
}

#[cfg(test)]
mod tests {
    use arrow_array::{Array, Float64Array, Int32Array, StringArray, TimestampMicrosecondArray};

    use super::*;

    fn numeric_bytes(ndigits: u16, weight: i16, sign: u16, scale: u16, digits: &[u16]) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [ndigits, weight as u16, sign, scale].into_iter().chain(digits.iter().copied()) {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b
    }

    #[test]
    fn numerics_decode() {
        // 12345.678 = 1 2345 . 6780 with weight 1.
        let v = numeric(&numeric_bytes(3, 1, 0, 3, &[1, 2345, 6780])).unwrap();
        assert!((v - 12345.678).abs() < 1e-9, "{v}");
        let v = numeric(&numeric_bytes(1, -1, 0x4000, 2, &[500])).unwrap();
        assert!((v + 0.05).abs() < 1e-12, "{v}");
        assert_eq!(numeric(&numeric_bytes(0, 0, 0, 0, &[])), Some(0.0));
        assert!(numeric(&numeric_bytes(0, 0, 0xC000, 0, &[])).unwrap().is_nan());
        assert_eq!(numeric(&[0, 1]), None);
    }

    #[test]
    fn postgres_values_become_arrow() {
        let mut ints = Builder::new(Kind::Int32);
        ints.postgres("INT2", &7i16.to_be_bytes()).unwrap();
        ints.postgres("INT4", &(-3i32).to_be_bytes()).unwrap();
        ints.null();
        assert!(ints.postgres("INT4", &[1]).is_err(), "short values are refused, not read past");
        let array = ints.finish();
        let array = array.as_any().downcast_ref::<Int32Array>().unwrap();
        assert_eq!((array.value(0), array.value(1), array.is_null(2)), (7, -3, true));

        let mut ts = Builder::new(Kind::TimestampUtc);
        ts.postgres("TIMESTAMPTZ", &0i64.to_be_bytes()).unwrap();
        let array = ts.finish();
        let array = array.as_any().downcast_ref::<TimestampMicrosecondArray>().unwrap();
        assert_eq!(array.value(0), PG_EPOCH_US);
        assert_eq!(array.timezone(), Some("UTC"));

        let mut text = Builder::new(Kind::Utf8);
        text.postgres("UUID", uuid::Uuid::nil().as_bytes()).unwrap();
        let array = text.finish();
        let array = array.as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(array.value(0), "00000000-0000-0000-0000-000000000000");
        assert_eq!(Kind::of_postgres("INT4[]"), None);
    }

    #[test]
    fn sqlite_values_convert_to_the_column_type() {
        let mut floats = Builder::new(Kind::Float64);
        floats.sqlite(SqliteValue::Integer(2));
        floats.sqlite(SqliteValue::Text("2.5".into()));
        floats.sqlite(SqliteValue::Text("n/a".into()));
        let array = floats.finish();
        let array = array.as_any().downcast_ref::<Float64Array>().unwrap();
        assert_eq!((array.value(0), array.value(1), array.is_null(2)), (2.0, 2.5, true));
        assert_eq!(Kind::of_sqlite("boolean"), Kind::Bool);
        assert_eq!(Kind::of_sqlite("NULL"), Kind::Utf8);
    }
}
