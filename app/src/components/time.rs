use chrono::{DateTime, Datelike, Timelike, Utc};
use leptos::prelude::*;

/// A timestamp: SSR sends UTC inside `<time datetime>`, the browser rewrites
/// it in its own time zone once hydrated.
#[component]
pub fn LocalTime(at: DateTime<Utc>) -> impl IntoView {
    let iso = iso_millis(at);
    let text = RwSignal::new(utc_text(at));
    let millis = at.timestamp_millis() as f64;
    Effect::new(move |_| {
        if let Some(local) = crate::platform::local_time(millis) {
            text.set(local);
        }
    });
    view! {
        <time datetime=iso.clone() title=iso>
            {move || text.get()}
        </time>
    }
}

// The two formats by hand rather than with chrono's `format`: its format-string
// machinery would otherwise be compiled into the browser's WASM.

/// `2026-11-25 17:04:05 UTC`
pub fn utc_text(at: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// RFC 3339 with milliseconds, `2026-11-25T17:04:05.123Z`
pub fn iso_millis(at: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.timestamp_subsec_millis().min(999)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_match_chrono() {
        for millis in [0, 1_764_090_245_123, 1_764_090_245_007, 253_402_300_799_999] {
            let at = Utc.timestamp_millis_opt(millis).unwrap();
            assert_eq!(utc_text(at), at.format("%Y-%m-%d %H:%M:%S UTC").to_string());
            assert_eq!(iso_millis(at), at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        }
    }
}
