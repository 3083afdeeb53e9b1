//! `shiplint comment` / `cleanup` / `--format github` against a fake GitHub:
//! a wiremock server on 127.0.0.1 that keeps state and answers GitHub's
//! documented REST and GraphQL shapes, GHES-style (`/api/v3`, `/api/graphql`).

use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use wiremock::{matchers::any, Mock, MockServer, Request, Respond, ResponseTemplate};

const BOT: &str = "github-actions[bot]";
const HEAD: &str = "1111111111111111111111111111111111111111";
const REPO: &str = "/api/v3/repos/acme/infra";

/// The PR: `replicas` changed (line 6) and `bogusField` added (line 19);
/// `svc.yaml` is not part of it.
const PATCH_V1: &str = "@@ -3,5 +3,5 @@ kind: Deployment\n metadata:\n   name: web\n spec:\n-  replicas: 3\n+  replicas: \"three\"\n   selector:\n@@ -16,3 +16,4 @@ spec:\n         - name: web\n           image: nginx:1.27\n           imagePullPolicy: Sometimes\n+          bogusField: true";
const PATCH_V2: &str = "@@ -3,5 +3,5 @@ kind: Deployment\n metadata:\n   name: web\n spec:\n-  replicas: 3\n+  replicas: \"three\"\n   selector:";

#[derive(Default)]
struct State {
    base: String,
    files: Vec<Value>,
    /// New-side lines GitHub accepts per path (the diff as GitHub sees it).
    diff_lines: Vec<(String, usize)>,
    /// Lines GitHub refuses even though we think they are in the diff.
    reject_lines: HashSet<(String, usize)>,
    reject_file_level: bool,
    read_only: bool,
    rate_limit_next_write: bool,
    page_size: usize,
    next_id: u64,
    issue_comments: Vec<Value>,
    review_comments: Vec<Value>,
    reviews: Vec<Value>,
    labels: Vec<String>,
    minimized: Vec<String>,
    writes: Vec<String>,
    graphql_paths: Vec<String>,
    /// The head of PR 7 as `GET /pulls/7` tells it.
    pr_head: String,
}

#[derive(Clone)]
struct Fake(Arc<Mutex<State>>);

fn comment(id: u64, login: &str, body: &str) -> Value {
    json!({"id": id, "node_id": format!("NODE_{id}"), "body": body, "user": {"login": login, "type": "Bot"}})
}

impl Fake {
    fn page(&self, s: &State, req: &Request, items: &[Value]) -> ResponseTemplate {
        let q: std::collections::HashMap<String, String> =
            req.url.query_pairs().into_owned().collect();
        let per: usize = q.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(30);
        let per = per.min(s.page_size.max(1));
        let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let start = (page - 1) * per;
        let chunk: Vec<Value> = items.iter().skip(start).take(per).cloned().collect();
        let mut t = ResponseTemplate::new(200).set_body_json(chunk);
        if start + per < items.len() {
            t = t.insert_header(
                "link",
                format!(
                    "<{}{}?per_page={per}&page={}>; rel=\"next\", <{}{}?per_page={per}&page=999>; rel=\"last\"",
                    s.base,
                    req.url.path(),
                    page + 1,
                    s.base,
                    req.url.path()
                ),
            );
        }
        t
    }

