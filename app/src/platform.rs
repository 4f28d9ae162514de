//! What differs between the browser and the server, in one place: the rest
//! of the console is written once and calls these. In the browser they reach
//! the Web APIs; on the server they do what makes sense there (nothing, or
//! the response status).

/// Copies `text` to the clipboard; `false` where there is none (the server).
pub fn copy_to_clipboard(text: &str) -> bool {
    imp::copy_to_clipboard(text)
}

/// `millis` since the epoch in the browser's own time zone, e.g.
/// `2026-11-25 17:04:05 UTC+01:00`; `None` on the server.
pub fn local_time(millis: f64) -> Option<String> {
    imp::local_time(millis)
}

/// The browser's time zone offset (minutes behind UTC, as JavaScript's
/// `getTimezoneOffset`) at the local date and time `local`
/// (`2026-12-07T09:00`, a `datetime-local` field's value): the offset that
/// date has, summer time included; `None` on the server.
pub fn timezone_offset_at(local: &str) -> Option<i32> {
    imp::timezone_offset_at(local)
}

/// Sets the HTTP status of the page being rendered (the server only).
pub fn set_response_status(status: u16) {
    imp::set_response_status(status)
}

/// Listens to the server-sent `change` events at `url` (the live log) while
/// the calling owner lives, calling `on_change` with each event's data. On
/// the server, and without JavaScript, nothing happens: pages stay as they are.
pub fn watch_changes(url: &str, on_change: impl Fn(String) + 'static) {
    imp::watch_changes(url, on_change)
}

/// Marks `<body data-hydrated>` once the page is interactive (browser tests wait for it).
pub fn mark_hydrated() {
    imp::mark_hydrated()
}

/// Called by each island: marks the page interactive once the island has
/// hydrated (a lazy island's code arrives after the page's own).
pub fn island_ready() {
    leptos::prelude::Effect::new(|_| mark_hydrated());
}

/// Shows `url` (same origin) in the address bar in place of the current
/// history entry, without loading it (the browser only).
pub fn show_address(url: &str) {
    imp::show_address(url)
}

/// Whether the page holds an island to hydrate (the browser only).
pub fn has_islands() -> bool {
    imp::has_islands()
}

/// The page's path and query in the browser (`/p/demo/settings?x=1`);
/// `None` on the server.
pub fn current_path() -> Option<String> {
    imp::current_path()
}

#[cfg(feature = "hydrate")]
mod imp {
    use leptos::prelude::*;

    pub fn current_path() -> Option<String> {
        let location = window().location();
        Some(format!("{}{}", location.pathname().ok()?, location.search().unwrap_or_default()))
    }

    pub fn copy_to_clipboard(text: &str) -> bool {
        let _ = window().navigator().clipboard().write_text(text);
        true
    }

    pub fn local_time(millis: f64) -> Option<String> {
        let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis));
        // getTimezoneOffset is minutes *behind* UTC.
        let offset = -(d.get_timezone_offset() as i32);
        let sign = if offset < 0 { '-' } else { '+' };
        Some(format!(
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
        ))
    }

    pub fn set_response_status(_status: u16) {}

    pub fn timezone_offset_at(local: &str) -> Option<i32> {
        let n = |range: std::ops::Range<usize>| local.get(range).and_then(|s| s.parse::<i32>().ok());
        let (y, mo, d, h, mi) = (n(0..4)?, n(5..7)?, n(8..10)?, n(11..13)?, n(14..16)?);
        let date = js_sys::Date::new_with_year_month_day_hr_min(y as u32, mo - 1, d, h, mi);
        Some(date.get_timezone_offset() as i32)
    }

    pub fn watch_changes(url: &str, on_change: impl Fn(String) + 'static) {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;

        let Ok(source) = web_sys::EventSource::new(url) else { return };
        let listener = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            on_change(ev.data().as_string().unwrap_or_default());
        });
        let _ = source.add_event_listener_with_callback("change", listener.as_ref().unchecked_ref());
        // The browser runs one thread: the wrapper only satisfies `on_cleanup`'s bounds.
        let held = send_wrapper::SendWrapper::new((source, listener));
        on_cleanup(move || {
            held.0.close();
            drop(held);
        });
    }

    pub fn show_address(url: &str) {
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url));
        }
    }

    pub fn has_islands() -> bool {
        document().query_selector("leptos-island").ok().flatten().is_some()
    }

    pub fn mark_hydrated() {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    pub fn current_path() -> Option<String> {
        None
    }

    pub fn copy_to_clipboard(_text: &str) -> bool {
        false
    }

    pub fn local_time(_millis: f64) -> Option<String> {
        None
    }

    pub fn timezone_offset_at(_local: &str) -> Option<i32> {
        None
    }

    pub fn set_response_status(_status: u16) {
        #[cfg(feature = "ssr")]
        if let (Some(resp), Ok(code)) =
            (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), axum::http::StatusCode::from_u16(_status))
        {
            resp.set_status(code);
        }
    }

    pub fn watch_changes(_url: &str, _on_change: impl Fn(String) + 'static) {}

    pub fn show_address(_url: &str) {}

    pub fn has_islands() -> bool {
        false
    }

    pub fn mark_hydrated() {}
}
