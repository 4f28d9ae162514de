//! The browser's side of passkeys: asks the device through the Web
//! Authentication API with the server's options and hands back its answer
//! as the JSON the server reads. On the server (and without JavaScript)
//! there is no device to ask.

use webauthn_rs_proto::{CreationChallengeResponse, RequestChallengeResponse};

/// Whether this browser can use passkeys here: a secure context (https, or
/// `localhost`) with the Web Authentication API. `false` on the server.
pub fn available() -> bool {
    imp::available()
}

/// Asks the device for a new passkey; the answer's JSON, or why not.
pub async fn create(options: CreationChallengeResponse) -> Result<String, String> {
    imp::create(options).await
}

/// Asks the device to sign with one of its passkeys; the answer's JSON, or why not.
pub async fn get(options: RequestChallengeResponse) -> Result<String, String> {
    imp::get(options).await
}

/// Loads `url` (a full page load: the session changed).
pub fn go_to(url: &str) {
    imp::go_to(url)
}

#[cfg(feature = "hydrate")]
mod imp {
    use leptos::prelude::window;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use webauthn_rs_proto::{
        CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse,
    };

    pub fn available() -> bool {
        let w = window();
        w.is_secure_context() && js_sys::Reflect::has(&w, &JsValue::from_str("PublicKeyCredential")).unwrap_or(false)
    }

    /// What the browser's refusal means, in words.
    fn why(e: JsValue) -> String {
        let name = js_sys::Reflect::get(&e, &JsValue::from_str("name")).ok().and_then(|n| n.as_string());
        match name.as_deref() {
            Some("NotAllowedError") => "the device's prompt was cancelled or timed out".into(),
            Some("InvalidStateError") => "this device holds a passkey for your account already".into(),
            Some("SecurityError") => {
                "the browser refused passkeys for this address (it needs https or localhost)".into()
            }
            Some("NotSupportedError") => "this device cannot make a passkey of a kind the console accepts".into(),
            _ => js_sys::Reflect::get(&e, &JsValue::from_str("message"))
                .ok()
                .and_then(|m| m.as_string())
                .unwrap_or_else(|| "the browser did not answer".into()),
        }
    }

    async fn credential(promise: Result<js_sys::Promise, JsValue>) -> Result<web_sys::PublicKeyCredential, String> {
        let answer = JsFuture::from(promise.map_err(why)?).await.map_err(why)?;
        answer.dyn_into().map_err(|_| "the device gave no passkey".to_owned())
    }

    pub async fn create(options: CreationChallengeResponse) -> Result<String, String> {
        let options: web_sys::CredentialCreationOptions = options.into();
        let made = credential(window().navigator().credentials().create_with_options(&options)).await?;
        serde_json::to_string(&RegisterPublicKeyCredential::from(made)).map_err(|e| e.to_string())
    }

    pub async fn get(options: RequestChallengeResponse) -> Result<String, String> {
        let options: web_sys::CredentialRequestOptions = options.into();
        let signed = credential(window().navigator().credentials().get_with_options(&options)).await?;
        serde_json::to_string(&PublicKeyCredential::from(signed)).map_err(|e| e.to_string())
    }

    pub fn go_to(url: &str) {
        let _ = window().location().set_href(url);
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    use webauthn_rs_proto::{CreationChallengeResponse, RequestChallengeResponse};

    const NONE: &str = "passkeys need the browser";

    pub fn available() -> bool {
        false
    }

    pub async fn create(_options: CreationChallengeResponse) -> Result<String, String> {
        Err(NONE.into())
    }

    pub async fn get(_options: RequestChallengeResponse) -> Result<String, String> {
        Err(NONE.into())
    }

    pub fn go_to(_url: &str) {}
}
