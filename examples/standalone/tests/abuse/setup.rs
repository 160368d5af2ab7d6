//! The abuse suite's configuration and the malformed header values it sends.

use std::net::SocketAddr;
use std::path::Path;

pub const SECRET: &str = "abuse-secret";
pub const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Every signed source and the headers its scheme reads.
pub const SIGNED: [(&str, &[&str]); 7] = [
    ("github", &["x-hub-signature-256"]),
    ("stripe", &["stripe-signature"]),
    (
        "standard_webhooks",
        &["webhook-id", "webhook-timestamp", "webhook-signature"],
    ),
    ("svix", &["svix-id", "svix-timestamp", "svix-signature"]),
    ("shopify", &["x-shopify-hmac-sha256"]),
    ("slack", &["x-slack-signature", "x-slack-request-timestamp"]),
    ("generic", &["x-signature", "x-timestamp"]),
];

/// Header values no signature may be made of.
pub fn malformed_values() -> Vec<Vec<u8>> {
    let mut values: Vec<Vec<u8>> = [
        "",
        " ",
        "=",
        ",",
        "sha256=",
        "sha256=zz",
        "sha256=00",
        "sha1=00",
        "v1,",
        "v1,!!!",
        "v1,AAAA",
        "v0=",
        "v0=zz",
        "t=,v1=",
        "t=abc,v1=00",
        "t=1,v1=00",
        "t=99999999999999999999999,v1=00",
        "t=-1,v1=00",
        "t=1,t=2,v1=1,v1=2",
        "=,=,=",
        "-1",
        "0",
        "9223372036854775808",
        "1e400",
        "NaN",
        "msg_",
        "whsec_",
        "v1a,abc",
        "v1,v1,v1,v1",
        "sha256=sha256=",
        "%00",
        "\t",
        "v1,====",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    values.push(vec![b'a'; 8 * 1024]);
    values.push(format!("sha256={}", "0".repeat(8 * 1024)).into_bytes());
    values.push("v1,".repeat(2_000).into_bytes());
    values.push("t=1,".repeat(2_000).into_bytes());
    values.push(b"\xff\xfe\x80\x81".to_vec());
    values.push(b"sha256=\xff\xff".to_vec());
    values.push(b"v1,\xc3\x28".to_vec());
    values.push(b"t=\xe2\x82,v1=\xf0\x28\x8c\x28".to_vec());
    values
}

/// A gateway with a source per scheme, all routed to `receiver`.
pub fn write_config(path: &Path, db: &Path, addr: SocketAddr, receiver: &str) {
    let toml = format!(
        r#"[server]
listen = "{addr}"
database_url = "sqlite://{db}"
request_timeout_ms = 2000

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "open"
scheme = "none"
max_body_bytes = 4194304

[[sources]]
name = "small"
scheme = "none"
max_body_bytes = 65536

[[sources]]
name = "github"
scheme = "github"
secrets = ["{SECRET}"]

[[sources]]
name = "stripe"
scheme = "stripe"
secrets = ["{SECRET}"]

[[sources]]
name = "standard_webhooks"
scheme = "standard_webhooks"
secrets = ["{WHSEC}"]

[[sources]]
name = "svix"
scheme = "svix"
secrets = ["{WHSEC}"]

[[sources]]
name = "shopify"
scheme = "shopify"
secrets = ["{SECRET}"]

[[sources]]
name = "slack"
scheme = "slack"
secrets = ["{SECRET}"]

[[sources]]
name = "generic"
scheme = "generic_hmac"
secrets = ["{SECRET}"]
signature_header = "x-signature"
encoding = "hex"
prefix = "sha256="
timestamp_header = "x-timestamp"

[[destinations]]
name = "receiver"
url = "{receiver}"

[[routes]]
name = "everything"
destinations = ["receiver"]
conditions = [{{ path = "$.a.a.a", op = "exists" }}]

[[routes]]
name = "pushes"
source = "github"
destinations = ["receiver"]
"#,
        db = db.display()
    );
    std::fs::write(path, toml).expect("write config");
}
