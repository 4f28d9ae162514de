//! The Invalidation log as CSV (`/p/{token}/invalidations.csv?status=&q=`):
//! the filtered log, every page, newest first.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use app::ssr::UserSession;
use imgflush::backend::invalidations::ListParams;
use imgflush::backend::store::{Invalidation, ListQuery};
use imgflush::backend::{ServiceError, Services};

#[derive(Deserialize, Default)]
pub struct Filters {
    status: Option<String>,
    q: Option<String>,
}

pub async fn invalidations_csv(
    State(services): State<Services>,
    session: Session,
    Path(token): Path<String>,
    Query(filters): Query<Filters>,
) -> Response {
    let user = match UserSession::new(session).user(&services).await {
        Ok(Some(user)) => user,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Sign in first.").into_response(),
        Err(_) => return crate::security::unavailable(),
    };
    let params = ListParams {
        status: filters.status.as_deref(),
        search: filters.q.as_deref(),
        cursor: None,
        cursor_field: "before",
        limit: None,
    };
    let result = async {
        let actor = services.projects.actor_for(&user, &token).await?;
        let query = ListQuery::parse(params, 20)?;
        services.invalidations.export(&actor, query).await
    };
    match result.await {
        Ok(rows) => {
            let disposition = format!("attachment; filename=\"invalidations-{token}.csv\"");
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                csv(&rows),
            )
                .into_response()
        }
        Err(e) => refusal(e),
    }
}

fn refusal(e: ServiceError) -> Response {
    match e {
        ServiceError::Invalid(errors) => {
            let msg: Vec<String> = errors.iter().map(ToString::to_string).collect();
            (StatusCode::BAD_REQUEST, msg.join("\n")).into_response()
        }
        ServiceError::NotFound => (StatusCode::NOT_FOUND, "Not found.").into_response(),
        ServiceError::Forbidden(_) | ServiceError::OutsideKeyLimits(_) => {
            (StatusCode::FORBIDDEN, "Your role does not allow this.").into_response()
        }
        ServiceError::Unavailable => crate::security::unavailable(),
        other => {
            tracing::error!(error = %other, "CSV export failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try again.").into_response()
        }
    }
}

/// `paths` holds the tags of a scope `tag` invalidation.
const HEADER: &str = "invalidation_id,status,scope,submitted_at,submitted_by,attempt,finished_at,paths,error\r\n";

/// RFC 4180 CSV. A field a spreadsheet would read as a formula gets a
/// leading `'` (paths start with `/`; tags, names and errors may not), and a
/// field with a `;` or a tab is quoted too: spreadsheets in some locales
/// split on those, and `/h/a;=HYPERLINK(…)` would become a formula cell.
pub fn csv(rows: &[Invalidation]) -> String {
    let mut out = String::from(HEADER);
    for r in rows {
        let fields = [
            r.id.to_string(),
            r.status.code().to_owned(),
            r.scope.as_str().to_owned(),
            r.created.to_rfc3339(),
            r.submitted_by.clone(),
            r.attempt.to_string(),
            r.finished.map(|f| f.to_rfc3339()).unwrap_or_default(),
            r.paths.join(" "),
            r.error.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
        out += &line.join(",");
        out += "\r\n";
    }
    out
}

fn field(raw: &str) -> String {
    let guarded = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{raw}") } else { raw.to_owned() };
    if guarded.contains([',', ';', '\t', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("/a.jpg"), "/a.jpg");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(field("line\nbreak"), "\"line\nbreak\"");
        // Split on `;` or a tab, the rest of the cell would start a formula.
        assert_eq!(field("/h/a;=HYPERLINK(1)"), "\"/h/a;=HYPERLINK(1)\"");
        assert_eq!(field("/h/a\t=1+1"), "\"/h/a\t=1+1\"");
    }
}
