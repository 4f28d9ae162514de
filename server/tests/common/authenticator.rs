//! A software passkey authenticator for the router tests: P-256 keys (with
//! OpenSSL, as the server's checks use), "none" attestation, and assertions
//! signed as a platform authenticator with user verification signs them.
//! It answers the options the console sends with the JSON a browser would
//! post back. Chromium's virtual authenticator plays this part in the
//! browser tests.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::bn::BigNumContext;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sha::sha256;
use openssl::sign::Signer;
use serde_json::{json, Value};

/// User present, user verified, attested credential data included.
const FLAGS_CREATE: u8 = 0x01 | 0x04 | 0x40;
const FLAGS_GET: u8 = 0x01 | 0x04;

pub struct SoftKey {
    pub credential_id: Vec<u8>,
    pub user_handle: Vec<u8>,
    pub rp_id: String,
    key: EcKey<Private>,
    pub counter: u32,
}

/// A device holding passkeys, answering for pages at `origin`.
pub struct Authenticator {
    pub origin: String,
    pub keys: Vec<SoftKey>,
    /// Whether the device verifies its user (screen lock): real passkeys do.
    pub verifies_user: bool,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).expect("base64url")
}

/// A CBOR byte string's head (major type 2) and the bytes.
fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    match bytes.len() {
        n @ 0..=23 => out.push(0x40 | n as u8),
        n @ 24..=255 => out.extend([0x58, n as u8]),
        n => out.extend([0x59, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(bytes);
}

/// A CBOR text string (short: under 24 bytes).
fn cbor_text(out: &mut Vec<u8>, text: &str) {
    out.push(0x60 | text.len() as u8);
    out.extend_from_slice(text.as_bytes());
}

impl SoftKey {
    /// The public key as COSE_Key: EC2, ES256, P-256, x and y.
    fn cose_key(&self) -> Vec<u8> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let mut ctx = BigNumContext::new().unwrap();
        let point = self.key.public_key().to_bytes(&group, openssl::ec::PointConversionForm::UNCOMPRESSED, &mut ctx);
        let point = point.unwrap();
        let (x, y) = (&point[1..33], &point[33..65]);
        let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cbor_bytes(&mut out, x);
        out.push(0x22);
        cbor_bytes(&mut out, y);
        out
    }

    fn sign(&self, data: &[u8]) -> Vec<u8> {
        let pkey = PKey::from_ec_key(self.key.clone()).unwrap();
        let mut signer = Signer::new(MessageDigest::sha256(), &pkey).unwrap();
        signer.update(data).unwrap();
        signer.sign_to_vec().unwrap()
    }
}

impl Authenticator {
    pub fn new(origin: &str) -> Self {
        Authenticator { origin: origin.to_owned(), keys: Vec::new(), verifies_user: true }
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        let challenge = b64(&unb64(challenge));
        json!({ "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false })
            .to_string()
            .into_bytes()
    }

    /// Answers the console's creation options (`{"publicKey": …}`) with a new
    /// key: the JSON the page posts as `credential`.
    pub fn create(&mut self, options: &Value) -> String {
        let pk = &options["publicKey"];
        let rp_id = pk["rp"]["id"].as_str().expect("rp.id").to_owned();
        let user_handle = unb64(pk["user"]["id"].as_str().expect("user.id"));
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let key = SoftKey {
            credential_id: rand_bytes(16),
            user_handle,
            rp_id: rp_id.clone(),
            key: EcKey::generate(&group).unwrap(),
            counter: 0,
        };
        let mut auth_data = sha256(rp_id.as_bytes()).to_vec();
        auth_data.push(if self.verifies_user { FLAGS_CREATE } else { FLAGS_CREATE & !0x04 });
        auth_data.extend(key.counter.to_be_bytes());
        auth_data.extend([0u8; 16]);
        auth_data.extend((key.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&key.credential_id);
        auth_data.extend(key.cose_key());
        let mut attestation = vec![0xa3];
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        attestation.push(0xa0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);
        let client_data = self.client_data("webauthn.create", pk["challenge"].as_str().expect("challenge"));
        let id = b64(&key.credential_id);
        self.keys.push(key);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": { "attestationObject": b64(&attestation), "clientDataJSON": b64(&client_data) },
            "extensions": {},
        })
        .to_string()
    }

    /// Answers the console's request options with key `index` (by default
    /// the first the options allow, or the first held for a sign-in without
    /// an e-mail): the JSON the page posts as `credential`.
    pub fn get(&mut self, options: &Value, index: Option<usize>) -> String {
        let pk = &options["publicKey"];
        let allowed: Vec<Vec<u8>> = pk["allowCredentials"]
            .as_array()
            .map(|a| a.iter().map(|c| unb64(c["id"].as_str().unwrap())).collect())
            .unwrap_or_default();
        let index = index.unwrap_or_else(|| {
            self.keys.iter().position(|k| allowed.is_empty() || allowed.contains(&k.credential_id)).expect("a key")
        });
        let rp_id = pk["rpId"].as_str().expect("rpId").to_owned();
        let challenge = pk["challenge"].as_str().expect("challenge").to_owned();
        let client_data = self.client_data("webauthn.get", &challenge);
        let flags = if self.verifies_user { FLAGS_GET } else { FLAGS_GET & !0x04 };
        let key = &mut self.keys[index];
        key.counter += 1;
        let mut auth_data = sha256(rp_id.as_bytes()).to_vec();
        auth_data.push(flags);
        auth_data.extend(key.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(sha256(&client_data));
        let signature = key.sign(&signed);
        let id = b64(&key.credential_id);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(&signature),
                "userHandle": b64(&key.user_handle),
            },
            "extensions": {},
        })
        .to_string()
    }
}

fn rand_bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    openssl::rand::rand_bytes(&mut out).unwrap();
    out
}
