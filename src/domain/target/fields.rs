//! Each provider kind's own settings and credentials: what the Settings
//! form shows, what the CLI and the API accept, and how each is checked.

/// How a setting's value is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Printable text of at most 512 bytes.
    Text,
    /// 32 hexadecimal digits (a Cloudflare zone or account ID).
    Hex32,
    /// Letters, digits, `-` and `_` (service IDs, keys' IDs).
    Ident,
    /// Capital letters and digits (a CloudFront distribution ID).
    Upper,
    /// A whole number in this range.
    Number(u64, u64),
    /// One of these words.
    Choice(&'static [&'static str]),
    /// `on`/`off` (a checkbox).
    Flag,
    /// An absolute http(s) URL without credentials.
    Url,
    /// A URL path starting with `/`, without `?` or `#`.
    Path,
}

/// One setting of a kind.
#[derive(Debug)]
pub struct SettingSpec {
    /// The form field, CLI option (`--zone-id`) and API key (`zone_id`).
    pub key: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub check: Check,
    pub required: bool,
    /// A credential: stored encrypted, never shown again, never logged.
    pub secret: bool,
    /// The value when the field is left empty.
    pub default: Option<&'static str>,
}

const fn setting(key: &'static str, label: &'static str, help: &'static str, check: Check) -> SettingSpec {
    SettingSpec { key, label, help, check, required: true, secret: false, default: None }
}

const fn optional(key: &'static str, label: &'static str, help: &'static str, check: Check) -> SettingSpec {
    SettingSpec { key, label, help, check, required: false, secret: false, default: None }
}

const fn credential(key: &'static str, label: &'static str, help: &'static str) -> SettingSpec {
    SettingSpec { key, label, help, check: Check::Text, required: true, secret: true, default: None }
}

/// Whether scope All may empty the whole zone, service, distribution or pull zone.
pub const DEDICATED: SettingSpec = SettingSpec {
    key: "dedicated",
    label: "Dedicated to this project",
    help: "only this project's images are served through it: scope All may purge everything there \
           (otherwise All purges this project's token only)",
    check: Check::Flag,
    required: false,
    secret: false,
    default: Some("off"),
};

/// Where verification fetches purged variants through the CDN.
pub const PUBLIC_URL: SettingSpec = optional(
    "public_url",
    "Public URL",
    "where viewers fetch this project's images through this CDN, e.g. https://img.example.com \
     (used to verify purges and to build prefixes)",
    Check::Url,
);

/// An edge other edges fetch from (their `--parent`): purged before them.
pub const SHIELD: SettingSpec = SettingSpec {
    key: "shield",
    label: "Shield (parent) edge",
    help: "other edges of this project fetch their misses from this one (their --parent): \
           it is purged before them, so no purged copy flows back down",
    check: Check::Flag,
    required: false,
    secret: false,
    default: Some("off"),
};

/// Shields that fetch from shields: a tier-2 shield's `--parent` is a
/// tier-1 shield. Tiers are purged in order, each after the one above it.
pub const SHIELD_TIER: SettingSpec = optional(
    "shield_tier",
    "Shield tier",
    "with Shield on: 1 (the default) when it fetches from the origin, 2 when its --parent is a tier-1 \
     shield, 3 below that; tier 1 is purged first, then 2, then 3, then the other edges",
    Check::Number(1, 3),
);

pub static EDGE: &[SettingSpec] = &[SHIELD, SHIELD_TIER];

/// Whether the operator set the CDN up to keep the edge's per-browser
/// formats apart (the README says how per CDN); while a project chooses
/// formats automatically, the Settings page warns about targets without it.
const fn vary_accept(help: &'static str) -> SettingSpec {
    SettingSpec {
        key: "vary_accept",
        label: "Configured for automatic format",
        help,
        check: Check::Flag,
        required: false,
        secret: false,
        default: Some("off"),
    }
}

