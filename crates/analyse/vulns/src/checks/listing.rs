//! Directory listings (`directory_listing`): the index pages nginx (`autoindex`), Apache
//! (`mod_autoindex`), IIS, Tomcat, lighttpd and Python's `http.server` generate, answered with 200.

use super::{family, Ctx, Hit, Kind};
use crate::text::excerpt;
use periscope_model::Severity;
use regex::bytes::Regex;

/// Anchors for the prefilter.
pub const ANCHORS: &[&str] = &[
    "Index of /",
    "Directory listing for /",
    "[To Parent Directory]",
];

/// Compiled patterns, each with the server it names.
pub struct ListingRules {
    rules: Vec<(&'static str, Regex)>,
}

impl ListingRules {
    /// Compiles the patterns.
    pub fn new() -> Result<ListingRules, regex::Error> {
        let rules = vec![
            (
                "nginx autoindex",
                super::bre(
                    r#"(?s)<h1>Index of /[^<]{0,300}</h1>\s*<hr>\s*<pre>\s*<a href="\.\./">"#,
                )?,
            ),
            (
                "Apache mod_autoindex",
                super::bre(
                    r#"(?s)<h1>Index of /[^<]{0,300}</h1>.{0,600}(?:<a href="\?C=N;O=D">Name</a>|Parent Directory</a>)"#,
                )?,
            ),
            (
                "Python http.server",
                super::bre(
                    r"(?s)<title>Directory listing for /[^<]{0,300}</title>.{0,400}<h1>Directory listing for /",
                )?,
            ),
            (
                "IIS",
                super::bre(
                    r"(?s)<title>[^<]{0,200} - /[^<]{0,300}</title>.{0,2000}\[To Parent Directory\]",
                )?,
            ),
            (
                "Tomcat",
                super::bre(r"<title>Directory Listing For /[^<]{0,300}</title>")?,
            ),
            (
                "lighttpd",
                super::bre(r#"(?s)<h2>Index of /[^<]{0,300}</h2>.{0,600}<a href="\.\./">"#)?,
            ),
            (
                "directory index",
                super::bre(r"<title>\s*Index of /[^<]{0,300}</title>")?,
            ),
        ];
        Ok(ListingRules { rules })
    }

    /// Checks a 200 HTML response.
    pub fn check(&self, ctx: &Ctx<'_>, hits: &mut Vec<Hit>) {
        if !ctx.saw(family::LISTING) || ctx.status() != 200 {
            return;
        }
        for (server, re) in &self.rules {
            if let Some(m) = re.find(ctx.body) {
                hits.push(Hit::endpoint(
                    Kind::DirectoryListing,
                    Severity::Medium,
                    format!("Directory listing ({server})"),
                    excerpt(ctx.body, m.start(), m.start(), 0),
                    "",
                ));
                return;
            }
        }
    }
}
