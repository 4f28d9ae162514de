//! Scheduled invalidations (`not_before`): stored at once, claimed no
//! earlier, cancellable until then.

use super::*;

db_test!(a_scheduled_invalidation_waits_and_can_be_cancelled, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let at = chrono::Utc::now() + chrono::Duration::hours(1);
    let local = at.with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap()).to_rfc3339();
    let body = json!({"scope": "original", "urls": ["/sample.li/later.jpg"], "not_before": local});
    let r = call(&t, post("/api/v1/invalidations", Some(&k), &body)).await;
    let inv = r.expect(201)["invalidation"].clone();
    assert_eq!(inv["status"], "RECEIVED");
    let shown = chrono::DateTime::parse_from_rfc3339(inv["not_before"].as_str().unwrap()).unwrap();
    assert_eq!(shown.timestamp_millis(), at.timestamp_millis(), "the same instant, in UTC");
    let id = inv["id"].as_str().unwrap().to_owned();

    // No worker takes it before its time, even one asking right now.
    let worker = t.app.worker(WorkerConfig { id: "early".into(), ..Default::default() });
    assert!(worker.try_execute_task().await.unwrap().is_none(), "claimed before its time");
    let one = call(&t, get(&format!("/api/v1/invalidations/{id}"), Some(&k))).await;
    assert_eq!(one.expect(200)["invalidation"]["status"], "RECEIVED");

    // It can be cancelled until then.
    let r = call(&t, post(&format!("/api/v1/invalidations/{id}/cancel"), Some(&k), &json!({}))).await;
    assert_eq!(r.expect(200)["invalidation"]["status"], "CANCELLED");

    // A time already past runs at once; bad and far times name the field.
    let past = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let body = json!({"scope": "original", "urls": ["/sample.li/now.jpg"], "not_before": past});
    let r = call(&t, post("/api/v1/invalidations", Some(&k), &body)).await;
    assert_eq!(r.expect(201)["invalidation"]["not_before"], Value::Null);
    assert!(worker.try_execute_task().await.unwrap().is_some(), "a past time runs at once");
    for bad in ["tomorrow", "2026-12-07 09:00", "2026-12-07T09:00:00"] {
        let body = json!({"scope": "original", "urls": ["/a.jpg"], "not_before": bad});
        let r = call(&t, post("/api/v1/invalidations", Some(&k), &body)).await;
        let e = r.expect_error(400, "invalid_input");
        assert_eq!(e["details"][0]["field"], "not_before", "{bad}");
        assert!(e["message"].as_str().unwrap().contains("RFC 3339"), "{e}");
    }
    let far = (chrono::Utc::now() + chrono::Duration::days(400)).to_rfc3339();
    let body = json!({"scope": "original", "urls": ["/a.jpg"], "not_before": far});
    let r = call(&t, post("/api/v1/invalidations", Some(&k), &body)).await;
    assert!(r.expect_error(400, "invalid_input")["message"].as_str().unwrap().contains("365 days"));
});

db_test!(a_scheduled_invalidation_runs_once_its_time_has_come, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let at = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let body = json!({"scope": "original", "urls": ["/sample.li/soon.jpg"], "not_before": at.to_rfc3339()});
    let id = call(&t, post("/api/v1/invalidations", Some(&k), &body)).await.expect(201)["invalidation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let _worker = start_worker(&t);
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let done = loop {
        let r = call(&t, get(&format!("/api/v1/invalidations/{id}"), Some(&k))).await;
        let inv = r.expect(200)["invalidation"].clone();
        if inv["status"] == "DONE" {
            break inv;
        }
        assert!(std::time::Instant::now() < deadline, "never ran: {inv}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let finished = chrono::DateTime::parse_from_rfc3339(done["finished_at"].as_str().unwrap()).unwrap();
    assert!(finished.timestamp_millis() >= at.timestamp_millis(), "finished before its time: {done}");
});
