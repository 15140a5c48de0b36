//! The common stream chunk as a typed struct: the fast path through the stream pipeline.
//!
//! Nearly every chunk of a chat stream is one choice whose delta is a piece of text. Those
//! are parsed straight from the event's JSON into [`SimpleChunk`] (strings borrowed from
//! the event while parsing, repeated ones such as the id and model shared across the
//! stream) instead of a `serde_json::Map`, shaped by the same LiteLLM rules, and built
//! into Python objects without any map in between. Everything else (tool calls, usage,
//! logprobs, provider extras) takes the general `Map` path: a chunk that does not fit is
//! parsed again as a `Value`, so nothing a provider sends is lost.

use std::borrow::Cow;
use std::sync::Arc;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

/// One shaped chunk on its way to Python.
#[derive(Debug, Clone, PartialEq)]
pub enum Chunk {
    /// One choice, a text (or empty) delta, no usage or logprobs.
    Simple(SimpleChunk),
    /// Anything else, as an OpenAI-format `chat.completion.chunk` object (or, in a
    /// Responses or Anthropic stream, the event as a JSON object).
    Full(Map<String, Value>),
    /// A Responses API text or function-call-arguments delta event.
    Delta(DeltaEvent),
}

impl Chunk {
    /// The chunk as an OpenAI-format JSON object.
    pub fn into_map(self) -> Map<String, Value> {
        match self {
            Chunk::Simple(s) => s.to_map(),
            Chunk::Full(m) => m,
            Chunk::Delta(d) => d.to_map(),
        }
    }
}

/// A `chat.completion.chunk` with one choice whose delta holds at most `content` and
/// `role`. Before shaping, `role` says whether the provider sent one; after shaping it
/// is set on the first chunk of the stream only (LiteLLM's rule).
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleChunk {
    pub id: Arc<str>,
    pub created: i64,
    pub model: Option<Arc<str>>,
    pub system_fingerprint: Option<Arc<str>>,
    /// OpenAI's extra top-level keys: `None` when absent, `Some(None)` when null.
    pub service_tier: Option<Option<Arc<str>>>,
    pub obfuscation: Option<Option<String>>,
    pub index: i64,
    /// Already mapped to OpenAI's vocabulary (`map_finish_reason`).
    pub finish_reason: Option<&'static str>,
    pub content: Option<String>,
    pub role: bool,
}

impl SimpleChunk {
    /// A text delta in OpenAI's shape, for providers whose own events carry text.
    pub fn text(id: Arc<str>, created: i64, model: Option<Arc<str>>, content: String) -> Self {
        SimpleChunk {
            id,
            created,
            model,
            system_fingerprint: None,
            service_tier: None,
            obfuscation: None,
            index: 0,
            finish_reason: None,
            content: Some(content),
            role: false,
        }
    }

    /// True when the delta carries nothing (no text) and there is no finish reason.
    pub fn is_empty(&self) -> bool {
        self.finish_reason.is_none() && self.content.as_deref().is_none_or(str::is_empty)
    }

    /// The same chunk as an OpenAI-format JSON object (keys in OpenAI's order; a missing
    /// fingerprint is left out, which reads the same as null).
    pub fn to_map(&self) -> Map<String, Value> {
        let opt = |s: &Option<Arc<str>>| match s {
            Some(s) => Value::String(s.to_string()),
            None => Value::Null,
        };
        let mut delta = Map::new();
        if let Some(c) = &self.content {
            delta.insert("content".into(), Value::String(c.clone()));
        }
        if self.role {
            delta.insert("role".into(), Value::String("assistant".into()));
        }
        let mut choice = Map::new();
        choice.insert("index".into(), Value::from(self.index));
        choice.insert("delta".into(), Value::Object(delta));
        choice.insert(
            "finish_reason".into(),
            self.finish_reason.map_or(Value::Null, Value::from),
        );
        let mut m = Map::new();
        m.insert("id".into(), Value::String(self.id.to_string()));
        m.insert("object".into(), Value::from("chat.completion.chunk"));
        m.insert("created".into(), Value::from(self.created));
        m.insert("model".into(), opt(&self.model));
        if let Some(tier) = &self.service_tier {
            m.insert("service_tier".into(), opt(tier));
        }
        if self.system_fingerprint.is_some() {
            m.insert("system_fingerprint".into(), opt(&self.system_fingerprint));
        }
        m.insert("choices".into(), Value::Array(vec![Value::Object(choice)]));
        if let Some(o) = &self.obfuscation {
            m.insert(
                "obfuscation".into(),
                o.clone().map_or(Value::Null, Value::String),
            );
        }
        m
    }
}

