//! Locales and the fallback used to pick a template: the wanted locale, then each shorter form
//! of it (`fr-CA` → `fr`), then the tenant's default locale and its shorter forms, then `en`.
//! Case and `_` for `-` are tolerated: `fr_ca` is `fr-CA`.

use std::fmt;

/// The locale every built-in template exists in, tried last.
pub const FALLBACK_LOCALE: &str = "en";

/// The longest locale tag accepted.
const MAX_LEN: usize = 35;

/// A BCP 47 locale tag in canonical case: language lower case, script title case, region upper
/// case, for example `fr-CA`, `zh-Hant-TW` or `en`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Locale(String);

/// Why a locale tag was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{tag:?} is not a locale such as \"fr-CA\", \"fr\" or \"en\": {reason}")]
pub struct LocaleError {
    /// The tag as given.
    pub tag: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Locale {
    /// Parses a locale tag, tolerating case and `_` for `-`.
    pub fn parse(tag: &str) -> Result<Self, LocaleError> {
        let refuse = |reason| LocaleError { tag: tag.to_string(), reason };
        let trimmed = tag.trim();
        if trimmed.is_empty() {
            return Err(refuse("it is empty"));
        }
        if trimmed.len() > MAX_LEN {
            return Err(refuse("it is too long"));
        }
        let mut subtags = Vec::new();
        for (index, subtag) in trimmed.split(['-', '_']).enumerate() {
            if subtag.is_empty() || subtag.len() > 8 || !subtag.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(refuse("each part must be 1 to 8 letters or digits"));
            }
            if index == 0 {
                if subtag.len() < 2 || !subtag.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return Err(refuse("the language must be 2 to 8 letters"));
                }
                subtags.push(subtag.to_ascii_lowercase());
            } else {
                subtags.push(canonical_subtag(subtag));
            }
        }
        Ok(Self(subtags.join("-")))
    }

    /// The tag, for example `fr-CA`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The language alone, for example `fr` for `fr-CA`.
    pub fn language(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }

    /// The next shorter form, for example `zh-Hant` for `zh-Hant-TW` and `fr` for `fr-CA`;
    /// `None` for a language alone.
    pub fn parent(&self) -> Option<Self> {
        self.0.rsplit_once('-').map(|(parent, _)| Self(parent.to_string()))
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Locale {
    type Err = LocaleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A subtag after the language in canonical case: four letters are a script (`Hant`), two
/// letters or three digits a region (`CA`, `419`), anything else lower case.
fn canonical_subtag(subtag: &str) -> String {
    let letters = subtag.bytes().all(|b| b.is_ascii_alphabetic());
    let digits = subtag.bytes().all(|b| b.is_ascii_digit());
    match subtag.len() {
        4 if letters => {
            let lower = subtag.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or(lower)
        }
        2 if letters => subtag.to_ascii_uppercase(),
        3 if digits => subtag.to_string(),
        _ => subtag.to_ascii_lowercase(),
    }
}

/// The locales to try, in order, for `wanted` with the tenant's `tenant_default`: each form of
/// the wanted locale from longest to shortest, then the tenant default's, then `en`, without
/// repeats. A tag that does not parse is skipped.
pub fn fallback_chain(wanted: &str, tenant_default: Option<&str>) -> Vec<Locale> {
    let mut chain: Vec<Locale> = Vec::new();
    for tag in [Some(wanted), tenant_default, Some(FALLBACK_LOCALE)].into_iter().flatten() {
        let mut next = Locale::parse(tag).ok();
        while let Some(locale) = next {
            next = locale.parent();
            if !chain.contains(&locale) {
                chain.push(locale);
            }
        }
    }
    chain
}

/// Picks the first of `available` in the fallback order for `wanted`, returning it as it was
/// spelled in `available`; `None` when none of the fallbacks is available. Available tags that
/// do not parse never match.
pub fn choose_locale<'a, I>(wanted: &str, tenant_default: Option<&str>, available: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let available: Vec<(Locale, &'a str)> =
        available.into_iter().filter_map(|tag| Locale::parse(tag).ok().map(|locale| (locale, tag))).collect();
    fallback_chain(wanted, tenant_default)
        .into_iter()
        .find_map(|want| available.iter().find(|(locale, _)| *locale == want).map(|(_, tag)| *tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(wanted: &str, tenant_default: Option<&str>) -> Vec<String> {
        fallback_chain(wanted, tenant_default).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn tags_are_put_in_canonical_case() {
        assert_eq!(Locale::parse("fr_ca").map(|l| l.to_string()), Ok("fr-CA".into()));
        assert_eq!(Locale::parse(" EN-gb ").map(|l| l.to_string()), Ok("en-GB".into()));
        assert_eq!(Locale::parse("zh_hant_tw").map(|l| l.to_string()), Ok("zh-Hant-TW".into()));
        assert_eq!(Locale::parse("es-419").map(|l| l.to_string()), Ok("es-419".into()));
        assert_eq!(Locale::parse("de-CH-1996").map(|l| l.to_string()), Ok("de-CH-1996".into()));
        let locale: Locale = "pt_BR".parse().expect("parses");
        assert_eq!(locale.language(), "pt");
        assert_eq!(locale.parent().map(|l| l.to_string()), Some("pt".into()));
        assert_eq!(Locale::parse("pt").map(|l| l.parent()), Ok(None));
    }

    #[test]
    fn nonsense_tags_are_refused() {
        for tag in ["", "  ", "f", "fr--CA", "fr-", "1fr", "fr CA", "fr-toolongsubtag", "été", &"a".repeat(40)] {
            let err = Locale::parse(tag).expect_err(tag);
            assert_eq!(err.tag, tag);
            assert!(err.to_string().contains("is not a locale"), "{err}");
        }
    }

    #[test]
    fn the_chain_goes_from_the_wanted_locale_to_the_tenant_default_to_english() {
        assert_eq!(chain("fr-CA", Some("de")), vec!["fr-CA", "fr", "de", "en"]);
        assert_eq!(chain("fr_ca", None), vec!["fr-CA", "fr", "en"]);
        assert_eq!(chain("zh-Hant-TW", Some("en-GB")), vec!["zh-Hant-TW", "zh-Hant", "zh", "en-GB", "en"]);
        assert_eq!(chain("en", Some("en")), vec!["en"]);
        assert_eq!(chain("not a locale", Some("nl-BE")), vec!["nl-BE", "nl", "en"]);
        assert_eq!(chain("", Some("bad tag")), vec!["en"]);
    }

    #[test]
    fn the_first_available_locale_in_the_chain_is_chosen() {
        let available = ["en", "fr", "de-DE", "FR_ca"];
        assert_eq!(choose_locale("fr-CA", None, available), Some("FR_ca"));
        assert_eq!(choose_locale("fr-BE", None, available), Some("fr"));
        assert_eq!(choose_locale("fr_be", Some("de-DE"), available), Some("fr"));
        assert_eq!(choose_locale("it-IT", Some("de-DE"), available), Some("de-DE"));
        assert_eq!(choose_locale("it-IT", Some("nl"), available), Some("en"));
        assert_eq!(choose_locale("", None, available), Some("en"));
        assert_eq!(choose_locale("it", Some("nl"), ["de", "es"]), None);
        assert_eq!(choose_locale("it", Some("es-MX"), ["de", "es"]), Some("es"));
        assert_eq!(choose_locale("fr", None, ["not a locale", "en"]), Some("en"));
    }
}
