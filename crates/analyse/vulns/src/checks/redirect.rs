//! Open redirects (`open_redirect`): a 3xx whose `Location` points to another host, and that
//! host appears in a request parameter value (query or form). A redirect to the request's own
//! host, or to a host the request did not name, is not reported. One finding per endpoint and
//! parameter.

use super::{Ctx, Hit, Kind};
use crate::text::{authority_of, host_name, one_line};
use periscope_model::Severity;

/// Runs the check.
pub fn check(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) {
    let Some(resp) = ctx.resp else { return };
    if !(300..400).contains(&resp.status) || ctx.params.is_empty() {
        return;
    }
    let Some(location) = resp.headers.get("location") else {
        return;
    };
    let Some(target) = authority_of(location).map(host_name) else {
        return;
    };
    if target.is_empty() || target == host_name(ctx.host) {
        return;
    }
    for (name, value) in ctx.params {
        let v = value.to_ascii_lowercase();
        if v.contains(&target) {
            hits.push(Hit::endpoint(
                Kind::OpenRedirect,
                Severity::Medium,
                format!("Open redirect through parameter {}", one_line(name)),
                one_line(&format!(
                    "{name}={value} → {} Location: {location}",
                    resp.status
                )),
                name.clone(),
            ));
            return;
        }
    }
}
