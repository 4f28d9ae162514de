//! `KEY=VALUE` pairs of `server project set`, read into the JSON the API
//! takes (`PATCH /api/v1/project`), each value by its key's type.

use anyhow::{anyhow, bail};
use serde_json::{Map, Value};

#[derive(Clone, Copy)]
enum Kind {
    Text,
    /// Empty: `null` (cleared).
    OptionalText,
    Number,
    OptionalNumber,
    Flag,
    /// Comma-separated; repeated keys add to the list.
    List,
    /// One item per occurrence (tag rules hold spaces and commas may be in paths).
    Items,
}

const KEYS: [(&str, Kind); 25] = [
    ("name", Kind::Text),
    ("origin_hosts", Kind::List),
    ("origin_scheme", Kind::Text),
    ("max_age_secs", Kind::Number),
    ("s_maxage_secs", Kind::Number),
    ("custom_host", Kind::OptionalText),
    ("allow_private_origins", Kind::Flag),
    ("private_origins_allowed", Kind::List),
    ("sign_salt", Kind::OptionalText),
    ("sign_length", Kind::OptionalNumber),
    ("sealed", Kind::Flag),
    ("strict_seal", Kind::Flag),
    ("no_upscale", Kind::Flag),
    ("auto_format", Kind::Flag),
    ("linear_light", Kind::Flag),
    ("soft_purge", Kind::Flag),
    ("verify", Kind::Flag),
    ("tag_sources", Kind::List),
    ("tag_rules", Kind::Items),
    ("confirm_above_objects", Kind::OptionalNumber),
    ("confirm_above_mb", Kind::OptionalNumber),
    ("approval_for_all", Kind::Flag),
    ("approval_hours", Kind::OptionalNumber),
    ("retention_days", Kind::Number),
    ("token", Kind::Text),
];

pub(super) fn patch_from_pairs(pairs: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut out = Map::new();
    for pair in pairs {
        let Some((key, raw)) = pair.split_once('=') else {
            bail!("{pair:?}: give KEY=VALUE, e.g. soft_purge=true");
        };
        let key = key.trim();
        let Some((_, kind)) = KEYS.iter().find(|(k, _)| *k == key) else {
            let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).filter(|k| *k != "token").collect();
            bail!("{key}: not a project setting; the settings are {}", known.join(", "));
        };
        if key == "token" {
            bail!("token: a project's token cannot change");
        }
        let raw = raw.trim();
        let number = |raw: &str| {
            raw.replace(['_', ','], "")
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| anyhow!("{key}={raw}: give a whole number"))
        };
        let value = match kind {
            Kind::Text => Value::from(raw),
            Kind::OptionalText if raw.is_empty() => Value::Null,
            Kind::OptionalText => Value::from(raw),
            Kind::Number => number(raw)?,
            Kind::OptionalNumber if raw.is_empty() => Value::Null,
            Kind::OptionalNumber => number(raw)?,
            Kind::Flag => Value::from(match raw.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => true,
                "false" | "no" | "off" | "0" => false,
                _ => bail!("{key}={raw}: give true or false"),
            }),
            Kind::List | Kind::Items => {
                let items: Vec<Value> = match kind {
                    Kind::List => raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Value::from).collect(),
                    _ => (!raw.is_empty()).then(|| Value::from(raw)).into_iter().collect(),
                };
                let list = out.entry(key.to_owned()).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(existing) = list {
                    existing.extend(items);
                }
                continue;
            }
        };
        out.insert(key.to_owned(), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[&str]) -> anyhow::Result<Value> {
        patch_from_pairs(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).map(Value::Object)
    }

    #[test]
    fn each_value_is_read_by_its_keys_type() {
        let v = pairs(&[
            "soft_purge=on",
            "origin_hosts=a.example, b.example",
            "origin_hosts=c.example",
            "custom_host=",
            "max_age_secs=2_592_000",
            "tag_rules=/a.example/products/* products",
            "tag_rules=/a.example/shoes/* shoes",
            "confirm_above_mb=",
        ])
        .unwrap();
        assert_eq!(v["soft_purge"], true);
        assert_eq!(v["origin_hosts"], serde_json::json!(["a.example", "b.example", "c.example"]));
        assert_eq!(v["custom_host"], Value::Null);
        assert_eq!(v["max_age_secs"], 2_592_000);
        assert_eq!(v["tag_rules"].as_array().unwrap().len(), 2);
        assert_eq!(v["confirm_above_mb"], Value::Null);
        assert_eq!(pairs(&["origin_hosts="]).unwrap()["origin_hosts"], serde_json::json!([]));
    }

    #[test]
    fn mistakes_name_the_key() {
        for (bad, named) in [
            (&["soft_purge=maybe"][..], "soft_purge"),
            (&["max_age_secs=a week"][..], "max_age_secs"),
            (&["colour=blue"][..], "colour"),
            (&["soft_purge"][..], "KEY=VALUE"),
            (&["token=other"][..], "token"),
        ] {
            let e = pairs(bad).unwrap_err().to_string();
            assert!(e.contains(named), "{bad:?}: {e}");
        }
    }
}