impl SimpleChunk {
    /// The typed form of an OpenAI-format chunk built by a provider's decoder, or the map
    /// back when it is not the simple shape (the same shapes [`parse_simple`] accepts).
    pub fn from_map(
        m: Map<String, Value>,
        strings: &mut Interner,
    ) -> Result<Self, Map<String, Value>> {
        match Self::typed(&m, strings) {
            Some(c) => Ok(c),
            None => Err(m),
        }
    }

    fn typed(m: &Map<String, Value>, strings: &mut Interner) -> Option<Self> {
        let mut id = None;
        let mut created = None;
        let mut model = None;
        let mut fingerprint = None;
        let mut choices = None;
        for (k, v) in m {
            match k.as_str() {
                "id" => id = Some(v.as_str()?),
                "created" => created = Some(v.as_i64()?),
                "model" => model = opt_str(v)?,
                "system_fingerprint" => fingerprint = opt_str(v)?,
                "object" => {
                    opt_str(v)?;
                }
                "usage" if v.is_null() => {}
                "choices" => choices = Some(v.as_array()?),
                _ => return None,
            }
        }
        let [Value::Object(choice)] = choices?.as_slice() else {
            return None;
        };
        let mut index = 0;
        let mut finish_reason = None;
        let mut content = None;
        let mut role = false;
        for (k, v) in choice {
            match k.as_str() {
                "index" => index = v.as_i64()?,
                "finish_reason" => {
                    if let Some(r) = opt_str(v)? {
                        finish_reason = Some(known_finish_reason(r)?);
                    }
                }
                "logprobs" if v.is_null() => {}
                "delta" => {
                    for (dk, dv) in v.as_object()? {
                        match dk.as_str() {
                            "content" => content = opt_str(dv)?,
                            "role" => role = opt_str(dv)?.is_some(),
                            _ => return None,
                        }
                    }
                }
                _ => return None,
            }
        }
        Some(SimpleChunk {
            id: intern(&mut strings.id, id?),
            created: created?,
            model: model.map(|s| intern(&mut strings.model, s)),
            system_fingerprint: fingerprint.map(|s| intern(&mut strings.fingerprint, s)),
            service_tier: None,
            obfuscation: None,
            index,
            finish_reason,
            content: content.map(str::to_owned),
            role,
        })
    }
}

/// Which Responses API delta event a [`DeltaEvent`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaKind {
    /// `response.output_text.delta`
    OutputText,
    /// `response.function_call_arguments.delta`
    FunctionCallArguments,
}

impl DeltaKind {
    /// The event's `type`.
    pub fn name(self) -> &'static str {
        match self {
            DeltaKind::OutputText => "response.output_text.delta",
            DeltaKind::FunctionCallArguments => "response.function_call_arguments.delta",
        }
    }

    fn of(name: &str) -> Option<Self> {
        match name {
            "response.output_text.delta" => Some(DeltaKind::OutputText),
            "response.function_call_arguments.delta" => Some(DeltaKind::FunctionCallArguments),
            _ => None,
        }
    }
}

/// A Responses API delta event, typed: most events of a Responses stream are text (or
/// function-call arguments) deltas, and like [`SimpleChunk`] for chat they skip the
/// `Map` (a key string and a value per field) on their way from the wire or the bridge
/// to Python. Only the fields OpenAI sends take this path (`logprobs` only when empty);
/// an event with anything else stays a [`Chunk::Full`] map, so nothing is lost.
#[derive(Debug, Clone, PartialEq)]
pub struct DeltaEvent {
    pub kind: DeltaKind,
    /// Shared across the stream's events of one item.
    pub item_id: Arc<str>,
    pub output_index: i64,
    /// Text deltas' part index.
    pub content_index: Option<i64>,
    pub delta: String,
    /// Whether `logprobs: []` was sent.
    pub logprobs: bool,
    pub obfuscation: Option<String>,
    pub sequence_number: Option<i64>,
    /// Whether `sequence_number` comes second (OpenAI's order) rather than last (the
    /// bridge's): an event passed on reads in the order it came.
    pub sequence_first: bool,
}

