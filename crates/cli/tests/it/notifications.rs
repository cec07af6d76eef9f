//! Notifications from the real binary to real receivers: mail through aiosmtpd with
//! STARTTLS and AUTH (a failed backup mails each recipient once, with the cause and no
//! secret; `NOTIFY_ON=all` mails successes too; `notify test` reports every channel), a
//! signed webhook on loopback, and Azure Communication Services' signed REST calls checked
//! by a contract server (throttling and refusals retried and reported, the backup safe).

mod profile_notify;
mod receivers;

use receivers::{expected_webhook_signature, AcsService, HttpReceiver, SmtpServer};
use serde_json::Value;

use crate::support::{pg, random_hex, Cli, Storage, TestDb};

/// A database URL whose server is not there (port 1), with a password that must never
/// reach a message.
fn unreachable_db(password: &str) -> String {
    format!("postgresql://rythm:{password}@127.0.0.1:1/rythm")
}

fn with_vars(mut cli: Cli, vars: &[(&'static str, String)]) -> Cli {
    for (k, v) in vars {
        cli = cli.env(k, v);
    }
    cli
}

#[test]
fn a_failed_backup_mails_each_recipient_once_with_the_cause_and_no_secret() {
    let smtp = SmtpServer::start();
    let storage = Storage::local();
    let db_password = format!("db-secret-{}", random_hex());
    let cli = with_vars(
        Cli::bare()
            .storage(&storage)
            .env("DATABASE_URL", &unreachable_db(&db_password)),
        &smtp.vars("ops@example.test, dba@example.test"),
    );
    let failed = cli.run(&["backup"]);
    assert_eq!(failed.code, Some(1), "{failed:#?}");
    let mails = smtp.wait_for(2);
    assert_eq!(mails.len(), 2, "exactly one mail per recipient: {mails:#?}");
    let mut to: Vec<&str> = mails.iter().map(|m| m.header("to")).collect();
    to.sort();
    assert_eq!(to, ["dba@example.test", "ops@example.test"]);
    for mail in &mails {
        assert_eq!(
            mail.header("subject"),
            "[RYTHM backup] FAILED on 127.0.0.1/rythm"
        );
        assert!(
            mail.text.contains("Connection refused"),
            "the cause: {}",
            mail.text
        );
        assert!(mail.text.contains("text/html"), "an HTML part too");
        assert!(
            !mail.text.contains(&db_password),
            "the database password leaked"
        );
        assert!(
            !mail.text.contains(&smtp.password),
            "the SMTP password leaked"
        );
    }
    let auth = smtp.auth_log();
    assert!(
        auth.contains("ok tls=True"),
        "signed in over STARTTLS: {auth}"
    );
    assert!(!auth.contains("refused"), "{auth}");
    assert!(!failed.stderr.contains("warning"), "{}", failed.stderr);
}

#[test]
fn successes_are_mailed_only_with_notify_on_all() {
    let smtp = SmtpServer::start();
    let db = TestDb::create();
    db.psql("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 10)");
    let storage = Storage::local();
    let cli = with_vars(Cli::new(&db, &storage), &smtp.vars("ops@example.test"));
    let quiet = cli.run(&["backup", "--json"]);
    assert_eq!(quiet.code, Some(0), "{quiet:#?}");
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert!(
        smtp.messages().is_empty(),
        "failure (the default) mails no success"
    );

    let all = cli.env("NOTIFY_ON", "all");
    let made = all.run(&["backup", "--json"]).json();
    let mails = smtp.wait_for(1);
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let name = made["name"].as_str().unwrap();
    assert_eq!(
        mails[0].header("subject"),
        format!("[RYTHM backup] backup OK on 127.0.0.1/{}", db.name)
    );
    assert!(mails[0].text.contains(name), "{}", mails[0].text);
    assert!(!mails[0].text.contains(pg().password()));
}

#[test]
fn notify_test_reports_each_channel_and_fails_when_one_does() {
    let smtp = SmtpServer::start();
    let storage = Storage::local();
    let hook = HttpReceiver::start(|_| (200, vec![], String::new()));
    let cli = with_vars(
        Cli::bare().storage(&storage),
        &smtp.vars("a@example.test,b@example.test"),
    )
    .env("NOTIFY_WEBHOOK_URL", &hook.url("/hook"));
    let ok = cli.run(&["notify", "test", "--json"]);
    assert_eq!(ok.code, Some(0), "{ok:#?}");
    let report = ok.json();
    let channels: Vec<(String, bool)> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["channel"].as_str().unwrap().to_owned(), d["ok"] == true))
        .collect();
    assert_eq!(
        channels,
        [
            ("smtp".to_owned(), true),
            ("smtp".to_owned(), true),
            ("webhook".to_owned(), true)
        ]
    );
    assert_eq!(smtp.wait_for(2).len(), 2);
    assert_eq!(hook.requests().len(), 1);

    // A wrong SMTP password and a webhook nobody answers: both reported, exit 1.
    let broken = cli
        .env("SMTP_PASSWORD", "wrong-password")
        .env("NOTIFY_WEBHOOK_URL", "http://127.0.0.1:1/hook")
        .env("NOTIFY_RETRY_ATTEMPTS", "2");
    let failed = broken.run(&["notify", "test"]);
    assert_eq!(failed.code, Some(1), "{failed:#?}");
    assert_eq!(
        failed.stdout.matches("FAILED  smtp").count(),
        2,
        "{}",
        failed.stdout
    );
    assert!(
        failed.stdout.contains("FAILED  webhook"),
        "{}",
        failed.stdout
    );
    assert!(
        !failed.stdout.contains("wrong-password"),
        "{}",
        failed.stdout
    );
    assert!(
        !failed.stderr.contains("wrong-password"),
        "{}",
        failed.stderr
    );
}