pub static CLOUDFLARE: &[SettingSpec] = &[
    setting("zone_id", "Zone ID", "the zone's 32-character ID (Overview page, API section)", Check::Hex32),
    credential("api_token", "API token", "a token with the Zone › Cache Purge permission for this zone"),
    optional(
        "account_id",
        "Account ID",
        "the zone's account: targets of one account share its purge rate limit (default: the zone ID)",
        Check::Hex32,
    ),
    SettingSpec {
        key: "plan",
        label: "Plan",
        help: "sizes the purge rate limit: Free 5 calls a minute, Pro 5 a second, Business 10, Enterprise 50",
        check: Check::Choice(&["free", "pro", "business", "enterprise"]),
        required: false,
        secret: false,
        default: Some("free"),
    },
    SettingSpec {
        key: "per_call",
        label: "Items per call",
        help: "tags or prefixes per purge call (Cloudflare allows 100 on most plans, 500 on Enterprise)",
        check: Check::Number(1, 500),
        required: false,
        secret: false,
        default: Some("100"),
    },
    PUBLIC_URL,
    DEDICATED,
    vary_accept(
        "the zone caches images per format: Cache › Configuration › Vary for Images on (Pro and up), \
         else a cache rule that keys on the Accept header's format class",
    ),
];

pub static FASTLY: &[SettingSpec] = &[
    setting("service_id", "Service ID", "the service's ID (Services list)", Check::Ident),
    credential("api_token", "API token", "a token with the purge_select scope (purge_all too for dedicated services)"),
    PUBLIC_URL,
    DEDICATED,
    vary_accept(
        "the service's VCL normalises Accept to avif, webp or none in vcl_recv (as deploy/varnish does) \
         and passes Vary: Accept",
    ),
];

pub static CLOUDFRONT: &[SettingSpec] = &[
    setting("distribution_id", "Distribution ID", "e.g. EDFDVBD6EXAMPLE", Check::Upper),
    credential(
        "access_key_id",
        "Access key ID",
        "an IAM key allowed cloudfront:CreateInvalidation, GetInvalidation and GetDistribution on this distribution",
    ),
    credential("secret_access_key", "Secret access key", "the key's secret"),
    optional(
        "path_prefix",
        "Path prefix",
        "what viewers' paths start with before the origin path on this distribution, e.g. /demo (default: none)",
        Check::Path,
    ),
    PUBLIC_URL,
    DEDICATED,
    vary_accept(
        "the behaviour's cache policy includes a normalised Accept header (a CloudFront Function sets it \
         to avif, webp or none) in the cache key",
    ),
];

pub static AKAMAI: &[SettingSpec] = &[
    credential("client_token", "Client token", "from the API client's credentials (.edgerc client_token)"),
    credential("client_secret", "Client secret", "from the API client's credentials (.edgerc client_secret)"),
    credential("access_token", "Access token", "from the API client's credentials (.edgerc access_token)"),
    SettingSpec {
        key: "network",
        label: "Network",
        help: "which network to purge",
        check: Check::Choice(&["production", "staging"]),
        required: false,
        secret: false,
        default: Some("production"),
    },
    optional("cp_code", "CP code", "purged for scope All on a dedicated target", Check::Number(1, 99_999_999)),
    PUBLIC_URL,
    DEDICATED,
    vary_accept(
        "the property's cache key includes the Accept header's format class (without it Akamai does \
         not cache responses that vary on Accept)",
    ),
];

pub static BUNNY: &[SettingSpec] = &[
    setting(
        "pull_zone_id",
        "Pull zone ID",
        "the pull zone's number (its URL in the dashboard)",
        Check::Number(1, u32::MAX as u64),
    ),
    credential("access_key", "API key", "the account's API key (Account settings › API)"),
    PUBLIC_URL,
    DEDICATED,
    vary_accept("the pull zone's Caching › Vary Cache has \"WebP\" and \"AVIF\" (format) variation on"),
];