impl DeltaEvent {
    /// Each field in order, as (name, value): what [`DeltaEvent::to_map`] and the
    /// Python objects are built from (no list made in between).
    pub fn try_for_each_field<E>(
        &self,
        mut f: impl FnMut(&'static str, DeltaField<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        f("type", DeltaField::Str(self.kind.name()))?;
        let seq = self.sequence_number.map(DeltaField::Int);
        if let (true, Some(n)) = (self.sequence_first, seq) {
            f("sequence_number", n)?;
        }
        f("item_id", DeltaField::Str(&self.item_id))?;
        f("output_index", DeltaField::Int(self.output_index))?;
        if let Some(c) = self.content_index {
            f("content_index", DeltaField::Int(c))?;
        }
        f("delta", DeltaField::Str(&self.delta))?;
        if self.logprobs {
            f("logprobs", DeltaField::EmptyList)?;
        }
        if let Some(o) = &self.obfuscation {
            f("obfuscation", DeltaField::Str(o))?;
        }
        if let (false, Some(n)) = (self.sequence_first, seq) {
            f("sequence_number", n)?;
        }
        Ok(())
    }

    /// The event as its JSON object.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut m = Map::with_capacity(8);
        let _ = self.try_for_each_field(|k, v| {
            let v = match v {
                DeltaField::Str(s) => Value::String(s.to_string()),
                DeltaField::Int(n) => Value::from(n),
                DeltaField::EmptyList => Value::Array(Vec::new()),
            };
            m.insert(k.to_string(), v);
            Ok::<(), std::convert::Infallible>(())
        });
        m
    }
}

/// The event's JSON, written straight from the fields (the proxy's stream).
impl serde::Serialize for DeltaEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        self.try_for_each_field(|k, v| match v {
            DeltaField::Str(x) => m.serialize_entry(k, x),
            DeltaField::Int(n) => m.serialize_entry(k, &n),
            DeltaField::EmptyList => m.serialize_entry(k, &[(); 0]),
        })?;
        m.end()
    }
}

/// One field value of a [`DeltaEvent`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DeltaField<'a> {
    Str(&'a str),
    Int(i64),
    EmptyList,
}

/// Parse one Responses stream event as a [`DeltaEvent`], or `None` when it is any other
/// event or carries anything more (the caller then parses it as a `Value`).
pub fn parse_delta(data: &str, strings: &mut Interner) -> Option<DeltaEvent> {
    let w: WireDeltaEvent<'_> = serde_json::from_str(data).ok()?;
    Some(DeltaEvent {
        kind: w.kind?,
        item_id: intern(&mut strings.item, w.item_id?.as_str()?),
        output_index: w.output_index?,
        content_index: w.content_index,
        delta: match w.delta? {
            Field::Str(s) => s.into_owned(),
            _ => return None,
        },
        logprobs: w.logprobs,
        obfuscation: match w.obfuscation {
            None => None,
            Some(Field::Str(s)) => Some(s.into_owned()),
            Some(_) => return None,
        },
        sequence_number: w.sequence_number,
        sequence_first: w.sequence_first,
    })
}

/// A delta event as read, each field checked for its type; any other field fails the
/// parse.
#[derive(Default)]
struct WireDeltaEvent<'a> {
    kind: Option<DeltaKind>,
    item_id: Option<Field<'a>>,
    output_index: Option<i64>,
    content_index: Option<i64>,
    delta: Option<Field<'a>>,
    logprobs: bool,
    obfuscation: Option<Field<'a>>,
    sequence_number: Option<i64>,
    sequence_first: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for WireDeltaEvent<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WireDeltaEvent<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a Responses delta event")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut w = WireDeltaEvent::default();
                // Keys with escapes (never sent) fail here and take the general path.
                while let Some(key) = map.next_key::<&'de str>()? {
                    match key {
                        "type" => {
                            let name: &'de str = map.next_value()?;
                            let kind = DeltaKind::of(name)
                                .ok_or_else(|| de::Error::custom("not a delta event"))?;
                            w.kind = Some(kind);
                        }
                        "sequence_number" => {
                            w.sequence_number = Some(map.next_value()?);
                            w.sequence_first = w.item_id.is_none();
                        }
                        "item_id" => w.item_id = Some(map.next_value()?),
                        "output_index" => w.output_index = Some(map.next_value()?),
                        "content_index" => w.content_index = Some(map.next_value()?),
                        "delta" => w.delta = Some(map.next_value()?),
                        "logprobs" => {
                            map.next_value::<EmptyList>()?;
                            w.logprobs = true;
                        }
                        "obfuscation" => w.obfuscation = Some(map.next_value()?),
                        _ => return Err(de::Error::custom("a field the fast path lacks")),
                    }
                }
                Ok(w)
            }
        }
        d.deserialize_map(V)
    }
}

