//! Reports people and SCAP tools read: `audit --format xccdf` validated and rendered by
//! OpenSCAP, `audit --format html` and the fleet page rendered by headless Chromium (every
//! check and host in the DOM; screenshots kept under target/report-artifacts/), and
//! `shmguard report` over 12 audits made in private UTS and mount namespaces, counted right
//! in every format; bad inputs exit 1 naming the file.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::audit::failing;
use crate::sandbox::Sandbox;

pub const FLAGS: [&str; 3] = ["nodev", "nosuid", "noexec"];

fn fresh_dev(shm_opts: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.private_dev();
    sb.tmpfs_over("/dev/shm", shm_opts);
    sb
}

/// Where screenshots and rendered files are kept for people to look at.
pub fn artifacts() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/report-artifacts");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tool(name: &str, package: &str) -> String {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .unwrap();
    assert!(
        found.status.success(),
        "{name} is missing: install Debian's {package} (tests/deps does)"
    );
    String::from_utf8(found.stdout).unwrap().trim().to_string()
}

/// Headless Chromium on a local file: `--dump-dom` (the rendered DOM) or a screenshot.
fn chromium(file: &Path, extra: &[&str]) -> String {
    let bin = tool("chromium", "chromium");
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn dom(file: &Path) -> String {
    chromium(file, &["--dump-dom"])
}

pub fn screenshot(file: &Path, png: &str, height: u32) {
    let png = artifacts().join(png);
    chromium(
        file,
        &[
            &format!("--screenshot={}", png.display()),
            &format!("--window-size=1200,{height}"),
            "--hide-scrollbars",
        ],
    );
    assert!(png.metadata().unwrap().len() > 1000, "{}", png.display());
}

/// Copies a file out of the sandbox into the artifacts directory.
pub fn keep(sb: &Sandbox, inside: &str, name: &str) -> PathBuf {
    let p = artifacts().join(name);
    std::fs::write(&p, sb.read(inside)).unwrap();
    p
}

fn run(sb: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let out = sb.run(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn oscap(args: &[&str]) -> (i32, String) {
    let out = Command::new(tool("oscap", "openscap-scanner"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn xccdf_of_a_compliant_and_a_drifted_host_is_validated_and_rendered_by_oscap() {
    for (name, live, line) in [
        (
            "compliant",
            "nodev,nosuid,noexec",
            "defaults,nodev,nosuid,noexec",
        ),
        ("drifted", "nodev", "defaults,size=4G,nosuid"),
    ] {
        let sb = fresh_dev(live);
        let fstab = sb.file(
            "fstab",
            format!("tmpfs /dev/shm tmpfs {line} 0 0\n").as_bytes(),
        );
        let args = [
            "audit",
            "--profile",
            "cis",
            "--fstab",
            &fstab,
            "--init",
            "other",
        ];
        let (code, json, _) = run(&sb, &[&args[..], &["--format", "json"]].concat());
        let v: Value = serde_json::from_str(&json).unwrap();
        let (xcode, xml, err) = run(&sb, &[&args[..], &["--format", "xccdf"]].concat());
        assert_eq!(code, xcode, "{err}");
        assert_eq!(code, if name == "compliant" { 0 } else { 2 });
        let file = artifacts().join(format!("audit-{name}.xccdf.xml"));
        std::fs::write(&file, &xml).unwrap();
        let f = file.display().to_string();
        let (rc, out) = oscap(&["xccdf", "validate", &f]);
        assert_eq!(rc, 0, "oscap xccdf validate {f}: {out}");
        let html = artifacts().join(format!("audit-{name}.oscap.html"));
        let (rc, out) = oscap(&[
            "xccdf",
            "generate",
            "report",
            "--output",
            &html.display().to_string(),
            &f,
        ]);
        assert_eq!(rc, 0, "oscap xccdf generate report {f}: {out}");
        let rendered = std::fs::read_to_string(&html).unwrap();

        let failed = failing(&v);
        assert_eq!(failed.is_empty(), name == "compliant", "{failed:?}");
        assert_eq!(
            xml.matches("<result>fail</result>").count(),
            failed.len(),
            "{xml}"
        );
        for id in &failed {
            let rule = format!("xccdf_io.github.shmguard_rule_{id}");
            let at = xml
                .find(&format!("<rule-result idref=\"{rule}\""))
                .expect(id);
            assert!(
                xml[at..]
                    .split("</rule-result>")
                    .next()
                    .unwrap()
                    .contains("<result>fail</result>")
            );
            assert!(rendered.contains(&rule), "oscap's report lists {rule}");
        }
        assert_eq!(
            xml.matches("<Rule ").count(),
            15,
            "the cis checks and rw (live, fstab, boot)"
        );
        assert!(xml.contains(&format!("<target>{}</target>", v["host"].as_str().unwrap())));
        for flag in FLAGS {
            let ssg = format!("xccdf_org.ssgproject.content_rule_mount_option_dev_shm_{flag}");
            // the live, fstab and boot rules and their results
            assert_eq!(xml.matches(&format!(">{ssg}</ident>")).count(), 6, "{ssg}");
        }
        assert!(xml.contains(">xccdf_org.ssgproject.content_rule_partition_for_dev_shm</ident>"));
    }
}

#[test]
fn html_report_renders_every_check_with_its_remedy_in_chromium() {
    let sb = fresh_dev("nosuid");
    let fstab = sb.file("fstab", b"tmpfs /dev/shm tmpfs defaults,size=4G 0 0\n");
    let out = sb.path("audit.html");
    let args = [
        "audit",
        "--profile",
        "cis",
        "--profile",
        "multiprocessing",
        "--fstab",
        &fstab,
    ];
    let (code, json, _) = run(&sb, &[&args[..], &["--format", "json"]].concat());
    let (hcode, _, err) = run(
        &sb,
        &[&args[..], &["--format", "html", "--output", &out]].concat(),
    );
    assert_eq!((code, hcode), (2, 2), "{err}");
    let file = keep(&sb, &out, "audit.html");
    let page = std::fs::read_to_string(&file).unwrap();
    assert!(
        !page.contains("<script") && !page.contains("src=") && !page.contains("href="),
        "self-contained"
    );
    assert!(page.contains("@media print"));
    let dom = dom(&file);
    let v: Value = serde_json::from_str(&json).unwrap();
    let verdict = dom.find("NOT compliant").expect("the verdict");
    for t in v["targets"].as_array().unwrap() {
        for c in t["checks"].as_array().unwrap() {
            let id = c["id"].as_str().unwrap();
            assert!(
                dom.contains(&format!("<tr id=\"{id}\">")),
                "{id} in the DOM"
            );
        }
    }
    assert!(dom.find("<h3>Live: the running mount</h3>").unwrap() > verdict);
    assert!(dom.contains("<h3>fstab: the entry on disk</h3>"));
    assert!(dom.contains("<h3>Next boot: what the fstab line and init give</h3>"));
    assert!(dom.contains(&format!(
        "<code>shmguard apply --path /dev/shm --fstab-path {fstab} -o nodev,nosuid,noexec</code>"
    )));
    screenshot(&file, "audit.png", 1400);
}

#[test]
fn a_hostile_fstab_line_cannot_inject_html() {
    let sb = fresh_dev("nodev,nosuid,noexec");
    let fstab = sb.file(
        "fstab",
        b"tmpfs /dev/shm tmpfs defaults,x-a=<img/src=x/onerror=alert(1)>,x-b=</td></table><b>bold</b> 0 0\n",
    );
    let out = sb.path("hostile.html");
    let (code, _, err) = run(
        &sb,
        &[
            "audit",
            "--profile",
            "cis",
            "--fstab",
            &fstab,
            "--format",
            "html",
            "--output",
            &out,
        ],
    );
    assert_eq!(code, 2, "{err}");
    let file = keep(&sb, &out, "hostile.html");
    let dom = dom(&file);
    assert!(!dom.contains("<img") && !dom.contains("<b>"), "{dom}");
    assert!(dom.contains("&lt;img/src=x/onerror=alert(1)&gt;"), "{dom}");
    assert_eq!(
        dom.matches("<table>").count(),
        dom.matches("</table>").count()
    );
}
