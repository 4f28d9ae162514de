//! What an upgrade must keep, read through the services: the fixture
//! generator records it, the upgrade test reads it again after the
//! migrations and compares. Volatile fields (last sign-in, last use) are
//! left out: the test itself signs in and uses the keys afterwards.

use serde_json::{json, Value};

use imgflush::backend::store::{AuditQuery, DynStore, ListQuery};
use imgflush::backend::Services;

/// Users, and per project its settings, retention, members, targets, keys,
/// invalidations with their history and target results, and audit trail.
pub async fn snapshot(services: &Services, store: &DynStore) -> Value {
    let mut users: Vec<Value> = Vec::new();
    for u in store.user_overview().await.unwrap() {
        users.push(json!({"email": u.email, "instance_role": format!("{:?}", u.instance_role)}));
    }
    let mut projects = Vec::new();
    for p in services.projects.list_all().await.unwrap() {
        let actor = services.projects.operator_actor(&p.token).await.unwrap();
        let members: Vec<Value> = services
            .team
            .members(&actor)
            .await
            .unwrap()
            .into_iter()
            .map(|m| json!({"email": m.email, "role": m.role.as_str(), "invited": m.invited, "pending": m.pending}))
            .collect();
        let targets: Vec<Value> = services
            .targets
            .list(&actor)
            .await
            .unwrap()
            .into_iter()
            .map(|t| {
                json!({"kind": t.kind.as_str(), "name": t.name, "url": t.url, "secret": t.secret,
                       "settings": serde_json::to_value(&t.settings).unwrap(), "sealed": t.credentials.is_some()})
            })
            .collect();
        let keys: Vec<Value> = services
            .keys
            .list(&actor)
            .await
            .unwrap()
            .into_iter()
            .map(|k| {
                json!({"name": k.name, "prefix": k.prefix, "role": k.role.as_str(), "created": k.created,
                       "revoked": k.revoked, "limits": k.limits.describe()})
            })
            .collect();
        let mut invalidations = Vec::new();
        for inv in services.invalidations.export(&actor, ListQuery::default()).await.unwrap() {
            let detail = services.invalidations.detail(&actor, inv.id).await.unwrap();
            invalidations.push(serde_json::to_value(&detail).unwrap());
        }
        let log = AuditQuery { limit: 10_000, ..Default::default() };
        let audit: Vec<Value> = services
            .audit
            .project_log(&actor, log)
            .await
            .unwrap()
            .into_iter()
            .map(|e| json!({"at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail, "ip": e.ip}))
            .collect();
        projects.push(json!({
            "token": p.token, "name": p.name, "origin_hosts": p.origin_hosts,
            "max_age_secs": p.max_age_secs, "s_maxage_secs": p.s_maxage_secs,
            "edge": serde_json::to_value(&p.edge).unwrap(),
            "retention_days": services.projects.retention(&actor).await.unwrap(),
            "members": members, "targets": targets, "keys": keys,
            "invalidations": invalidations, "audit": audit,
        }));
    }
    json!({"users": users, "projects": projects})
}

/// Whether `now` still holds everything `recorded` held: every field with
/// its value (fields a later version added are allowed), every list item.
pub fn keeps(now: &Value, recorded: &Value, at: &str) -> Result<(), String> {
    match (now, recorded) {
        (Value::Object(n), Value::Object(r)) => {
            for (k, v) in r {
                let here = format!("{at}.{k}");
                keeps(n.get(k).ok_or_else(|| format!("{here}: missing"))?, v, &here)?;
            }
            Ok(())
        }
        (Value::Array(n), Value::Array(r)) => {
            if n.len() != r.len() {
                return Err(format!("{at}: {} items, the fixture has {}", n.len(), r.len()));
            }
            n.iter().zip(r).enumerate().try_for_each(|(i, (n, r))| keeps(n, r, &format!("{at}[{i}]")))
        }
        _ if now == recorded => Ok(()),
        _ => Err(format!("{at}: {now} where the fixture has {recorded}")),
    }
}
