use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// A timestamp: SSR sends UTC inside `<time datetime>`, the browser rewrites
/// it in its own time zone once hydrated.
#[component]
pub fn LocalTime(at: DateTime<Utc>) -> impl IntoView {
    let iso = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let text = RwSignal::new(at.format("%Y-%m-%d %H:%M:%S UTC").to_string());
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
