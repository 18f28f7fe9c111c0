//! The portal's captcha image: five characters a person reads at a glance, with noise a
//! machine cannot simply threshold away and a person never has to look through.
//!
//! - **Characters**: none of the look-alikes (0/O/D/Q, 1/I/L/7, 8/B, 5/S, 2/Z, 6/G, U/V):
//!   a person's only doubt is which character it is, so none leaves one.
//! - **The glyphs** are drawn by the `captcha` crate, bent by its wave; nothing is drawn
//!   over them.
//! - **The noise** is ours: strokes that cross the image and specks, in the glyphs' own
//!   ink (a bot cannot tell them apart by colour or thickness), drawn only where they stay
//!   [`CLEAR`] pixels away from every glyph pixel. A stroke that meets a character stops
//!   short of it and goes on past it, so it joins the characters without touching them.
//!
//! [`draw`] returns the clean drawing beside the finished one, so that tests show, pixel
//! by pixel, that the noise never touches a character.

use rand::Rng;

/// What a captcha's answer is drawn from: letters and digits nobody confuses.
pub const CHARS: &[char] = &['A', 'C', 'E', 'F', 'H', 'K', 'M', 'N', 'P', 'R', 'T', 'W', 'X', 'Y', '3', '4', '9'];
/// Characters a person confuses with another one (the sets of the issue and the usual
/// OCR confusions): never in an answer (the tests hold [`CHARS`] apart from them).
#[cfg_attr(not(test), allow(dead_code))]
pub const LOOK_ALIKES: &[char] =
    &['0', 'O', 'D', 'Q', '1', 'I', 'L', 'J', '7', '8', 'B', '5', 'S', '2', 'Z', '6', 'G', 'U', 'V'];
/// Characters in one answer.
pub const LEN: u32 = 5;
/// Width and height of the image, in pixels: five of the widest glyphs fit whole (the
/// font's W is 53 px wide with its padding: WWWWW spans 265).
pub const WIDTH: usize = 280;
pub const HEIGHT: usize = 70;
/// Least distance, in pixels, between any noise pixel and any glyph pixel.
pub const CLEAR: usize = 3;
/// A pixel darker than this (0–255 grey) belongs to a glyph, its anti-aliased edge too.
const INK_THRESHOLD: u16 = 235;

/// One captcha: the answer, the image as sent, and (for tests) what the glyphs alone are.
pub struct Drawn {
    pub answer: String,
    pub png: Vec<u8>,
    /// Grey level (0 black – 255 white) of every pixel, row by row: the glyphs alone.
    #[cfg_attr(not(test), allow(dead_code))]
    pub clean: Vec<u8>,
    /// The same, with the noise: what `png` holds.
    #[cfg_attr(not(test), allow(dead_code))]
    pub finished: Vec<u8>,
}

/// Without the answer: a captcha printed in a log gives nothing away.
impl std::fmt::Debug for Drawn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drawn").field("png_bytes", &self.png.len()).finish_non_exhaustive()
    }
}

/// Draws a fresh captcha.
pub fn draw() -> anyhow::Result<Drawn> {
    draw_from(CHARS)
}

/// Draws a captcha of characters from `chars`.
fn draw_from(chars: &[char]) -> anyhow::Result<Drawn> {
    use captcha::filters::Wave;
    let mut c = captcha::Captcha::new();
    c.set_chars(chars).add_chars(LEN).apply_filter(Wave::new(2.0, 8.0).horizontal()).view(WIDTH as u32, HEIGHT as u32);
    let (answer, png) = c.as_tuple().ok_or_else(|| anyhow::anyhow!("the captcha did not render"))?;
    let bitmap = lodepng::decode24(&png).map_err(|e| anyhow::anyhow!("the captcha's PNG: {e}"))?;
    anyhow::ensure!(
        bitmap.width == WIDTH && bitmap.height == HEIGHT,
        "the captcha is {}x{}",
        bitmap.width,
        bitmap.height
    );
    let clean: Vec<u8> =
        bitmap.buffer.iter().map(|p| ((u16::from(p.r) + u16::from(p.g) + u16::from(p.b)) / 3) as u8).collect();
    let mut finished = clean.clone();
    add_noise(&clean, &mut finished, &mut rand::thread_rng());
    let rgb: Vec<u8> = finished.iter().flat_map(|&g| [g, g, g]).collect();
    let png = lodepng::encode24(&rgb, WIDTH, HEIGHT).map_err(|e| anyhow::anyhow!("encoding the captcha: {e}"))?;
    Ok(Drawn { answer, png, clean, finished })
}

/// Whether each pixel is a glyph's.
pub fn glyph_mask(grey: &[u8]) -> Vec<bool> {
    grey.iter().map(|&g| u16::from(g) < INK_THRESHOLD).collect()
}

/// Whether each pixel is within [`CLEAR`] pixels (in both directions) of a glyph pixel.
pub fn near_glyphs(grey: &[u8]) -> Vec<bool> {
    let ink = glyph_mask(grey);
    // Rows first, then columns: a square neighbourhood in two passes.
    let mut rows = vec![false; ink.len()];
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let (from, to) = (x.saturating_sub(CLEAR), (x + CLEAR).min(WIDTH - 1));
            rows[y * WIDTH + x] = (from..=to).any(|i| ink[y * WIDTH + i]);
        }
    }
    let mut near = vec![false; ink.len()];
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let (from, to) = (y.saturating_sub(CLEAR), (y + CLEAR).min(HEIGHT - 1));
            near[y * WIDTH + x] = (from..=to).any(|j| rows[j * WIDTH + x]);
        }
    }
    near
}