#[test]
fn webhooks_get_the_event_fields_and_a_verifiable_signature() {
    let hook = HttpReceiver::start(|_| (204, vec![], String::new()));
    let storage = Storage::local();
    let secret = format!("hook-secret-{}", random_hex());
    let db_password = format!("db-secret-{}", random_hex());
    let cli = Cli::bare()
        .storage(&storage)
        .env("DATABASE_URL", &unreachable_db(&db_password))
        .env("NOTIFY_WEBHOOK_URL", &hook.url("/services/T000/B000/XXXX"))
        .env("NOTIFY_WEBHOOK_SECRET", &secret);
    assert_eq!(cli.run(&["backup"]).code, Some(1));
    let requests = hook.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/services/T000/B000/XXXX");
    assert_eq!(request.header("content-type"), "application/json");
    assert_eq!(
        request.header("x-rythm-signature"),
        expected_webhook_signature(&secret, &request.body)
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["event"], "backup.failed");
    assert_eq!(body["ok"], false);
    assert_eq!(body["database"], "rythm");
    assert_eq!(body["server"], "127.0.0.1");
    assert_eq!(body["backup"], Value::Null);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Connection refused"),
        "{body}"
    );
    assert!(body["durationMs"].is_u64(), "{body}");
    assert!(body["at"].as_str().unwrap().ends_with('Z'), "{body}");
    assert!(body["text"].as_str().unwrap().contains("FAILED"), "{body}");
    let text = String::from_utf8_lossy(&request.body);
    assert!(
        !text.contains(&db_password) && !text.contains(&secret),
        "{text}"
    );
}

#[test]
fn acs_requests_are_signed_and_throttling_is_retried_while_the_backup_stands() {
    let acs = AcsService::start(vec![429, 401]);
    let db = TestDb::create();
    db.psql("CREATE TABLE t (id int)");
    let storage = Storage::local();
    let cli = Cli::new(&db, &storage)
        .env("ACS_CONNECTION_STRING", &acs.connection_string())
        .env("ACS_SENDER_ADDRESS", "DoNotReply@rythm.example")
        .env("NOTIFY_EMAIL_TO", "ops@example.test")
        .env("NOTIFY_ON", "all")
        .env("NOTIFY_RETRY_DELAY_MS", "100");
    let done = cli.run(&["backup", "--json"]);
    assert_eq!(done.code, Some(0), "{done:#?}");
    assert!(
        !done.stderr.contains("warning"),
        "delivered in the end: {}",
        done.stderr
    );
    let requests = acs.http.requests();
    let sends: Vec<_> = requests.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(sends.len(), 3, "429, 401, then accepted: {requests:#?}");
    assert!(
        acs.bad_signatures.lock().unwrap().is_empty(),
        "every request was signed right"
    );
    assert_eq!(sends[0].target, "/emails:send?api-version=2023-03-31");
    let body: Value = serde_json::from_slice(&sends[2].body).unwrap();
    assert_eq!(body["senderAddress"], "DoNotReply@rythm.example");
    assert_eq!(body["recipients"]["to"][0]["address"], "ops@example.test");
    assert!(body["content"]["subject"]
        .as_str()
        .unwrap()
        .starts_with("[RYTHM backup] backup OK"));
    assert!(body["content"]["html"].as_str().unwrap().contains("<html>"));
    assert!(
        requests.iter().any(|r| r.method == "GET"),
        "the operation was followed"
    );

    // A service that always refuses: reported after the retries, the backup still stands.
    let refusing = AcsService::start(vec![401; 10]);
    let cli = cli
        .env("ACS_CONNECTION_STRING", &refusing.connection_string())
        .env("NOTIFY_RETRY_ATTEMPTS", "3");
    let done = cli.run(&["backup", "--json"]);
    assert_eq!(done.code, Some(0), "{done:#?}");
    assert!(
        done.stderr
            .contains("the acs notification to ops@example.test via 127.0.0.1 could not be delivered after 3 attempt(s)"),
        "{}",
        done.stderr
    );
    assert_eq!(refusing.http.requests().len(), 3);
    assert_eq!(cli.list_names().len(), 2, "both backups are stored");
}