    fn new_id(s: &mut State) -> u64 {
        s.next_id += 1;
        s.next_id
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn unprocessable() -> ResponseTemplate {
    ResponseTemplate::new(422).set_body_json(json!({
        "message": "Unprocessable Entity",
        "errors": ["Pull request review thread line must be part of the diff"],
    }))
}

impl Respond for Fake {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().unwrap();
        let path = req.url.path().to_string();
        let method = req.method.as_str().to_string();
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        if req.headers.get("authorization").is_none() {
            return ResponseTemplate::new(401)
                .set_body_json(json!({"message": "Requires authentication"}));
        }
        if path == "/api/graphql" {
            let query = body["query"].as_str().unwrap_or("").to_string();
            s.graphql_paths.push(path.clone());
            if query.contains("viewer") {
                return ResponseTemplate::new(200)
                    .set_body_json(json!({"data": {"viewer": {"login": "github-actions"}}}));
            }
            if query.contains("minimizeComment") {
                s.minimized
                    .push(body["variables"]["id"].as_str().unwrap_or("").to_string());
                return ResponseTemplate::new(200).set_body_json(json!({"data": {"minimizeComment": {"minimizedComment": {"isMinimized": true}}}}));
            }
            return ResponseTemplate::new(200)
                .set_body_json(json!({"errors": [{"message": "unknown query"}]}));
        }
        let Some(rest) = path.strip_prefix(REPO) else {
            return ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
        };
        let rest = rest.to_string();
        if method != "GET" {
            if s.read_only {
                return ResponseTemplate::new(403)
                    .set_body_json(json!({"message": "Resource not accessible by integration"}));
            }
            if s.rate_limit_next_write {
                s.rate_limit_next_write = false;
                return ResponseTemplate::new(403)
                    .insert_header("retry-after", "0")
                    .insert_header("x-ratelimit-remaining", "0")
                    .set_body_json(json!({"message": "You have exceeded a secondary rate limit"}));
            }
            s.writes.push(format!("{method} {rest}"));
        }
        let seg: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        match (method.as_str(), seg.as_slice()) {
            ("GET", ["pulls", "7"]) => ResponseTemplate::new(200).set_body_json(json!({
                "number": 7,
                "state": "open",
                "head": {"sha": s.pr_head, "repo": {"full_name": "acme/infra"}},
            })),
            ("GET", ["pulls", "7", "files"]) => {
                let files = s.files.clone();
                self.page(&s, req, &files)
            }
            ("GET", ["pulls", "7", "comments"]) => {
                let items = s.review_comments.clone();
                self.page(&s, req, &items)
            }
            ("GET", ["pulls", "7", "reviews"]) => {
                let items = s.reviews.clone();
                self.page(&s, req, &items)
            }
            ("GET", ["issues", "7", "comments"]) => {
                let items = s.issue_comments.clone();
                self.page(&s, req, &items)
            }
            ("GET", ["issues", "7", "labels"]) => {
                let items: Vec<Value> = s.labels.iter().map(|l| json!({"name": l})).collect();
                self.page(&s, req, &items)
            }
            ("POST", ["pulls", "7", "reviews"]) => {
                assert_eq!(body["commit_id"], HEAD);
                let comments = body["comments"].as_array().cloned().unwrap_or_default();
                assert!(comments.len() <= 30, "more than 30 comments in one review");
                for c in &comments {
                    let key = (
                        c["path"].as_str().unwrap().to_string(),
                        c["line"].as_u64().unwrap() as usize,
                    );
                    if !s.diff_lines.contains(&key) || s.reject_lines.contains(&key) {
                        return unprocessable();
                    }
                }
                let rid = Fake::new_id(&mut s);
                let state = if body.get("event").is_some() {
                    "COMMENTED"
                } else {
                    "PENDING"
                };
                s.reviews.push(json!({"id": rid, "state": state, "user": {"login": BOT}, "body": body["body"]}));
                for c in comments {
                    let id = Fake::new_id(&mut s);
                    let mut v = comment(id, BOT, c["body"].as_str().unwrap());
                    v["path"] = c["path"].clone();
                    v["line"] = c["line"].clone();
                    v["pull_request_review_id"] = json!(rid);
                    s.review_comments.push(v);
                }
                ResponseTemplate::new(200).set_body_json(json!({"id": rid, "state": state}))
            }
            ("POST", ["pulls", "7", "comments"]) => {
                if s.reject_file_level || body["subject_type"] != "file" {
                    return unprocessable();
                }
                let id = Fake::new_id(&mut s);
                let mut v = comment(id, BOT, body["body"].as_str().unwrap());
                v["path"] = body["path"].clone();
                v["subject_type"] = json!("file");
                s.review_comments.push(v.clone());
                ResponseTemplate::new(201).set_body_json(v)
            }
            ("PATCH", ["pulls", "comments", id]) | ("PATCH", ["issues", "comments", id]) => {
                let id: u64 = id.parse().unwrap();
                let list = if seg[0] == "pulls" {
                    &mut s.review_comments
                } else {
                    &mut s.issue_comments
                };
                match list.iter_mut().find(|c| c["id"] == id) {
                    Some(c) => {
                        c["body"] = body["body"].clone();
                        ResponseTemplate::new(200).set_body_json(c.clone())
                    }
                    None => {
                        ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}))
                    }
                }
            }
            ("DELETE", ["pulls", "comments", id]) | ("DELETE", ["issues", "comments", id]) => {
                let id: u64 = id.parse().unwrap();
                let list = if seg[0] == "pulls" {
                    &mut s.review_comments
                } else {
                    &mut s.issue_comments
                };
                list.retain(|c| c["id"] != id);
                ResponseTemplate::new(204)
            }
            ("DELETE", ["pulls", "7", "reviews", id]) => {
                let id: u64 = id.parse().unwrap();
                let pending = s
                    .reviews
                    .iter()
                    .any(|r| r["id"] == id && r["state"] == "PENDING");
                if !pending {
                    return unprocessable();
                }
                s.reviews.retain(|r| r["id"] != id);
                ResponseTemplate::new(200).set_body_json(json!({"id": id}))
            }
            ("POST", ["issues", "7", "comments"]) => {
                let id = Fake::new_id(&mut s);
                let v = comment(id, BOT, body["body"].as_str().unwrap());
                s.issue_comments.push(v.clone());
                ResponseTemplate::new(201).set_body_json(v)
            }
            ("POST", ["issues", "7", "labels"]) => {
                for l in body["labels"].as_array().unwrap() {
                    let l = l.as_str().unwrap().to_string();
                    if !s.labels.contains(&l) {
                        s.labels.push(l);
                    }
                }
                ResponseTemplate::new(200).set_body_json(json!([]))
            }
            ("DELETE", ["issues", "7", "labels", name]) => {
                let name = percent_decode(name);
                s.labels.retain(|l| *l != name);
                ResponseTemplate::new(200).set_body_json(json!([]))
            }
            _ => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
        }
    }
}

struct World {
    server: MockServer,
    fake: Fake,
    dir: tempfile::TempDir,
}

impl World {
    async fn new() -> World {
        let server = MockServer::start().await;
        let state = State {
            base: server.uri(),
            page_size: 100,
            next_id: 1000,
            pr_head: HEAD.to_string(),
            files: vec![
                json!({"filename": "k8s/deploy.yaml", "status": "modified", "patch": PATCH_V1}),
            ],
            diff_lines: (3..=7)
                .chain(16..=19)
                .map(|l| ("k8s/deploy.yaml".to_string(), l))
                .collect(),
            ..Default::default()
        };
        let fake = Fake(Arc::new(Mutex::new(state)));
        Mock::given(any())
            .respond_with(fake.clone())
            .mount(&server)
            .await;
        let dir = tempfile::tempdir().unwrap();
        copy_dir(Path::new("tests/fixtures/github/repo"), dir.path());
        World { server, fake, dir }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.fake.0.lock().unwrap()
    }

    fn event(&self, extra: Value) -> PathBuf {
        let mut pr = json!({"number": 7, "head": {"sha": HEAD, "repo": {"full_name": "acme/infra"}}, "base": {"sha": "2222222", "repo": {"full_name": "acme/infra"}}, "merged": false});
        if let (Some(p), Some(e)) = (pr.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        let path = self.dir.path().join("event.json");
        std::fs::write(
            &path,
            json!({"action": "synchronize", "pull_request": pr}).to_string(),
        )
        .unwrap();
        path
    }

    /// Runs the binary like a workflow step would (blocking, on a worker thread).
    async fn run(&self, args: &[&str], event: PathBuf) -> (i32, String, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shiplint"));
        for v in [
            "GITHUB_API_URL",
            "GITHUB_GRAPHQL_URL",
            "GITHUB_SERVER_URL",
            "GITHUB_REPOSITORY",
            "GITHUB_EVENT_PATH",
            "GITHUB_TOKEN",
            "GITHUB_STEP_SUMMARY",
            "GITHUB_OUTPUT",
        ] {
            cmd.env_remove(v);
        }
        cmd.current_dir(self.dir.path())
            .args(args)
            .env("GITHUB_API_URL", format!("{}/api/v3", self.server.uri()))
            .env(
                "GITHUB_GRAPHQL_URL",
                format!("{}/api/graphql", self.server.uri()),
            )
            .env("GITHUB_SERVER_URL", "https://github.example")
            .env("GITHUB_REPOSITORY", "acme/infra")
            .env("GITHUB_EVENT_PATH", event)
            .env("GITHUB_TOKEN", "ghs_testtoken_do_not_print")
            .env("GITHUB_STEP_SUMMARY", self.dir.path().join("summary.md"))
            .env("GITHUB_OUTPUT", self.dir.path().join("output.txt"));
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !stdout.contains("ghs_testtoken") && !stderr.contains("ghs_testtoken"),
            "token echoed"
        );
        (out.status.code().unwrap_or(-1), stdout, stderr)
    }

