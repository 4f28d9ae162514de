//! AVIF encoding with rav1e, called directly (sequence and container as
//! `ravif` builds them, with `avif-serialize`) so the colour can be 4:2:0:
//! see README "Formats" for the settings and the figures against libaom.

mod planes;

use image::DynamicImage;
use rav1e::prelude::*;

pub use planes::Chroma;
pub use rav1e::prelude::Tune;

/// The encoder's knobs; [`TUNING`] is what the edge uses. Public (hidden)
/// for the formats benchmark's sweep.
#[derive(Clone, Copy, Debug)]
pub struct Tuning {
    /// rav1e's preset: 1 (slowest, smallest) to 10 (fastest).
    pub speed: u8,
    pub chroma: Chroma,
    /// Tiles, each encoded on its own thread; 0: 2 when the image has 2
    /// tiles of 128×128 px or more (ravif's rule on 2 cores).
    pub tiles: usize,
    /// `Psnr`: rate-distortion on plain squared error, which SSIM follows
    /// better than `Psychovisual` (ravif's) does: 7% fewer bytes at speeds 7–8.
    pub tune: Tune,
}

/// The edge's setting (README "Formats" has the sweep behind it).
pub const TUNING: Tuning = Tuning { speed: 7, chroma: Chroma::Cs420, tiles: 1, tune: Tune::Psnr };

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("rav1e configuration: {0}")]
    Config(#[from] InvalidConfig),
    #[error("rav1e: {0}")]
    Encoder(#[from] EncoderStatus),
}

/// `quality` is the URL's `q` (1–100) on ravif's JPEG-like scale; alpha
/// gets cavif's rule (a little higher: edges of cut-outs show artefacts first).
pub fn encode(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, Error> {
    encode_tuned(img, quality, TUNING)
}

#[doc(hidden)]
pub fn encode_tuned(img: &DynamicImage, quality: u8, tuning: Tuning) -> Result<Vec<u8>, Error> {
    let q = f32::from(quality.clamp(1, 100));
    let alpha_q = ((q + 100.) / 2.).min(q + q / 4. + 2.);
    let (w, h) = (img.width() as usize, img.height() as usize);
    let rgba = img.color().has_alpha().then(|| img.to_rgba8()).filter(|p| p.pixels().any(|p| p.0[3] != 255));
    let color = match &rgba {
        Some(rgba) => planes::from_rgba(rgba, tuning.chroma),
        None => planes::from_rgb(&img.to_rgb8(), tuning.chroma),
    };
    let av1 = |p: &planes::Planes, quantizer: u8, sampling| av1(p, w, h, quantizer, sampling, tuning);
    let (color, alpha) = std::thread::scope(|s| {
        let alpha = rgba.as_ref().map(|rgba| {
            let plane = planes::alpha(rgba);
            s.spawn(move || av1(&plane, quantizer(alpha_q), ChromaSampling::Cs400))
        });
        let color = av1(&color, quantizer(q), tuning.chroma.sampling());
        (color, alpha.map(|a| a.join().expect("the alpha encoder panicked")))
    });
    let (color, alpha) = (color?, alpha.transpose()?);
    let mut avif = avif_serialize::Aviffy::new();
    avif.set_matrix_coefficients(avif_serialize::constants::MatrixCoefficients::Bt601)
        .set_full_color_range(true)
        .set_chroma_subsampling(tuning.chroma.subsampled());
    Ok(avif.to_vec(&color, alpha.as_deref(), w as u32, h as u32, 8))
}

/// ravif's mapping of quality (1–100) to rav1e's quantizer (255–0).
fn quantizer(quality: f32) -> u8 {
    let q = quality / 100.;
    let x = if q >= 0.82 {
        (1. - q) * 2.6
    } else if q > 0.25 {
        q.mul_add(-0.5, 1. - 0.125)
    } else {
        1. - q
    };
    (x * 255.).round() as u8
}

/// One AV1 key frame of `planes` (Y, or Y U V).
fn av1(
    planes: &planes::Planes,
    w: usize,
    h: usize,
    quantizer: u8,
    sampling: ChromaSampling,
    tuning: Tuning,
) -> Result<Vec<u8>, Error> {
    let mut speed = SpeedSettings::from_preset(tuning.speed);
    // A still image: no references, no lookahead (as ravif).
    speed.multiref = false;
    speed.rdo_lookahead_frames = 1;
    speed.scene_detection_mode = SceneDetectionSpeed::None;
    speed.motion.include_near_mvs = false;
    let tiles = if tuning.tiles == 0 { 2.min(w * h / (128 * 128)).max(1) } else { tuning.tiles };
    let config = EncoderConfig {
        width: w,
        height: h,
        bit_depth: 8,
        chroma_sampling: sampling,
        pixel_range: PixelRange::Full,
        color_description: (sampling != ChromaSampling::Cs400).then_some(ColorDescription {
            transfer_characteristics: TransferCharacteristics::SRGB,
            color_primaries: ColorPrimaries::BT709,
            matrix_coefficients: MatrixCoefficients::BT601,
        }),
        still_picture: true,
        quantizer: usize::from(quantizer),
        min_quantizer: quantizer,
        tune: tuning.tune,
        tiles,
        speed_settings: speed,
        ..EncoderConfig::default()
    };
    let mut ctx: Context<u8> = Config::new().with_encoder_config(config).with_threads(tiles).new_context()?;
    let mut frame = ctx.new_frame();
    for (plane, (width, data)) in frame.planes.iter_mut().zip(&planes.0) {
        plane.copy_from_raw_u8(data, *width, 1);
    }
    ctx.send_frame(frame)?;
    ctx.flush();
    let mut out = Vec::new();
    loop {
        match ctx.receive_packet() {
            Ok(packet) if packet.frame_type == FrameType::KEY => out.extend_from_slice(&packet.data),
            Ok(_) => {}
            Err(EncoderStatus::Encoded | EncoderStatus::LimitReached) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

#[cfg(test)]
pub mod inspect;
#[cfg(test)]
mod tests;
