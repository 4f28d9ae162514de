use leptos::prelude::*;

use crate::timestamp::{iso_millis, utc_text, Timestamp};

/// A timestamp: SSR sends UTC inside `<time datetime>`, the browser rewrites
/// it in its own time zone once hydrated.
#[component]
pub fn LocalTime(at: Timestamp) -> impl IntoView {
    let iso = iso_millis(at);
    let text = RwSignal::new(utc_text(at));
    let millis = at.0 as f64;
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