    async fn comment(&self, extra: &[&str]) -> (i32, String, String) {
        // Only the schema pack: the counts below are its findings.
        let mut args = vec!["comment", "--no-config", "--packs", "schema"];
        args.extend_from_slice(extra);
        args.push(".");
        self.run(&args, self.event(json!({}))).await
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn bodies(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|c| c["body"].as_str().unwrap().to_string())
        .collect()
}

fn fp_of(body: &str) -> String {
    let start = body.find("<!-- shiplint:fp=").unwrap() + 17;
    body[start..start + 32].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_then_fix_then_rerun() {
    let w = World::new().await;
    let (code, stdout, stderr) = w.comment(&["--label"]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.contains(
        "::error file=k8s/deploy.yaml,line=6,endLine=6,col=13,endColumn=20,title=schema/invalid::"
    ));
    assert!(stdout.contains("::group::shiplint: 3 findings"));
    {
        let s = w.state();
        assert_eq!(s.issue_comments.len(), 1);
        let summary = s.issue_comments[0]["body"].as_str().unwrap();
        assert!(summary.starts_with("<!-- shiplint:summary -->"));
        // svc.yaml is not in the PR: only in the summary.
        assert!(summary.contains("`k8s/svc.yaml:9`"), "{summary}");
        assert_eq!(s.reviews.len(), 1);
        let lines: Vec<u64> = s
            .review_comments
            .iter()
            .map(|c| c["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, vec![6, 19]);
        assert!(bodies(&s.review_comments)
            .iter()
            .all(|b| b.starts_with("<!-- shiplint:fp=")));
        assert_eq!(s.labels, vec!["shiplint:findings"]);
        // GHES layout: GraphQL at /api/graphql, not /api/v3/graphql (viewer login).
        assert!(!s.graphql_paths.is_empty());
    }
    let outputs = w.read("output.txt");
    assert!(outputs.contains("findings<<ghadelimiter_") && outputs.contains("\n3\n"));
    assert!(w.read("summary.md").contains("| schema | 3 | 0 | 0 |"));

    // Someone answers the bogusField thread, then the author fixes it.
    let fixed_fp = {
        let mut s = w.state();
        let c = s
            .review_comments
            .iter()
            .find(|c| c["line"] == 19)
            .unwrap()
            .clone();
        let mut reply = comment(1, "alice", "why is this an error?");
        reply["in_reply_to_id"] = c["id"].clone();
        s.review_comments.push(reply);
        s.files =
            vec![json!({"filename": "k8s/deploy.yaml", "status": "modified", "patch": PATCH_V2})];
        s.diff_lines.retain(|(_, l)| *l <= 7);
        s.writes.clear();
        fp_of(c["body"].as_str().unwrap())
    };
    let deploy = w.dir.path().join("k8s/deploy.yaml");
    let text = std::fs::read_to_string(&deploy)
        .unwrap()
        .replace("          bogusField: true\n", "");
    std::fs::write(&deploy, text).unwrap();

    let (code, _, stderr) = w.comment(&[]).await;
    assert_eq!(code, 1, "{stderr}");
    {
        let s = w.state();
        assert_eq!(s.issue_comments.len(), 1, "summary duplicated");
        assert_eq!(s.reviews.len(), 1, "a comment was posted twice");
        assert!(
            !s.writes.iter().any(|w| w.starts_with("POST")),
            "{:?}",
            s.writes
        );
        let fixed = s
            .review_comments
            .iter()
            .find(|c| c["body"].as_str().unwrap().contains(&fixed_fp))
            .unwrap();
        assert!(fixed["body"]
            .as_str()
            .unwrap()
            .contains("<!-- shiplint:resolved -->"));
        assert!(fixed["body"].as_str().unwrap().contains("Resolved"));
        // It was answered: edited, not minimized, not deleted.
        assert!(s.minimized.is_empty());
        assert_eq!(s.review_comments.len(), 3);
        let summary = s.issue_comments[0]["body"].as_str().unwrap();
        assert!(
            summary.contains("<!-- shiplint:open=2 -->") && summary.contains("1 resolved"),
            "{summary}"
        );
    }

    // The finding comes back: the same comment is reopened, not duplicated.
    let text = std::fs::read_to_string(&deploy).unwrap() + "          bogusField: true\n";
    std::fs::write(&deploy, text).unwrap();
    {
        let mut s = w.state();
        s.files =
            vec![json!({"filename": "k8s/deploy.yaml", "status": "modified", "patch": PATCH_V1})];
        s.diff_lines = (3..=7)
            .chain(16..=19)
            .map(|l| ("k8s/deploy.yaml".to_string(), l))
            .collect();
    }
    w.comment(&[]).await;
    let s = w.state();
    assert_eq!(s.review_comments.len(), 3);
    let again = s
        .review_comments
        .iter()
        .find(|c| c["body"].as_str().unwrap().contains(&fixed_fp))
        .unwrap();
    assert!(!again["body"].as_str().unwrap().contains("resolved"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_unanswered_comment_is_minimized() {
    let w = World::new().await;
    w.comment(&[]).await;
    let deploy = w.dir.path().join("k8s/deploy.yaml");
    let text = std::fs::read_to_string(&deploy)
        .unwrap()
        .replace("          bogusField: true\n", "");
    std::fs::write(&deploy, text).unwrap();
    w.comment(&[]).await;
    let s = w.state();
    let node = s.review_comments.iter().find(|c| c["line"] == 19).unwrap()["node_id"].clone();
    assert_eq!(s.minimized, vec![node.as_str().unwrap().to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unprocessable_review_is_bisected_and_nothing_is_lost() {
    let w = World::new().await;
    w.state()
        .reject_lines
        .insert(("k8s/deploy.yaml".into(), 19));
    let (code, _, stderr) = w.comment(&[]).await;
    assert_eq!(code, 1, "{stderr}");
    {
        let s = w.state();
        // Line 6 made it into a review; line 19 became a file-level comment.
        assert_eq!(s.reviews.len(), 1);
        let inline: Vec<_> = s
            .review_comments
            .iter()
            .filter(|c| c["line"] == 6)
            .collect();
        assert_eq!(inline.len(), 1);
        let file_level: Vec<_> = s
            .review_comments
            .iter()
            .filter(|c| c["subject_type"] == "file")
            .collect();
        assert_eq!(file_level.len(), 1);
        assert!(file_level[0]["body"]
            .as_str()
            .unwrap()
            .contains("bogusField"));
    }

    // GitHub refuses everything: all three findings end up in the summary.
    let w = World::new().await;
    {
        let mut s = w.state();
        s.diff_lines.clear();
        s.reject_file_level = true;
    }
    let (code, _, stderr) = w.comment(&[]).await;
    assert_eq!(code, 1, "{stderr}");
    let s = w.state();
    assert!(s.review_comments.is_empty() && s.reviews.is_empty());
    let summary = s.issue_comments[0]["body"].as_str().unwrap();
    assert!(summary.contains("2 could not be anchored"), "{summary}");
    for loc in [
        "`k8s/deploy.yaml:6`",
        "`k8s/deploy.yaml:19`",
        "`k8s/svc.yaml:9`",
    ] {
        assert!(summary.contains(loc), "{loc} lost: {summary}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_token_falls_back_without_failing() {
    let w = World::new().await;
    w.state().read_only = true;
    let (code, stdout, stderr) = w.comment(&[]).await;
    assert_eq!(code, 1, "same exit code as a plain scan: {stderr}");
    assert_eq!(
        stdout.matches("read-only GITHUB_TOKEN").count(),
        1,
        "{stdout}"
    );
    assert_eq!(stdout.matches("::error ").count(), 3);
    assert!(w.read("summary.md").contains("read-only GITHUB_TOKEN"));
    {
        let s = w.state();
        assert!(s.writes.is_empty() && s.issue_comments.is_empty());
    }
    let (code, _, _) = w.comment(&["--fail-on", "never"]).await;
    assert_eq!(code, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paginates_every_list_and_waits_on_rate_limits() {
    let w = World::new().await;
    // First run posts everything; then the lists grow past a page.
    w.comment(&[]).await;
    {
        let mut s = w.state();
        s.page_size = 2;
        let mut humans: Vec<Value> = (0..5).map(|i| comment(i + 1, "bob", "lgtm")).collect();
        humans.append(&mut s.issue_comments);
        s.issue_comments = humans;
        let mut humans: Vec<Value> = (10..15).map(|i| comment(i, "carol", "nit")).collect();
        humans.append(&mut s.review_comments);
        s.review_comments = humans;
        s.files.insert(
            0,
            json!({"filename": "README.md", "status": "modified", "patch": "@@ -1 +1 @@\n-a\n+b"}),
        );
        s.files
            .insert(0, json!({"filename": "old.yaml", "status": "removed"}));
        s.rate_limit_next_write = true;
        s.writes.clear();
    }
    let (code, _, stderr) = w.comment(&[]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("rate limit"), "{stderr}");
    let s = w.state();
    assert_eq!(s.reviews.len(), 1, "{:?}", s.writes);
    assert_eq!(s.review_comments.len(), 7);
    let summaries = bodies(&s.issue_comments)
        .iter()
        .filter(|b| b.contains("shiplint:summary"))
        .count();
    assert_eq!(summaries, 1);
    assert!(
        !s.writes.iter().any(|w| w.starts_with("POST")),
        "{:?}",
        s.writes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_after_merge_keeps_threads_and_finalizes_the_summary() {
    let w = World::new().await;
    w.comment(&["--label"]).await;
    w.state().writes.clear();
    let event = w.event(json!({"merged": true, "merge_commit_sha": "abcdef1234567890"}));
    let (code, _, stderr) = w.run(&["cleanup"], event.clone()).await;
    assert_eq!(code, 0, "{stderr}");
    {
        let s = w.state();
        assert_eq!(s.issue_comments.len(), 1);
        let body = s.issue_comments[0]["body"].as_str().unwrap();
        assert!(
            body.contains("Merged at abcdef1 with 3 open findings."),
            "{body}"
        );
        assert!(s.labels.is_empty());
        assert_eq!(s.review_comments.len(), 2);
    }
    w.state().writes.clear();
    w.run(&["cleanup"], event).await;
    assert!(w.state().writes.is_empty(), "not idempotent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_after_close_removes_only_our_unanswered_comments() {
    let w = World::new().await;
    w.comment(&[]).await;
    {
        let mut s = w.state();
        let first = s.review_comments[0]["id"].clone();
        let mut reply = comment(2, "alice", "question");
        reply["in_reply_to_id"] = first;
        s.review_comments.push(reply);
        s.issue_comments.push(comment(
            3,
            "bob",
            "<!-- shiplint:summary --> quoted by a human",
        ));
        s.review_comments
            .push(comment(4, "mallory", "<!-- shiplint:fp=0123 --> fake"));
        s.reviews
            .push(json!({"id": 5, "state": "PENDING", "user": {"login": BOT}}));
        s.reviews
            .push(json!({"id": 6, "state": "PENDING", "user": {"login": "alice"}}));
    }
    let event = w.event(json!({"merged": false}));
    let (code, _, stderr) = w.run(&["cleanup"], event.clone()).await;
    assert_eq!(code, 0, "{stderr}");
    {
        let s = w.state();
        assert_eq!(
            bodies(&s.issue_comments),
            vec!["<!-- shiplint:summary --> quoted by a human"]
        );
        let left: Vec<&str> = s
            .review_comments
            .iter()
            .map(|c| c["user"]["login"].as_str().unwrap())
            .collect();
        assert_eq!(
            left,
            vec![BOT, "alice", "mallory"],
            "the answered thread stays"
        );
        let reviews: Vec<u64> = s
            .reviews
            .iter()
            .map(|r| r["id"].as_u64().unwrap())
            .collect();
        assert!(!reviews.contains(&5) && reviews.contains(&6));
    }
    w.state().writes.clear();
    w.run(&["cleanup"], event).await;
    assert!(w.state().writes.is_empty(), "not idempotent");
}

#[test]
fn format_github_caps_annotations_per_level() {
    let dir = tempfile::tempdir().unwrap();
    let fields: String = (0..12).map(|i| format!("      extra{i}: true\n")).collect();
    std::fs::write(
        dir.path().join("d.yaml"),
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: x\n{fields}"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_shiplint"))
        .current_dir(dir.path())
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_EVENT_PATH")
        .args(["scan", "--no-config", "--format", "github", "."])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("\n::error ").count(), 10, "{stdout}");
    assert!(
        stdout.contains("shiplint: 2 errors not shown as annotations"),
        "{stdout}"
    );
}

#[test]
fn install_hook_writes_an_executable_pre_commit_hook() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    git(&["init", "-q"]);
    let run = |extra: &[&str]| {
        let mut args = vec!["install-hook"];
        args.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_shiplint"))
            .current_dir(dir.path())
            .args(&args)
            .output()
            .unwrap()
    };
    assert!(run(&[]).status.success());
    let hook = dir.path().join(".git/hooks/pre-commit");
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(text.starts_with("#!/bin/sh") && text.contains("shiplint scan"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&hook).unwrap().permissions().mode() & 0o111,
            0o111
        );
    }
    // Ours: rewritten freely. Someone else's: only with --force.
    assert!(run(&[]).status.success());
    std::fs::write(&hook, "#!/bin/sh\nexec other-tool\n").unwrap();
    assert_eq!(run(&[]).status.code(), Some(2));
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("other-tool"));
    assert!(run(&["--force"]).status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_stage_comments_a_stored_report() {
    let w = World::new().await;
    // Stage 1 (read-only): a JSON report.
    let (code, _, stderr) = w
        .run(
            &[
                "scan",
                "--no-config",
                "--format",
                "json",
                "--output",
                "report.json",
                ".",
            ],
            w.event(json!({})),
        )
        .await;
    assert_eq!(code, 1, "{stderr}");
    // Stage 2 (workflow_run): no checkout, PR number and head from the artifact.
    let empty = w.dir.path().join("stage2");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::rename(w.dir.path().join("report.json"), empty.join("report.json")).unwrap();
    std::fs::remove_dir_all(w.dir.path().join("k8s")).unwrap();
    let event = w.dir.path().join("run-event.json");
    std::fs::write(
        &event,
        json!({"workflow_run": {"event": "pull_request", "head_sha": HEAD,
            "head_repository": {"full_name": "acme/infra"}, "pull_requests": []}})
        .to_string(),
    )
    .unwrap();
    let (code, stdout, stderr) = w
        .run(
            &[
                "comment",
                "--findings",
                "stage2/report.json",
                "--pr",
                "7",
                "--head-sha",
                HEAD,
                "--fail-on",
                "never",
            ],
            event,
        )
        .await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.matches("::error ").count(), 3);
    let s = w.state();
    assert_eq!(s.issue_comments.len(), 1);
    let lines: Vec<u64> = s
        .review_comments
        .iter()
        .map(|c| c["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![6, 19]);
}

#[test]
fn malformed_pr_context_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_shiplint"))
        .current_dir(dir.path())
        .env_remove("GITHUB_EVENT_PATH")
        .env("GITHUB_REPOSITORY", "acme/infra")
        .env("GITHUB_TOKEN", "x")
        .args([
            "comment",
            "--no-config",
            "--pr",
            "7",
            "--head-sha",
            "$(curl evil)",
            ".",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("head SHA"));
}

// ---------------------------------------------------------------------------
// Hostile pull requests: what a PR's names, keys and stored reports must
// never make shiplint do.

const HOSTILE: &str = "@acme/security-team please approve ![x](https://evil.example/b.png) [login](https://evil.example/login) www.evil.example/x <img src=https://evil.example/i.png>";

/// The text of a Markdown body outside code spans (and outside shiplint's
/// own `<!-- shiplint:… -->` markers): what GitHub would render live.
fn outside_code_spans(md: &str) -> String {
    let md: String = md
        .lines()
        .filter(|l| !l.starts_with("<!-- shiplint:"))
        .collect::<Vec<_>>()
        .join("\n");
    let b = md.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'`' {
            let run = b[i..].iter().take_while(|&&c| c == b'`').count();
            let fence = "`".repeat(run);
            // The closing fence: a run of exactly `run` backticks.
            let mut j = i + run;
            let mut close = None;
            while let Some(k) = md[j..].find(&fence) {
                let at = j + k;
                let len = b[at..].iter().take_while(|&&c| c == b'`').count();
                if len == run {
                    close = Some(at);
                    break;
                }
                j = at + len;
            }
            match close {
                Some(at) => {
                    out.push_str(" <code> ");
                    i = at + run;
                }
                None => {
                    out.push_str(&fence);
                    i += run;
                }
            }
        } else {
            let c = md[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn assert_inert(what: &str, md: &str) {
    let live = outside_code_spans(md);
    for bad in ["evil.example", "@acme", "![", "<img"] {
        assert!(!live.contains(bad), "{what}: live {bad:?} in\n{md}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_and_keys_render_inert_in_every_comment_and_summary() {
    let w = World::new().await;
    let deploy = w.dir.path().join("k8s/deploy.yaml");
    let text = std::fs::read_to_string(&deploy)
        .unwrap()
        .replace(
            "  name: web\nspec",
            &format!("  name: {}\nspec", serde_json::to_string(HOSTILE).unwrap()),
        )
        .replace(
            "          bogusField: true",
            &format!(
                "          {}: true",
                serde_json::to_string(HOSTILE).unwrap()
            ),
        );
    std::fs::write(&deploy, text).unwrap();
    let svc = w.dir.path().join("k8s/svc.yaml");
    let text = std::fs::read_to_string(&svc).unwrap().replace(
        "name: web",
        &format!("name: {}", serde_json::to_string(HOSTILE).unwrap()),
    );
    std::fs::write(&svc, text).unwrap();
    let (code, _, stderr) = w.comment(&[]).await;
    assert_eq!(code, 1, "{stderr}");
    let s = w.state();
    assert!(!s.review_comments.is_empty() && !s.issue_comments.is_empty());
    // The hostile text did reach the comments, as text.
    let all = bodies(&s.review_comments).join("\n") + &bodies(&s.issue_comments).join("\n");
    assert!(all.contains("@acme/security-team please approve"), "{all}");
    for b in bodies(&s.review_comments) {
        assert_inert("inline comment", &b);
    }
    for r in &s.reviews {
        assert_inert("review body", r["body"].as_str().unwrap_or(""));
    }
    for b in bodies(&s.issue_comments) {
        assert_inert("summary comment", &b);
    }
    drop(s);
    assert_inert("job summary", &w.read("summary.md"));
}

/// Every stdout line that starts a workflow command is one shiplint means.
fn assert_only_our_commands(stdout: &str) {
    let mut token: Option<String> = None;
    for line in stdout.lines() {
        let l = line.trim_start();
        if token.as_deref().is_some_and(|t| l == format!("::{t}::")) {
            token = None;
            continue;
        }
        // Commands are off until the resume token: nothing acts there.
        if token.is_some() || (!l.starts_with("::") && !l.contains("##[")) {
            continue;
        }
        if let Some(t) = l.strip_prefix("::stop-commands::") {
            assert!(t.len() >= 12, "guessable token: {line}");
            token = Some(t.to_string());
            continue;
        }
        if l.starts_with("::group::shiplint: ") || l == "::endgroup::" {
            continue;
        }
        let annotation = ["::error file=", "::warning file=", "::notice file="]
            .iter()
            .any(|p| l.starts_with(p));
        assert!(
            annotation,
            "a command shiplint did not mean: {line:?}\n{stdout}"
        );
        // Properties hold no raw `:` or `,` of the PR's text.
        let props = &l[l.find(' ').unwrap() + 1..l[2..].find("::").unwrap() + 2];
        let file = props.split(',').next().unwrap();
        assert!(!file["file=".len()..].contains(':'), "{line}");
        assert!(!l.contains("title=shiplint::All"), "{line}");
    }
    assert!(token.is_none(), "commands left stopped");
}

#[test]
fn file_names_cannot_start_workflow_commands() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: x\n      bogus: true\n";
    let names = [
        "::warning title=shiplint::All checks passed.yaml",
        "ok.yaml\n::error title=pwned::injected\n.yaml",
        "x\r::notice::cr.yaml",
        "##[error]legacy.yaml",
    ];
    for n in names {
        std::fs::write(dir.path().join(n), bad).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_shiplint"))
        .current_dir(dir.path())
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_EVENT_PATH")
        .args([
            "scan",
            "--no-config",
            "--packs",
            "schema",
            "--format",
            "github",
            ".",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // Every file was reported, each as one annotation.
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("::error file="))
            .count(),
        names.len(),
        "{stdout}"
    );
    assert_only_our_commands(&stdout);
    assert!(!stdout
        .lines()
        .any(|l| l.trim_start().starts_with("::warning title=")));
    assert!(!stdout
        .lines()
        .any(|l| l.trim_start().starts_with("::error title=pwned")));
}

/// A stage-1 report for PR 7 at `HEAD`, then stage 2 with `event` and args.
async fn stage2(
    w: &World,
    report: &Value,
    event: Value,
    pr: &str,
    sha: &str,
) -> (i32, String, String) {
    let dir = w.dir.path().join("stage2");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("report.json"), report.to_string()).unwrap();
    let path = w.dir.path().join("run-event.json");
    std::fs::write(&path, event.to_string()).unwrap();
    w.run(
        &[
            "comment",
            "--findings",
            "stage2/report.json",
            "--pr",
            pr,
            "--head-sha",
            sha,
            "--fail-on",
            "never",
        ],
        path,
    )
    .await
}

fn run_event(head_sha: &str, prs: Value) -> Value {
    json!({"workflow_run": {"event": "pull_request", "head_sha": head_sha,
        "head_repository": {"full_name": "acme/infra"}, "pull_requests": prs}})
}

const ATTACKER_SHA: &str = "9999999999999999999999999999999999999999";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_stage_cannot_be_driven_onto_another_pull_request() {
    let w = World::new().await;
    // PR 7 has its findings commented by a normal run.
    let (code, _, stderr) = w.comment(&[]).await;
    assert_eq!(code, 1, "{stderr}");
    let before = {
        let s = w.state();
        (bodies(&s.review_comments), bodies(&s.issue_comments))
    };
    w.state().writes.clear();
    // The attacker's own PR (a fork: workflow_run lists no PR) ran at
    // ATTACKER_SHA; its artifact names PR 7 and an empty report, which
    // would mark PR 7's findings resolved and replace its summary.
    let empty = json!({"findings": [], "summary": {"files": 0, "resources": 0}});
    let cases = [
        // The artifact's SHA is PR 7's real head: not the run's.
        (run_event(ATTACKER_SHA, json!([])), "7", HEAD),
        // The artifact's SHA is the run's: PR 7 is not at that commit.
        (run_event(ATTACKER_SHA, json!([])), "7", ATTACKER_SHA),
        // The run lists its PR (same repository): 7 is not it.
        (
            run_event(HEAD, json!([{"number": 8, "head": {"sha": HEAD}}])),
            "7",
            HEAD,
        ),
        // Not a workflow_run of this report at all.
        (json!({"action": "completed"}), "7", HEAD),
    ];
    for (event, pr, sha) in cases {
        let (code, _, stderr) = stage2(&w, &empty, event.clone(), pr, sha).await;
        assert_eq!(code, 2, "{event}: {stderr}");
        assert!(
            stderr.contains("refusing") || stderr.contains("--findings needs"),
            "{stderr}"
        );
        let s = w.state();
        assert!(s.writes.is_empty(), "{event}: wrote {:?}", s.writes);
        assert!(s.minimized.is_empty(), "{event}: minimized");
        assert_eq!(
            (bodies(&s.review_comments), bodies(&s.issue_comments)),
            before,
            "{event}: comments changed"
        );
    }
    // The matching run (the artifact's own run) is accepted.
    let (code, _, stderr) = stage2(&w, &empty, run_event(HEAD, json!([])), "7", HEAD).await;
    assert_eq!(code, 0, "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_stored_reports_are_refused_before_any_write() {
    let w = World::new().await;
    let finding = |rule: &str, path: &str, severity: &str| {
        json!({"findings": [{"rule": rule, "severity": severity, "path": path,
            "span": {"line": 6, "col": 1, "end_line": 6, "end_col": 2},
            "message": "m", "fingerprint": "0123456789abcdef0123456789abcdef"}]})
    };
    let cases = [
        (
            finding("evil/rule", "k8s/deploy.yaml", "error"),
            "unknown rule",
        ),
        (
            finding(
                &format!("schema/invalid {HOSTILE}"),
                "k8s/deploy.yaml",
                "error",
            ),
            "unknown rule",
        ),
        (
            finding("schema/invalid", "../../etc/passwd", "error"),
            "path",
        ),
        (finding("schema/invalid", "/etc/passwd", "error"), "path"),
        (
            finding("schema/invalid", "a\n::error::x.yaml", "error"),
            "path",
        ),
        (
            finding("schema/invalid", "k8s/deploy.yaml", "fatal"),
            "unknown severity",
        ),
    ];
    for (report, why) in cases {
        let (code, stdout, stderr) =
            stage2(&w, &report, run_event(HEAD, json!([])), "7", HEAD).await;
        assert_eq!(code, 2, "{report}: {stderr}");
        assert!(stderr.contains(why), "{why}: {stderr}");
        assert!(
            !stdout.lines().any(|l| l.starts_with("::error")),
            "{stdout}"
        );
        let s = w.state();
        assert!(s.writes.is_empty(), "wrote {:?}", s.writes);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_never_touches_a_person_named_like_the_bot() {
    let w = World::new().await;
    w.comment(&[]).await;
    let human = |id: u64, body: &str| {
        json!({"id": id, "node_id": format!("NODE_{id}"), "body": body,
            "user": {"login": "github-actions", "type": "User"}})
    };
    {
        let mut s = w.state();
        s.issue_comments
            .push(human(3, "<!-- shiplint:summary --> a person's note"));
        s.review_comments
            .push(human(4, "<!-- shiplint:fp=0123 --> a person's comment"));
        s.reviews.push(json!({"id": 5, "state": "PENDING",
            "user": {"login": "github-actions", "type": "User"}}));
        s.labels = vec!["shiplint:findings".into(), "shiplint:a/b c?d#e".into()];
        s.writes.clear();
    }
    // Both ways of naming the bot: the viewer's answer and --bot-login.
    for extra in [&[][..], &["--bot-login", "github-actions[bot]"][..]] {
        let mut args = vec!["cleanup"];
        args.extend_from_slice(extra);
        let (code, _, stderr) = w.run(&args, w.event(json!({"merged": false}))).await;
        assert_eq!(code, 0, "{stderr}");
        let s = w.state();
        assert!(
            s.issue_comments.iter().any(|c| c["id"] == 3),
            "a person's summary deleted"
        );
        assert!(
            s.review_comments.iter().any(|c| c["id"] == 4),
            "a person's comment deleted"
        );
        assert!(
            s.reviews.iter().any(|r| r["id"] == 5),
            "a person's review deleted"
        );
        // The bot's own are gone; labels went by their encoded names.
        assert!(!s.issue_comments.iter().any(|c| c["user"]["login"] == BOT));
        assert!(s.labels.is_empty(), "{:?}", s.labels);
    }
    let s = w.state();
    assert!(
        s.writes
            .iter()
            .any(|w| w == "DELETE /issues/7/labels/shiplint%3Aa%2Fb%20c%3Fd%23e"),
        "{:?}",
        s.writes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_comments_caps_the_whole_run() {
    let w = World::new().await;
    let n = 200;
    let fields: String = (0..n).map(|i| format!("      extra{i}: true\n")).collect();
    let text = format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: x\n{fields}");
    let lines = text.lines().count();
    std::fs::write(w.dir.path().join("k8s/many.yaml"), &text).unwrap();
    {
        let mut s = w.state();
        let patch = format!(
            "@@ -0,0 +1,{lines} @@\n{}",
            text.lines()
                .map(|l| format!("+{l}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        s.files
            .push(json!({"filename": "k8s/many.yaml", "status": "added", "patch": patch}));
        s.diff_lines
            .extend((1..=lines).map(|l| ("k8s/many.yaml".to_string(), l)));
    }
    let (code, _, stderr) = w.comment(&["--max-comments", "30"]).await;
    assert_eq!(code, 1, "{stderr}");
    let s = w.state();
    assert!(
        s.review_comments.len() <= 30,
        "{} inline comments in {} reviews",
        s.review_comments.len(),
        s.reviews.len()
    );
    assert_eq!(s.reviews.len(), 1);
    let summary = s.issue_comments[0]["body"].as_str().unwrap();
    assert!(summary.contains("past this run's limit"), "{summary}");
    assert!(summary.contains("Not commented inline"), "{summary}");
}

#[path = "snap/mod.rs"]
mod snap;

/// The new file of `one_comment_per_line_with_every_rule_and_a_suggestion`:
/// a removed apiVersion whose move changes no field (line 1), a container
/// line where many rules fire (line 20), a moving image tag (line 21).
const SHOP: &str = "\
apiVersion: networking.k8s.io/v1beta1
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: example.com/ingress-nginx
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  namespace: prod
spec:
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
        - name: app
          image: nginx:stable
";

fn lines_of(comments: &[Value]) -> Vec<(String, u64)> {
    comments
        .iter()
        .filter_map(|c| Some((c["path"].as_str()?.to_string(), c["line"].as_u64()?)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_comment_per_line_with_every_rule_and_a_suggestion() {
    let w = World::new().await;
    std::fs::write(w.dir.path().join("k8s/shop.yaml"), SHOP).unwrap();
    {
        let mut s = w.state();
        let n = SHOP.lines().count();
        let patch = format!(
            "@@ -0,0 +1,{n} @@\n{}",
            SHOP.lines()
                .map(|l| format!("+{l}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        s.files = vec![json!({"filename": "k8s/shop.yaml", "status": "added", "patch": patch})];
        s.diff_lines = (1..=n).map(|l| ("k8s/shop.yaml".to_string(), l)).collect();
    }
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "comment",
            "--no-config",
            "--packs",
            "schema,deprecations,practices",
            "--target-version",
            "1.33",
            "--fail-on",
            "never",
        ];
        a.extend_from_slice(extra);
        a.push("k8s/shop.yaml");
        a
    };
    let (code, _, stderr) = w.run(&args(&[]), w.event(json!({}))).await;
    assert_eq!(code, 0, "{stderr}");
    let (container_comment, first_bodies) = {
        let s = w.state();
        let lines = lines_of(&s.review_comments);
        let unique: HashSet<_> = lines.iter().cloned().collect();
        assert_eq!(
            unique.len(),
            lines.len(),
            "two comments on one line: {lines:?}"
        );
        // Warnings and errors only: the image line has notes alone.
        assert!(lines.contains(&("k8s/shop.yaml".into(), 1)), "{lines:?}");
        assert!(lines.contains(&("k8s/shop.yaml".into(), 21)), "{lines:?}");
        assert!(!lines.contains(&("k8s/shop.yaml".into(), 22)), "{lines:?}");
        let body = |line: u64| {
            s.review_comments
                .iter()
                .find(|c| c["line"] == line)
                .unwrap()["body"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let container = body(21);
        for rule in [
            "practices/run-as-root",
            "practices/cpu-request-missing",
            "practices/memory-limit-missing",
        ] {
            assert!(container.contains(&format!("| `{rule}` |")), "{container}");
        }
        assert!(
            container.contains("rules** fire on this line"),
            "{container}"
        );
        assert!(
            container.contains("| Level | Rule | Message |"),
            "{container}"
        );
        assert!(!container.contains("| note |"), "{container}");
        assert!(!container.contains("suggestion"), "{container}");
        // Every finding of the line is in the comment's fingerprint list.
        let fps = container
            .lines()
            .find_map(|l| l.strip_prefix("<!-- shiplint:fps="))
            .unwrap()
            .trim_end_matches(" -->")
            .split(',')
            .count();
        assert_eq!(
            fps,
            container.matches("\n| warning |").count() + container.matches("\n| error |").count()
        );
        let api = body(1);
        assert!(
            api.contains("```suggestion\napiVersion: networking.k8s.io/v1\n```\n"),
            "{api}"
        );
        let summary = s.issue_comments[0]["body"].as_str().unwrap();
        assert!(summary.contains("### Top rules"), "{summary}");
        assert!(
            summary.contains("### Resources with most findings"),
            "{summary}"
        );
        assert!(summary.contains("| `Deployment prod/shop` |"), "{summary}");
        // Notes stay in the summary.
        assert!(
            summary.contains("`practices/image-pull-policy`"),
            "{summary}"
        );
        let mut all: Vec<String> = s
            .review_comments
            .iter()
            .map(|c| {
                format!(
                    "### line {}\n\n{}\n",
                    c["line"],
                    c["body"].as_str().unwrap()
                )
            })
            .collect();
        all.push(format!("### summary\n\n{summary}\n"));
        (container, all)
    };
    insta::with_settings!({omit_expression => true, prepend_module_to_snapshot => true}, {
        insta::assert_snapshot!("pr_comments", snap::redact(&first_bodies.join("\n")));
    });

    // Nothing changed: nothing is written but the summary.
    w.state().writes.clear();
    let (code, _, stderr) = w.run(&args(&[]), w.event(json!({}))).await;
    assert_eq!(code, 0, "{stderr}");
    {
        let s = w.state();
        assert!(
            s.writes.iter().all(|w| !w.contains("pulls")),
            "{:?}",
            s.writes
        );
    }

    // Notes inline too: the image line gets a comment with its suggestion,
    // the container line's comment is edited (not a second one).
    let (code, _, stderr) = w
        .run(&args(&["--inline-level", "note"]), w.event(json!({})))
        .await;
    assert_eq!(code, 0, "{stderr}");
    {
        let s = w.state();
        let lines = lines_of(&s.review_comments);
        let unique: HashSet<_> = lines.iter().cloned().collect();
        assert_eq!(
            unique.len(),
            lines.len(),
            "two comments on one line: {lines:?}"
        );
        let image = s.review_comments.iter().find(|c| c["line"] == 22).unwrap();
        let image = image["body"].as_str().unwrap();
        assert!(
            image.contains("```suggestion\n          image: nginx:stable\n          imagePullPolicy: Always\n```"),
            "{image}"
        );
        let container = s.review_comments.iter().find(|c| c["line"] == 21).unwrap();
        let now = container["body"].as_str().unwrap();
        assert_ne!(now, container_comment);
        assert!(
            now.contains("| note | `practices/seccomp-profile-unset` |"),
            "{now}"
        );
    }

    // The apiVersion is fixed: its comment is resolved, the others stay.
    let fixed = SHOP.replace("networking.k8s.io/v1beta1", "networking.k8s.io/v1");
    std::fs::write(w.dir.path().join("k8s/shop.yaml"), fixed).unwrap();
    let (code, _, stderr) = w
        .run(&args(&["--inline-level", "note"]), w.event(json!({})))
        .await;
    assert_eq!(code, 0, "{stderr}");
    let s = w.state();
    let api = s.review_comments.iter().find(|c| c["line"] == 1).unwrap();
    assert!(api["body"]
        .as_str()
        .unwrap()
        .contains("<!-- shiplint:resolved -->"));
    let open = s
        .review_comments
        .iter()
        .filter(|c| !c["body"].as_str().unwrap().contains("resolved"))
        .count();
    assert_eq!(open, s.review_comments.len() - 1);
}

/// Comments of the one-finding-per-comment versions (a single `fp=`, no
/// `fps=` list) are recognised: kept while their finding is there, not
/// duplicated by a grouped comment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_of_earlier_versions_are_kept_not_duplicated() {
    let w = World::new().await;
    let (_, stdout, _) = w
        .run(
            &[
                "scan",
                "--no-config",
                "--packs",
                "schema",
                "--format",
                "json",
                ".",
            ],
            w.event(json!({})),
        )
        .await;
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let fp = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "k8s/deploy.yaml" && f["span"]["line"] == 6)
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let old_body = format!(
        "<!-- shiplint:fp={fp} -->\n**error** schema/invalid: replicas\n\n<sub>shiplint</sub>"
    );
    {
        let mut s = w.state();
        let mut c = comment(500, BOT, &old_body);
        c["path"] = json!("k8s/deploy.yaml");
        c["line"] = json!(6);
        s.review_comments.push(c);
    }
    let (code, _, stderr) = w.comment(&[]).await;
    assert_eq!(code, 1, "{stderr}");
    let s = w.state();
    let on6: Vec<&Value> = s
        .review_comments
        .iter()
        .filter(|c| c["line"] == 6)
        .collect();
    assert_eq!(on6.len(), 1, "{on6:?}");
    assert_eq!(on6[0]["body"].as_str().unwrap(), old_body);
    assert!(s.review_comments.iter().any(|c| c["line"] == 19));
    assert!(!s
        .writes
        .iter()
        .any(|w| w.starts_with("PATCH /pulls/comments/500")));
}

/// A stored report's fix becomes a suggestion on its line; its text (the
/// PR's) cannot close the fence, and an oversized or misplaced fix refuses
/// the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_fixes_become_fenced_suggestions() {
    let w = World::new().await;
    let report = |fix: Value| {
        json!({"reportVersion": 3, "findings": [{"rule": "schema/invalid", "severity": "error",
            "path": "k8s/deploy.yaml",
            "span": {"line": 6, "col": 1, "end_line": 6, "end_col": 2},
            "message": "m", "fingerprint": "0123456789abcdef0123456789abcdef",
            "fix": fix}]})
    };
    let hostile = "  replicas: 3\n````\n</details> @everyone <!-- x -->\n";
    let (code, _, stderr) = stage2(
        &w,
        &report(json!({"description": "set `replicas`", "line": 6, "endLine": 6, "text": hostile})),
        run_event(HEAD, json!([])),
        "7",
        HEAD,
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    {
        let s = w.state();
        let body = s.review_comments.iter().find(|c| c["line"] == 6).unwrap()["body"]
            .as_str()
            .unwrap()
            .to_string();
        let open = body.find("`````suggestion\n").expect(&body);
        let rest = &body[open + "`````suggestion\n".len()..];
        let close = rest.find("\n`````\n").expect(&body);
        assert_eq!(&rest[..close], hostile.trim_end_matches('\n'));
        assert!(!rest[close + 7..].contains("````"), "{body}");
    }
    let (code, _, stderr) = stage2(
        &w,
        &report(json!({"description": "d", "line": 6, "endLine": 600, "text": "x\n"})),
        run_event(HEAD, json!([])),
        "7",
        HEAD,
    )
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("malformed fix"), "{stderr}");
}
