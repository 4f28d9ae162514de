//! Request signing and wire formats of the providers whose APIs need more
//! than a bearer token: Akamai's EdgeGrid, AWS SigV4 and CloudFront's XML.

pub mod cloudfront_xml;
pub mod edgegrid;
pub mod sigv4;