/// `[]` only; any other value fails the parse.
struct EmptyList;

impl<'de> Deserialize<'de> for EmptyList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EmptyList;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an empty list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                match seq.next_element::<IgnoredAny>()? {
                    None => Ok(EmptyList),
                    Some(_) => Err(de::Error::custom("logprobs")),
                }
            }
        }
        d.deserialize_seq(V)
    }
}

/// A JSON value that must be null or a string: `Some(None)`, `Some(Some(s))`, else `None`.
fn opt_str(v: &Value) -> Option<Option<&str>> {
    match v {
        Value::Null => Some(None),
        Value::String(s) => Some(Some(s.as_str())),
        _ => None,
    }
}

/// Strings that repeat on every chunk of a stream (id, model, fingerprint, service tier,
/// a Responses item's id), kept once and shared.
#[derive(Debug, Default)]
pub struct Interner {
    id: Option<Arc<str>>,
    /// A Responses stream's current item id.
    item: Option<Arc<str>>,
    model: Option<Arc<str>>,
    fingerprint: Option<Arc<str>>,
    tier: Option<Arc<str>>,
}

fn intern(slot: &mut Option<Arc<str>>, s: &str) -> Arc<str> {
    match slot {
        Some(a) if **a == *s => a.clone(),
        _ => {
            let a: Arc<str> = Arc::from(s);
            *slot = Some(a.clone());
            a
        }
    }
}

/// A JSON value that must be absent, null or a string (anything else fails the parse,
/// which sends the chunk down the general path).
#[derive(Debug, Default)]
enum Field<'a> {
    #[default]
    Absent,
    Null,
    Str(Cow<'a, str>),
}

impl<'a> Field<'a> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Owned(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Field::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Field::Null)
            }
        }
        d.deserialize_any(V)
    }
}

/// `null` only (absent is fine too); any other value fails the parse.
#[derive(Debug, Default)]
struct Nothing;

impl<'de> Deserialize<'de> for Nothing {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Nothing;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Nothing)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Nothing)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireChunk<'a> {
    #[serde(borrow, default)]
    id: Field<'a>,
    #[serde(borrow, default)]
    #[allow(dead_code)]
    object: Field<'a>,
    created: i64,
    #[serde(borrow, default)]
    model: Field<'a>,
    #[serde(borrow, default)]
    system_fingerprint: Field<'a>,
    #[serde(borrow, default)]
    service_tier: Field<'a>,
    #[serde(borrow, default)]
    obfuscation: Field<'a>,
    #[serde(default)]
    #[allow(dead_code)]
    usage: Nothing,
    #[serde(borrow)]
    choices: [WireChoice<'a>; 1],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireChoice<'a> {
    #[serde(default)]
    index: i64,
    #[serde(borrow, default)]
    delta: WireDelta<'a>,
    #[serde(borrow, default)]
    finish_reason: Field<'a>,
    #[serde(default)]
    #[allow(dead_code)]
    logprobs: Nothing,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct WireDelta<'a> {
    #[serde(borrow, default)]
    content: Field<'a>,
    #[serde(borrow, default)]
    role: Field<'a>,
}

/// The finish reasons the fast path carries (after mapping); others take the map path.
fn known_finish_reason(reason: &str) -> Option<&'static str> {
    match super::map_finish_reason(reason) {
        "stop" => Some("stop"),
        "length" => Some("length"),
        "tool_calls" => Some("tool_calls"),
        "content_filter" => Some("content_filter"),
        "function_call" => Some("function_call"),
        _ => None,
    }
}