/// Strokes across the image and specks, in ink like the glyphs', kept off them.
fn add_noise(clean: &[u8], out: &mut [u8], rng: &mut impl Rng) {
    let keep_out = near_glyphs(clean);
    let mut ink = |x: f64, y: f64, r: f64, rng: &mut dyn rand::RngCore| {
        let (x0, y0) = ((x - r).floor().max(0.0) as usize, (y - r).floor().max(0.0) as usize);
        let (x1, y1) = ((x + r).ceil() as usize, (y + r).ceil() as usize);
        for py in y0..=y1.min(HEIGHT - 1) {
            for px in x0..=x1.min(WIDTH - 1) {
                let (dx, dy) = (px as f64 - x, py as f64 - y);
                if dx * dx + dy * dy <= r * r && !keep_out[py * WIDTH + px] {
                    out[py * WIDTH + px] = rng.gen_range(0..70);
                }
            }
        }
    };
    // Three strokes: gentle curves from the left edge to the right one.
    for _ in 0..3 {
        let (y0, y1) = (rng.gen_range(8.0..62.0), rng.gen_range(8.0..62.0));
        let (amp, phase, waves) = (rng.gen_range(4.0..12.0), rng.gen_range(0.0..6.3), rng.gen_range(0.5..1.5));
        let width = rng.gen_range(0.8..1.6);
        for step in 0..=WIDTH * 2 {
            let t = step as f64 / (WIDTH * 2) as f64;
            let y = y0 + (y1 - y0) * t + amp * (phase + t * waves * std::f64::consts::TAU).sin();
            ink(t * (WIDTH - 1) as f64, y, width, rng);
        }
    }
    // Specks of a glyph stroke's size.
    for _ in 0..40 {
        let (x, y) = (rng.gen_range(0.0..WIDTH as f64), rng.gen_range(0.0..HEIGHT as f64));
        ink(x, y, rng.gen_range(0.7..2.2), rng);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// No character is cut by an edge: no glyph pixel in the two outer columns or on the
    /// top and bottom rows.
    fn assert_whole(ink: &[bool], which: &str) {
        for y in 0..HEIGHT {
            for x in [0, 1, WIDTH - 2, WIDTH - 1] {
                assert!(!ink[y * WIDTH + x], "{which}: a glyph touches the edge at ({x}, {y})");
            }
        }
        for x in 0..WIDTH {
            assert!(!ink[x] && !ink[(HEIGHT - 1) * WIDTH + x], "{which}: a glyph touches the top or bottom");
        }
    }

    /// The widest answer there is, five W (one in 1.4 million captchas; HWWWW was cut at
    /// 250 px), fits whole, as does the narrowest.
    #[test]
    fn the_widest_and_the_narrowest_answers_fit_whole() {
        for ch in ['W', 'M', '3'] {
            for _ in 0..5 {
                let d = draw_from(&[ch]).unwrap();
                assert_eq!(d.answer, ch.to_string().repeat(LEN as usize));
                assert_whole(&glyph_mask(&d.clean), &d.answer);
            }
        }
    }

    /// The readability check of issue 25: 200 captchas, none with a look-alike character,
    /// none with a noise pixel on or within [`CLEAR`] pixels of a glyph, every glyph pixel
    /// as drawn, and noise in every one (a clean image is a bot's free read). A few are
    /// kept in `target/captcha-samples/` to look at.
    #[test]
    fn two_hundred_captchas_have_no_look_alike_and_no_noise_over_a_glyph() {
        assert!(CHARS.iter().all(|c| !LOOK_ALIKES.contains(c)));
        let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/captcha-samples");
        std::fs::create_dir_all(&samples).unwrap();
        for n in 0..200 {
            let d = draw().unwrap();
            assert_eq!(d.answer.chars().count(), LEN as usize);
            assert!(d.answer.chars().all(|c| CHARS.contains(&c)), "{}", d.answer);
            let near = near_glyphs(&d.clean);
            let ink = glyph_mask(&d.clean);
            assert!(ink.iter().filter(|&&i| i).count() > 800, "captcha {n}: the glyphs are missing");
            assert_whole(&ink, &format!("captcha {n} ({})", d.answer));
            let mut noise = 0;
            for (i, (&was, &is)) in d.clean.iter().zip(&d.finished).enumerate() {
                if was != is {
                    noise += 1;
                    assert!(
                        !near[i],
                        "captcha {n} ({}): noise at ({}, {}) within {CLEAR} px of a glyph",
                        d.answer,
                        i % WIDTH,
                        i / WIDTH
                    );
                }
            }
            assert!(noise > 150, "captcha {n}: only {noise} noise pixels");
            // What is sent is what was checked.
            let sent = lodepng::decode24(&d.png).unwrap();
            assert!(sent.buffer.iter().zip(&d.finished).all(|(p, &g)| p.r == g && p.g == g && p.b == g));
            if n < 6 {
                std::fs::write(samples.join(format!("captcha-{n}-{}.png", d.answer)), &d.png).unwrap();
            }
        }
    }
}
