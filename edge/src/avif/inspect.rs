//! What tests read back from an AVIF file, without a decoder.

/// Whether an AVIF file carries an alpha plane: an auxiliary image of type
/// `urn:mpeg:mpegB:cicp:systems:auxiliary:alpha` (ISO/IEC 23008-12 `auxC`).
pub fn has_alpha(avif: &[u8]) -> bool {
    const ALPHA_URN: &[u8] = b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha";
    avif.windows(ALPHA_URN.len()).any(|w| w == ALPHA_URN)
}

/// Width and height from the first `ispe` (image spatial extents) box.
pub fn dimensions(avif: &[u8]) -> Option<(u32, u32)> {
    let at = avif.windows(4).position(|w| w == b"ispe")? + 8;
    let be = |i: usize| Some(u32::from_be_bytes(avif.get(i..i + 4)?.try_into().ok()?));
    Some((be(at)?, be(at + 4)?))
}

/// The chroma subsampling (x, y) and monochrome flag of the first `av1C`
/// box (AV1 codec configuration, byte 2).
pub fn av1c_chroma(avif: &[u8]) -> Option<(bool, bool, bool)> {
    let b = *avif.get(avif.windows(4).position(|w| w == b"av1C")? + 6)?;
    Some((b & 0x08 != 0, b & 0x04 != 0, b & 0x10 != 0))
}
