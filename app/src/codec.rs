//! The server functions' JSON, decoded in the browser the way the resources'
//! hydration data are.
//!
//! server_fn's `JsonEncoding` decodes a response with `serde_json::from_slice`;
//! a resource's value sent with the page is decoded with `serde_json::from_str`.
//! Each type the page loads was thus decoded by two copies of its decoder in the
//! browser's WASM. [`StrJson`] sends the same bytes (`application/json`) and decodes
//! them with `from_str`, so one copy serves both.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{ContentType, Decodes, Encodes, Format, FormatType};
use serde::de::{DeserializeOwned, Error as _};
use serde::Serialize;

/// JSON, as server_fn's `JsonEncoding`, decoded from a `&str`.
pub struct StrJson;

/// A `POST` answered with [`StrJson`]: the `output` of every server function.
pub type Json = Post<StrJson>;

impl ContentType for StrJson {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for StrJson {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for StrJson {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<leptos::server_fn::Bytes, Self::Error> {
        serde_json::to_vec(output).map(Into::into)
    }
}

impl<T: DeserializeOwned> Decodes<T> for StrJson {
    type Error = serde_json::Error;

    fn decode(bytes: leptos::server_fn::Bytes) -> Result<T, Self::Error> {
        serde_json::from_str(std::str::from_utf8(&bytes).map_err(serde_json::Error::custom)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_as_server_fns_json() {
        let value = vec![("a".to_owned(), 1i64), ("é".to_owned(), -2)];
        let ours = <StrJson as Encodes<_>>::encode(&value).unwrap();
        assert_eq!(&ours[..], &serde_json::to_vec(&value).unwrap()[..]);
        let back: Vec<(String, i64)> = <StrJson as Decodes<_>>::decode(ours).unwrap();
        assert_eq!(back, value);
        assert!(<StrJson as Decodes<Vec<(String, i64)>>>::decode(vec![0xff, b'1'].into()).is_err());
    }
}
