//! Listing, long-poll and retry.

use super::*;

db_test!(list_pages_with_cursor_and_filters_by_status, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let done = create(&t, &k, &["/0.jpg"]).await;
    finish(&t, &done, Status::Done).await;
    let mut ids = vec![done.clone()];
    for i in 1..5 {
        ids.push(create(&t, &k, &[format!("/{i}.jpg").as_str()]).await);
    }
    ids.reverse(); // newest first

    let mut seen = Vec::new();
    let mut uri = "/api/v1/invalidations?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let r = call(&t, get(&uri, Some(&k))).await;
        let page = r.expect(200);
        let rows = page["invalidations"].as_array().unwrap();
        assert!(rows.len() <= 2);
        seen.extend(rows.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/invalidations?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    assert_eq!(pages, 3);

    let r = call(&t, get("/api/v1/invalidations?status=done", Some(&k))).await;
    let rows = r.expect(200)["invalidations"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], done.as_str());
    assert_eq!(rows[0]["status"], "DONE");
    assert!(rows[0]["finished_at"].is_string());
    assert_eq!(r.body["next_cursor"], Value::Null);
    let r = call(&t, get("/api/v1/invalidations?status=RECEIVED&limit=3", Some(&k))).await;
    let rows = r.expect(200)["invalidations"].as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>(), ids[..3]);
    assert_eq!(r.body["next_cursor"], ids[2].as_str());

    for (query, field) in [
        ("status=FINISHED", "status"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=nope", "cursor"),
    ] {
        let r = call(&t, get(&format!("/api/v1/invalidations?{query}"), Some(&k))).await;
        assert_eq!(r.expect_error(400, "invalid_input")["details"][0]["field"], field, "{query}");
    }
    let r = call(&t, get("/api/v1/invalidations?limit=100", Some(&k))).await;
    assert_eq!(r.expect(200)["invalidations"].as_array().unwrap().len(), 5);
});

db_test!(list_defaults_to_20_per_page, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    for i in 0..21 {
        create(&t, &k, &[format!("/{i}.jpg").as_str()]).await;
    }
    let r = call(&t, get("/api/v1/invalidations", Some(&k))).await;
    assert_eq!(r.expect(200)["invalidations"].as_array().unwrap().len(), 20);
    let cursor = r.body["next_cursor"].as_str().unwrap();
    let r = call(&t, get(&format!("/api/v1/invalidations?cursor={cursor}"), Some(&k))).await;
    assert_eq!(r.expect(200)["invalidations"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["next_cursor"], Value::Null);
});

// Long-poll and retry.

