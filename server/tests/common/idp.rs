//! The browser's part of a single sign-on, for the router tests: from the
//! console to the identity provider (`emulators/oidc_provider.mjs`) and
//! back, following redirects with a cookie jar as a browser would.

use axum::body::Body;
use axum::http::{Response, StatusCode};

use super::{body_json, body_text, enc, location, session_cookie, TestApp};

/// The browser's part: leaves for the provider from the console, signs in
/// there as `hint`, and answers the console cookie and the callback path
/// the provider sent the browser back to.
pub async fn round_trip(t: &TestApp, id: i64, hint: &str) -> (String, String) {
    let start = t.get(&format!("/login/sso/{id}?next=%2Fprojects&login_hint={}", enc(hint)), None).await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER, "{}", body_text(start).await);
    let cookie = session_cookie(&start).expect("the flow is kept in a session");
    let browser =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
    let mut url = location(&start);
    assert!(url.contains("code_challenge_method=S256") && url.contains("nonce="), "{url}");
    for _ in 0..10 {
        let resp = browser.get(&url).send().await.unwrap();
        assert!(resp.status().is_redirection(), "{url}: {} {}", resp.status(), resp.text().await.unwrap());
        let next = resp.headers()["location"].to_str().unwrap().to_owned();
        url = reqwest::Url::parse(&url).unwrap().join(&next).unwrap().to_string();
        if let Some(back) = url.strip_prefix("http://localhost") {
            return (cookie, back.to_owned());
        }
    }
    panic!("the provider never sent the browser back: {url}");
}

/// Completes a sign-in as `hint`: answers the callback's response.
pub async fn sign_in_as(t: &TestApp, id: i64, hint: &str) -> Response<Body> {
    sign_in_with_cookie(t, id, hint).await.1
}

/// [`sign_in_as`], with the cookie the browser came back with.
pub async fn sign_in_with_cookie(t: &TestApp, id: i64, hint: &str) -> (String, Response<Body>) {
    let (cookie, back) = round_trip(t, id, hint).await;
    let resp = t.get(&back, Some(&cookie)).await;
    (cookie, resp)
}

pub async fn signed_in_as(t: &TestApp, resp: &Response<Body>) -> Option<String> {
    let cookie = session_cookie(resp)?;
    let me = t.server_fn(&cookie, "me", &[]).await;
    (me.status() == StatusCode::OK).then_some(())?;
    body_json(me).await["email"].as_str().map(str::to_owned)
}
