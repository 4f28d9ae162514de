//! The layers a configuration is read from (built-in defaults, the file,
//! the environment) and, for `server config check`, where each value came from.

use super::keys::{env_name, Key, KEYS};
use super::{refuse, Config, DEFAULTS};

/// The layers a configuration is read from (defaults, the file, the
/// environment), kept so that `server config check` can say which one each
/// value came from.
pub struct Layers {
    merged: config::Config,
    /// The file's own values, when it exists.
    file: Option<config::Config>,
    pub file_path: String,
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    Unset,
    File(String),
    Environment(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Unset => f.write_str("unset"),
            Source::File(path) => write!(f, "file {path}"),
            Source::Environment(var) => write!(f, "environment {var}"),
        }
    }
}

impl Layers {
    /// Reads the defaults, the file (`IMGFLUSH_CONFIG`, else `imgflush.toml`
    /// if present) and the environment.
    pub fn read() -> anyhow::Result<Layers> {
        let file_path = std::env::var("IMGFLUSH_CONFIG").unwrap_or_else(|_| "imgflush.toml".to_owned());
        // A typo in the path must not start the server on its defaults;
        // `IMGFLUSH_CONFIG=/dev/null` says "no file" on purpose.
        if std::env::var_os("IMGFLUSH_CONFIG").is_some() && !std::path::Path::new(&file_path).exists() {
            return Err(refuse(format!(
                "IMGFLUSH_CONFIG names {file_path}, which does not exist: fix the path, or set it to /dev/null \
                 for no configuration file"
            )));
        }
        let file_source = || config::File::new(&file_path, config::FileFormat::Toml).required(false);
        let unreadable = |e: config::ConfigError| refuse(format!("{file_path} cannot be read: {e}; fix the file"));
        let file = if std::path::Path::new(&file_path).is_file() {
            Some(config::Config::builder().add_source(file_source()).build().map_err(unreadable)?)
        } else {
            None
        };
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .add_source(file_source())
            .add_source(
                config::Environment::with_prefix("APP")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .list_separator(",")
                    .with_list_parse_key("targets.allowed_networks")
                    .with_list_parse_key("security.trusted_proxies")
                    .with_list_parse_key("edge.names"),
            );
        for key in KEYS {
            for var in key.aliases {
                if let Ok(v) = std::env::var(var) {
                    builder = builder.set_override(key.name, v)?;
                }
            }
        }
        let merged = builder.build().map_err(unreadable)?;
        Ok(Layers { merged, file, file_path })
    }

    /// The typed configuration, checked ([`Config::validate`]).
    pub fn config(&self) -> anyhow::Result<Config> {
        let cfg: Config = self.merged.clone().try_deserialize().map_err(|e| {
            refuse(format!(
                "the configuration does not read: {e}; fix that value (`server config example` lists every key)"
            ))
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Where `key`'s value came from.
    pub fn source(&self, key: &Key) -> Source {
        if let Some(var) = key.aliases.iter().rev().find(|v| std::env::var_os(v).is_some()) {
            return Source::Environment((*var).to_owned());
        }
        let var = env_name(key.name);
        if std::env::var_os(&var).is_some() {
            return Source::Environment(var);
        }
        if self.file.as_ref().is_some_and(|f| f.get::<config::Value>(key.name).is_ok()) {
            return Source::File(self.file_path.clone());
        }
        if key.default.is_some() {
            Source::Default
        } else {
            Source::Unset
        }
    }

    /// `key`'s effective value as text (secrets redacted); `None` when unset.
    pub fn shown(&self, key: &Key) -> Option<String> {
        let value = self.merged.get::<config::Value>(key.name).ok()?;
        let text = show(value);
        Some(match (key.secret, key.name) {
            (true, "database.url") => redact_url(&text),
            (true, _) => "[redacted]".to_owned(),
            (false, _) => text,
        })
    }
}

pub(super) fn show(value: config::Value) -> String {
    match value.kind {
        config::ValueKind::Array(items) => {
            format!("[{}]", items.into_iter().map(show).collect::<Vec<_>>().join(", "))
        }
        config::ValueKind::String(s) => s,
        other => other.to_string(),
    }
}

/// A database URL with its password, if any, hidden.
fn redact_url(url: &str) -> String {
    match url.split_once("://").and_then(|(scheme, rest)| Some((scheme, rest.split_once('@')?))) {
        Some((scheme, (userinfo, host))) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let hidden = if userinfo.contains(':') { ":[redacted]" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}")
        }
        None => url.to_owned(),
    }
}

impl Config {
    /// Loads the layered configuration; a refusal names the offending key and the fix.
    pub fn load() -> anyhow::Result<Config> {
        Layers::read()?.config()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(redact_url("postgres://u:hunter2@db/x"), "postgres://u:[redacted]@db/x");
        assert_eq!(redact_url("postgres://u@db/x"), "postgres://u@db/x");
        assert_eq!(redact_url("sqlite://data/imgflush.db"), "sqlite://data/imgflush.db");
    }
}