db_test!(wait_returns_as_soon_as_the_invalidation_is_done, |t: TestApp| async move {
    let recorder = Recorder::start().await;
    edge_target(&t, &recorder).await;
    let k = key(&t, &t.demo, "ci", "editor").await;
    let _worker = start_worker(&t);

    let id = create(&t, &k, &["/sample.li/flat1.jpg"]).await;
    let started = Instant::now();
    let r = call(&t, get(&format!("/api/v1/invalidations/{id}?wait=30"), Some(&k))).await;
    let elapsed = started.elapsed();
    let body = r.expect(200);
    assert_eq!(body["invalidation"]["status"], "DONE", "{body:#}");
    assert!(elapsed < Duration::from_secs(10), "waited {elapsed:?} of 30 s");
    assert_rfc3339_utc(&body["invalidation"]["finished_at"]);

    let history: Vec<&str> =
        body["history"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(history, ["RECEIVED", "PREPARING", "FLUSHINGCLOUDIMAGESERVER", "FLUSHINGCDNSERVERS", "DONE"]);
    let targets = body["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0]["name"], "edge-1");
    assert_eq!(targets[0]["kind"], "edge");
    assert_eq!(targets[0]["state"], "ok");
    assert_eq!(targets[0]["attempts"], 1);
    assert_eq!(recorder.count(), 1);

    let r = call(&t, get(&format!("/invalidate/{id}"), Some(&k))).await;
    assert_eq!(r.expect(200)["invalidation"]["urls"]["invalidated"], json!(["/sample.li/flat1.jpg"]));
});

db_test!(wait_gives_up_after_its_timeout, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let id = create(&t, &k, &["/a.jpg"]).await;
    let started = Instant::now();
    let r = call(&t, get(&format!("/api/v1/invalidations/{id}?wait=1"), Some(&k))).await;
    let elapsed = started.elapsed();
    assert_eq!(r.expect(200)["invalidation"]["status"], "RECEIVED");
    assert!(elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(5), "{elapsed:?}");

    // Already final: no waiting at all.
    finish(&t, &id, Status::Done).await;
    let started = Instant::now();
    let r = call(&t, get(&format!("/api/v1/invalidations/{id}?wait=60"), Some(&k))).await;
    assert_eq!(r.expect(200)["invalidation"]["status"], "DONE");
    assert!(started.elapsed() < Duration::from_secs(1));

    for bad in ["abc", "-1", "1.5"] {
        let r = call(&t, get(&format!("/api/v1/invalidations/{id}?wait={bad}"), Some(&k))).await;
        assert_eq!(r.expect_error(400, "invalid_input")["details"][0]["field"], "wait");
    }
});

db_test!(retry_is_409_unless_errored_and_reruns_failed_targets, |t: TestApp| async move {
    let recorder = Recorder::start().await;
    recorder.respond_with(500);
    edge_target(&t, &recorder).await;
    let k = key(&t, &t.demo, "ci", "editor").await;
    let _worker = start_worker(&t);

    let id = create(&t, &k, &["/a.jpg"]).await;
    let r = call(&t, get(&format!("/api/v1/invalidations/{id}?wait=30"), Some(&k))).await;
    let body = r.expect(200);
    assert_eq!(body["invalidation"]["status"], "ERROR", "{body:#}");
    assert!(body["invalidation"]["error"].as_str().unwrap().contains("edge-1"));
    assert_eq!(body["targets"][0]["state"], "error");
    let r = call(&t, get(&format!("/invalidate/{id}"), Some(&k))).await;
    assert_eq!(r.expect(200)["invalidation"]["urls"]["failed"], json!(["/a.jpg"]));

    recorder.respond_with(200);
    let retry = || post(&format!("/api/v1/invalidations/{id}/retry"), Some(&k), &json!({}));
    let r = call(&t, retry()).await;
    let inv = &r.expect(200)["invalidation"];
    assert_eq!(inv["id"], id.as_str());
    assert_eq!(inv["attempt"], 2);
    let r = call(&t, get(&format!("/api/v1/invalidations/{id}?wait=30"), Some(&k))).await;
    assert_eq!(r.expect(200)["invalidation"]["status"], "DONE", "{:#}", r.body);

    let r = call(&t, retry()).await;
    let msg = r.expect_error(409, "conflict")["message"].as_str().unwrap();
    assert!(msg.contains("DONE"), "{msg}");
    let absent = "/api/v1/invalidations/0193a5b2-7c1d-7e4f-9a2b-3c4d5e6f7a8b/retry";
    call(&t, post(absent, Some(&k), &json!({}))).await.expect_error(404, "not_found");
    call(&t, post("/api/v1/invalidations/nope/retry", Some(&k), &json!({}))).await.expect_error(400, "invalid_input");
});

db_test!(list_searches_by_path_prefix_or_id_like_the_console, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let shoes = create(&t, &k, &["/img/shoes/red.jpg", "/img/hats/a.jpg"]).await;
    let hats = create(&t, &k, &["/img/hats/b.jpg"]).await;
    create(&t, &k, &["/other/c.jpg"]).await;

    let ids = |r: &Res| -> Vec<String> {
        r.body["invalidations"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
    };
    let r = call(&t, get("/api/v1/invalidations?q=/img/hats/", Some(&k))).await;
    r.expect(200);
    assert_eq!(ids(&r), vec![hats.clone(), shoes.clone()]);
    let r = call(&t, get("/api/v1/invalidations?q=/img/shoes/", Some(&k))).await;
    r.expect(200);
    assert_eq!(ids(&r), vec![shoes.clone()]);
    // A search pages with the cursor like the plain log.
    let r = call(&t, get(&format!("/api/v1/invalidations?q=/img/hats/&limit=1&cursor={hats}"), Some(&k))).await;
    r.expect(200);
    assert_eq!(ids(&r), vec![shoes.clone()]);
    let r = call(&t, get(&format!("/api/v1/invalidations?q={hats}"), Some(&k))).await;
    r.expect(200);
    assert_eq!(ids(&r), vec![hats]);
    let long = "/x".repeat(400);
    let r = call(&t, get(&format!("/api/v1/invalidations?q={long}"), Some(&k))).await;
    let err = r.expect_error(400, "invalid_input");
    assert!(err.to_string().contains("\"q\""), "the error names the field: {err}");
});