/// Parse one OpenAI `chat.completion.chunk` event as a [`SimpleChunk`], or `None` when it
/// is anything else (the caller then parses it as a `Value`).
pub fn parse_simple(data: &str, strings: &mut Interner) -> Option<SimpleChunk> {
    let w: WireChunk<'_> = serde_json::from_str(data).ok()?;
    let id = intern(&mut strings.id, w.id.as_str()?);
    let [choice] = w.choices;
    let finish_reason = match &choice.finish_reason {
        Field::Str(r) => Some(known_finish_reason(r)?),
        _ => None,
    };
    let tier = match &w.service_tier {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Str(s) => Some(Some(intern(&mut strings.tier, s))),
    };
    let obfuscation = match w.obfuscation {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Str(s) => Some(Some(s.into_owned())),
    };
    Some(SimpleChunk {
        id,
        created: w.created,
        model: w.model.as_str().map(|m| intern(&mut strings.model, m)),
        system_fingerprint: w
            .system_fingerprint
            .as_str()
            .map(|f| intern(&mut strings.fingerprint, f)),
        service_tier: tier,
        obfuscation,
        index: choice.index,
        finish_reason,
        content: match choice.delta.content {
            Field::Str(c) => Some(c.into_owned()),
            _ => None,
        },
        role: !matches!(choice.delta.role, Field::Absent | Field::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Option<SimpleChunk> {
        parse_simple(&v.to_string(), &mut Interner::default())
    }

    #[test]
    fn openai_text_chunks_take_the_fast_path() {
        let c = parse(
            json!({"id": "c1", "object": "chat.completion.chunk", "created": 7,
            "model": "gpt-4o", "service_tier": "default", "system_fingerprint": "fp",
            "choices": [{"index": 0, "delta": {"content": "He\"l\nlo"}, "logprobs": null,
            "finish_reason": null}], "usage": null, "obfuscation": "abc"}),
        )
        .unwrap();
        assert_eq!(&*c.id, "c1");
        assert_eq!(c.created, 7);
        assert_eq!(c.content.as_deref(), Some("He\"l\nlo"));
        assert_eq!(c.service_tier, Some(Some(Arc::from("default"))));
        assert_eq!(c.obfuscation, Some(Some("abc".into())));
        assert!(!c.role && c.finish_reason.is_none());
    }

    #[test]
    fn anything_else_takes_the_map_path() {
        let base = json!({"id": "c1", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": null}]});
        assert!(parse(base.clone()).is_some());
        let with = |path: &str, v: Value| {
            let mut c = base.clone();
            match path {
                "top" => c["extra"] = v,
                "delta" => c["choices"][0]["delta"]["tool_calls"] = v,
                "usage" => c["usage"] = v,
                "logprobs" => c["choices"][0]["logprobs"] = v,
                "finish" => c["choices"][0]["finish_reason"] = v,
                "choices" => c["choices"] = v,
                _ => c["created"] = v,
            }
            parse(c)
        };
        assert!(with("top", json!(1)).is_none());
        assert!(with("delta", json!([])).is_none());
        assert!(with("usage", json!({"total_tokens": 1})).is_none());
        assert!(with("logprobs", json!({"content": []})).is_none());
        assert!(with("finish", json!("weird")).is_none());
        assert!(with("choices", json!([])).is_none());
        assert!(with("created", json!(1.5)).is_none());
        // Mapped reasons are fine.
        assert_eq!(
            with("finish", json!("end_turn")).unwrap().finish_reason,
            Some("stop")
        );
        assert!(with("usage", Value::Null).is_some());
    }

    #[test]
    fn repeated_strings_are_shared() {
        let mut strings = Interner::default();
        let data = json!({"id": "c1", "created": 1, "model": "m",
            "choices": [{"delta": {"content": "x"}}]})
        .to_string();
        let a = parse_simple(&data, &mut strings).unwrap();
        let b = parse_simple(&data, &mut strings).unwrap();
        assert!(Arc::ptr_eq(&a.id, &b.id));
        assert!(Arc::ptr_eq(
            a.model.as_ref().unwrap(),
            b.model.as_ref().unwrap()
        ));
    }

    #[test]
    fn to_map_is_the_openai_chunk() {
        let mut c = parse(json!({"id": "c1", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": "stop"}]}))
        .unwrap();
        c.role = true;
        assert_eq!(
            Value::Object(c.to_map()),
            json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
                "choices": [{"index": 0,
                "delta": {"content": "x", "role": "assistant"}, "finish_reason": "stop"}]})
        );
    }

    #[test]
    fn decoder_maps_become_typed_when_simple() {
        let mut strings = Interner::default();
        let m = |v: Value| match v {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let text = m(
            json!({"id": "a", "object": "chat.completion.chunk", "created": 3,
            "model": "claude", "choices": [{"index": 0, "delta": {"content": "hi"},
            "finish_reason": null}]}),
        );
        let c = SimpleChunk::from_map(text.clone(), &mut strings).unwrap();
        assert_eq!(c.content.as_deref(), Some("hi"));
        assert_eq!(
            Value::Object(c.to_map())["choices"],
            Value::Object(text)["choices"]
        );
        let tools = m(json!({"id": "a", "created": 3, "choices": [{"index": 0,
            "delta": {"content": null, "tool_calls": []}, "finish_reason": null}]}));
        assert!(SimpleChunk::from_map(tools, &mut strings).is_err());
        let two = m(json!({"id": "a", "created": 3, "choices": [
            {"index": 0, "delta": {}}, {"index": 1, "delta": {}}]}));
        assert!(SimpleChunk::from_map(two, &mut strings).is_err());
        assert!(parse_simple(
            r#"{"id":"a","created":1,"choices":[{"delta":{}},{"delta":{}}]}"#,
            &mut strings
        )
        .is_none());
    }

    /// What OpenAI sends (sequence_number second, obfuscation) and what the bridge
    /// writes (sequence_number last), each read typed and written back byte for byte,
    /// through both the map and the serializer.
    #[test]
    fn delta_events_are_typed_and_written_back_as_they_came() {
        let openai = r#"{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"He said \"hi\"\n","logprobs":[],"obfuscation":"Xy"}"#;
        let bridge = r#"{"type":"response.output_text.delta","item_id":"msg_1","output_index":1,"content_index":0,"delta":"é","logprobs":[],"sequence_number":9}"#;
        let args = r#"{"type":"response.function_call_arguments.delta","sequence_number":7,"item_id":"fc_1","output_index":2,"delta":"{\"a\":"}"#;
        let mut strings = Interner::default();
        for data in [openai, bridge, args] {
            let d = parse_delta(data, &mut strings).unwrap();
            assert_eq!(serde_json::to_string(&d.to_map()).unwrap(), data);
            assert_eq!(serde_json::to_string(&d).unwrap(), data);
        }
        let d = parse_delta(openai, &mut strings).unwrap();
        assert_eq!(d.kind, DeltaKind::OutputText);
        assert_eq!(d.delta, "He said \"hi\"\n");
        assert_eq!((d.output_index, d.content_index), (0, Some(0)));
        assert_eq!(d.sequence_number, Some(4));
        assert!(d.sequence_first && d.logprobs);
        assert_eq!(d.obfuscation.as_deref(), Some("Xy"));
        let a = parse_delta(args, &mut strings).unwrap();
        assert_eq!(a.kind, DeltaKind::FunctionCallArguments);
        assert_eq!((a.content_index, a.logprobs), (None, false));
        // The item id is shared by its events.
        let again = parse_delta(bridge, &mut strings).unwrap();
        let d2 = parse_delta(openai, &mut strings).unwrap();
        assert!(Arc::ptr_eq(&d2.item_id, &again.item_id));
    }

    /// Other events, and deltas with anything the typed form does not hold, are left
    /// to the map path (nothing dropped).
    #[test]
    fn other_events_and_unusual_deltas_take_the_map_path() {
        let mut strings = Interner::default();
        for data in [
            r#"{"type":"response.created","sequence_number":0,"response":{}}"#,
            r#"{"type":"response.output_text.done","item_id":"m","output_index":0,"content_index":0,"text":"x"}"#,
            r#"{"type":"response.reasoning_summary_text.delta","item_id":"r","output_index":0,"summary_index":0,"delta":"x"}"#,
            // logprobs that are there, a field more, wrong types, a missing field.
            r#"{"type":"response.output_text.delta","item_id":"m","output_index":0,"content_index":0,"delta":"x","logprobs":[{"token":"x","logprob":-0.1}]}"#,
            r#"{"type":"response.output_text.delta","item_id":"m","output_index":0,"content_index":0,"delta":"x","annotations":[]}"#,
            r#"{"type":"response.output_text.delta","item_id":"m","output_index":"0","delta":"x"}"#,
            r#"{"type":"response.output_text.delta","item_id":null,"output_index":0,"delta":"x"}"#,
            r#"{"type":"response.output_text.delta","item_id":"m","output_index":0,"delta":null}"#,
            r#"{"type":"response.output_text.delta","item_id":"m","output_index":0,"delta":"x","obfuscation":null}"#,
            r#"{"type":"response.output_text.delta","item_id":"m","delta":"x"}"#,
            r#"{"item_id":"m","output_index":0,"delta":"x"}"#,
            r#"{"type":"response.output_text.delta","item_id":"m","output_index":0,"delta":"x""#,
            r#"["response.output_text.delta"]"#,
        ] {
            assert!(parse_delta(data, &mut strings).is_none(), "{data}");
        }
    }
}
