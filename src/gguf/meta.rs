//! Typed access to GGUF metadata: every failure names the key.

use super::error::{GgufError, Result};
use candle_core::quantized::gguf_file::{Content, Value};

/// The metadata of one GGUF file.
pub struct Meta<'a>(pub &'a Content);

impl<'a> Meta<'a> {
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.metadata.get(key)
    }

    fn require(&self, key: &str) -> Result<&'a Value> {
        self.get(key).ok_or_else(|| GgufError::MissingKey(key.to_string()))
    }

    pub fn string(&self, key: &str) -> Result<&'a str> {
        match self.require(key)? {
            Value::String(s) => Ok(s),
            _ => Err(wrong(key, "a string")),
        }
    }

    pub fn opt_string(&self, key: &str) -> Result<Option<&'a str>> {
        if self.get(key).is_none() {
            return Ok(None);
        }
        self.string(key).map(Some)
    }

    pub fn u64(&self, key: &str) -> Result<u64> {
        as_u64(self.require(key)?).ok_or_else(|| wrong(key, "a non-negative integer"))
    }

    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>> {
        if self.get(key).is_none() {
            return Ok(None);
        }
        self.u64(key).map(Some)
    }

    pub fn f64(&self, key: &str) -> Result<f64> {
        match self.require(key)? {
            // The shortest decimal that round-trips the f32 (1e-5, not 9.999999747378752e-6).
            Value::F32(v) => Ok(v.to_string().parse().unwrap_or(*v as f64)),
            Value::F64(v) => Ok(*v),
            v => as_u64(v).map(|v| v as f64).ok_or_else(|| wrong(key, "a number")),
        }
    }

    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>> {
        if self.get(key).is_none() {
            return Ok(None);
        }
        self.f64(key).map(Some)
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong(key, "a boolean")),
        }
    }

    pub fn strings(&self, key: &str) -> Result<Vec<&'a str>> {
        match self.require(key)? {
            Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.as_str()),
                    _ => Err(wrong(key, "an array of strings")),
                })
                .collect(),
            _ => Err(wrong(key, "an array of strings")),
        }
    }

    pub fn opt_ints(&self, key: &str) -> Result<Option<Vec<u64>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| as_u64(v).ok_or_else(|| wrong(key, "an array of integers")))
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(_) => Err(wrong(key, "an array of integers")),
        }
    }
}

fn wrong(key: &str, expected: &'static str) -> GgufError {
    GgufError::WrongType { key: key.to_string(), expected }
}

fn as_u64(v: &Value) -> Option<u64> {
    match *v {
        Value::U8(x) => Some(x as u64),
        Value::U16(x) => Some(x as u64),
        Value::U32(x) => Some(x as u64),
        Value::U64(x) => Some(x),
        Value::I8(x) => u64::try_from(x).ok(),
        Value::I16(x) => u64::try_from(x).ok(),
        Value::I32(x) => u64::try_from(x).ok(),
        Value::I64(x) => u64::try_from(x).ok(),
        _ => None,
    }
}
