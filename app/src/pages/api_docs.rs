use leptos::prelude::*;
use leptos_meta::Title;

/// A readable API reference; the machine-readable one is `/api/v1/openapi.json`.
#[component]
pub fn ApiDocsPage() -> impl IntoView {
    view! {
        <Title text="API reference" />
        <header class="topbar"><a class="brand" href="/">"imgflush"</a></header>
        <main class="page prose">
            <h1>"Invalidation API"</h1>
            <p>"Authenticate with a project API key (create one under API keys) in " <code>"X-Client-Key: imf_…"</code>
               " or " <code>"Authorization: Bearer imf_…"</code> ". The key identifies the project. The OpenAPI 3.1 document is at "
               <a href="/api/v1/openapi.json"><code>"/api/v1/openapi.json"</code></a> "."</p>
            <h2>"Anchor-compatible"</h2>
            <pre tabindex="0">"POST /invalidate\n{\"scope\":\"original\",\"urls\":[\"/sample.li/flat1.jpg\"]}   (1 to 15 paths)\n{\"scope\":\"all\"}\n\n201 {\"status\":\"success\",\"msg\":\"Your invalidation request has been received\",\n     \"invalidation\":{\"status\":\"RECEIVED\",\"uuid\":\"…\",\"added_at\":\"…\"}}\n\nGET /invalidate/{uuid}\n200 {\"status\":\"success\",\"invalidation\":{\"status\":\"DONE\",\"uuid\":\"…\",\"added_at\":\"…\",\n     \"scope\":\"original\",\"urls\":{\"received\":[…],\"invalidated\":[…],\"failed\":[…]}}}"</pre>
            <h2>"Native /api/v1"</h2>
            <ul>
                <li><code>"POST /api/v1/invalidations"</code> " — create; send " <code>"Idempotency-Key"</code> " to make retries safe."</li>
                <li><code>"GET /api/v1/invalidations?status=&cursor=&limit="</code> " — list, newest first."</li>
                <li><code>"GET /api/v1/invalidations/{id}?wait=30"</code> " — details; " <code>"wait"</code> " long-polls up to 60 s until a final status."</li>
                <li><code>"POST /api/v1/invalidations/{id}/retry"</code> " — only from ERROR or ERROR_CDN_NODE (else 409)."</li>
            </ul>
            <h2>"Errors"</h2>
            <pre tabindex="0">"{\"status\":\"error\",\"code\":\"invalid_input\",\"message\":\"…\",\"details\":[{\"field\":\"urls\",\"message\":\"…\",\"entry\":\"…\",\"suggestion\":\"…\"}]}"</pre>
            <p>"400 bad input · 401 no or bad key · 403 role · 404 not yours or absent · 409 wrong state · 413 too large · 415 not JSON · 422 unprocessable · 429 rate limited (see Retry-After)."</p>
        </main>
    }
}
