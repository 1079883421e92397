//! Chat templates rendered by minijinja against the texts rendered by transformers' Jinja
//! environment (tests/fixtures/chat/expected.json, made by scripts/fixtures/make_chat_fixtures.py).

use serde_json::Value;
use sharpen::chat::{ChatTemplate, Message};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/chat")
}

#[test]
fn templates_render_exactly_as_transformers() {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap()).unwrap();
    let mut checked = 0;
    for (name, spec) in expected.as_object().unwrap() {
        let source = std::fs::read_to_string(fixtures().join(format!("{name}.jinja"))).unwrap();
        let tok = |k: &str| Some(spec[k].as_str().unwrap().to_string()).filter(|s| !s.is_empty());
        let tmpl = ChatTemplate::new(source, tok("bos_token"), tok("eos_token"));
        for case in spec["cases"].as_array().unwrap() {
            let messages: Vec<Message> = case["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| Message::new(m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
                .collect();
            let gen = case["add_generation_prompt"].as_bool().unwrap();
            let got = tmpl.render_at(&messages, gen, spec["now_unix"].as_i64().unwrap());
            match (case.get("text"), case.get("error")) {
                (Some(text), _) => assert_eq!(got.unwrap(), text.as_str().unwrap(), "{name}: {messages:?}"),
                (None, Some(err)) => {
                    let e = got.unwrap_err().to_string();
                    assert!(e.contains(err.as_str().unwrap()), "{name}: error {e:?} should contain {err}");
                }
                _ => panic!("bad fixture"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 20);
}

#[test]
fn llama3_writes_todays_date_as_transformers_does() {
    let source = std::fs::read_to_string(fixtures().join("llama3.jinja")).unwrap();
    let tmpl = ChatTemplate::new(source, Some("<|begin_of_text|>".into()), Some("<|eot_id|>".into()));
    let text = tmpl.render(&[Message::user("hi")], true).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let today = sharpen::chat::strftime("%d %b %Y", now).unwrap();
    // Rendered across midnight, the date may be yesterday's.
    let yesterday = sharpen::chat::strftime("%d %b %Y", now - 60).unwrap();
    assert!(
        text.contains(&format!("Today Date: {today}\n")) || text.contains(&format!("Today Date: {yesterday}\n")),
        "{text}"
    );
    assert!(!text.contains("26 Jul 2024"), "the template's fallback date means strftime_now was undefined");
}

#[test]
fn tokenizer_config_forms_are_understood() {
    let v: Value = serde_json::json!({
        "chat_template": [{"name": "tool_use", "template": "x"}, {"name": "default", "template": "{{ bos_token }}!"}],
        "bos_token": {"content": "<s>", "lstrip": false},
        "eos_token": "</s>"
    });
    let t = ChatTemplate::from_tokenizer_config(&v, None).unwrap();
    assert_eq!(t.render(&[Message::user("hi")], true).unwrap(), "<s>!");
    assert_eq!(t.eos_token.as_deref(), Some("</s>"));
    assert!(ChatTemplate::from_tokenizer_config(&serde_json::json!({}), None).is_none());
    let over = ChatTemplate::from_tokenizer_config(&v, Some("{{ eos_token }}".into())).unwrap();
    assert_eq!(over.render(&[], false).unwrap(), "</s>");
    // A syntax error is an error, not a panic.
    assert!(ChatTemplate::new("{% if %}", None, None).render(&[], true).is_err());
}
