//! The CloudFront API (version 2020-05-31) wire format for invalidations: the `CreateInvalidation`
//! request body, and the `CreateInvalidation`, `GetInvalidation`, `GetDistribution` and error answers.
//!
//! Reading uses `quick-xml`'s event reader: it never resolves DTDs or external entities (a document
//! type declaration is refused outright), checks that end tags match, and leaves us a few lines of
//! path matching. Values are looked up by their path from the root, so a `DomainName` or `Id` nested
//! deeper (an origin's, say) is never mistaken for the distribution's own.

use quick_xml::events::Event;
use quick_xml::Reader;

/// The namespace of the 2020-05-31 API.
pub const XMLNS: &str = "http://cloudfront.amazonaws.com/doc/2020-05-31/";

/// CloudFront's limit on one invalidation path.
pub const MAX_PATH_LEN: usize = 4000;

/// Nesting deeper than this is not a CloudFront answer; refusing it bounds the work on hostile input.
const MAX_DEPTH: usize = 64;

/// Why a body could not be built or an answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudFrontXmlError {
    #[error("an invalidation needs at least one path")]
    NoPaths,
    #[error("invalidation path {0:?} does not start with '/'")]
    RelativePath(String),
    #[error("an invalidation path is longer than {MAX_PATH_LEN} characters")]
    PathTooLong,
    #[error("the caller reference is empty or has control characters")]
    BadCallerReference,
    #[error("malformed XML: {0}")]
    Malformed(String),
    #[error("expected a <{expected}> document, found <{found}>")]
    UnexpectedRoot { expected: &'static str, found: String },
    #[error("the answer has no {0}")]
    Missing(&'static str),
}

/// An invalidation as `CreateInvalidation` and `GetInvalidation` return it (its `Location` is an HTTP header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidation {
    pub id: String,
    pub status: InvalidationStatus,
    /// ISO 8601, as sent, e.g. `2009-11-19T19:37:58Z`.
    pub create_time: String,
}

/// `InProgress` until every edge location has dropped the paths, then `Completed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidationStatus {
    InProgress,
    Completed,
    /// A value this version does not know; kept rather than failing the whole answer.
    Other(String),
}

/// A CloudFront error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    /// `Sender` or `Receiver`, when present.
    pub kind: Option<String>,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

/// What `GetDistribution` tells a purge driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionInfo {
    pub id: String,
    /// E.g. `d111111abcdef8.cloudfront.net`.
    pub domain_name: String,
    /// `Deployed` or `InProgress`.
    pub status: String,
}

