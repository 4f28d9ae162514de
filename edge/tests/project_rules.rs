//! Per-project output rules: no upscaling, strict seals.

mod common;

use common::*;
use edge::{ProjectSettings, SettingsConfig};

/// `fixed` refuses to enlarge; `strictseal` accepts transformations only in `ci_eqs`.
async fn harness() -> Harness {
    Harness::start_with(|c| {
        let SettingsConfig::Static(list) = &mut c.settings else { unreachable!() };
        let demo = list[0].clone();
        let fixed = ProjectSettings { token: "fixed".into(), no_upscale: true, custom_host: None, ..demo.clone() };
        let strict = ProjectSettings { token: "strictseal".into(), strict_seal: true, ..list[4].clone() };
        list.extend([fixed, strict]);
    })
    .await
}

async fn answer(h: &Harness, token: &str, q: &str) -> (u16, String, Option<(u32, u32)>) {
    let res = h.get(&h.url(token, q)).await;
    let (status, code) = (res.status().as_u16(), header(&res, "x-imgflush-error"));
    let body = res.bytes().await.unwrap();
    let dims = (status == 200).then(|| inspect(&body)).map(|(w, h, _)| (w, h));
    let text = if status == 200 { code } else { format!("{code}: {}", String::from_utf8_lossy(&body)) };
    (status, text, dims)
}

#[tokio::test]
async fn upscaling_is_allowed_by_default_and_refused_when_the_project_says_so() {
    let h = harness().await;
    h.origin.state.put("/p.jpg", Answer::Body(jpeg(100, 50, RED)));

    assert_eq!(answer(&h, "demo", "/p.jpg?w=200").await.2, Some((200, 100)), "today's default");
    let (status, text, _) = answer(&h, "fixed", "/p.jpg?w=200").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.starts_with("bad_param: invalid parameter w: the output would enlarge the 100x50 image"), "{text}");
    let (status, text, _) = answer(&h, "fixed", "/p.jpg?w=80&h=80").await;
    assert!(status == 400 && text.contains("invalid parameter h:"), "{text}");
    assert_eq!(answer(&h, "fixed", "/p.jpg?w=50").await.2, Some((50, 25)));
    assert_eq!(answer(&h, "fixed", "/p.jpg?w=200&org_if_sml=1").await.2, Some((100, 50)));
    assert_eq!(answer(&h, "fixed", "/p.jpg?w=200&h=200&func=bound").await.2, Some((100, 50)));
}

#[tokio::test]
async fn a_strict_seal_refuses_open_transformations() {
    let h = harness().await;
    h.origin.state.put("/s.jpg", Answer::Body(jpeg(100, 100, RED)));
    let eqs = "dz01MA"; // base64url("w=50")
    let seal = edge::seal("salt", &h.origin_path("/s.jpg"), eqs, 18);
    let sealed = |extra: &str| format!("/s.jpg?ci_eqs={eqs}&ci_seal={seal}{extra}");

    assert_eq!(answer(&h, "strictseal", &sealed("")).await.2, Some((50, 50)));
    // Not transformations, or sealed anyway (the sealed value wins).
    assert_eq!(answer(&h, "strictseal", &sealed("&utm_source=x&w=999&width=7")).await.2, Some((50, 50)));
    for open in ["h=10", "vh=1", "force_format=png", "ci_cache=1"] {
        let (status, text, _) = answer(&h, "strictseal", &sealed(&format!("&{open}"))).await;
        assert_eq!(status, 403, "{open}: {text}");
        let name = open.split('=').next().unwrap();
        assert!(text.starts_with(&format!("unsealed_param: parameter {name} is not sealed")), "{text}");
    }
    // A sealed project without the strict setting keeps the anchor's behaviour.
    assert_eq!(answer(&h, "sealed", &sealed("&h=10")).await.2, Some((50, 10)));
}
