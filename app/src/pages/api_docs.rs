use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::Layout;
use crate::serverfns::console_base_url;

/// A readable API reference inside the console (header, and the project's
/// tabs when reached from a project: `?project=TOKEN`); the machine-readable
/// one is `/api/v1/openapi.json`.
#[component]
pub fn ApiDocsPage() -> impl IntoView {
    let query = use_query_map();
    let token = Signal::derive(move || {
        query
            .read()
            .get("project")
            .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or_default()
    });
    let base = Resource::new(|| (), |_| console_base_url());
    view! {
        <Title text="API reference" />
        <Layout token=token>
            <div class="prose">
                <h1>"Invalidation API"</h1>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let base = base.await.unwrap_or_default();
                        view! { <Reference base token=token.get_untracked() /> }
                    })}
                </Suspense>
            </div>
        </Layout>
    }
}

/// The reference itself, with `base` (where this console is reached) in
/// every example.
#[component]
fn Reference(base: String, token: String) -> impl IntoView {
    let keys = if token.is_empty() { None } else { Some(format!("/p/{token}/api-keys")) };
    let h = |s: &str| s.replace("$BASE", &base);
    let examples = [
        (
            "Invalidate (anchor-compatible): POST /invalidate",
            "201: {\"status\":\"success\",\"invalidation\":{\"status\":\"RECEIVED\",\"uuid\":\"…\",\"added_at\":\"…\"}}",
            "curl -X POST $BASE/invalidate -H \"X-Client-Key: $KEY\" -H 'Content-Type: application/json' \\\n  -d '{\"scope\":\"original\",\"urls\":[\"/sample.li/flat1.jpg\"]}'\n# everything cached for the project:\ncurl -X POST $BASE/invalidate -H \"X-Client-Key: $KEY\" -H 'Content-Type: application/json' \\\n  -d '{\"scope\":\"all\"}'",
        ),
        (
            "Read it (anchor-compatible): GET /invalidate/{uuid}",
            "200: urls.received, urls.invalidated (all once DONE), urls.failed (all in ERROR or ERROR_CDN_NODE)",
            "curl $BASE/invalidate/$ID -H \"X-Client-Key: $KEY\"",
        ),
        (
            "Create: POST /api/v1/invalidations",
            "201: {\"invalidation\":{\"id\":\"…\",\"status\":\"RECEIVED\",…}}; the same Idempotency-Key answers the same invalidation",
            "curl -X POST $BASE/api/v1/invalidations -H \"Authorization: Bearer $KEY\" \\\n  -H 'Content-Type: application/json' -H \"Idempotency-Key: deploy-42\" \\\n  -d '{\"scope\":\"original\",\"urls\":[\"/sample.li/flat1.jpg\",\"/sample.li/blog/*\"]}'",
        ),
        (
            "List: GET /api/v1/invalidations",
            "200: newest first; next_cursor pages on",
            "curl \"$BASE/api/v1/invalidations?status=ERROR&limit=20\" -H \"Authorization: Bearer $KEY\"",
        ),
        (
            "Details, waiting for the end: GET /api/v1/invalidations/{id}?wait=30",
            "200 as soon as the status is final (DONE, ERROR, ERROR_CDN_NODE), or after wait seconds (at most 60)",
            "curl \"$BASE/api/v1/invalidations/$ID?wait=30\" -H \"Authorization: Bearer $KEY\"",
        ),
        (
            "Retry the failed targets: POST /api/v1/invalidations/{id}/retry",
            "202; 409 unless the status is ERROR or ERROR_CDN_NODE",
            "curl -X POST $BASE/api/v1/invalidations/$ID/retry -H \"Authorization: Bearer $KEY\"",
        ),
        (
            "Purge by tag, previewed first: POST /api/v1/invalidations?dry_run=true",
            "200 with what the purge would empty on each target, nothing stored; without dry_run, 201 as any other",
            "curl -X POST \"$BASE/api/v1/invalidations?dry_run=true\" -H \"Authorization: Bearer $KEY\" \\\n  -H 'Content-Type: application/json' -d '{\"scope\":\"tag\",\"tags\":[\"products\"]}'",
        ),
        (
            "Cancel a scheduled one: POST /api/v1/invalidations/{id}/cancel",
            "200 while RECEIVED and not yet claimed by a worker (it ends CANCELLED, nothing purged); else 409",
            "curl -X POST $BASE/api/v1/invalidations/$ID/cancel -H \"Authorization: Bearer $KEY\"",
        ),
        (
            "Is this URL fresh? GET /api/v1/lookup?url=…",
            "200: the origin path it serves, and each cache's copy and the invalidations that touched it",
            "curl \"$BASE/api/v1/lookup?url=https%3A%2F%2Fdemo.img.example.net%2Fsample.li%2Fflat1.jpg%3Fw%3D500\" \\\n  -H \"Authorization: Bearer $KEY\"",
        ),
        (
            "Settings as code: GET, PATCH /api/v1/project",
            "200: every setting of the Settings page; PATCH (admin keys) changes the fields given, each bad one named",
            "curl -X PATCH $BASE/api/v1/project -H \"Authorization: Bearer $KEY\" -H 'Content-Type: application/json' \\\n  -d '{\"soft_purge\":true,\"origin_hosts\":[\"img.shop.example\"]}'",
        ),
        (
            "Purge targets as code: /api/v1/targets",
            "GET lists them (never a secret); POST adds one (admin keys, 201); PATCH, DELETE and POST …/test by id or name",
            "curl -X POST $BASE/api/v1/targets -H \"Authorization: Bearer $KEY\" -H 'Content-Type: application/json' \\\n  -d '{\"kind\":\"varnish\",\"name\":\"varnish-1\",\"url\":\"http://10.0.0.5:6081\",\"secret\":\"…\"}'\ncurl -X POST $BASE/api/v1/targets/varnish-1/test -H \"Authorization: Bearer $KEY\"",
        ),
    ];
    view! {
        <dl class="summary">
            <dt>"Base URL"</dt><dd><code data-testid="api-base">{base.clone()}</code></dd>
            <dt>"Authentication"</dt>
            <dd>"A project API key in " <code>"X-Client-Key: imf_…"</code> " or " <code>"Authorization: Bearer imf_…"</code>
                ": the key names the project. "
                {match keys {
                    Some(href) => view! { "Create one under " <a href=href data-testid="api-keys-link">"API keys"</a> "." }.into_any(),
                    None => view! { "Create one on a project's API keys page." }.into_any(),
                }}
            </dd>
            <dt>"OpenAPI 3.1"</dt><dd><a href="/api/v1/openapi.json"><code>{format!("{base}/api/v1/openapi.json")}</code></a></dd>
        </dl>
        <p>"In the examples, " <code>"KEY"</code> " holds the key and " <code>"ID"</code> " an Invalidation ID."</p>
        {examples.into_iter().map(|(title, answer, curl)| view! {
            <section class="endpoint">
                <h2>{title}</h2>
                <pre tabindex="0" data-testid="curl">{h(curl)}</pre>
                <p class="muted">{answer}</p>
            </section>
        }).collect_view()}
        <h2>"Limits"</h2>
        <p>"An invalidation takes 1 to 15 paths through the API and 1 to 10 in the console's form: the anchor's own \
            limits, kept so that scripts written for it work unchanged. A path ending in " <code>"/*"</code>
            " empties a whole prefix; " <code>"{\"scope\":\"all\"}"</code> " everything the project has cached."</p>
        <h2>"Errors"</h2>
        <pre tabindex="0">"{\"status\":\"error\",\"code\":\"invalid_input\",\"message\":\"…\",\"details\":[{\"field\":\"urls\",\"message\":\"…\",\"entry\":\"…\",\"suggestion\":\"…\"}]}"</pre>
        <p>"400 bad input · 401 no or bad key · 403 role · 404 not yours or absent · 409 wrong state · 413 too large · 415 not JSON · 422 unprocessable · 429 rate limited (see Retry-After)."</p>
    }
}
