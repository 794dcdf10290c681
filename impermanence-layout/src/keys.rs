//! Encryption keys of the spec's encryption roots: given by the caller where `keylocation` is
//! `prompt` (the CLI asks on the terminal), read from the file where it is `file://`.

use std::collections::HashMap;

use indexmap::IndexMap;
use zfs_core::{Key, KeyFormat};

use crate::error::LayoutError;
use crate::spec::Spec;

/// Properties that come from the key itself when a dataset is created with one.
const FROM_THE_KEY: &[&str] = &["keyformat", "pbkdf2iters"];

/// A dataset (or the pool's root) that the spec makes an encryption root: it sets `keyformat`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct EncryptionRoot {
    /// Full name (the pool's name for its root).
    pub name: String,
    /// `keyformat`.
    #[serde(serialize_with = "format_name")]
    pub format: KeyFormat,
    /// `keylocation`: `prompt` (the default) or `file:///...`.
    pub location: String,
}

fn format_name<S: serde::Serializer>(f: &KeyFormat, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.as_str())
}

impl EncryptionRoot {
    /// Whether its key must come from the caller (`keylocation=prompt`).
    pub fn prompts(&self) -> bool {
        self.location == "prompt"
    }

    /// The root described by a creation's properties, if they make one.
    pub(crate) fn from_props(name: &str, props: &IndexMap<String, String>) -> Option<Self> {
        let format = props.get("keyformat")?.parse().ok()?;
        Some(EncryptionRoot {
            name: name.to_owned(),
            format,
            location: props
                .get("keylocation")
                .cloned()
                .unwrap_or_else(|| "prompt".into()),
        })
    }

    /// Its key: the caller's for `prompt`, the file's for `file://`; in the root's format,
    /// with the spec's `pbkdf2iters`.
    pub(crate) fn key(
        &self,
        given: &HashMap<String, Key>,
        props: &IndexMap<String, String>,
    ) -> Result<Key, LayoutError> {
        let bad = |why: String| LayoutError::Key {
            dataset: self.name.clone(),
            reason: why,
        };
        let key = if self.prompts() {
            given
                .get(&self.name)
                .cloned()
                .ok_or_else(|| bad("keylocation is prompt and no key was given for it".into()))?
        } else {
            Key::from_location(&self.location, self.format).map_err(|e| bad(e.to_string()))?
        };
        if key.format() != self.format {
            return Err(bad(format!(
                "the key given is {}, the spec's keyformat is {}",
                key.format().as_str(),
                self.format.as_str()
            )));
        }
        match props.get("pbkdf2iters") {
            Some(n) => {
                let rounds = n
                    .parse()
                    .map_err(|_| bad(format!("pbkdf2iters '{n}' is not a number")))?;
                key.pbkdf2_iterations(rounds)
                    .map_err(|e| bad(e.to_string()))
            }
            None => Ok(key),
        }
    }
}

/// `props` without what the key brings (`keyformat`, `pbkdf2iters`).
pub(crate) fn without_key_props(props: &IndexMap<String, String>) -> IndexMap<String, String> {
    props
        .iter()
        .filter(|(k, _)| !FROM_THE_KEY.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

impl Spec {
    /// The encryption roots the spec makes, the pool's root first (pool by pool): what needs
    /// a key.
    pub fn encryption_roots(&self) -> Vec<EncryptionRoot> {
        if self.has_several_pools() {
            return self
                .pool_specs()
                .iter()
                .flat_map(Spec::encryption_roots)
                .collect();
        }
        let root = EncryptionRoot::from_props(&self.pool.name, &self.pool.root_properties);
        root.into_iter()
            .chain(self.datasets.iter().filter_map(|d| {
                EncryptionRoot::from_props(&self.full_name(&d.name), &d.properties)
            }))
            .collect()
    }
}
