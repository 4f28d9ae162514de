//! Bad input (400 vs 422, content type, size) and idempotency.

use super::*;

db_test!(bad_input_is_400_with_details, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    for uri in ["/invalidate", "/api/v1/invalidations"] {
        let sixteen: Vec<String> = (1..=16).map(|i| format!("/sample.li/{i}.jpg")).collect();
        let r = call(&t, post(uri, Some(&k), &json!({"scope": "original", "urls": sixteen}))).await;
        let msg = r.expect_error(400, "invalid_input")["message"].as_str().unwrap();
        assert!(msg.contains("at most 15"), "{msg}");
        assert_eq!(r.body["details"][0]["field"], "urls");

        let r = call(&t, post(uri, Some(&k), &json!({"scope": "everything", "urls": ["/a.jpg"]}))).await;
        let e = r.expect_error(400, "invalid_input");
        assert_eq!(e["details"][0]["field"], "scope");
        let expected =
            if uri == "/invalidate" { "use \"original\" or \"all\"" } else { "use \"original\", \"all\" or \"tag\"" };
        assert!(e["message"].as_str().unwrap().contains(expected), "{e}");

        let r = call(&t, post(uri, Some(&k), &original(&["/ok.jpg", "/sample.li/flat1.jpg?w=500"]))).await;
        let e = r.expect_error(400, "invalid_input");
        let msg = e["message"].as_str().unwrap();
        assert!(msg.contains("\"/sample.li/flat1.jpg?w=500\""), "the message names the entry: {msg}");
        assert!(msg.contains("Try \"/sample.li/flat1.jpg\""), "{msg}");
        assert_eq!(e["details"].as_array().unwrap().len(), 1);
        assert_eq!(e["details"][0]["field"], "urls");
        assert_eq!(e["details"][0]["entry"], "/sample.li/flat1.jpg?w=500");
        assert_eq!(e["details"][0]["suggestion"], "/sample.li/flat1.jpg");

        let r = call(&t, post(uri, Some(&k), &original(&["doc.cloudimg.io/sample.li/flat1.jpg"]))).await;
        assert_eq!(r.expect_error(400, "invalid_input")["details"][0]["suggestion"], "/sample.li/flat1.jpg");

        let r = call(&t, post(uri, Some(&k), &json!({"scope": "all", "urls": ["/a.jpg"]}))).await;
        r.expect_error(400, "invalid_input");
        let r = call(&t, post(uri, Some(&k), &json!({"scope": "original", "urls": []}))).await;
        r.expect_error(400, "invalid_input");
        let r = call(&t, post(uri, Some(&k), &json!({"scope": "original"}))).await;
        r.expect_error(400, "invalid_input");

        let malformed = request("POST", uri, Some(&k))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"scope": "original", "urls": ["/a.jpg"]"#))
            .unwrap();
        let r = call(&t, malformed).await;
        let msg = r.expect_error(400, "malformed_json")["message"].as_str().unwrap();
        assert!(msg.contains("JSON") && msg.contains("line 1"), "{msg}");
    }
    // Duplicates collapse: 16 entries naming 15 paths are fine.
    let mut urls: Vec<String> = (1..=15).map(|i| format!("/{i}.jpg")).collect();
    urls.push("/1.jpg".into());
    let r = call(&t, post("/api/v1/invalidations", Some(&k), &json!({"scope": "original", "urls": urls}))).await;
    assert_eq!(r.expect(201)["invalidation"]["paths"].as_array().unwrap().len(), 15);
    let r = call(&t, post("/api/v1/invalidations", Some(&k), &json!({"scope": "ALL"}))).await;
    assert_eq!(r.expect(201)["invalidation"]["scope"], "all");
});

db_test!(content_type_shape_and_size, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    for uri in ["/invalidate", "/api/v1/invalidations"] {
        let body = original(&["/a.jpg"]).to_string();
        let text = request("POST", uri, Some(&k))
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(body.clone()))
            .unwrap();
        let r = call(&t, text).await;
        assert!(r.expect_error(415, "unsupported_media_type")["message"]
            .as_str()
            .unwrap()
            .contains("application/json"));
        let none = request("POST", uri, Some(&k)).body(Body::from(body)).unwrap();
        call(&t, none).await.expect_error(415, "unsupported_media_type");

        for wrong in [
            json!({"scope": "original", "urls": "/a.jpg"}),
            json!({"scope": 1, "urls": ["/a.jpg"]}),
            json!({"urls": ["/a.jpg"]}),
            json!({"scope": "original", "urls": [1]}),
            json!(["/a.jpg"]),
        ] {
            let r = call(&t, post(uri, Some(&k), &wrong)).await;
            let msg = r.expect_error(422, "unprocessable_entity")["message"].as_str().unwrap();
            assert!(msg.contains("deserialize"), "{msg}");
        }

        let huge = json!({"scope": "original", "urls": ["/".repeat(70_000)]});
        let r = call(&t, post(uri, Some(&k), &huge)).await;
        r.expect_error(413, "payload_too_large");
    }
    assert!(t.store.list_invalidations(t.demo.id, &Default::default()).await.unwrap().is_empty());
});

// Idempotency.

db_test!(idempotency_key_replays_or_conflicts, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let with_key = |key: &str, body: &Value| {
        request("POST", "/api/v1/invalidations", Some(&k))
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", key)
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let body = original(&["/a.jpg", "/b.jpg"]);
    let first = call(&t, with_key("build-42", &body)).await;
    let id = first.expect(201)["invalidation"]["id"].as_str().unwrap().to_owned();
    assert_eq!(first.header("location"), Some(format!("/api/v1/invalidations/{id}").as_str()));
    assert_eq!(first.header("idempotent-replayed"), None);

    let again = call(&t, with_key("build-42", &body)).await;
    assert_eq!(again.expect(200)["invalidation"]["id"], id.as_str());
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    // Same canonical request written differently is the same request.
    let same = call(&t, with_key("build-42", &original(&[" /a.jpg", "/b.jpg", "/a.jpg"]))).await;
    assert_eq!(same.expect(200)["invalidation"]["id"], id.as_str());

    let r = call(&t, with_key("build-42", &original(&["/c.jpg"]))).await;
    assert!(r.expect_error(409, "conflict")["message"].as_str().unwrap().contains("Idempotency-Key"));
    let r = call(&t, with_key("   ", &body)).await;
    assert_eq!(r.expect_error(400, "invalid_input")["details"][0]["field"], "Idempotency-Key");

    let all = t.store.list_invalidations(t.demo.id, &Default::default()).await.unwrap();
    assert_eq!(all.len(), 1, "replays create nothing");

    // The anchor endpoint honours the header the same way.
    let anchor = |body: &Value| {
        request("POST", "/invalidate", Some(&k))
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", "deploy-7")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let uuid = call(&t, anchor(&body)).await.expect(201)["invalidation"]["uuid"].clone();
    let replay = call(&t, anchor(&body)).await;
    assert_eq!(replay.expect(200)["invalidation"]["uuid"], uuid);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    call(&t, anchor(&original(&["/z.jpg"]))).await.expect_error(409, "conflict");
});
