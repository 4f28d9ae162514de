use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// A timestamp: SSR sends UTC inside `<time datetime>`, the browser rewrites
/// it in its own time zone once hydrated.
#[component]
pub fn LocalTime(at: DateTime<Utc>) -> impl IntoView {
    let iso = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let text = RwSignal::new(at.format("%Y-%m-%d %H:%M:%S UTC").to_string());
    #[cfg(feature = "hydrate")]
    {
        let millis = at.timestamp_millis() as f64;
        Effect::new(move |_| text.set(local_format(millis)));
    }
    view! {
        <time datetime=iso.clone() title=iso>
            {move || text.get()}
        </time>
    }
}

#[cfg(feature = "hydrate")]
fn local_format(millis: f64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis));
    // getTimezoneOffset is minutes *behind* UTC.
    let offset = -(d.get_timezone_offset() as i32);
    let sign = if offset < 0 { '-' } else { '+' };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC{}{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds(),
        sign,
        offset.abs() / 60,
        offset.abs() % 60
    )
}