/// Percent-encodes what CloudFront wants encoded in an invalidation path: non-ASCII bytes, control
/// characters and RFC 1738's unsafe characters (space `"` `#` `<` `>` `[` `\` `]` `^` `` ` `` `{` `|`
/// `}` `~`, and `%` unless it already starts a `%XX` escape). Everything else, `*`, `?` and `=`
/// included, must stay as is or the cached object is not matched (CloudFront Developer Guide,
/// "Invalidating files", *Non-ASCII or unsafe characters in the path*). Idempotent.
pub fn encode_path(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    for (i, &b) in bytes.iter().enumerate() {
        let escape_start = b == b'%' && bytes.len() > i + 2 && bytes[i + 1..i + 3].iter().all(u8::is_ascii_hexdigit);
        let unsafe_char = !b.is_ascii_graphic() || b"\"#<>[\\]^`{|}~".contains(&b) || (b == b'%' && !escape_start);
        if unsafe_char {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// The `CreateInvalidation` request body. Paths go through [`encode_path`] and are XML-escaped;
/// `caller_reference` must be unique per batch (CloudFront deduplicates on it).
pub fn invalidation_batch_xml<S: AsRef<str>>(
    paths: &[S],
    caller_reference: &str,
) -> Result<String, CloudFrontXmlError> {
    if paths.is_empty() {
        return Err(CloudFrontXmlError::NoPaths);
    }
    if caller_reference.trim().is_empty() || caller_reference.chars().any(char::is_control) {
        return Err(CloudFrontXmlError::BadCallerReference);
    }
    let mut items = String::new();
    for path in paths {
        let path = path.as_ref();
        if !path.starts_with('/') {
            return Err(CloudFrontXmlError::RelativePath(path.to_owned()));
        }
        let encoded = encode_path(path);
        if encoded.len() > MAX_PATH_LEN {
            return Err(CloudFrontXmlError::PathTooLong);
        }
        items.push_str(&format!("<Path>{}</Path>", escape_text(&encoded)));
    }
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><InvalidationBatch xmlns=\"{XMLNS}\"><Paths><Quantity>{}</Quantity>\
         <Items>{items}</Items></Paths><CallerReference>{}</CallerReference></InvalidationBatch>",
        paths.len(),
        escape_text(caller_reference)
    ))
}

/// Reads the `Invalidation` document that `CreateInvalidation` (201) returns.
pub fn parse_create_invalidation(xml: &str) -> Result<Invalidation, CloudFrontXmlError> {
    parse_invalidation(xml)
}

/// Reads the `Invalidation` document that `GetInvalidation` (200) returns.
pub fn parse_get_invalidation(xml: &str) -> Result<Invalidation, CloudFrontXmlError> {
    parse_invalidation(xml)
}

fn parse_invalidation(xml: &str) -> Result<Invalidation, CloudFrontXmlError> {
    let [id, status, create_time] = extract(xml, "Invalidation", [&["Id"], &["Status"], &["CreateTime"]])?;
    let id = required(id, "Id")?;
    let status = match required(status, "Status")?.as_str() {
        "InProgress" => InvalidationStatus::InProgress,
        "Completed" => InvalidationStatus::Completed,
        other => InvalidationStatus::Other(other.to_owned()),
    };
    Ok(Invalidation { id, status, create_time: required(create_time, "CreateTime")? })
}

/// Reads an `ErrorResponse` body (any 4xx/5xx answer from the API). AWS's
/// query-protocol front (signature and credential errors, as moto sends
/// them too) wraps the `Error` in `Errors`: both forms are read.
pub fn parse_error(xml: &str) -> Result<ErrorResponse, CloudFrontXmlError> {
    let [kind, code, message, request_id] =
        extract(xml, "ErrorResponse", [&["Error", "Type"], &["Error", "Code"], &["Error", "Message"], &["RequestId"]])?;
    if code.is_some() {
        return Ok(ErrorResponse {
            kind,
            code: required(code, "Error/Code")?,
            message: message.unwrap_or_default(),
            request_id,
        });
    }
    let [kind, code, message, request_id] = extract(
        xml,
        "ErrorResponse",
        [&["Errors", "Error", "Type"], &["Errors", "Error", "Code"], &["Errors", "Error", "Message"], &["RequestId"]],
    )?;
    Ok(ErrorResponse { kind, code: required(code, "Error/Code")?, message: message.unwrap_or_default(), request_id })
}

/// Reads the `Distribution` document that `GetDistribution` returns.
pub fn parse_get_distribution(xml: &str) -> Result<DistributionInfo, CloudFrontXmlError> {
    let [id, domain_name, status] = extract(xml, "Distribution", [&["Id"], &["DomainName"], &["Status"]])?;
    Ok(DistributionInfo {
        id: required(id, "Id")?,
        domain_name: required(domain_name, "DomainName")?,
        status: required(status, "Status")?,
    })
}

fn required(value: Option<String>, what: &'static str) -> Result<String, CloudFrontXmlError> {
    value.filter(|v| !v.is_empty()).ok_or(CloudFrontXmlError::Missing(what))
}

/// Text content is escaped for `&`, `<` and `>`; nothing else is special outside attributes.
fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The trimmed text of the first element at each of `paths` (local names below the root, namespace
/// prefixes ignored), after checking the root's name. `None` where the document has no such element.
fn extract<const N: usize>(
    xml: &str,
    root: &'static str,
    paths: [&[&str]; N],
) -> Result<[Option<String>; N], CloudFrontXmlError> {
    let malformed = |e: &dyn std::fmt::Display| CloudFrontXmlError::Malformed(e.to_string());
    let mut reader = Reader::from_str(xml);
    let mut found: [Option<String>; N] = std::array::from_fn(|_| None);
    // The open elements below the root, and which wanted path (if any) the innermost one is.
    let mut stack: Vec<String> = Vec::new();
    let mut current: Option<usize> = None;
    let mut seen_root = false;
    loop {
        let event = reader.read_event().map_err(|e| malformed(&e))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = e.local_name().into_inner().to_owned();
                if !seen_root {
                    if name != root {
                        return Err(CloudFrontXmlError::UnexpectedRoot { expected: root, found: name });
                    }
                    seen_root = true;
                    if matches!(event, Event::Empty(_)) {
                        return Ok(found);
                    }
                    continue;
                }
                stack.push(name);
                if stack.len() > MAX_DEPTH {
                    return Err(CloudFrontXmlError::Malformed("nested too deeply".into()));
                }
                current = paths.iter().position(|p| p.iter().eq(stack.iter())).filter(|&i| found[i].is_none());
                if let Some(i) = current {
                    found[i] = Some(String::new());
                }
                if matches!(event, Event::Empty(_)) {
                    stack.pop();
                    current = None;
                }
            }
            Event::End(_) => {
                if stack.pop().is_none() {
                    break; // the root closed: anything after it is not read
                }
                current = None;
            }
            Event::Text(ref t) => push(&mut found, current, &t.xml10_content()),
            Event::CData(ref t) => push(&mut found, current, &t.xml10_content()),
            Event::GeneralRef(ref r) => {
                let resolved = match r.resolve_char_ref().map_err(|e| malformed(&e))? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_xml_entity(r)
                        .ok_or_else(|| CloudFrontXmlError::Malformed(format!("unknown entity &{};", &**r)))?
                        .to_owned(),
                };
                push(&mut found, current, &resolved);
            }
            Event::DocType(_) => {
                return Err(CloudFrontXmlError::Malformed("document type declarations are refused".into()))
            }
            Event::Eof => {
                let what = if seen_root { "the document ends inside an element" } else { "no root element" };
                return Err(CloudFrontXmlError::Malformed(what.into()));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    Ok(found.map(|v| v.map(|s| s.trim().to_owned())))
}

fn push<const N: usize>(found: &mut [Option<String>; N], current: Option<usize>, text: &str) {
    if let Some(value) = current.and_then(|i| found[i].as_mut()) {
        value.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    //! Example documents from AWS's CloudFront documentation. The 2020-05-31 API Reference gives only
    //! "Response Syntax" templates (docs.aws.amazon.com/cloudfront/latest/APIReference/
    //! API_CreateInvalidation.html, API_GetInvalidation.html, API_GetDistribution.html), filled here
    //! with the example values the same pages quote (`IDFDVBD632BHDS5`, `20120301090000`,
    //! `EDFDVBD632BHDS5`, `d111111abcdef8.cloudfront.net`); the older API Reference and Developer Guide
    //! ("REST Responses", API 2009-12-01; "Invalidation Complex Type", API 2012-07-01) give complete
    //! examples, used verbatim where marked.

    use super::*;

    /// The `CreateInvalidation` / `GetInvalidation` response syntax (2020-05-31), example values.
    const INVALIDATION_2020: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Invalidation>
   <CreateTime>2009-11-19T19:37:58Z</CreateTime>
   <Id>IDFDVBD632BHDS5</Id>
   <InvalidationBatch>
      <CallerReference>20120301090000</CallerReference>
      <Paths>
         <Items>
            <Path>/images/image2.jpg</Path>
         </Items>
         <Quantity>1</Quantity>
      </Paths>
   </InvalidationBatch>
   <Status>InProgress</Status>
</Invalidation>"#;

    /// The "Invalidation Complex Type" layout (API 2012-07-01): namespaced, Id/Status/CreateTime first.
    const INVALIDATION_2012: &str = r#"<Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2012-07-01/">
   <Id>IDFDVBD632BHDS5</Id>
   <Status>Completed</Status>
   <CreateTime>2009-11-19T19:37:58Z</CreateTime>
   <InvalidationBatch>
      <Paths>
         <Quantity>3</Quantity>
         <Items>
            <Path>/image1.jpg</Path>
            <Path>/image2.jpg</Path>
            <Path>/videos/movie.flv</Path>
         </Items>
      </Paths>
      <CallerReference>my-batch</CallerReference>
   </InvalidationBatch>
</Invalidation>"#;

    /// Developer Guide, "REST Responses" (API 2009-12-01), verbatim.
    const ERROR_DEV_GUIDE: &str = r#"<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2009-12-01/">
   <Error>
      <Type>Sender</Type>
      <Code>InvalidURI</Code>
      <Message>Could not parse the specified URI.</Message>
   </Error>
   <RequestId>410c2a4b-e435-49c9-8382-3770d80d7d4c</RequestId>
</ErrorResponse>"#;

    /// Developer Guide, "REST Responses" (API 2009-12-01), the `Distribution` example, verbatim.
    const DISTRIBUTION_DEV_GUIDE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Distribution xmlns="http://cloudfront.amazonaws.com/doc/2009-12-01/">
    <Id>EDFDVBD632BHDS5</Id>
    <Status>InProgress</Status>
    <LastModifiedTime>2009-11-19T19:37:58Z</LastModifiedTime>
    <DomainName>d604721fxaaqy9.cloudfront.net</DomainName>
    <DistributionConfig>
      <Origin>mybucket.s3.amazonaws.com</Origin>
      <CallerReference>20091130090000</CallerReference>
      <Comment>My comments</Comment>
      <Enabled>true</Enabled>
    </DistributionConfig>
</Distribution>"#;

    /// The `GetDistribution` response syntax (2020-05-31, abridged), example values: the config and
    /// its origin's own `Id` and `DomainName` come first, as in the reference's alphabetical order.
    const DISTRIBUTION_2020: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Distribution>
   <ActiveTrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity></ActiveTrustedSigners>
   <ARN>arn:aws:cloudfront::123456789012:distribution/EDFDVBD632BHDS5</ARN>
   <DistributionConfig>
      <CallerReference>20120301090000</CallerReference>
      <Origins>
         <Items>
            <Origin>
               <DomainName>amzn-s3-demo-bucket.s3.amazonaws.com</DomainName>
               <Id>my-origin</Id>
            </Origin>
         </Items>
         <Quantity>1</Quantity>
      </Origins>
   </DistributionConfig>
   <DomainName>d111111abcdef8.cloudfront.net</DomainName>
   <Id>EDFDVBD632BHDS5</Id>
   <InProgressInvalidationBatches>1</InProgressInvalidationBatches>
   <LastModifiedTime>2020-06-06T08:54:13.427Z</LastModifiedTime>
   <Status>Deployed</Status>
</Distribution>"#;

    #[test]
    fn invalidation_answers_parse_in_both_layouts() {
        let created = parse_create_invalidation(INVALIDATION_2020).unwrap();
        assert_eq!(
            created,
            Invalidation {
                id: "IDFDVBD632BHDS5".into(),
                status: InvalidationStatus::InProgress,
                create_time: "2009-11-19T19:37:58Z".into()
            }
        );
        let got = parse_get_invalidation(INVALIDATION_2012).unwrap();
        assert_eq!((got.id.as_str(), got.status), ("IDFDVBD632BHDS5", InvalidationStatus::Completed));
        let odd = INVALIDATION_2020.replace(">InProgress<", ">Paused<");
        assert_eq!(parse_get_invalidation(&odd).unwrap().status, InvalidationStatus::Other("Paused".into()));
    }

    #[test]
    fn error_bodies_give_code_and_message() {
        assert_eq!(
            parse_error(ERROR_DEV_GUIDE).unwrap(),
            ErrorResponse {
                kind: Some("Sender".into()),
                code: "InvalidURI".into(),
                message: "Could not parse the specified URI.".into(),
                request_id: Some("410c2a4b-e435-49c9-8382-3770d80d7d4c".into()),
            }
        );
        // A real answer to bad invalidation paths, as quoted in user reports (API 2012-05-05).
        let real = "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"http://cloudfront.amazonaws.com/doc/2012-05-05/\">\
            <Error><Type>Sender</Type><Code>InvalidArgument</Code><Message>Your request contains one or more \
            invalid invalidation paths.</Message></Error><RequestId>22820705-e358-11e2-97fe-ff4fd86f3f1f</RequestId>\
            </ErrorResponse>";
        let parsed = parse_error(real).unwrap();
        assert_eq!(parsed.code, "InvalidArgument");
        assert_eq!(parsed.message, "Your request contains one or more invalid invalidation paths.");
        let bare = parse_error("<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>").unwrap();
        assert_eq!((bare.kind, bare.message.as_str(), bare.request_id), (None, "", None));
    }

    #[test]
    fn distribution_values_come_from_the_top_level_only() {
        let expected = |id: &str, domain: &str, status: &str| DistributionInfo {
            id: id.into(),
            domain_name: domain.into(),
            status: status.into(),
        };
        assert_eq!(
            parse_get_distribution(DISTRIBUTION_DEV_GUIDE).unwrap(),
            expected("EDFDVBD632BHDS5", "d604721fxaaqy9.cloudfront.net", "InProgress")
        );
        assert_eq!(
            parse_get_distribution(DISTRIBUTION_2020).unwrap(),
            expected("EDFDVBD632BHDS5", "d111111abcdef8.cloudfront.net", "Deployed")
        );
    }

    #[test]
    fn the_batch_body_has_the_documented_shape() {
        // Byte for byte the body signed in sigv4.rs's botocore fixture.
        let body = invalidation_batch_xml(&["/images/logo.png", "/img/*"], "imgflush-20150830T123600Z").unwrap();
        assert_eq!(
            body,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <InvalidationBatch xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\">\
             <Paths><Quantity>2</Quantity><Items><Path>/images/logo.png</Path><Path>/img/*</Path></Items></Paths>\
             <CallerReference>imgflush-20150830T123600Z</CallerReference></InvalidationBatch>"
        );
        let owned = vec![String::from("/a&b <c>.jpg"), String::from("/ünï")];
        let body = invalidation_batch_xml(&owned, "ref<&>").unwrap();
        assert!(body.contains("<Path>/a&amp;b%20%3Cc%3E.jpg</Path><Path>/%C3%BCn%C3%AF</Path>"), "{body}");
        assert!(body.contains("<CallerReference>ref&lt;&amp;&gt;</CallerReference>"), "{body}");
    }

    #[test]
    fn the_batch_body_refuses_what_cloudfront_would() {
        let none: [&str; 0] = [];
        assert_eq!(invalidation_batch_xml(&none, "r"), Err(CloudFrontXmlError::NoPaths));
        assert_eq!(invalidation_batch_xml(&["img.jpg"], "r"), Err(CloudFrontXmlError::RelativePath("img.jpg".into())));
        let long = format!("/{}", "a".repeat(MAX_PATH_LEN));
        assert_eq!(invalidation_batch_xml(&[long], "r"), Err(CloudFrontXmlError::PathTooLong));
        // 1,334 spaces fit as characters but not once encoded (3 bytes each).
        let spaces = format!("/{}", " ".repeat(1334));
        assert_eq!(invalidation_batch_xml(&[spaces], "r"), Err(CloudFrontXmlError::PathTooLong));
        for bad in ["", "  ", "a\nb"] {
            assert_eq!(invalidation_batch_xml(&["/a"], bad), Err(CloudFrontXmlError::BadCallerReference));
        }
    }

    #[test]
    fn paths_are_encoded_as_the_developer_guide_asks() {
        let cases = [
            ("/images/image2.jpg", "/images/image2.jpg"),
            ("/images/*", "/images/*"),
            ("/images/image.jpg?parameter1=a&b=c", "/images/image.jpg?parameter1=a&b=c"),
            ("/a b/c\"d#e", "/a%20b/c%22d%23e"),
            ("/{x}|[y]^`~\\", "/%7Bx%7D%7C%5By%5D%5E%60%7E%5C"),
            ("/tab\there\u{7f}", "/tab%09here%7F"),
            ("/café", "/caf%C3%A9"),
            ("/already%20encoded%2f", "/already%20encoded%2f"),
            ("/100%", "/100%25"),
            ("/50%zz", "/50%25zz"),
        ];
        for (raw, encoded) in cases {
            assert_eq!(encode_path(raw), encoded, "{raw}");
            assert_eq!(encode_path(encoded), encoded, "encoding is idempotent: {raw}");
        }
    }

    #[test]
    fn text_escapes_cdata_comments_and_prefixes_are_read() {
        let xml = "<?xml version=\"1.0\"?><!-- note --><cf:ErrorResponse xmlns:cf=\"urn:x\"><cf:Error>\
            <cf:Code>A&amp;B</cf:Code><cf:Message>x &lt; y &#38; &#x263A; <![CDATA[<raw>]]></cf:Message>\
            </cf:Error></cf:ErrorResponse>";
        let parsed = parse_error(xml).unwrap();
        assert_eq!((parsed.code.as_str(), parsed.message.as_str()), ("A&B", "x < y & \u{263A} <raw>"));
    }

    #[test]
    fn hostile_or_broken_documents_are_errors() {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>
            <ErrorResponse><Error><Code>&lol2;</Code></Error></ErrorResponse>"#;
        let external = r#"<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><ErrorResponse><Error>
            <Code>&xxe;</Code></Error></ErrorResponse>"#;
        for xml in [laughs, external] {
            assert!(matches!(parse_error(xml), Err(CloudFrontXmlError::Malformed(_))), "{xml}");
        }
        let undeclared = "<ErrorResponse><Error><Code>&xxe;</Code></Error></ErrorResponse>";
        assert!(matches!(parse_error(undeclared), Err(CloudFrontXmlError::Malformed(_))));
        for xml in ["", "not xml", "<Invalidation><Id>x</Id>", "<Invalidation><Id>x</Status></Invalidation>"] {
            assert!(matches!(parse_get_invalidation(xml), Err(CloudFrontXmlError::Malformed(_))), "{xml:?}");
        }
        assert_eq!(
            parse_get_invalidation(ERROR_DEV_GUIDE),
            Err(CloudFrontXmlError::UnexpectedRoot { expected: "Invalidation", found: "ErrorResponse".into() })
        );
        assert_eq!(parse_get_invalidation("<Invalidation/>"), Err(CloudFrontXmlError::Missing("Id")));
        let no_status = "<Invalidation><Id>I</Id><CreateTime>t</CreateTime><Status/></Invalidation>";
        assert_eq!(parse_get_invalidation(no_status), Err(CloudFrontXmlError::Missing("Status")));
        let deep = format!("<Distribution>{}", "<a>".repeat(MAX_DEPTH + 1));
        assert!(matches!(parse_get_distribution(&deep), Err(CloudFrontXmlError::Malformed(_))));
    }
}
