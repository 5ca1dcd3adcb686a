//! Version disclosure (`version_disclosure`): a product *and its version number* in `Server`,
//! `X-Powered-By`, `X-AspNet-Version`, `X-AspNetMvc-Version`, `X-Generator`, or in the banner of
//! an error page (nginx, Apache, Tomcat, IIS, Werkzeug, Django, Jetty). A bare product name
//! (`Server: nginx`) is not reported. One finding per host and product.

use super::{family, Ctx, Hit, Kind};
use crate::text::{excerpt, one_line};
use periscope_model::Severity;
use regex::bytes::Regex as BytesRegex;
use regex::Regex;

/// Anchors of banners in bodies for the prefilter.
pub const BODY_ANCHORS: &[&str] = &[
    "nginx/",
    "Apache/",
    "Apache Tomcat/",
    "Microsoft-IIS/",
    "Werkzeug/",
    "Django Version",
    "Jetty",
    "PHP/",
    "Express/",
    "openresty/",
];

/// Headers that name the software.
const HEADERS: &[&str] = &[
    "server",
    "x-powered-by",
    "x-aspnet-version",
    "x-aspnetmvc-version",
    "x-generator",
    "x-powered-cms",
    "x-runtime-version",
];

/// Compiled patterns.
pub struct VersionRules {
    product: Regex,
    bare_version: Regex,
    banners: Vec<BytesRegex>,
}

impl VersionRules {
    /// Compiles the patterns.
    pub fn new() -> Result<VersionRules, regex::Error> {
        Ok(VersionRules {
            product: Regex::new(
                r"([A-Za-z][A-Za-z0-9_.+-]{0,40}(?: [A-Za-z][A-Za-z0-9_.+-]{0,20})?)[/ ]v?(\d+\.\d+(?:\.\d+){0,3}[a-z0-9-]{0,12})",
            )?,
            bare_version: Regex::new(r"^v?\d+(?:\.\d+){1,4}$")?,
            banners: vec![
                super::bre(r"<center>((?:nginx|openresty)/\d+\.\d+[\d.]*)</center>")?,
                super::bre(r"<address>((?:Apache|lighttpd)/\d+\.\d+[\d.]*[^<]{0,60}) Server at")?,
                super::bre(r"<h3>(Apache Tomcat/\d+\.\d+[\d.]*)</h3>")?,
                super::bre(r"(Microsoft-IIS/\d+\.\d+)")?,
                super::bre(r"(Werkzeug/\d+\.\d+[\d.]*)")?,
                super::bre(r"Django Version:</th>\s*<td>(\d+\.\d+[\d.]*)")?,
                super::bre(r"Powered by <a[^>]{0,200}>(Jetty://\d+\.\d+[\w.-]*)")?,
            ],
        })
    }

    /// Looks at the headers and, when the prefilter saw a banner anchor, the body.
    pub fn check(&self, ctx: &Ctx<'_>, hits: &mut Vec<Hit>) {
        let Some(resp) = ctx.resp else { return };
        for (name, value) in &resp.headers.0 {
            let lname = name.to_ascii_lowercase();
            if !HEADERS.contains(&lname.as_str()) {
                continue;
            }
            let value = value.trim();
            if self.bare_version.is_match(value) {
                hits.push(version_hit(&lname, name, value, value, value));
                continue;
            }
            for c in self.product.captures_iter(value).take(4) {
                let (Some(p), Some(_)) = (c.get(1), c.get(2)) else {
                    continue;
                };
                let shown = c.get(0).map_or(p.as_str(), |m| m.as_str());
                hits.push(version_hit(&lname, name, value, p.as_str(), shown));
            }
        }
        if !ctx.saw(family::VERSION) {
            return;
        }
        for re in &self.banners {
            if let Some(c) = re.captures(ctx.body) {
                let Some(m) = c.get(1) else { continue };
                let banner = one_line(&String::from_utf8_lossy(m.as_bytes()));
                let product = banner.split(['/', ' ']).next().unwrap_or("").to_string();
                hits.push(Hit::host(
                    Kind::VersionDisclosure,
                    Severity::Info,
                    format!("Version shown in error page: {banner}"),
                    excerpt(ctx.body, m.start(), m.end(), 40),
                    format!("body|{}", product.to_ascii_lowercase()),
                ));
            }
        }
    }
}

fn version_hit(lname: &str, name: &str, value: &str, product: &str, shown: &str) -> Hit {
    let product_key = product
        .split(['/', ' '])
        .next()
        .unwrap_or(product)
        .to_ascii_lowercase();
    Hit::host(
        Kind::VersionDisclosure,
        Severity::Info,
        format!("{} disclosed in {name} header", one_line(shown)),
        one_line(&format!("{name}: {value}")),
        format!("{lname}|{product_key}"),
    )
}
