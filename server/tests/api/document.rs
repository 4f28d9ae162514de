//! The OpenAPI document: public, complete, and the schema check itself.

use super::*;

db_test!(openapi_document_is_public_and_complete, |t: TestApp| async move {
    let r = call(&t, get("/api/v1/openapi.json", None)).await;
    let doc = r.expect(200);
    assert_eq!(doc, spec::doc(), "the served document is the generated one");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let ops: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, item)| item.as_object().unwrap().keys().map(move |m| format!("{m} {p}")))
        .collect();
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values().map(|op| op["operationId"].as_str().unwrap()))
        .collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "operationIds are unique: {ids:?}");
    for op in [
        "post /invalidate",
        "get /invalidate/{uuid}",
        "post /api/v1/invalidations",
        "get /api/v1/invalidations",
        "get /api/v1/invalidations/{id}",
        "post /api/v1/invalidations/{id}/retry",
    ] {
        assert!(ops.contains(&op.to_owned()), "{op} missing from {ops:?}");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["client_key"]["name"], "X-Client-Key");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    let codes = doc["components"]["schemas"]["ErrorCode"]["enum"].as_array().unwrap();
    for code in ["invalid_input", "malformed_json", "unauthorized", "forbidden", "not_found", "conflict"] {
        assert!(codes.contains(&json!(code)), "{code}");
    }
    for code in ["payload_too_large", "unsupported_media_type", "unprocessable_entity", "rate_limited"] {
        assert!(codes.contains(&json!(code)), "{code}");
    }
});

db_test!(the_schema_check_catches_drift, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let id = create(&t, &k, &["/sample.li/flat1.jpg"]).await;
    let good = call(&t, get(&format!("/api/v1/invalidations/{id}"), Some(&k))).await.body;
    let schema = spec::response_schema("get", "/api/v1/invalidations/x", 200);
    assert!(spec::violations(&schema, &good).is_empty());

    let drifted = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        spec::violations(&schema, &v)
    };
    let dropped = drifted(&|v| {
        v["invalidation"].as_object_mut().unwrap().remove("submitted_by");
    });
    assert!(!dropped.is_empty(), "a missing required field must fail");
    assert!(!drifted(&|v| v["invalidation"]["extra"] = json!(1)).is_empty(), "an undeclared field must fail");
    assert!(!drifted(&|v| v["invalidation"]["status"] = json!("FINISHED")).is_empty(), "an unknown status");
    assert!(!drifted(&|v| v["invalidation"]["created_at"] = json!("yesterday")).is_empty(), "a bad date-time");
    assert!(!drifted(&|v| v["invalidation"]["attempt"] = json!("1")).is_empty(), "a retyped field");
    assert!(!drifted(&|v| v["status"] = json!("ok")).is_empty(), "the success tag");

    let error_schema = spec::response_schema("post", "/api/v1/invalidations", 400);
    assert!(!spec::violations(&error_schema, &json!({"status": "error", "message": "x"})).is_empty());
    let undeclared = std::panic::catch_unwind(|| spec::response_schema("get", "/api/v1/invalidations", 409));
    assert!(undeclared.is_err(), "an undeclared status must fail");
});
